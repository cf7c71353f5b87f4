/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_list - walking the store and the manual client whitelist
 * DESCRIPTION
 *	See store.h: store_walk(), store_whitelist_add(),
 *	store_whitelist_remove().
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
#define WL_SIZE		27

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

/* Call FN for every record of DB whose key starts with PREFIX. */
int
store_walk(store_t *st, store_db_t db, const char *prefix,
	   store_walk_fn fn, void *ctx)
{
	walk_op_t op = {.prefix = prefix ? prefix : "", .db = db, .fn = fn, .ctx = ctx};

	op.plen = strlen(op.prefix);
	if (op.plen > STORE_KEY_MAX)
		return STORE_ERROR;
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

/* Key of a whitelist entry: "whitelist/ADDR/LEN". */
static size_t
wl_key(const net_t *n, char *buf, size_t size)
{
	char	text[ADDR_TEXT_MAX];

	if (addr_format(&n->addr, text, sizeof(text)) == 0)
		return 0;
	return (size_t) snprintf(buf, size, WL_PREFIX "%s/%u", text, n->prefix);
}

/* Bump the whitelist generation inside TXN. */
static int
wl_bump(store_t *st, MDB_txn *txn)
{
	MDB_val	k = {sizeof(WL_GEN) - 1, WL_GEN}, v;
	unsigned char buf[8];
	uint64_t gen = 0;
	int	rc;

	rc = mdb_get(txn, st->dbi[STORE_DB_META], &k, &v);
	if (rc == 0 && v.mv_size == 8)
		for (int b = 0; b < 8; b++)
			gen = (gen << 8) | ((unsigned char *) v.mv_data)[b];
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	gen++;
	for (int b = 7; b >= 0; b--, gen >>= 8)
		buf[b] = (unsigned char) (gen & 0xff);
	v.mv_size = 8;
	v.mv_data = buf;
	return mdb_put(txn, st->dbi[STORE_DB_META], &k, &v, 0);
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
	if ((k.mv_size = wl_key(op->net, key, sizeof(key))) == 0)
		return EINVAL;
	if (!op->add) {
		rc = mdb_del(txn, st->dbi[STORE_DB_META], &k, NULL);
		if (rc == MDB_NOTFOUND)
			return STORE_NOTFOUND;
	} else {
		val[0] = RECORD_VERSION;
		val[1] = op->net->addr.family == AF_INET ? 4 : 6;
		val[2] = (unsigned char) op->net->prefix;
		memcpy(val + 3, op->net->addr.bytes, 16);
		for (int b = 7; b >= 0; b--, t >>= 8)
			val[19 + b] = (unsigned char) (t & 0xff);
		rc = mdb_put(txn, st->dbi[STORE_DB_META], &k, &v, 0);
	}
	return rc ? rc : wl_bump(st, txn);
}

/* Whitelist a client network. */
int
store_whitelist_add(store_t *st, const net_t *net, int64_t now)
{
	wl_op_t op = {.net = net, .now = now, .add = 1};

	return store_txn_run(st, STORE_TXN_ADD, "whitelist add", wl_change, &op);
}

/* Remove a client network from the whitelist; STORE_NOTFOUND if absent. */
int
store_whitelist_remove(store_t *st, const net_t *net)
{
	wl_op_t op = {.net = net};

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
		const unsigned char *p = v.mv_data;

		if (k.mv_size < sizeof(WL_PREFIX) - 1 || memcmp(k.mv_data, WL_PREFIX, sizeof(WL_PREFIX) - 1))
			break;
		if (v.mv_size < WL_SIZE || p[0] != RECORD_VERSION)
			continue;
		if ((tmp = realloc(nets, (n + 1) * sizeof(*nets))) == NULL) {
			rc = ENOMEM;
			break;
		}
		nets = tmp;
		memset(&nets[n], 0, sizeof(nets[n]));
		nets[n].addr.family = p[1] == 4 ? AF_INET : AF_INET6;
		nets[n].prefix = p[2];
		memcpy(nets[n].addr.bytes, p + 3, 16);
		n++;
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
	MDB_val	k = {sizeof(WL_GEN) - 1, WL_GEN}, v;
	uint64_t gen = 0;
	int	rc, match = -1;

	rc = mdb_get(txn, st->dbi[STORE_DB_META], &k, &v);
	if (rc == 0 && v.mv_size == 8)
		for (int b = 0; b < 8; b++)
			gen = (gen << 8) | ((unsigned char *) v.mv_data)[b];
	else if (rc != 0 && rc != MDB_NOTFOUND)
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
