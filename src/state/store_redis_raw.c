/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_redis_raw - Redis keys, MGET, the counters script, raw access
 * DESCRIPTION
 *	See store_redis.h. rs_new() and rs_free() make and free the
 *	backend's state (struct store_redis, store_redis_int.h).
 * DIAGNOSTICS
 *	store_redis_conn.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_redis_int.h"

static const char ADD_SCRIPT[] =
    "for i = 1, #KEYS do\n"
    "  local d = tonumber(ARGV[i])\n"
    "  if d > 0 then\n"
    "    local v = redis.call('GET', KEYS[i])\n"
    "    local n = 0\n"
    "    if v and #v == 8 then n = struct.unpack('>I8', v) end\n"
    "    redis.call('SET', KEYS[i], struct.pack('>I8', n + d))\n"
    "  end\n"
    "end\n"
    "return 1\n";

int
store_redis_counters_add(store_t *st, const char *const *names,
			 const uint64_t *delta, size_t n)
{
	store_redis_t *rs = st->redis;
	size_t	argc = 1 + 2 * n;
	const char **av = calloc(argc, sizeof(*av));
	size_t *lv = calloc(argc, sizeof(*lv));
	char   *buf = calloc(n + 1, RS_KEY_MAX + 24);
	redisReply *r = NULL;
	int	rc = -1;

	if (av == NULL || lv == NULL || buf == NULL)
		goto out;
	av[0] = buf + n * (RS_KEY_MAX + 24);
	lv[0] = (size_t) snprintf(buf + n * (RS_KEY_MAX + 24), 24, "%zu", n);
	for (size_t i = 0; i < n; i++) {
		char   *k = buf + i * (RS_KEY_MAX + 24), *d = k + RS_KEY_MAX, name[64];
		int	nl = snprintf(name, sizeof(name), "count/%s", names[i]);

		av[1 + i] = k;
		lv[1 + i] = rs_key(rs, STORE_DB_META, name, (size_t) nl, k, RS_KEY_MAX);
		av[1 + n + i] = d;
		lv[1 + n + i] = (size_t) snprintf(d, 24, "%llu", (unsigned long long) delta[i]);
	}
	r = redis_link_eval(rs->link, "counters", ADD_SCRIPT, rs->add_sha, (int) argc, av, lv);
	rc = r && r->type == REDIS_REPLY_INTEGER ? 0 : -1;
out:
	if (r)
		freeReplyObject(r);
	free(av);
	free(lv);
	free(buf);
	return rc;
}

store_redis_t *
rs_new(const redis_conf_t *conf, const char *prefix, const greylist_params_t *p)
{
	store_redis_t *rs;

	if (strlen(prefix) >= RS_PREFIX_MAX || (rs = calloc(1, sizeof(*rs))) == NULL)
		return NULL;
	if ((rs->link = redis_link_new(conf)) == NULL) {
		free(rs);
		return NULL;
	}
	snprintf(rs->prefix, sizeof(rs->prefix), "%s", prefix);
	pthread_rwlock_init(&rs->wl_lock, NULL);
	rs->p = *p;
	return rs;
}

store_redis_t *
rs_free(store_redis_t *rs)
{
	if (rs) {
		redis_link_free(rs->link);
		pthread_rwlock_destroy(&rs->wl_lock);
		free(rs->wl);
		free(rs);
	}
	return NULL;
}

/* PREFIX DB ':' KEY into BUF; its length, or 0 when it does not fit. */
size_t
rs_key(const store_redis_t *rs, store_db_t db, const char *key, size_t klen,
       char *buf, size_t size)
{
	static const char *const names[STORE_DB_COUNT] =
	    {"greylist", "clients", "tarpit", "meta"};	/* store_db_name()'s */
	int	n = snprintf(buf, size, "%s%s:", rs->prefix, names[db]);

	if (n < 0 || (size_t) n + klen >= size)
		return 0;
	memcpy(buf + n, key, klen);
	buf[n + klen] = '\0';
	return (size_t) n + klen;
}

/* MGET the N keys of REC into their old values; 0 or -1. */
int
rs_read(store_redis_t *rs, rs_rec_t *rec, size_t n)
{
	const char **av = calloc(n + 1, sizeof(*av));
	size_t *lv = calloc(n + 1, sizeof(*lv));
	redisReply *r = NULL;
	int	rc = -1;

	if (av == NULL || lv == NULL)
		goto out;
	av[0] = "MGET";
	lv[0] = 4;
	for (size_t i = 0; i < n; i++) {
		av[i + 1] = rec[i].key;
		lv[i + 1] = rec[i].klen;
	}
	r = redis_link_cmd(rs->link, "read", (int) n + 1, av, lv);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != n)
		goto out;
	for (size_t i = 0; i < n; i++) {
		redisReply *e = r->element[i];

		rec[i].has_old = e->type == REDIS_REPLY_STRING;
		rec[i].olen = rec[i].has_old && e->len <= STORE_VAL_MAX ? e->len : 0;
		if (rec[i].olen)
			memcpy(rec[i].old, e->str, rec[i].olen);
	}
	rc = 0;
out:
	if (r)
		freeReplyObject(r);
	free(av);
	free(lv);
	return rc;
}

/* TTL of a record: a second past its expiry, or 0 for none (meta, unknown). */
int64_t
store_redis_ttl_ms(const greylist_params_t *p, int64_t now, store_db_t db,
		   const void *val, size_t vlen)
{
	grey_record_t g;
	client_record_t c;
	tarpit_record_t t;
	int64_t	until;

	if (db == STORE_DB_GREYLIST && record_grey_decode(val, vlen, &g) == RECORD_OK)
		until = g.last + ((g.flags & GREY_FLAG_PASSED) ? p->max_age : p->retry_window);
	else if (db == STORE_DB_CLIENTS && record_client_decode(val, vlen, &c) == RECORD_OK)
		until = c.last_seen + p->max_age;
	else if (db == STORE_DB_TARPIT && record_tarpit_decode(val, vlen, &t) == RECORD_OK)
		until = t.last + p->tarpit_max_age;
	else
		return 0;
	return until - now < 0 ? 1000 : (until - now + 1) * 1000;
}
