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

/* Encode record R of DB into B; its length (0: R is NULL). */
static size_t
enc(store_db_t db, const void *r, unsigned char *b)
{
	if (r == NULL)
		return 0;
	if (db == STORE_DB_GREYLIST)
		return record_grey_encode(r, b, RECORD_MAX_SIZE);
	if (db == STORE_DB_CLIENTS)
		return record_client_encode(r, b, RECORD_MAX_SIZE);
	return record_tarpit_encode(r, b, RECORD_MAX_SIZE);
}

/* SET KEY to record R of DB, or DEL it when R is NULL. */
static void
set_rec(store_db_t db, const char *key, const void *r)
{
	unsigned char b[RECORD_MAX_SIZE];
	size_t	n = enc(db, r, b);

	set_key(key, r ? b : NULL, n);
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

/* KEY holds record W of DB as written at NOW (with its TTL), or else
 * OLD as the test set it (no TTL), or nothing when both are NULL. */
static void
want_rec(const char *name, store_db_t db, const char *key, int64_t now, const void *w,
	 const void *old)
{
	unsigned char b[RECORD_MAX_SIZE];
	const void *r = w ? w : old;
	size_t	n = enc(db, r, b);

	want_key(name, key, r ? b : NULL, n, w ? store_redis_ttl_ms(&P, now, db, b, n) : 0);
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
	set_rec(STORE_DB_CLIENTS, k.client, f->client);
	set_rec(STORE_DB_TARPIT, k.tarpit, f->tarpit);
	set_rec(STORE_DB_GREYLIST, k.triplet, f->triplet);
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
	want_rec(name, STORE_DB_GREYLIST, k.triplet, now, c->write_triplet ? &c->triplet : NULL, f->triplet);
	want_rec(name, STORE_DB_CLIENTS, k.client, now, c->write_client ? &c->client : NULL, f->client);
	want_rec(name, STORE_DB_TARPIT, k.tarpit, now, NULL, f->tarpit);
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

		set_rec(STORE_DB_TARPIT, k.tarpit, old_t[i]);
		greylist_tarpit_fail(T0, live ? old_t[i] : NULL, &t);
		assert_int_equal(store_tarpit_failed(st, &P, T0, &a), 0);
		want_rec("tarpit failed", STORE_DB_TARPIT, k.tarpit, T0, &t, NULL);
	}
	for (size_t i = 0; i < GL_COUNT(old_c); i++) {
		const grey_record_t *g1 = old_g[i], *g2 = old_g[(i + 1) % GL_COUNT(old_g)];
		grey_record_t w1, w2;
		client_record_t c;
		int	lc = old_c[i] && !greylist_client_expired(&P, T0, old_c[i]);
		int	wc = greylist_client_pass(&P, T0, lc ? old_c[i] : NULL, &c);

		set_rec(STORE_DB_CLIENTS, k.client, old_c[i]);
		set_rec(STORE_DB_TARPIT, k.tarpit, &gl_failed);
		set_rec(STORE_DB_GREYLIST, k.triplet, g1);
		set_rec(STORE_DB_GREYLIST, k.triplet2, g2);
		greylist_triplet_pass(T0, g1 && !greylist_grey_expired(&P, T0, g1) ? g1 : NULL, &w1);
		greylist_triplet_pass(T0, g2 && !greylist_grey_expired(&P, T0, g2) ? g2 : NULL, &w2);
		assert_int_equal(store_tarpit_passed(st, &P, T0, &a, SENDER, rcpts, 2), 0);
		want_rec("tarpit passed", STORE_DB_GREYLIST, k.triplet, T0, &w1, NULL);
		want_rec("tarpit passed", STORE_DB_GREYLIST, k.triplet2, T0, &w2, NULL);
		want_rec("tarpit passed", STORE_DB_CLIENTS, k.client, T0, wc ? &c : NULL, old_c[i]);
		want_rec("tarpit passed", STORE_DB_TARPIT, k.tarpit, T0, NULL, NULL);
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
