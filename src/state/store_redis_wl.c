/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_redis_wl - the manual whitelist on the Redis backend
 * DESCRIPTION
 *	Entries are the LMDB ones (store_wl_key(), store_wl_encode()) in
 *	the meta keys of Redis, without TTL. Every change INCRs meta
 *	RS_WL_REV (absent: 0, no entries ever). A decision sends the
 *	revision of this process's cached list and whether the client is in
 *	it; the script answers with the current revision instead of
 *	deciding when it moved on, and the decision reloads the list and
 *	asks again (no extra round trip while the list stays). The reload
 *	walks the entries without a lock and swaps the list in under
 *	wl_lock.
 * DIAGNOSTICS
 *	store_redis_conn.h.
 */
#include <stdlib.h>
#include <string.h>
#include "store_redis_int.h"

int
store_redis_whitelist(store_t *st, const net_t *net, int64_t now, int add)
{
	unsigned char val[STORE_WL_SIZE];
	char	key[STORE_KEY_MAX];
	size_t	klen = store_wl_key(net, key, sizeof(key));

	if (klen == 0)
		return STORE_ERROR;
	store_wl_encode(net, now, val);
	return add ? store_redis_put(st, STORE_DB_META, key, klen, val, sizeof(val))
	    : store_redis_delete(st, STORE_DB_META, key, klen);
}

typedef struct {
	net_t  *nets;
	size_t	n;
	int	nomem;
} wl_load_t;

static int
wl_one(const char *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	wl_load_t *l = ctx;
	net_t  *tmp;

	(void) key, (void) klen;
	if ((tmp = realloc(l->nets, (l->n + 1) * sizeof(*tmp))) == NULL) {
		l->nomem = 1;
		return 1;
	}
	l->nets = tmp;
	l->n += store_wl_decode(val, vlen, &l->nets[l->n]) == 0;
	return 0;
}

/* Is A in the cached list? 1 or 0; *REV is the revision it was loaded at. */
int
rs_whitelist_cached(store_redis_t *rs, const addr_t *a, long long *rev)
{
	int	match;

	pthread_rwlock_rdlock(&rs->wl_lock);
	*rev = rs->wl_rev;
	match = netlist_contains(rs->wl, rs->wl_count, a);
	pthread_rwlock_unlock(&rs->wl_lock);
	return match;
}

/* Load the entries as the list of revision REV; 0 or -1. */
int
rs_whitelist_reload(store_redis_t *rs, long long rev)
{
	wl_load_t l = {0};

	if (rs_walk(rs, STORE_DB_META, "whitelist/", wl_one, &l) != STORE_OK || l.nomem) {
		free(l.nets);
		return -1;
	}
	pthread_rwlock_wrlock(&rs->wl_lock);
	free(rs->wl);
	rs->wl = l.nets;
	rs->wl_count = l.n;
	rs->wl_rev = rev;
	pthread_rwlock_unlock(&rs->wl_lock);
	return 0;
}

/* Is A in the manual whitelist, whose revision REV holds? 1, 0 or -1. */
int
rs_whitelist_match(store_redis_t *rs, const rs_rec_t *rev, const addr_t *a)
{
	char	text[32];
	long long want = 0, have;
	int	match;

	if (rev->has_old && rev->olen > 0 && rev->olen < sizeof(text)) {
		memcpy(text, rev->old, rev->olen);
		text[rev->olen] = '\0';
		want = atoll(text);
	}
	match = rs_whitelist_cached(rs, a, &have);
	if (have == want)
		return match;
	return rs_whitelist_reload(rs, want) == 0 ? rs_whitelist_cached(rs, a, &have) : -1;
}
