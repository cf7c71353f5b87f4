/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_redis_list - raw access to the Redis records (targreyctl, tests)
 * DESCRIPTION
 *	store_redis_get(), _put(), _delete(), _walk() and _count(), the
 *	Redis backend's store_get() and the others (store.h; called through
 *	store_redis_backend, store_redis_open.c), on the keys PREFIX DB
 *	':' KEY. A put or delete of a manual whitelist entry also INCRs
 *	meta whitelist_rev (rs_wl_changed(); store_redis_wl.c). A record put
 *	gets its TTL from the record itself
 *	(store_redis_ttl_ms()); one already expired is not written. The walk
 *	uses SCAN (with the glob characters of the prefix escaped) and MGET:
 *	no order, and a record that expires meanwhile is skipped.
 * DIAGNOSTICS
 *	store_redis_conn.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "store_redis_int.h"

/* After a change of meta KEY: INCR the revision when KEY is a whitelist
 * entry (also when targreyctl load writes one). STORE_OK or STORE_ERROR. */
static int
rs_wl_changed(store_redis_t *rs, store_db_t db, const char *key, size_t klen)
{
	char	rev[RS_KEY_MAX];
	const char *av[] = {"INCR", rev};
	size_t	lv[2] = {4, rs_key(rs, STORE_DB_META, RS_WL_REV, strlen(RS_WL_REV),
		    rev, sizeof(rev))};
	redisReply *r;
	int	rc;

	if (db != STORE_DB_META || klen < 10 || memcmp(key, "whitelist/", 10) != 0)
		return STORE_OK;
	if (lv[1] == 0 || (r = redis_link_cmd(rs->link, "whitelist revision", 2, av, lv)) == NULL)
		return STORE_ERROR;
	rc = r->type == REDIS_REPLY_INTEGER ? STORE_OK : STORE_ERROR;
	freeReplyObject(r);
	return rc;
}

int
store_redis_get(store_t *st, store_db_t db, const char *key, size_t klen,
		void *val, size_t *vlen)
{
	store_redis_t *rs = st->redis;
	char	k[RS_KEY_MAX];
	const char *av[] = {"GET", k};
	size_t	lv[] = {3, rs_key(rs, db, key, klen, k, sizeof(k))};
	redisReply *r;
	int	rc = STORE_ERROR;

	if (lv[1] == 0 || (r = redis_link_cmd(rs->link, "get", 2, av, lv)) == NULL)
		return STORE_ERROR;
	if (r->type == REDIS_REPLY_NIL)
		rc = STORE_NOTFOUND;
	else if (r->type == REDIS_REPLY_STRING) {
		memcpy(val, r->str, r->len < *vlen ? r->len : *vlen);
		*vlen = r->len;
		rc = STORE_OK;
	}
	freeReplyObject(r);
	return rc;
}

int
store_redis_put(store_t *st, store_db_t db, const char *key, size_t klen,
		const void *val, size_t vlen)
{
	store_redis_t *rs = st->redis;
	char	k[RS_KEY_MAX], ttl[24];
	const char *av[] = {"SET", k, val, "PX", ttl};
	size_t	lv[] = {3, rs_key(rs, db, key, klen, k, sizeof(k)), vlen, 2, 0};
	int64_t	ms = store_redis_ttl_ms(&rs->p, (int64_t) time(NULL), db, val, vlen);
	redisReply *r;
	int	rc;

	if (lv[1] == 0)
		return STORE_ERROR;
	lv[4] = (size_t) snprintf(ttl, sizeof(ttl), "%lld", (long long) ms);
	if ((r = redis_link_cmd(rs->link, "put", ms ? 5 : 3, av, lv)) == NULL)
		return STORE_ERROR;
	rc = r->type == REDIS_REPLY_STATUS ? STORE_OK : STORE_ERROR;
	freeReplyObject(r);
	return rc == STORE_OK ? rs_wl_changed(rs, db, key, klen) : rc;
}

