/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_expire - background expiry in small batches, counters, sync
 * DESCRIPTION
 *	See store.h: store_expire_start(), store_expire_stop(),
 *	store_expire_step(), store_sync(), store_counter_get(), and the
 *	event counters (store_event_count(), kept in meta like the verdicts).
 *
 *	A pass walks greylist, clients and tarpit in key order. Each batch
 *	is one write transaction over at most BATCH records that resumes at
 *	the key where the previous one stopped, so writers from the milter
 *	never wait behind a long scan, and records written meanwhile are
 *	simply seen or not. Each batch is first read in a read transaction
 *	(whole pages): a record out of bounds, or records that do not tile
 *	their page, mark the store broken before anything is deleted next
 *	to them (store_fault.c).
 * DIAGNOSTICS
 *	"store: expiry pass: N records, M expired" at LOG_INFO when
 *	anything was deleted.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "store_impl.h"
#include "words.h"

typedef struct {
	const greylist_params_t *p;
	int64_t	now;
	size_t	batch;
	store_expire_t *ex;
} expire_op_t;

/* Should this value be deleted? Unknown versions are kept. */
static int
expire_record(const greylist_params_t *p, int64_t now, store_db_t db,
	      const MDB_val *v)
{
	grey_record_t g;
	client_record_t c;
	tarpit_record_t t;
	int	rc;

	switch (db) {
	case STORE_DB_GREYLIST:
		rc = record_grey_decode(v->mv_data, v->mv_size, &g);
		return rc == RECORD_OK ? greylist_grey_expired(p, now, &g) : rc == RECORD_ESHORT;
	case STORE_DB_CLIENTS:
		rc = record_client_decode(v->mv_data, v->mv_size, &c);
		return rc == RECORD_OK ? greylist_client_expired(p, now, &c) : rc == RECORD_ESHORT;
	case STORE_DB_TARPIT:
		rc = record_tarpit_decode(v->mv_data, v->mv_size, &t);
		return rc == RECORD_OK ? greylist_tarpit_expired(p, now, &t) : rc == RECORD_ESHORT;
	default:
		return 0;
	}
}

/* Open a cursor at EX's position, its first record in K, V and the
 * result in *RC; -1 (the LMDB error in *RC) when no cursor opened. */
static int
expire_cursor(store_t *st, MDB_txn *txn, const store_expire_t *ex, MDB_cursor **c,
	      MDB_val *k, MDB_val *v, int *rc)
{
	if ((*rc = mdb_cursor_open(txn, st->dbi[ex->db], c)) != 0)
		return -1;
	k->mv_size = ex->klen;
	k->mv_data = (void *) ex->key;
	*rc = mdb_cursor_get(*c, k, v, ex->klen ? MDB_SET_RANGE : MDB_FIRST);
	return 0;
}

/* Step C back to the first record of the page K is on. */
static int
expire_page_start(store_t *st, MDB_cursor *c, MDB_val *k, MDB_val *v)
{
	uintptr_t mask = ~(uintptr_t) (st->psize - 1), base = (uintptr_t) k->mv_data & mask;
	int	rc;

	while ((rc = mdb_cursor_get(c, k, v, MDB_PREV)) == 0)
		if (((uintptr_t) k->mv_data & mask) != base)
			return mdb_cursor_get(c, k, v, MDB_NEXT);
	return rc == MDB_NOTFOUND ? mdb_cursor_get(c, k, v, MDB_FIRST) : rc;
}

/* Before a batch: check its records, and that they tile the pages they
 * are on (whole pages), where the pages are the map's (a read
 * transaction): the write transaction's deletes trust the sizes. */
