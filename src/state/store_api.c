/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_api - the store's operations, whichever backend keeps the state
 * DESCRIPTION
 *	See store.h and store_report.h. Each function makes the checks of
 *	its arguments that every backend shares (a NULL store, key and
 *	prefix lengths, the expiry position, the verdict counters) and
 *	then calls the backend's operation through st->ops, the table
 *	store_open() or store_open_config() chose (store_impl.h): LMDB's
 *	store_lmdb_backend or Redis's store_redis_backend. Nothing here
 *	knows which backend it talks to.
 * DIAGNOSTICS
 *	Those of the backend: store.h, store_redis.h.
 */
#include <string.h>
#include "store_impl.h"

/* The taRgrey decision at the first RCPT; see store.h. */
greylist_verdict_t
store_check(store_t *st, const greylist_params_t *p, int64_t now,
	    const addr_t *client, const char *sender, const char *recipient,
	    int flags, greylist_result_t *r)
{
	memset(r, 0, sizeof(*r));
	if (st == NULL) {
		r->verdict = GREYLIST_UNAVAILABLE;
		r->reason = store_unavailable_reason(st);
		return r->verdict;
	}
	st->ops->check(st, p, now, client, sender, recipient, flags, r);
	atomic_fetch_add_explicit(&st->pending[r->verdict], 1, memory_order_relaxed);
	return r->verdict;
}

/* The client failed its tarpit (disconnect, pipelining). */
int
store_tarpit_failed(store_t *st, const greylist_params_t *p, int64_t now,
		    const addr_t *client)
{
	return st ? st->ops->tarpit_failed(st, p, now, client) : -1;
}

/* The client reached DATA after its tarpit. */
int
store_tarpit_passed(store_t *st, const greylist_params_t *p, int64_t now,
		    const addr_t *client, const char *sender,
		    const char *const *recipients, size_t count)
{
	if (st == NULL)
		return -1;
	return st->ops->tarpit_passed(st, p, now, client, sender, recipients, count);
}

/* Read the facts store_check() would use, without writing. */
int
store_lookup(store_t *st, const greylist_params_t *p, const addr_t *client,
	     const char *sender, const char *recipient, store_facts_t *out)
{
	return st->ops->lookup(st, p, client, sender, recipient, out);
}

/* Copy one record out. */
int
store_get(store_t *st, store_db_t db, const char *key, size_t klen,
	  void *val, size_t *vlen)
{
	if (klen == 0 || klen > STORE_KEY_MAX)
		return STORE_NOTFOUND;
	return st->ops->get(st, db, key, klen, val, vlen);
}

/* Store one record. */
int
store_put(store_t *st, store_db_t db, const char *key, size_t klen,
	  const void *val, size_t vlen)
{
	if (klen == 0 || klen > STORE_KEY_MAX)
		return STORE_ERROR;
	return st->ops->put(st, db, key, klen, val, vlen);
}

/* Delete one record; STORE_NOTFOUND when absent. */
int
store_delete(store_t *st, store_db_t db, const char *key, size_t klen)
{
	if (klen == 0 || klen > STORE_KEY_MAX)
		return STORE_NOTFOUND;
	return st->ops->del(st, db, key, klen);
}

/* Call FN for every record of DB whose key starts with PREFIX. */
int
store_walk(store_t *st, store_db_t db, const char *prefix,
	   store_walk_fn fn, void *ctx)
{
	if (prefix && strlen(prefix) > STORE_KEY_MAX)
		return STORE_ERROR;
	return st->ops->walk(st, db, prefix, fn, ctx);
}

/* Number of records in DB. */
int
store_count(store_t *st, store_db_t db, size_t *count)
{
	return st->ops->count(st, db, count);
}

/* Whitelist a client network. */
int
store_whitelist_add(store_t *st, const net_t *net, int64_t now)
{
	return st->ops->whitelist(st, net, now, 1);
}

/* Remove a client network from the whitelist; STORE_NOTFOUND if absent. */
int
store_whitelist_remove(store_t *st, const net_t *net)
{
	return st->ops->whitelist(st, net, 0, 0);
}

/* One expiry batch; 1 when the pass is complete. */
int
store_expire_step(store_t *st, const greylist_params_t *p, int64_t now,
		  size_t batch, store_expire_t *ex)
{
	if (ex->db < STORE_DB_GREYLIST || ex->db > STORE_DB_TARPIT) {
		ex->db = STORE_DB_GREYLIST;
		ex->klen = 0;
		ex->seen = ex->deleted = 0;
	}
	return st->ops->expire_step(st, p, now, batch, ex);
}

/* Add COUNTS to the record of HOUR; see store_report.h. */
int
store_report_add(store_t *st, int64_t hour, const uint32_t counts[REPORT_CATEGORIES],
		 int64_t keep_hours)
{
	return st->ops->report_add(st, hour, counts, keep_hours);
}

/* Call FN for each stored hour of the window; see store_report.h. */
int
store_report_read(store_t *st, int64_t from_hour, int64_t to_hour,
		  store_report_fn fn, void *ctx)
{
	return st->ops->report_read(st, from_hour, to_hour, fn, ctx);
}

/* Merge NETS into the top networks of HOUR; see store_report.h. */
int
store_report_net_add(store_t *st, int64_t hour, const topnet_t *nets, size_t n,
		     int64_t keep_hours)
{
	return st->ops->report_net_add(st, hour, nets, n, keep_hours);
}

/* Call FN for each stored hour's top networks; see store_report.h. */
int
store_report_net_read(store_t *st, int64_t from_hour, int64_t to_hour,
		      store_report_net_fn fn, void *ctx)
{
	return st->ops->report_net_read(st, from_hour, to_hour, fn, ctx);
}
