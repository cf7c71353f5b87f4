/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store - LMDB environment, transactions, map growth, raw access
 * DESCRIPTION
 *	See store.h. Opening and closing are in store_open.c, the taRgrey
 *	operations in store_grey.c, expiry, counters and sync in
 *	store_expire.c, faults in store_fault.c (below this file),
 *	verification and rebuilding in store_rebuild.c.
 *
 *	Environment flags: MDB_NOTLS (reader slots belong to transactions,
 *	not threads: thousands of milter threads, few slots), MDB_NOSYNC
 *	(a commit writes its pages with pwrite(2), no fsync; store_sync()
 *	syncs every second from the background thread), MDB_NORDAHEAD.
 *	No MDB_WRITEMAP: with it a full disk under the sparse map killed
 *	the daemon with SIGBUS inside mdb_put(); without it the commit
 *	gets ENOSPC (store_fault.c), and the read-only map also keeps a
 *	stray pointer from writing into the file. Measured (bench_store
 *	300000, one core): 101,000 new triplets per CPU-second without
 *	WRITEMAP, 308,000 with it, 310,000 with WRITEMAP plus
 *	posix_fallocate() of the whole map (which costs the full map in
 *	disk blocks and does not cover a read-only remount or copy-on-write
 *	file systems); 100,000/s is still hundreds of times what an MTA
 *	asks. Durability: a process killed at any point
 *	loses nothing committed and at most the transaction in flight (the
 *	map's pages live in the kernel's page cache; LMDB's two meta pages
 *	switch atomically). A kernel crash or power failure can lose the
 *	writes of the last second and, because no sync orders data before
 *	meta pages, may in the worst case leave the file unusable: remove
 *	it and start over (greylisting state only delays mail).
 * DIAGNOSTICS
 *	"store: WHAT: LMDB message" at LOG_ERR; map growth at LOG_INFO.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "store_impl.h"

static const char *const store_db_names[STORE_DB_COUNT] =
	{"greylist", "clients", "tarpit", "meta"};

/* Name of a database. */
const char *
store_db_name(store_db_t db)
{
	return (unsigned) db < STORE_DB_COUNT ? store_db_names[db] : "?";
}

/* Database index by name, or -1. */
int
store_db_by_name(const char *name)
{
	for (int i = 0; i < STORE_DB_COUNT; i++)
		if (strcmp(store_db_names[i], name) == 0)
			return i;
	return -1;
}

/* Pages in use by every B-tree, the free list's own included (pages on
 * the free list are free); 0, or an LMDB error. */
static int
store_pages_used(store_t *st, MDB_txn *txn, size_t *pages)
{
	MDB_stat s;
	int	rc;

	*pages = 0;
	for (int i = 0; i < 2 + STORE_DB_COUNT; i++) {	/* 0 free list, 1 main */
		if ((rc = mdb_stat(txn, i < 2 ? (MDB_dbi) i : st->dbi[i - 2], &s)) != 0)
			return rc;
		*pages += s.ms_branch_pages + s.ms_leaf_pages + s.ms_overflow_pages;
	}
	return 0;
}

/* LMDB says the map at max_size is full: is it? 1 when the B-trees use
 * less than half of it (a damaged meta page or free list, not data). */
static int
store_full_implausible(store_t *st)
{
	MDB_txn *txn;
	size_t	pages = 0;
	int	rc;

	pthread_rwlock_rdlock(&st->resize_lock);
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) == 0) {
		rc = store_pages_used(st, txn, &pages);
		mdb_txn_abort(txn);
	}
	pthread_rwlock_unlock(&st->resize_lock);
	return rc == 0 && pages * st->psize < st->max_size / 2;
}

/* Double the map, up to max_size; 0 when it grew, -1 when full,
 * STORE_EFULL_BOGUS when LMDB's "full" cannot be true. */
