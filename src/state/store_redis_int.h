/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_redis_int - internals of the Redis backend
 * DESCRIPTION
 *	Not for other modules: use store.h. The Redis backend's operations,
 *	each as its entry of store_backend_t describes (store_impl.h),
 *	gathered in store_redis_backend (store_redis_open.c). rs_rec_t is one record of
 *	an operation: its database and key, and (rs_read()) the value read.
 *	STORE_REDIS_SCRIPT is the decision script (store_redis_lua.c).
 */
#ifndef TG_STORE_REDIS_INT_H
#define TG_STORE_REDIS_INT_H

#include <pthread.h>
#include "record.h"
#include "store_impl.h"
#include "store_redis.h"

#define RS_PREFIX_MAX	128
#define RS_KEY_MAX	(RS_PREFIX_MAX + 16 + STORE_KEY_MAX)

#define RS_WL_REV	"whitelist_rev"	/* meta: INCR at every whitelist change */

struct store_redis {
	redis_link_t *link;
	char	prefix[RS_PREFIX_MAX];
	greylist_params_t p;
	char	sha[REDIS_SHA_SIZE];		/* STORE_REDIS_SCRIPT */
	char	add_sha[REDIS_SHA_SIZE];	/* counters script */
	/* manual whitelist cache, reloaded when RS_WL_REV moves */
	pthread_rwlock_t wl_lock;
	long long wl_rev;		/* 0: not loaded */
	net_t  *wl;
	size_t	wl_count;
};

typedef struct {
	store_db_t db;
	char	key[RS_KEY_MAX];
	size_t	klen;
	int	has_old;		/* the key existed when read */
	unsigned char old[STORE_VAL_MAX];
	size_t	olen;			/* 0 when longer than STORE_VAL_MAX */
} rs_rec_t;

extern const char STORE_REDIS_SCRIPT[];

/* The operations of store_redis_backend: store_redis.c (check, tarpit,
 * lookup), store_redis_list.c (get, put, delete, walk, count),
 * store_redis_wl.c (whitelist), store_redis_raw.c (counters),
 * store_redis_open.c (expiry, sync, close), store_redis_report.c. */
STORE_BACKEND_DECLARE(store_redis);

store_redis_t *rs_new(const redis_conf_t *conf, const char *prefix,
	    const greylist_params_t *p);
store_redis_t *rs_free(store_redis_t *rs);	/* returns NULL */
int	rs_walk(store_redis_t *rs, store_db_t db, const char *prefix,
	    store_walk_fn fn, void *ctx);

size_t	rs_key(const store_redis_t *rs, store_db_t db, const char *key, size_t klen,
	    char *buf, size_t size);
int	rs_read(store_redis_t *rs, rs_rec_t *rec, size_t n);
int	rs_whitelist_match(store_redis_t *rs, const rs_rec_t *rev, const addr_t *a);
int	rs_whitelist_cached(store_redis_t *rs, const addr_t *a, long long *rev);
int	rs_whitelist_reload(store_redis_t *rs, long long rev);

#endif
