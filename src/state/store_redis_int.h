/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_redis_int - internals shared by store_redis.c and store_redis_raw.c
 * DESCRIPTION
 *	Not for other modules: use store_redis.h. rs_rec_t is one record of
 *	a compare-and-set: its key, the value read (the expectation), and
 *	what to write (TTL -1: leave it, 0: delete it).
 */
#ifndef TG_STORE_REDIS_INT_H
#define TG_STORE_REDIS_INT_H

#include <pthread.h>
#include "record.h"
#include "store_redis.h"

#define RS_PREFIX_MAX	128
#define RS_KEY_MAX	(RS_PREFIX_MAX + 16 + STORE_KEY_MAX)

#define RS_EXPECT_ANY	2	/* written whatever it holds */

#define RS_WL_REV	"whitelist_rev"	/* meta: INCR at every whitelist change */

struct store_redis {
	redis_link_t *link;
	char	prefix[RS_PREFIX_MAX];
	greylist_params_t p;
	char	cas_sha[REDIS_SHA_SIZE];
	char	add_sha[REDIS_SHA_SIZE];	/* counters script */
	/* manual whitelist cache, reloaded when RS_WL_REV moves */
	pthread_rwlock_t wl_lock;
	long long wl_rev;		/* 0: not loaded */
	net_t  *wl;
	size_t	wl_count;
};

typedef struct {
	char	key[RS_KEY_MAX];
	size_t	klen;
	int	has_old;		/* the key existed when read */
	int	expect;			/* 1: must still be as read; RS_EXPECT_ANY */
	unsigned char old[STORE_VAL_MAX];
	size_t	olen;
	unsigned char new[RECORD_MAX_SIZE];
	size_t	nlen;
	int64_t	ttl_ms;			/* -1: unchanged, 0: delete */
} rs_rec_t;

size_t	rs_key(const store_redis_t *rs, store_db_t db, const char *key, size_t klen,
	    char *buf, size_t size);
int	rs_read(store_redis_t *rs, rs_rec_t *rec, size_t n);
int	rs_cas(store_redis_t *rs, rs_rec_t *rec, size_t n);
int	rs_whitelist_match(store_redis_t *rs, const rs_rec_t *rev, const addr_t *a);

#endif
