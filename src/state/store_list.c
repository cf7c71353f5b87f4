/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_list - walking the store and the manual client whitelist
 * DESCRIPTION
 *	See store.h: the LMDB backend's store_walk(), store_whitelist_add()
 *	and store_whitelist_remove() (store_lmdb_walk(),
 *	store_lmdb_whitelist(), called through store_api.c).
 *
 *	store_walk() reads in chunks of WALK_CHUNK records, each chunk in
 *	its own read transaction resuming after the last key seen, so a
 *	listing of a million records never pins old pages for long.
 *
 *	The manual whitelist lives in meta: "whitelist/NET/LEN" -> u8
 *	version 1, u8 family (4 or 6), u8 prefix length, 16 address bytes,
 *	i64 time added; "whitelist_gen" -> u64 bumped on every change.
 *	Each process caches the list and reloads it when the generation
 *	it reads differs from the one it loaded, so targreyctl changes
 *	reach the running daemon at its next decision.
 * DIAGNOSTICS
 *	Errors are logged by store_txn_run().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "store_impl.h"

#define WALK_CHUNK	1000
#define WL_PREFIX	"whitelist/"
#define WL_GEN		"whitelist_gen"
#define WL_SIZE		STORE_WL_SIZE

typedef struct {
	const char *prefix;
	size_t	plen;
	store_db_t db;
	store_walk_fn fn;
	void   *ctx;
	char	last[STORE_KEY_MAX + 1];
	size_t	llen;
	int	done;
} walk_op_t;

/* One chunk of store_walk(). */
static int
walk_body(store_t *st, MDB_txn *txn, void *ctx)
{
	walk_op_t *op = ctx;
	MDB_cursor *c;
	MDB_val	k, v;
	int	rc, n = 0;

	if ((rc = mdb_cursor_open(txn, st->dbi[op->db], &c)) != 0)
		return rc;
	k.mv_data = op->llen ? op->last : (void *) op->prefix;
	k.mv_size = op->llen ? op->llen : op->plen;
	rc = mdb_cursor_get(c, &k, &v, k.mv_size ? MDB_SET_RANGE : MDB_FIRST);
	if (rc == 0 && op->llen && k.mv_size == op->llen
	    && memcmp(k.mv_data, op->last, op->llen) == 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	while (rc == 0 && n < WALK_CHUNK) {
		if (!store_node_ok(st, &k, &v)) {	/* skipped, counted */
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		if (k.mv_size < op->plen || memcmp(k.mv_data, op->prefix, op->plen) != 0)
			break;
		n++;
		memcpy(op->last, k.mv_data, k.mv_size);
		op->llen = k.mv_size;
		op->last[op->llen] = 0;
		if (op->fn(op->last, op->llen, v.mv_data, v.mv_size, op->ctx) != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND || (rc == 0 && n < WALK_CHUNK)) {	/* else an error */
		op->done = 1;
		rc = 0;
	}
	return rc;
}

/* Call FN for every record of DB whose key starts with PREFIX (store_walk()). */
int
store_lmdb_walk(store_t *st, store_db_t db, const char *prefix,
		store_walk_fn fn, void *ctx)
{
	walk_op_t op = {.prefix = prefix ? prefix : "", .db = db, .fn = fn, .ctx = ctx};

	op.plen = strlen(op.prefix);
	while (!op.done)
		if (store_txn_run(st, STORE_TXN_READ, "walk", walk_body, &op) != 0)
			return STORE_ERROR;
	return 0;
}

typedef struct {
	const net_t *net;
	int64_t	now;
	int	add;
} wl_op_t;

/* Bump the whitelist generation inside TXN. */
static int
wl_bump(store_t *st, MDB_txn *txn)
{
	return store_meta_add_txn(st, txn, WL_GEN, 1);
}

/* Transaction body of add/remove. */
static int
wl_change(store_t *st, MDB_txn *txn, void *ctx)
{
	wl_op_t *op = ctx;
	unsigned char val[WL_SIZE];
	char	key[STORE_KEY_MAX];
	MDB_val	k, v = {sizeof(val), val};
	uint64_t t = (uint64_t) op->now;
	int	rc;

	k.mv_data = key;
	if ((k.mv_size = store_wl_key(op->net, key, sizeof(key))) == 0)
		return EINVAL;
	if (!op->add) {
		rc = mdb_del(txn, st->dbi[STORE_DB_META], &k, NULL);
		if (rc == MDB_NOTFOUND)
			return STORE_NOTFOUND;
	} else {
		store_wl_encode(op->net, (int64_t) t, val);
		rc = mdb_put(txn, st->dbi[STORE_DB_META], &k, &v, 0);
	}
	return rc ? rc : wl_bump(st, txn);
}

/* Whitelist a client network (ADD), or remove it: STORE_NOTFOUND if absent. */
int
store_lmdb_whitelist(store_t *st, const net_t *net, int64_t now, int add)
{
	wl_op_t op = {.net = net, .now = now, .add = add};

	if (add)
		return store_txn_run(st, STORE_TXN_ADD, "whitelist add", wl_change, &op);
	return store_txn_run(st, STORE_TXN_FREE, "whitelist remove", wl_change, &op);
}

/* Reload the cached list from meta inside TXN. Holds wl_lock exclusive. */
static int
wl_reload(store_t *st, MDB_txn *txn, uint64_t gen)
{
	MDB_cursor *c;
	MDB_val	k = {sizeof(WL_PREFIX) - 1, WL_PREFIX}, v;
	net_t  *nets = NULL, *tmp;
	size_t	n = 0;
	int	rc;

	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_META], &c)) != 0)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < sizeof(WL_PREFIX) - 1 || memcmp(k.mv_data, WL_PREFIX, sizeof(WL_PREFIX) - 1))
			break;
		if ((tmp = realloc(nets, (n + 1) * sizeof(*nets))) == NULL) {
			rc = ENOMEM;
			break;
		}
		nets = tmp;
		n += store_wl_decode(v.mv_data, v.mv_size, &nets[n]) == 0;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		free(nets);
		return rc;
	}
	free(st->wl);
	st->wl = nets;
	st->wl_count = n;
	st->wl_gen = gen;
	st->wl_loaded = 1;
	return 0;
}

/* Is A in the manual whitelist? 1, 0, or -1 on error. */
int
store_whitelist_match(store_t *st, MDB_txn *txn, const addr_t *a)
{
	uint64_t gen;
	int	rc = 0, match = -1;

	if (store_meta_get_txn(st, txn, WL_GEN, &gen) != 0)
		return -1;
	if (gen == 0)
		return 0;		/* never used: no lock at all */
	pthread_rwlock_rdlock(&st->wl_lock);
	if (st->wl_loaded && st->wl_gen == gen)
		match = netlist_contains(st->wl, st->wl_count, a);
	pthread_rwlock_unlock(&st->wl_lock);
	if (match >= 0)
		return match;
	pthread_rwlock_wrlock(&st->wl_lock);
	if (!st->wl_loaded || st->wl_gen != gen)
		rc = wl_reload(st, txn, gen);
	match = rc == 0 ? netlist_contains(st->wl, st->wl_count, a) : -1;
	pthread_rwlock_unlock(&st->wl_lock);
	return match;
}
