/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_impl - internals shared by store.c, store_grey.c, store_expire.c
 * DESCRIPTION
 *	Not for other modules: use store.h.
 */
#ifndef TG_STORE_IMPL_H
#define TG_STORE_IMPL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include "store.h"

#define STORE_VERDICTS	(GREYLIST_UNAVAILABLE + 1)
/* pending[]: the verdicts, then the events (store_event_t) */
#define STORE_COUNTERS	(STORE_VERDICTS + STORE_EVENTS)

/* store_txn_run() modes */
#define STORE_TXN_READ	0
#define STORE_TXN_ADD	1	/* may add records: stops short of the reserve */
#define STORE_TXN_FREE	2	/* deletes or small updates: may use the reserve */
#define STORE_RESERVE_DIV 8	/* the last 1/8 of max_size is kept for deletions */
#define STORE_EFULL_BOGUS (-30700)	/* MDB_MAP_FULL with the map half empty */
#define STORE_MARK	"data.mdb.broken"	/* see store_fault.c */

struct store {
	MDB_env *env;
	char   *dir;		/* state directory, for a rebuild */
	/* store_health_t; set by store_fault(), cleared by a good write */
	_Atomic int health;
	_Atomic uint64_t bad_records;	/* records skipped as out of bounds */
	_Atomic int64_t fault_logged[4];	/* last line of each health kind */
	MDB_dbi	dbi[STORE_DB_COUNT];
	struct store_redis *redis;	/* state_backend = redis; env is then NULL */
	size_t	max_size;
	size_t	psize;		/* LMDB page size */
	/* transactions hold it shared; growing the map holds it exclusive */
	pthread_rwlock_t resize_lock;
	/* manual whitelist cache, reloaded when meta "whitelist_gen" moves */
	pthread_rwlock_t wl_lock;
	uint64_t wl_gen;
	int	wl_loaded;
	net_t  *wl;
	size_t	wl_count;
	/* verdict counts not yet flushed into meta */
	_Atomic uint64_t pending[STORE_COUNTERS];
	/* background expiry thread; LOCK guards the fields below it */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int	running;
	int	stop;
	greylist_params_t params;
	long	interval_ms;
};

typedef int (*store_txn_fn)(store_t *st, MDB_txn *txn, void *ctx);

store_t *store_alloc(void);	/* store_open.c: both backends start here */

int	store_txn_run(store_t *st, int mode, const char *what,
	    store_txn_fn fn, void *ctx);
void	store_log_mdb(const char *what, int rc);
int	store_log_allowed(long *dropped);
int	store_get_txn(store_t *st, MDB_txn *txn, store_db_t db,
	    const char *key, size_t klen, MDB_val *val);
int	store_meta_get_txn(store_t *st, MDB_txn *txn, const char *key, uint64_t *value);
int	store_meta_add_txn(store_t *st, MDB_txn *txn, const char *key, uint64_t delta);
int	store_grey_keys(const greylist_params_t *p, const addr_t *a,
	    const char *sender, const char *rcpt, store_facts_t *f);
#define STORE_WL_SIZE	27	/* a manual whitelist entry (store_list.c) */
size_t	store_wl_key(const net_t *n, char *buf, size_t size);
void	store_wl_encode(const net_t *net, int64_t now, unsigned char *val);
int	store_wl_decode(const void *val, size_t len, net_t *net);
int	store_whitelist_match(store_t *st, MDB_txn *txn, const addr_t *a);

/* store_fault.c */
int	store_env_open(store_t *st, const char *dir, unsigned flags);
int	store_open_dbs(store_t *st, MDB_txn *txn, void *ctx);
int	store_fault(store_t *st, const char *what, int rc, int write);
int	store_fault_broken(store_t *st, const char *what);
int	store_node_ok(store_t *st, const MDB_val *k, const MDB_val *v);
int	store_val_ok(store_t *st, const MDB_val *v);
/* The records of one leaf page, to check that their sizes tile it. */
#define STORE_PAGE_NODES 512
typedef struct {
	uintptr_t base;			/* page being collected, 0: none */
	size_t	n;
	uintptr_t start[STORE_PAGE_NODES], end[STORE_PAGE_NODES];
	int	overflow;
} store_page_t;
int	store_page_add(store_t *st, store_page_t *pg, const MDB_val *k,
	    const MDB_val *v);
int	store_page_end(store_t *st, store_page_t *pg);

/* 1 while this thread runs a read transaction: its pages are the map's,
 * page-aligned, so a node can be checked against its page's end */
extern _Thread_local int store_in_read;

#endif
