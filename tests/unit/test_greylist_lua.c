/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_greylist_lua - the Redis decision script against greylist.c
 * DESCRIPTION
 *	One behaviour, two implementations: every case of greylist_cases.h
 *	(the table test_greylist.c runs against greylist_decide()) is set
 *	up as records on a private redis-server and decided by the store
 *	on the Redis backend, that is by the Lua script of
 *	store_redis_lua.c in one call. The verdict, reason, remaining
 *	delay and retries, and every record left in Redis (bytes and TTL)
 *	must be what C gives for the same records. The timeline of
 *	GL_STEPS runs on both side by side, and the tarpit-failed and
 *	tarpit-passed writes are compared with greylist_tarpit_fail(),
 *	greylist_triplet_pass() and greylist_client_pass().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>
#include "config.h"
#include "greylist_cases.h"
#include "record.h"
#include "redis_fixture.h"
#include "store.h"
#include "store_redis.h"

#define CLIENT		"192.0.2.9"
#define LISTED		"203.0.113.9"		/* in the manual whitelist */
#define SENDER		"s@x.org"
#define RCPT		"r@y.org"

static redis_fixture_t rf;
static redisContext *rc;
static store_t *st;

typedef struct {
	char	client[64], tarpit[64], triplet[128], triplet2[128];
} keys_t;

static void
keys_of(const char *addr, keys_t *k)
{
	const char *net = strcmp(addr, LISTED) == 0 ? "203.0.113.0" : "192.0.2.0";

	snprintf(k->client, sizeof(k->client), "gl:clients:%s", net);
	snprintf(k->tarpit, sizeof(k->tarpit), "gl:tarpit:%s", addr);
	snprintf(k->triplet, sizeof(k->triplet), "gl:greylist:%s/%s/%s", net, SENDER, RCPT);
	snprintf(k->triplet2, sizeof(k->triplet2), "gl:greylist:%s/%s/2%s", net, SENDER, RCPT);
}

/* SET KEY to LEN bytes of V without TTL, or DEL it when V is NULL. */
static void
set_key(const char *key, const void *v, size_t len)
{
	redisReply *r = v ? redisCommand(rc, "SET %s %b", key, v, len) : redisCommand(rc, "DEL %s", key);

	assert_non_null(r);
	freeReplyObject(r);
}

static void
set_grey(const char *key, const grey_record_t *g)
{
	unsigned char b[RECORD_MAX_SIZE];

	set_key(key, g ? b : NULL, g ? record_grey_encode(g, b, sizeof(b)) : 0);
}

static void
set_client(const char *key, const client_record_t *c)
{
	unsigned char b[RECORD_MAX_SIZE];

	set_key(key, c ? b : NULL, c ? record_client_encode(c, b, sizeof(b)) : 0);
}

static void
set_tarpit(const char *key, const tarpit_record_t *t)
{
	unsigned char b[RECORD_MAX_SIZE];

	set_key(key, t ? b : NULL, t ? record_tarpit_encode(t, b, sizeof(b)) : 0);
}

/* KEY must hold LEN bytes of WANT (NULL: absent) with a TTL of TTL ms
 * (0: none), give or take the seconds the test took. */
static void
want_key(const char *name, const char *key, const void *want, size_t len, int64_t ttl)
{
	redisReply *v = redisCommand(rc, "GET %s", key), *t = redisCommand(rc, "PTTL %s", key);

	assert_true(v && t && t->type == REDIS_REPLY_INTEGER);
	if (want == NULL ? v->type != REDIS_REPLY_NIL
	    : v->type != REDIS_REPLY_STRING || v->len != len || memcmp(v->str, want, len) != 0)
		fail_msg("%s: %s is not what C leaves", name, key);
	if (want && (ttl == 0 ? t->integer != -1 : t->integer > ttl || t->integer < ttl - 5000))
		fail_msg("%s: %s has TTL %lld ms, want %lld", name, key, t->integer, (long long) ttl);
	freeReplyObject(v);
	freeReplyObject(t);
}

/* KEY holds the grey record G as written by C at NOW, or as set (OLD). */
static void
want_grey(const char *name, const char *key, int64_t now, const grey_record_t *g,
	  const grey_record_t *old)
{
	unsigned char b[RECORD_MAX_SIZE];
	const grey_record_t *r = g ? g : old;
	size_t	n = r ? record_grey_encode(r, b, sizeof(b)) : 0;

	want_key(name, key, r ? b : NULL, n, g ? store_redis_ttl_ms(&P, now, STORE_DB_GREYLIST, b, n) : 0);
}

