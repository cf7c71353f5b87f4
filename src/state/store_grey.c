/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_grey - taRgrey operations over the LMDB store
 * DESCRIPTION
 *	See store.h: the LMDB backend's store_check(), store_tarpit_failed(),
 *	store_tarpit_passed(), store_lookup() (store_lmdb_*, called through
 *	store_api.c). Each reads its records in a
 *	short read transaction, decides with greylist.c, and only when
 *	something changed opens a write transaction, reads again (another
 *	thread or process may have written meanwhile), decides again and
 *	writes. Reads never wait for writers.
 * DIAGNOSTICS
 *	"store: KEY: record version N unknown, treated as absent".
 */
#include <errno.h>
#include <string.h>
#include "log.h"
#include "store_impl.h"
#include "text.h"

typedef struct {
	const greylist_params_t *p;
	int64_t	now;
	int	flags;
	store_facts_t *f;
	greylist_result_t *r;
	const char *sender;
	const char *const *rcpts;
	size_t	nrcpts;
	const addr_t *client;
} grey_op_t;

/* Log a record this program cannot read. */
static void
grey_log_unknown(store_db_t db, const char *key, const MDB_val *v)
{
	char	clean[LOG_VALUE_MAX];
	long	dropped;

	if (!store_log_allowed(&dropped))
		return;
	text_clean(TEXT_LOG_VALUE, clean, sizeof(clean), key);
	log_warning("store: %s %s: record version %d unknown, treated as absent%s",
	    store_db_name(db), clean,
	    v->mv_size ? *(const unsigned char *) v->mv_data : -1,
	    dropped ? " (and earlier lines not logged)" : "");
}

/* Read KEY of DB (clients, greylist or tarpit) into F; 0 or an LMDB error.
 * A record this program cannot decode is logged and counts as absent. */
