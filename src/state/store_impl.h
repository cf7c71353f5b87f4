/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_impl - internals of the store: the backend table, LMDB helpers
 * DESCRIPTION
 *	Not for other modules: use store.h.
 *
 *	store_backend_t is the one table of backend operations. Each entry
 *	takes the store and the arguments of the store.h (or store_report.h)
 *	function of the same name; store_api.c makes the argument checks
 *	every backend shares, then calls through st->ops, the table chosen
 *	at open: store_open() takes store_lmdb_backend (store_open.c),
 *	store_open_config() store_redis_backend for state_backend = redis
 *	(store_redis_open.c). A backend names its functions PREFIX_check,
 *	PREFIX_get, ... after the entries; STORE_BACKEND_DECLARE(PREFIX)
 *	declares them all and STORE_BACKEND_TABLE(PREFIX) fills its
 *	table with them, so a function missing is a link error, never a
 *	NULL entry. A third backend writes those functions, declares them,
 *	fills its table once and hands it to store_alloc(). An operation a
 *	backend has no use for still has its function (Redis's expiry step
 *	returns 1 at once: its server expires records itself).
 */
#ifndef TG_STORE_IMPL_H
#define TG_STORE_IMPL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include "store.h"
#include "store_report.h"

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
	const struct store_backend *ops;	/* the backend's operations */
	struct store_redis *redis;	/* the Redis backend's state; env is then NULL */
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

/* The operations of a backend, by the store.h function each serves. */
typedef greylist_verdict_t store_check_fn(store_t *st, const greylist_params_t *p,
	    int64_t now, const addr_t *client, const char *sender,
	    const char *recipient, int flags, greylist_result_t *r);
typedef int store_tarpit_failed_fn(store_t *st, const greylist_params_t *p,
	    int64_t now, const addr_t *client);
typedef int store_tarpit_passed_fn(store_t *st, const greylist_params_t *p,
	    int64_t now, const addr_t *client, const char *sender,
	    const char *const *recipients, size_t count);
typedef int store_lookup_fn(store_t *st, const greylist_params_t *p,
	    const addr_t *client, const char *sender, const char *recipient,
	    store_facts_t *out);
typedef int store_get_fn(store_t *st, store_db_t db, const char *key, size_t klen,
	    void *val, size_t *vlen);
typedef int store_put_fn(store_t *st, store_db_t db, const char *key, size_t klen,
	    const void *val, size_t vlen);
typedef int store_delete_fn(store_t *st, store_db_t db, const char *key, size_t klen);
typedef int store_walk_op_fn(store_t *st, store_db_t db, const char *prefix,
	    store_walk_fn fn, void *ctx);
typedef int store_count_fn(store_t *st, store_db_t db, size_t *count);
/* add 1: store_whitelist_add(); 0: store_whitelist_remove() (NOW unused) */
typedef int store_whitelist_fn(store_t *st, const net_t *net, int64_t now, int add);
/* add DELTA[i] to the stored counter "count/NAMES[i]" (store_sync()) */
typedef int store_counters_add_fn(store_t *st, const char *const *names,
	    const uint64_t *delta, size_t n);
typedef int store_expire_step_fn(store_t *st, const greylist_params_t *p,
	    int64_t now, size_t batch, store_expire_t *ex);
typedef int store_sync_fn(store_t *st);	/* to disk, after the counters */
typedef void store_close_fn(store_t *st);	/* the backend's part of store_close() */
typedef int store_report_add_fn(store_t *st, int64_t hour,
	    const uint32_t counts[REPORT_CATEGORIES], int64_t keep_hours);
typedef int store_report_read_fn(store_t *st, int64_t from_hour, int64_t to_hour,
	    store_report_fn fn, void *ctx);
typedef int store_report_net_add_fn(store_t *st, int64_t hour,
	    const topnet_t *nets, size_t n, int64_t keep_hours);
typedef int store_report_net_read_fn(store_t *st, int64_t from_hour,
	    int64_t to_hour, store_report_net_fn fn, void *ctx);

typedef struct store_backend {
	store_check_fn *check;
	store_tarpit_failed_fn *tarpit_failed;
	store_tarpit_passed_fn *tarpit_passed;
	store_lookup_fn *lookup;
	store_get_fn *get;
	store_put_fn *put;
	store_delete_fn *del;
	store_walk_op_fn *walk;
	store_count_fn *count;
	store_whitelist_fn *whitelist;
	store_counters_add_fn *counters_add;
	store_expire_step_fn *expire_step;
	store_sync_fn *sync;
	store_close_fn *close;
	store_report_add_fn *report_add;
	store_report_read_fn *report_read;
	store_report_net_add_fn *report_net_add;
	store_report_net_read_fn *report_net_read;
} store_backend_t;

extern const store_backend_t store_lmdb_backend;	/* store_open.c */
extern const store_backend_t store_redis_backend;	/* store_redis_open.c */

/* store_open.c: both backends start here; store_close() undoes it */
store_t *store_alloc(const store_backend_t *ops);

/* Declares the operations of the backend whose functions start with
 * PREFIX: PREFIX_check, PREFIX_tarpit_failed, ... one for each entry of
 * its table (store_backend_t; "del" is PREFIX_delete). */
#define STORE_BACKEND_DECLARE(prefix) \
	store_check_fn prefix##_check; \
	store_tarpit_failed_fn prefix##_tarpit_failed; \
	store_tarpit_passed_fn prefix##_tarpit_passed; \
	store_lookup_fn prefix##_lookup; \
	store_get_fn prefix##_get; \
	store_put_fn prefix##_put; \
	store_delete_fn prefix##_delete; \
	store_walk_op_fn prefix##_walk; \
	store_count_fn prefix##_count; \
	store_whitelist_fn prefix##_whitelist; \
	store_counters_add_fn prefix##_counters_add; \
	store_expire_step_fn prefix##_expire_step; \
	store_sync_fn prefix##_sync; \
	store_close_fn prefix##_close; \
	store_report_add_fn prefix##_report_add; \
	store_report_read_fn prefix##_report_read; \
	store_report_net_add_fn prefix##_report_net_add; \
	store_report_net_read_fn prefix##_report_net_read

/* The table of that backend. */
#define STORE_BACKEND_TABLE(prefix) { \
	.check = prefix##_check, .tarpit_failed = prefix##_tarpit_failed, \
	.tarpit_passed = prefix##_tarpit_passed, .lookup = prefix##_lookup, \
	.get = prefix##_get, .put = prefix##_put, .del = prefix##_delete, \
	.walk = prefix##_walk, .count = prefix##_count, \
	.whitelist = prefix##_whitelist, .counters_add = prefix##_counters_add, \
	.expire_step = prefix##_expire_step, .sync = prefix##_sync, \
	.close = prefix##_close, .report_add = prefix##_report_add, \
	.report_read = prefix##_report_read, \
	.report_net_add = prefix##_report_net_add, \
	.report_net_read = prefix##_report_net_read }

/* The LMDB backend: store_grey.c (check, tarpit, lookup), store.c (get,
 * put, delete, count), store_list.c (walk, whitelist), store_expire.c
 * (counters, expiry, sync), store_open.c (close), store_report.c. */
STORE_BACKEND_DECLARE(store_lmdb);
const char *store_unavailable_reason(store_t *st);	/* "store=HEALTH" */

typedef int (*store_txn_fn)(store_t *st, MDB_txn *txn, void *ctx);

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