static void
want_client(const char *name, const char *key, int64_t now, const client_record_t *c,
	    const client_record_t *old)
{
	unsigned char b[RECORD_MAX_SIZE];
	const client_record_t *r = c ? c : old;
	size_t	n = r ? record_client_encode(r, b, sizeof(b)) : 0;

	want_key(name, key, r ? b : NULL, n, c ? store_redis_ttl_ms(&P, now, STORE_DB_CLIENTS, b, n) : 0);
}

static void
want_tarpit(const char *name, const char *key, int64_t now, const tarpit_record_t *t,
	    const tarpit_record_t *old)
{
	unsigned char b[RECORD_MAX_SIZE];
	const tarpit_record_t *r = t ? t : old;
	size_t	n = r ? record_tarpit_encode(r, b, sizeof(b)) : 0;

	want_key(name, key, r ? b : NULL, n, t ? store_redis_ttl_ms(&P, now, STORE_DB_TARPIT, b, n) : 0);
}

/* Decide F at NOW in C and in Redis; everything must agree. */
static void
same_decision(const char *name, int64_t now, const greylist_facts_t *f, int flags,
	      greylist_result_t *c)
{
	const char *addr = f->whitelisted ? LISTED : CLIENT;
	greylist_result_t got;
	keys_t	k;
	addr_t	a;

	keys_of(addr, &k);
	set_client(k.client, f->client);
	set_tarpit(k.tarpit, f->tarpit);
	set_grey(k.triplet, f->triplet);
	greylist_decide(&P, now, f, flags, c);
	assert_int_equal(addr_parse(addr, &a), 0);
	store_check(st, &P, now, &a, SENDER, RCPT, flags, &got);
	if (got.verdict != c->verdict || strcmp(got.reason, c->reason) != 0)
		fail_msg("%s: Lua says %s (%s), C says %s (%s)", name, greylist_verdict_name(got.verdict),
		    got.reason, greylist_verdict_name(c->verdict), c->reason);
	if (got.remaining_delay != c->remaining_delay || got.remaining_retries != c->remaining_retries)
		fail_msg("%s: Lua says %lld s %ld retries to go, C %lld s %ld", name,
		    (long long) got.remaining_delay, got.remaining_retries,
		    (long long) c->remaining_delay, c->remaining_retries);
	if (got.write_triplet != c->write_triplet || got.write_client != c->write_client)
		fail_msg("%s: Lua writes triplet=%d client=%d, C %d %d", name,
		    got.write_triplet, got.write_client, c->write_triplet, c->write_client);
	want_grey(name, k.triplet, now, c->write_triplet ? &c->triplet : NULL, f->triplet);
	want_client(name, k.client, now, c->write_client ? &c->client : NULL, f->client);
	want_tarpit(name, k.tarpit, now, NULL, f->tarpit);
}

static void
test_table_lua_equals_c(void **state)
{
	greylist_result_t c;

	(void) state;
	for (size_t i = 0; i < GL_COUNT(GL_CASES); i++) {
		same_decision(GL_CASES[i].name, T0, &GL_CASES[i].f, GL_CASES[i].flags, &c);
		/* and the table's own want, so both cannot drift together */
		if (c.verdict != GL_CASES[i].want || strcmp(c.reason, GL_CASES[i].reason) != 0)
			fail_msg("%s: C says %s", GL_CASES[i].name, c.reason);
	}
	printf("# %zu decision cases: Lua equals C\n", GL_COUNT(GL_CASES));
}

static void
test_timeline_lua_equals_c(void **state)
{
	grey_record_t g;
	greylist_result_t c;
	int	have = 0;
	char	name[64];

	(void) state;
	for (size_t i = 0; i < GL_COUNT(GL_STEPS); i++) {
		int64_t	now = T0 + GL_STEPS[i].at;
		const tarpit_record_t failed = {now - 10, now - 10, 1};
		greylist_facts_t f = {.triplet = have ? &g : NULL, .tarpit = &failed};

		snprintf(name, sizeof(name), "step at +%lld", (long long) GL_STEPS[i].at);
		same_decision(name, now, &f, 0, &c);
		if (c.verdict != GL_STEPS[i].want || strcmp(c.reason, GL_STEPS[i].reason) != 0)
			fail_msg("%s: C says %s", name, c.reason);
		if (c.write_triplet) {
			g = c.triplet;
			have = 1;
		}
	}
	printf("# %zu timeline steps: Lua equals C\n", GL_COUNT(GL_STEPS));
}