static int
expire_scan(store_t *st, MDB_txn *txn, void *ctx)
{
	static _Thread_local store_page_t pg;
	expire_op_t *op = ctx;
	MDB_cursor *c;
	MDB_val	k, v;
	size_t	n = 0;
	int	rc;

	if (expire_cursor(st, txn, op->ex, &c, &k, &v, &rc) < 0)
		return rc;
	if (rc == 0)
		rc = expire_page_start(st, c, &k, &v);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (n++ > op->batch && ((uintptr_t) k.mv_data & ~(uintptr_t) (st->psize - 1)) != pg.base)
			break;		/* the batch and its last page are done */
		if (!store_node_ok(st, &k, &v) || store_page_add(st, &pg, &k, &v) != 0) {
			rc = MDB_CORRUPTED;
			break;
		}
	}
	if (pg.base != 0 && store_page_end(st, &pg) != 0 && (rc == 0 || rc == MDB_NOTFOUND))
		rc = MDB_CORRUPTED;
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* One batch in one write transaction. */
static int
expire_body(store_t *st, MDB_txn *txn, void *ctx)
{
	expire_op_t *op = ctx;
	store_expire_t *ex = op->ex;
	MDB_cursor *c;
	MDB_val	k, v;
	size_t	n = 0, seen = 0, deleted = 0;
	int	rc;

	if (expire_cursor(st, txn, ex, &c, &k, &v, &rc) < 0)
		return rc;
	while (rc == 0 && n < op->batch) {
		if (!store_node_ok(st, &k, &v)) {
			/* never copied; and no write may go near it (LMDB
			 * moves nodes by their size): the store is broken */
			rc = MDB_CORRUPTED;
			break;
		}
		n++;
		seen++;
		if (expire_record(op->p, op->now, ex->db, &v)) {
			if ((rc = mdb_cursor_del(c, 0)) != 0)
				break;
			deleted++;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == 0) {			/* batch full: resume at K */
		memcpy(ex->key, k.mv_data, k.mv_size);
		ex->klen = k.mv_size;
	} else if (rc == MDB_NOTFOUND) {
		ex->klen = 0;
		ex->db++;
		rc = 0;
	}
	mdb_cursor_close(c);
	if (rc == 0) {
		ex->seen += seen;
		ex->deleted += deleted;
	}
	return rc;
}

/* One expiry batch; 1 when the pass is complete (store_expire_step()). */
int
store_lmdb_expire_step(store_t *st, const greylist_params_t *p, int64_t now,
		       size_t batch, store_expire_t *ex)
{
	expire_op_t op = {.p = p, .now = now, .batch = batch ? batch : 1, .ex = ex};

	if (store_txn_run(st, STORE_TXN_READ, "expire", expire_scan, &op) != 0
	    || store_txn_run(st, STORE_TXN_FREE, "expire", expire_body, &op) != 0)
		return -1;
	if (ex->db > STORE_DB_TARPIT) {
		if (ex->deleted > 0)
			log_info("store: expiry pass: %zu records, %zu expired",
			    ex->seen, ex->deleted);
		return 1;
	}
	return 0;
}

/* The meta key's name of counter I: the verdicts, then the events. These
 * are the names of the stored records, kept as 0.1 wrote them so that
 * the counts survive the renaming of the log words (words.def). */
static const char *
store_counter_name(int i)
{
	static const char *const keys[STORE_COUNTERS] = {
	    [GREYLIST_PASS_AWL] = "pass-awl", [GREYLIST_PASS_TRIPLET] = "pass-triplet",
	    [GREYLIST_GREYLIST] = "greylist", [GREYLIST_TARPIT] = "tarpit",
	    [GREYLIST_UNAVAILABLE] = "store-unavailable",
	    [STORE_VERDICTS + STORE_EVENT_TARPIT_FULL] = "tarpit-full"};

	return i >= 0 && i < STORE_COUNTERS && keys[i] ? keys[i] : "unknown";
}

typedef struct {
	const char *const *names;
	const uint64_t *delta;
	size_t	n;
} expire_add_t;

/* Transaction body of store_lmdb_counters_add(): add DELTA[] to meta. */
static int
expire_flush_body(store_t *st, MDB_txn *txn, void *ctx)
{
	const expire_add_t *a = ctx;
	char	key[64];
	int	rc;

	for (size_t i = 0; i < a->n; i++) {
		if (a->delta[i] == 0)
			continue;
		snprintf(key, sizeof(key), "count/%s", a->names[i]);
		if ((rc = store_meta_add_txn(st, txn, key, a->delta[i])) != 0)
			return rc;
	}
	return 0;
}

/* Add DELTA[i] to meta "count/NAMES[i]" in one write transaction. */
int
store_lmdb_counters_add(store_t *st, const char *const *names, const uint64_t *delta,
			size_t n)
{
	expire_add_t a = {.names = names, .delta = delta, .n = n};

	return store_txn_run(st, STORE_TXN_FREE, "flush counters", expire_flush_body, &a);
}

/* Add the pending verdict counts into meta. */
static int
store_counters_flush(store_t *st)
{
	uint64_t delta[STORE_COUNTERS];
	const char *names[STORE_COUNTERS];
	int	any = 0;

	for (int i = 0; i < STORE_COUNTERS; i++) {
		any |= (delta[i] = atomic_exchange(&st->pending[i], 0)) != 0;
		names[i] = store_counter_name(i);
	}
	if (!any)
		return 0;
	if (st->ops->counters_add(st, names, delta, STORE_COUNTERS) == 0)
		return 0;
	for (int i = 0; i < STORE_COUNTERS; i++)
		atomic_fetch_add(&st->pending[i], delta[i]);
	return -1;
}

/* Stored plus pending count of counter I. */
static int
store_counter_read(store_t *st, int i, uint64_t *value)
{
	unsigned char buf[8];
	char	key[64];
	size_t	len = sizeof(buf);
	int	rc, klen;

	*value = 0;
	if (i < 0 || i >= STORE_COUNTERS)
		return -1;
	klen = snprintf(key, sizeof(key), "count/%s", store_counter_name(i));
	rc = store_get(st, STORE_DB_META, key, (size_t) klen, buf, &len);
	if (rc == STORE_ERROR)
		return -1;
	if (rc == 0 && len == 8)
		for (int b = 0; b < 8; b++)
			*value = (*value << 8) | buf[b];
	*value += atomic_load(&st->pending[i]);
	return 0;
}

/* Stored plus pending count of verdict V. */
int
store_counter_get(store_t *st, greylist_verdict_t v, uint64_t *value)
{
	if ((unsigned) v >= STORE_VERDICTS) {
		*value = 0;
		return -1;
	}
	return store_counter_read(st, (int) v, value);
}

/* Count one event E (flushed into meta with the verdicts). */
void
store_event_count(store_t *st, store_event_t e)
{
	if (st != NULL && (unsigned) e < STORE_EVENTS)
		atomic_fetch_add_explicit(&st->pending[STORE_VERDICTS + e], 1,
		    memory_order_relaxed);
}

/* Stored plus pending count of event E. */
int
store_event_get(store_t *st, store_event_t e, uint64_t *value)
{
	if ((unsigned) e >= STORE_EVENTS) {
		*value = 0;
		return -1;
	}
	return store_counter_read(st, STORE_VERDICTS + (int) e, value);
}

/* The name of event E, as stats prints it. */
const char *
store_event_name(store_event_t e)
{
	switch (e) {
	case STORE_EVENT_TARPIT_FULL:
		return W_TARPIT_FULL;
	case STORE_EVENTS:
		break;
	}
	return W_UNKNOWN;
}

/* Flush the counters, then the backend's own sync. */
int
store_sync(store_t *st)
{
	store_counters_flush(st);
	return st->ops->sync(st);
}

/* Force the map to disk (store_sync()). */
int
store_lmdb_sync(store_t *st)
{
	int	rc = 0;

	pthread_rwlock_rdlock(&st->resize_lock);	/* store_rebuild() */
	if (st->env && atomic_load(&st->health) != STORE_BROKEN)
		rc = mdb_env_sync(st->env, 1);
	pthread_rwlock_unlock(&st->resize_lock);
	return rc == 0 ? 0 : store_fault(st, "sync", rc, 1);
}

/* Wait until ABS or until stopped; 1 when stopped. Holds st->lock. */
static int
expire_wait(store_t *st, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (!st->stop && pthread_cond_timedwait(&st->cond, &st->lock, &ts) != ETIMEDOUT)
		continue;
	return st->stop;
}

/* The background thread: sync every second, expire every interval. */
static void *
expire_main(void *arg)
{
	store_t *st = arg;
	store_expire_t ex = {0};
	greylist_params_t p;
	int64_t	next_pass = (int64_t) time(NULL), last_sync = 0, now;
	long	interval_ms;
	int	in_pass = 0;

	pthread_mutex_lock(&st->lock);
	while (!expire_wait(st, in_pass ? 20 : 1000)) {
		p = st->params;		/* a reload may change them */
		interval_ms = st->interval_ms;
		pthread_mutex_unlock(&st->lock);
		now = (int64_t) time(NULL);
		if (now != last_sync) {
			store_sync(st);
			last_sync = now;
		}
		if (in_pass || now >= next_pass) {
			in_pass = store_expire_step(st, &p, now, STORE_EXPIRE_BATCH, &ex) == 0;
			if (!in_pass)
				next_pass = now + interval_ms / 1000;
		}
		pthread_mutex_lock(&st->lock);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

/* Start the background expiry thread, or give it new parameters. */
int
store_expire_start(store_t *st, const greylist_params_t *p, long interval_ms)
{
	int	rc = 0;

	pthread_mutex_lock(&st->lock);
	st->params = *p;
	st->interval_ms = interval_ms < 1000 ? 1000 : interval_ms;
	if (!st->running) {
		st->stop = 0;
		rc = pthread_create(&st->thread, NULL, expire_main, st);
		st->running = rc == 0;
	}
	pthread_mutex_unlock(&st->lock);
	if (rc != 0)
		log_error("store: cannot start expiry thread: %s", strerror(rc));
	return rc == 0 ? 0 : -1;
}

/* Stop and join the background expiry thread. */
void
store_expire_stop(store_t *st)
{
	pthread_mutex_lock(&st->lock);
	if (!st->running) {
		pthread_mutex_unlock(&st->lock);
		return;
	}
	st->stop = 1;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
	pthread_join(st->thread, NULL);
	st->running = 0;
}