static int
store_grow(store_t *st)
{
	MDB_envinfo info;
	size_t	size;
	long	dropped;
	int	rc, dead = 0;

	pthread_rwlock_wrlock(&st->resize_lock);
	mdb_env_info(st->env, &info);
	size = info.me_mapsize;
	if (size >= st->max_size) {
		pthread_rwlock_unlock(&st->resize_lock);
		if (mdb_reader_check(st->env, &dead) == 0 && dead > 0) {
			log_info("store: cleared %d reader slots of dead processes", dead);
			return 0;	/* they held pages the map may now reuse */
		}
		if (store_full_implausible(st))
			return STORE_EFULL_BOGUS;
		if (store_log_allowed(&dropped))
			log_error("store: map full at state_max_size %zu bytes%s", st->max_size,
			    dropped ? " (and earlier lines not logged)" : "");
		return -1;
	}
	size = size > st->max_size / 2 ? st->max_size : size * 2;
	rc = mdb_env_set_mapsize(st->env, size);
	pthread_rwlock_unlock(&st->resize_lock);
	if (rc != 0) {
		store_log_mdb("grow map", rc);
		return -1;
	}
	log_info("store: map grown to %zu bytes", size);
	return 0;
}

/* A write worked: a full map or disk is over. */
static void
store_writing_again(store_t *st)
{
	int	h = atomic_load(&st->health);

	if ((h == STORE_FULL || h == STORE_NOSPACE)
	    && atomic_compare_exchange_strong(&st->health, &h, STORE_HEALTHY))
		log_info("store: writing again (the store was %s)",
		    store_health_name((store_health_t) h));
}

/* Adopt a map size grown by another process. */
static void
store_adopt_size(store_t *st)
{
	pthread_rwlock_wrlock(&st->resize_lock);
	mdb_env_set_mapsize(st->env, 0);
	pthread_rwlock_unlock(&st->resize_lock);
}

/* Would TXN leave less than the reserve free? Counts the pages of every
 * B-tree, the free list's own included: pages on the free list are free. */
static int
store_over_reserve(store_t *st, MDB_txn *txn)
{
	size_t	pages;

	return store_pages_used(st, txn, &pages) == 0
	    && pages * st->psize > st->max_size - st->max_size / STORE_RESERVE_DIV;
}

/* Run FN in one transaction of MODE; retry after growing the map. A
 * broken store is not touched (store_fault.c). */
int
store_txn_run(store_t *st, int mode, const char *what,
	      store_txn_fn fn, void *ctx)
{
	MDB_txn *txn;
	int	rc = 0, grown;

	if (atomic_load(&st->health) == STORE_BROKEN)
		return store_fault_broken(st, what);
	if (st->env == NULL)
		return STORE_ERROR;	/* no LMDB behind it: another backend */
	for (int attempt = 0; attempt < 8; attempt++) {
		pthread_rwlock_rdlock(&st->resize_lock);
		rc = mdb_txn_begin(st->env, NULL, mode ? 0 : MDB_RDONLY, &txn);
		if (rc == 0) {
			store_in_read = mode == STORE_TXN_READ;
			rc = fn(st, txn, ctx);
			store_in_read = 0;
			if (rc == 0 && mode == STORE_TXN_ADD && store_over_reserve(st, txn))
				rc = MDB_MAP_FULL;
			if (rc == 0 && mode)
				rc = mdb_txn_commit(txn);
			else
				mdb_txn_abort(txn);
		}
		pthread_rwlock_unlock(&st->resize_lock);
		if (rc == MDB_MAP_RESIZED) {
			store_adopt_size(st);
			continue;
		}
		if (rc == MDB_MAP_FULL && (grown = store_grow(st)) != -1) {
			if (grown == 0)
				continue;
			rc = grown;	/* STORE_EFULL_BOGUS: corrupt */
		}
		break;
	}
	if (rc == 0 || rc == STORE_NOTFOUND) {
		if (mode && rc == 0)
			store_writing_again(st);
		return rc;
	}
	return store_fault(st, what, rc, mode);
}