int
store_redis_delete(store_t *st, store_db_t db, const char *key, size_t klen)
{
	store_redis_t *rs = st->redis;
	char	k[RS_KEY_MAX];
	const char *av[] = {"DEL", k};
	size_t	lv[] = {3, rs_key(rs, db, key, klen, k, sizeof(k))};
	redisReply *r;
	int	rc;

	if (lv[1] == 0 || (r = redis_link_cmd(rs->link, "delete", 2, av, lv)) == NULL)
		return STORE_ERROR;
	rc = r->type != REDIS_REPLY_INTEGER ? STORE_ERROR : r->integer ? STORE_OK : STORE_NOTFOUND;
	freeReplyObject(r);
	return rc == STORE_OK ? rs_wl_changed(rs, db, key, klen) : rc;
}

/* The SCAN pattern of DB and PREFIX: glob characters escaped, then '*'. */
static size_t
walk_pattern(const store_redis_t *rs, store_db_t db, const char *prefix,
	     char *buf, size_t size)
{
	char	raw[RS_KEY_MAX];
	size_t	n = rs_key(rs, db, prefix ? prefix : "", prefix ? strlen(prefix) : 0,
		    raw, sizeof(raw)), o = 0;

	for (size_t i = 0; i < n && o + 3 < size; i++) {
		if (strchr("*?[]\\", raw[i]))
			buf[o++] = '\\';
		buf[o++] = raw[i];
	}
	if (n == 0 || o + 2 > size)
		return 0;
	buf[o++] = '*';
	buf[o] = '\0';
	return o;
}

/* Call FN for each key of one SCAN batch B (values by MGET); 1 to stop. */
static int
walk_batch(store_redis_t *rs, const redisReply *b, size_t skip, store_walk_fn fn,
	   void *ctx, int *err)
{
	const char **av = calloc(b->elements + 1, sizeof(*av));
	size_t *lv = calloc(b->elements + 1, sizeof(*lv));
	redisReply *r = NULL;
	int	stop = 0;

	*err = av == NULL || lv == NULL;
	if (*err || b->elements == 0)
		goto out;
	av[0] = "MGET";
	lv[0] = 4;
	for (size_t i = 0; i < b->elements; i++) {
		av[i + 1] = b->element[i]->str;
		lv[i + 1] = b->element[i]->len;
	}
	r = redis_link_cmd(rs->link, "walk", (int) b->elements + 1, av, lv);
	if ((*err = r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != b->elements))
		goto out;
	for (size_t i = 0; i < b->elements && !stop; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING && b->element[i]->len > skip)
			stop = fn(b->element[i]->str + skip, b->element[i]->len - skip,
			    r->element[i]->str, r->element[i]->len, ctx);
out:
	if (r)
		freeReplyObject(r);
	free(av);
	free(lv);
	return stop;
}

/* store_walk() on RS (also the whitelist's reload). */
int
rs_walk(store_redis_t *rs, store_db_t db, const char *prefix,
	store_walk_fn fn, void *ctx)
{
	char	pat[2 * RS_KEY_MAX], cursor[32] = "0", k[RS_KEY_MAX];
	const char *av[] = {"SCAN", cursor, "MATCH", pat, "COUNT", "1000"};
	size_t	skip = rs_key(rs, db, "", 0, k, sizeof(k));
	int	err = 0, stop = 0;

	if (walk_pattern(rs, db, prefix, pat, sizeof(pat)) == 0)
		return STORE_ERROR;
	do {
		redisReply *r = redis_link_cmd(rs->link, "walk", 6, av, NULL);

		if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2
		    || r->element[0]->type != REDIS_REPLY_STRING) {
			if (r)
				freeReplyObject(r);
			return STORE_ERROR;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		stop = walk_batch(rs, r->element[1], skip, fn, ctx, &err);
		freeReplyObject(r);
	} while (!err && !stop && strcmp(cursor, "0") != 0);
	return err ? STORE_ERROR : STORE_OK;
}

static int
count_one(const char *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	(void) key, (void) klen, (void) val, (void) vlen;
	++*(size_t *) ctx;
	return 0;
}

int
store_redis_walk(store_t *st, store_db_t db, const char *prefix,
		 store_walk_fn fn, void *ctx)
{
	return rs_walk(st->redis, db, prefix, fn, ctx);
}

int
store_redis_count(store_t *st, store_db_t db, size_t *count)
{
	*count = 0;
	return rs_walk(st->redis, db, NULL, count_one, count);
}