static int
grey_read_one(store_t *st, MDB_txn *txn, store_db_t db, const char *key, store_facts_t *f)
{
	MDB_val	v;
	int	rc, ok;

	if ((rc = store_get_txn(st, txn, db, key, strlen(key), &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (db == STORE_DB_CLIENTS)
		ok = f->has_client = record_client_decode(v.mv_data, v.mv_size, &f->client) == RECORD_OK;
	else if (db == STORE_DB_GREYLIST)
		ok = f->has_triplet = record_grey_decode(v.mv_data, v.mv_size, &f->triplet) == RECORD_OK;
	else
		ok = f->has_tarpit = record_tarpit_decode(v.mv_data, v.mv_size, &f->tarpit) == RECORD_OK;
	if (!ok)
		grey_log_unknown(db, key, &v);
	return 0;
}

/* Read the client, triplet and tarpit records into F. */
static int
grey_read_facts(store_t *st, MDB_txn *txn, store_facts_t *f, const addr_t *a)
{
	int	rc;

	f->has_client = f->has_triplet = f->has_tarpit = 0;
	if ((rc = grey_read_one(st, txn, STORE_DB_CLIENTS, f->net_key, f)) != 0
	    || (*f->triplet_key
		&& (rc = grey_read_one(st, txn, STORE_DB_GREYLIST, f->triplet_key, f)) != 0)
	    || (rc = grey_read_one(st, txn, STORE_DB_TARPIT, f->addr_key, f)) != 0)
		return rc;
	f->whitelisted = store_whitelist_match(st, txn, a);
	return f->whitelisted < 0 ? EIO : 0;
}

/* Encode REC, the record of DB (clients, greylist or tarpit), and put it
 * under KEY; the mirror of grey_read_one(). */
static int
grey_put(store_t *st, MDB_txn *txn, store_db_t db, const char *key, const void *rec)
{
	unsigned char buf[RECORD_MAX_SIZE];
	MDB_val	k = {strlen(key), (void *) key}, v = {0, buf};

	if (db == STORE_DB_CLIENTS)
		v.mv_size = record_client_encode(rec, buf, sizeof(buf));
	else if (db == STORE_DB_GREYLIST)
		v.mv_size = record_grey_encode(rec, buf, sizeof(buf));
	else
		v.mv_size = record_tarpit_encode(rec, buf, sizeof(buf));
	return mdb_put(txn, st->dbi[db], &k, &v, 0);
}

/* The store step on records read: greylist_decide() on F; see store.h. */
void
store_decide(const greylist_params_t *p, int64_t now, const store_facts_t *f, int flags,
	     greylist_result_t *r)
{
	greylist_facts_t gf = {
		.client = f->has_client ? &f->client : NULL,
		.triplet = f->has_triplet ? &f->triplet : NULL,
		.tarpit = f->has_tarpit ? &f->tarpit : NULL,
		.whitelisted = f->whitelisted,
	};

	greylist_decide(p, now, &gf, flags, r);
}

/* Read transaction of store_check(): 0, or 1 when a write is needed. */
static int
grey_check_read(store_t *st, MDB_txn *txn, void *ctx)
{
	grey_op_t *op = ctx;
	int	rc;

	if ((rc = grey_read_facts(st, txn, op->f, op->client)) != 0)
		return rc;
	store_decide(op->p, op->now, op->f, op->flags, op->r);
	return 0;
}

/* Write transaction of store_check(): decide again and store. */
static int
grey_check_write(store_t *st, MDB_txn *txn, void *ctx)
{
	grey_op_t *op = ctx;
	int	rc;

	if ((rc = grey_check_read(st, txn, ctx)) != 0)
		return rc;
	if (op->r->write_triplet
	    && (rc = grey_put(st, txn, STORE_DB_GREYLIST, op->f->triplet_key, &op->r->triplet)) != 0)
		return rc;
	if (op->r->write_client)
		return grey_put(st, txn, STORE_DB_CLIENTS, op->f->net_key, &op->r->client);
	return 0;
}

/* Why store_check() could not decide: "store=HEALTH" for the log. */
const char *
store_unavailable_reason(store_t *st)
{
	switch (store_health(st)) {
	case STORE_BROKEN:
		return "store=broken";
	case STORE_FULL:
		return "store=full";
	case STORE_NOSPACE:
		return "store=write_error";
	default:
		return "store=error";
	}
}

/* The taRgrey decision at the first RCPT (store_check()): R is zeroed. */
greylist_verdict_t
store_lmdb_check(store_t *st, const greylist_params_t *p, int64_t now,
		 const addr_t *client, const char *sender, const char *recipient,
		 int flags, greylist_result_t *r)
{
	store_facts_t f;
	grey_op_t op = {.p = p, .now = now, .flags = flags, .f = &f, .r = r,
			.client = client};

	if (store_grey_keys(p, client, sender, recipient, &f) != 0)
		goto unavailable;
	if (store_txn_run(st, STORE_TXN_READ, "check", grey_check_read, &op) != 0)
		goto unavailable;
	if ((r->write_triplet || r->write_client)
	    && store_txn_run(st, STORE_TXN_ADD, "check update", grey_check_write, &op) != 0)
		goto unavailable;
	return r->verdict;
unavailable:
	memset(r, 0, sizeof(*r));
	r->verdict = GREYLIST_UNAVAILABLE;
	r->reason = store_unavailable_reason(st);
	return r->verdict;
}

/* Write transaction of store_tarpit_failed(). */
static int
grey_fail_write(store_t *st, MDB_txn *txn, void *ctx)
{
	grey_op_t *op = ctx;
	tarpit_record_t upd;
	int	rc;

	if ((rc = grey_read_facts(st, txn, op->f, op->client)) != 0)
		return rc;
	if (op->f->has_tarpit && greylist_tarpit_expired(op->p, op->now, &op->f->tarpit))
		op->f->has_tarpit = 0;
	greylist_tarpit_fail(op->now, op->f->has_tarpit ? &op->f->tarpit : NULL, &upd);
	return grey_put(st, txn, STORE_DB_TARPIT, op->f->addr_key, &upd);
}

/* The client failed its tarpit (disconnect, pipelining). */
int
store_lmdb_tarpit_failed(store_t *st, const greylist_params_t *p, int64_t now,
			 const addr_t *client)
{
	store_facts_t f;
	grey_op_t op = {.p = p, .now = now, .f = &f, .client = client};

	if (store_grey_keys(p, client, NULL, NULL, &f) != 0)
		return -1;
	return store_txn_run(st, STORE_TXN_ADD, "tarpit failed", grey_fail_write, &op) ? -1 : 0;
}

/* Mark one triplet of OP passed inside TXN. */
static int
grey_pass_triplet(store_t *st, MDB_txn *txn, grey_op_t *op, const char *rcpt)
{
	char	key[STORE_KEY_MAX + 1];
	grey_record_t old, upd;
	MDB_val	v;
	int	rc, have = 0;

	if (greylist_triplet_key_net(op->f->net_key, op->sender ? op->sender : "",
	    rcpt, key, sizeof(key)) == 0)
		return 0;			/* cannot be keyed: nothing to remember */
	rc = store_get_txn(st, txn, STORE_DB_GREYLIST, key, strlen(key), &v);
	if (rc == 0 && record_grey_decode(v.mv_data, v.mv_size, &old) == RECORD_OK)
		have = !greylist_grey_expired(op->p, op->now, &old);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	greylist_triplet_pass(op->now, have ? &old : NULL, &upd);
	return grey_put(st, txn, STORE_DB_GREYLIST, key, &upd);
}

/* Write transaction of store_tarpit_passed(). */
static int
grey_pass_write(store_t *st, MDB_txn *txn, void *ctx)
{
	grey_op_t *op = ctx;
	client_record_t cl;
	MDB_val	k = {strlen(op->f->addr_key), op->f->addr_key};
	int	rc;

	if ((rc = grey_read_facts(st, txn, op->f, op->client)) != 0)
		return rc;
	rc = mdb_del(txn, st->dbi[STORE_DB_TARPIT], &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	for (size_t i = 0; i < op->nrcpts; i++)
		if ((rc = grey_pass_triplet(st, txn, op, op->rcpts[i])) != 0)
			return rc;
	if (op->f->has_client && greylist_client_expired(op->p, op->now, &op->f->client))
		op->f->has_client = 0;
	if (greylist_client_pass(op->p, op->now, op->f->has_client ? &op->f->client : NULL, &cl))
		return grey_put(st, txn, STORE_DB_CLIENTS, op->f->net_key, &cl);
	return 0;
}

/* The client reached DATA after its tarpit. */
int
store_lmdb_tarpit_passed(store_t *st, const greylist_params_t *p, int64_t now,
			 const addr_t *client, const char *sender,
			 const char *const *recipients, size_t count)
{
	store_facts_t f;
	grey_op_t op = {.p = p, .now = now, .f = &f, .client = client,
			.sender = sender, .rcpts = recipients, .nrcpts = count};

	if (store_grey_keys(p, client, NULL, NULL, &f) != 0)
		return -1;
	return store_txn_run(st, STORE_TXN_ADD, "tarpit passed", grey_pass_write, &op) ? -1 : 0;
}

/* Read transaction of store_lookup(). */
static int
grey_lookup_read(store_t *st, MDB_txn *txn, void *ctx)
{
	grey_op_t *op = ctx;

	return grey_read_facts(st, txn, op->f, op->client);
}

/* Read the facts store_check() would use, without writing. */
int
store_lmdb_lookup(store_t *st, const greylist_params_t *p, const addr_t *client,
		  const char *sender, const char *recipient, store_facts_t *out)
{
	grey_op_t op = {.p = p, .f = out, .client = client};

	if (store_grey_keys(p, client, sender, recipient, out) != 0)
		return -1;
	return store_txn_run(st, STORE_TXN_READ, "lookup", grey_lookup_read, &op) ? -1 : 0;
}