/* Get KEY of DB inside TXN; MDB_NOTFOUND when absent, MDB_CORRUPTED
 * (counted) for a value longer than any record: the file is damaged. */
int
store_get_txn(store_t *st, MDB_txn *txn, store_db_t db,
	      const char *key, size_t klen, MDB_val *val)
{
	MDB_val	k = {klen, (void *) key};
	int	rc = mdb_get(txn, st->dbi[db], &k, val);

	if (rc == 0 && !store_val_ok(st, val))
		return MDB_CORRUPTED;
	return rc;
}

/* The u64 (big-endian) counter KEY of meta inside TXN into *VALUE, 0 when
 * absent or not 8 bytes long; 0 or an LMDB error. */
int
store_meta_get_txn(store_t *st, MDB_txn *txn, const char *key, uint64_t *value)
{
	MDB_val	k = {strlen(key), (void *) key}, v;
	int	rc = mdb_get(txn, st->dbi[STORE_DB_META], &k, &v);

	*value = 0;
	if (rc == 0 && v.mv_size == 8)
		for (int b = 0; b < 8; b++)
			*value = (*value << 8) | ((unsigned char *) v.mv_data)[b];
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Add DELTA to the u64 counter KEY of meta inside TXN; 0 or an LMDB error. */
int
store_meta_add_txn(store_t *st, MDB_txn *txn, const char *key, uint64_t delta)
{
	unsigned char buf[8];
	MDB_val	k = {strlen(key), (void *) key}, v = {sizeof(buf), buf};
	uint64_t total;
	int	rc;

	if ((rc = store_meta_get_txn(st, txn, key, &total)) != 0)
		return rc;
	total += delta;
	for (int b = 7; b >= 0; b--, total >>= 8)
		buf[b] = (unsigned char) (total & 0xff);
	return mdb_put(txn, st->dbi[STORE_DB_META], &k, &v, 0);
}

/* Open the named databases and record the schema version. */
int
store_open_dbs(store_t *st, MDB_txn *txn, void *ctx)
{
	MDB_val	k = {6, "schema"}, v;
	unsigned char schema = STORE_SCHEMA;
	int	rc;

	(void) ctx;
	for (int i = 0; i < STORE_DB_COUNT; i++)
		if ((rc = mdb_dbi_open(txn, store_db_names[i], MDB_CREATE, &st->dbi[i])) != 0)
			return rc;
	rc = mdb_get(txn, st->dbi[STORE_DB_META], &k, &v);
	if (rc == 0) {
		if (v.mv_size < 1 || *(unsigned char *) v.mv_data > STORE_SCHEMA) {
			log_error("store: schema version %d is newer than this program's %d",
			    v.mv_size ? *(unsigned char *) v.mv_data : -1, STORE_SCHEMA);
			return EINVAL;
		}
		return 0;
	}
	if (rc != MDB_NOTFOUND)
		return rc;
	v.mv_size = 1;
	v.mv_data = &schema;
	return mdb_put(txn, st->dbi[STORE_DB_META], &k, &v, 0);
}

/* Create the environment handle with our limits and flags (FLAGS:
 * MDB_RDONLY or 0). No MDB_WRITEMAP: a write the file system refuses
 * must come back as an error code from the commit, never as SIGBUS on a
 * store into the map (a full disk under a sparse file). */
int
store_env_open(store_t *st, const char *dir, unsigned flags)
{
	MDB_stat s;
	int	rc, dead;

	if ((rc = mdb_env_create(&st->env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(st->env, STORE_DB_COUNT)) != 0
	    || (rc = mdb_env_set_maxreaders(st->env, 1024)) != 0
	    || (rc = mdb_env_set_mapsize(st->env,
		    st->max_size < STORE_INITIAL_MAP ? st->max_size : STORE_INITIAL_MAP)) != 0)
		return rc;
	rc = mdb_env_open(st->env, dir, MDB_NOTLS | MDB_NOSYNC | MDB_NORDAHEAD | flags, 0640);
	if (rc == 0 && mdb_reader_check(st->env, &dead) == 0 && dead > 0)
		log_info("store: cleared %d reader slots of dead processes", dead);
	if (rc == 0 && (rc = mdb_env_stat(st->env, &s)) == 0)
		st->psize = s.ms_psize;
	return rc;
}

/* Current map size in bytes (0 for a broken store). */
size_t
store_map_size(store_t *st)
{
	MDB_envinfo info = {0};

	pthread_rwlock_rdlock(&st->resize_lock);
	if (st->env && atomic_load(&st->health) != STORE_BROKEN)
		mdb_env_info(st->env, &info);
	pthread_rwlock_unlock(&st->resize_lock);
	return info.me_mapsize;
}

typedef struct {
	store_db_t db;
	const char *key;
	size_t	klen;
	const void *val;
	void   *out;
	size_t	vlen;
	size_t	count;
} store_raw_t;

/* Transaction body of store_get(). */
static int
store_get_body(store_t *st, MDB_txn *txn, void *ctx)
{
	store_raw_t *r = ctx;
	MDB_val	v;
	int	rc;

	rc = store_get_txn(st, txn, r->db, r->key, r->klen, &v);
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc != 0)
		return rc;
	memcpy(r->out, v.mv_data, v.mv_size < r->vlen ? v.mv_size : r->vlen);
	r->vlen = v.mv_size;
	return 0;
}

/* Copy one record out (store_get()). */
int
store_lmdb_get(store_t *st, store_db_t db, const char *key, size_t klen,
	       void *val, size_t *vlen)
{
	store_raw_t r = {.db = db, .key = key, .klen = klen, .out = val, .vlen = *vlen};
	int	rc;

	rc = store_txn_run(st, STORE_TXN_READ, "get", store_get_body, &r);
	*vlen = r.vlen;
	return rc;
}

/* Transaction body of store_put(). */
static int
store_put_body(store_t *st, MDB_txn *txn, void *ctx)
{
	store_raw_t *r = ctx;
	MDB_val	k = {r->klen, (void *) r->key}, v = {r->vlen, (void *) r->val};

	return mdb_put(txn, st->dbi[r->db], &k, &v, 0);
}

/* Store one record (store_put()). */
int
store_lmdb_put(store_t *st, store_db_t db, const char *key, size_t klen,
	       const void *val, size_t vlen)
{
	store_raw_t r = {.db = db, .key = key, .klen = klen, .val = val, .vlen = vlen};

	return store_txn_run(st, STORE_TXN_ADD, "put", store_put_body, &r);
}

/* Transaction body of store_delete(). */
static int
store_delete_body(store_t *st, MDB_txn *txn, void *ctx)
{
	store_raw_t *r = ctx;
	MDB_val	k = {r->klen, (void *) r->key};
	int	rc;

	rc = mdb_del(txn, st->dbi[r->db], &k, NULL);
	return rc == MDB_NOTFOUND ? STORE_NOTFOUND : rc;
}

/* Delete one record; STORE_NOTFOUND when absent (store_delete()). */
int
store_lmdb_delete(store_t *st, store_db_t db, const char *key, size_t klen)
{
	store_raw_t r = {.db = db, .key = key, .klen = klen};

	return store_txn_run(st, STORE_TXN_FREE, "delete", store_delete_body, &r);
}

/* Transaction body of store_count(). */
static int
store_count_body(store_t *st, MDB_txn *txn, void *ctx)
{
	store_raw_t *r = ctx;
	MDB_stat s;
	int	rc;

	if ((rc = mdb_stat(txn, st->dbi[r->db], &s)) == 0)
		r->count = s.ms_entries;
	return rc;
}

/* Number of records in DB (store_count()). */
int
store_lmdb_count(store_t *st, store_db_t db, size_t *count)
{
	store_raw_t r = {.db = db};
	int	rc;

	rc = store_txn_run(st, STORE_TXN_READ, "count", store_count_body, &r);
	*count = r.count;
	return rc;
}