/* store_tarpit_failed() and store_tarpit_passed() write what C would. */
static void
test_tarpit_writes_lua_equals_c(void **state)
{
	static const tarpit_record_t *const old_t[] = {NULL, &gl_failed, &gl_failed_old, &gl_tmin};
	static const client_record_t *const old_c[] = {NULL, &gl_few, &gl_awl_old, &gl_awl_fresh};
	static const grey_record_t *const old_g[] = {NULL, &gl_pending, &gl_passed, &gl_window_over};
	const char *rcpts[] = {RCPT, "2" RCPT};
	keys_t	k;
	addr_t	a;

	(void) state;
	keys_of(CLIENT, &k);
	assert_int_equal(addr_parse(CLIENT, &a), 0);
	for (size_t i = 0; i < GL_COUNT(old_t); i++) {
		tarpit_record_t t;
		int	live = old_t[i] && !greylist_tarpit_expired(&P, T0, old_t[i]);

		set_tarpit(k.tarpit, old_t[i]);
		greylist_tarpit_fail(T0, live ? old_t[i] : NULL, &t);
		assert_int_equal(store_tarpit_failed(st, &P, T0, &a), 0);
		want_tarpit("tarpit failed", k.tarpit, T0, &t, NULL);
	}
	for (size_t i = 0; i < GL_COUNT(old_c); i++) {
		const grey_record_t *g1 = old_g[i], *g2 = old_g[(i + 1) % GL_COUNT(old_g)];
		grey_record_t w1, w2;
		client_record_t c;
		int	lc = old_c[i] && !greylist_client_expired(&P, T0, old_c[i]);
		int	wc = greylist_client_pass(&P, T0, lc ? old_c[i] : NULL, &c);

		set_client(k.client, old_c[i]);
		set_tarpit(k.tarpit, &gl_failed);
		set_grey(k.triplet, g1);
		set_grey(k.triplet2, g2);
		greylist_triplet_pass(T0, g1 && !greylist_grey_expired(&P, T0, g1) ? g1 : NULL, &w1);
		greylist_triplet_pass(T0, g2 && !greylist_grey_expired(&P, T0, g2) ? g2 : NULL, &w2);
		assert_int_equal(store_tarpit_passed(st, &P, T0, &a, SENDER, rcpts, 2), 0);
		want_grey("tarpit passed", k.triplet, T0, &w1, NULL);
		want_grey("tarpit passed", k.triplet2, T0, &w2, NULL);
		want_client("tarpit passed", k.client, T0, wc ? &c : NULL, old_c[i]);
		want_tarpit("tarpit passed", k.tarpit, T0, NULL, NULL);
	}
}

static int
group_setup(void **state)
{
	config_t *cfg;
	char	server[64];
	net_t	net;

	(void) state;
	if (redis_fixture_start(&rf, 0) != 0)
		return -1;
	snprintf(server, sizeof(server), "127.0.0.1:%d", rf.port);
	cfg = config_load("/nonexistent/targrey-milter.conf", 1, stderr);
	if (cfg == NULL || config_set(cfg, "state_backend", "redis", stderr) != 0
	    || config_set(cfg, "redis_server", server, stderr) != 0
	    || config_set(cfg, "redis_key_prefix", "gl:", stderr) != 0)
		return -1;
	st = store_open_config(cfg);
	config_free(cfg);
	rc = redisConnect("127.0.0.1", rf.port);
	if (st == NULL || rc == NULL || rc->err || net_parse("203.0.113.0/24", &net) != 0)
		return -1;
	return store_whitelist_add(st, &net, T0) == 0 ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void) state;
	st = store_close(st);
	if (rc)
		redisFree(rc);
	redis_fixture_stop(&rf);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_lua_equals_c),
		cmocka_unit_test(test_timeline_lua_equals_c),
		cmocka_unit_test(test_tarpit_writes_lua_equals_c),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
