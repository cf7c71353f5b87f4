/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_store_redis - the store tests on the Redis backend, real redis-server
 * DESCRIPTION
 *	Runs the backend-neutral tests of test_store.c (flow, tarpit passed,
 *	auto-whitelist, manual whitelist, counters and walk, concurrent
 *	updates) on a store
 *	opened with state_backend = redis against a private redis-server,
 *	and then what only Redis has: the stored bytes are record.c's
 *	encoding with a TTL from the max-age parameters, keys are
 *	binary-safe and the prefix's glob characters do not leak into a
 *	walk, two stores (two MX hosts) deciding for one triplet at once
 *	leave one host's counts, each store operation is one command
 *	(one round trip, counted by the server), the script is sent again after SCRIPT
 *	FLUSH (NOSCRIPT), a record of an unknown version is absent and
 *	logged, a key of another type is an accepted and logged failure, the
 *	counters of two hosts add up, a stopped or frozen server costs a decision at
 *	most redis_timeout (mail accepted, logged), and decisions resume
 *	by themselves once the server is back.
 */
#define TEST_STORE_NO_MAIN
/* only some of test_store.c's tests apply to Redis */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "test_store.c"
#include <hiredis/hiredis.h>
#include "config.h"
#include "record.h"
#include "redis_fixture.h"
#include "store_redis_conn.h"

static redis_fixture_t rf;
static int test_no;

/* A Redis store with its own key prefix, PREFIX or "tN:". */
static store_t *
open_redis(const char *prefix, const char *timeout)
{
	config_t *cfg = config_load("/nonexistent/targrey-milter.conf", 1, stderr);
	char	server[64], pfx[64];
	store_t *st;

	snprintf(server, sizeof(server), "127.0.0.1:%d", rf.port);
	snprintf(pfx, sizeof(pfx), "t%d:", ++test_no);
	if (cfg == NULL || config_set(cfg, "state_backend", "redis", stderr) != 0
	    || config_set(cfg, "redis_server", server, stderr) != 0
	    || config_set(cfg, "redis_key_prefix", prefix ? prefix : pfx, stderr) != 0
	    || config_set(cfg, "redis_timeout", timeout ? timeout : "2s", stderr) != 0)
		fail_msg("cannot configure the Redis store");
	st = store_open_config(cfg);
	config_free(cfg);
	return st;
}

static int
setup_redis(void **state)
{
	fixture_t *fx = calloc(1, sizeof(*fx));

	log_capture_start();
	fx->st = open_redis(NULL, NULL);
	*state = fx;
	return fx->st && store_is_redis(fx->st) ? 0 : -1;
}

static int
teardown_redis(void **state)
{
	fixture_t *fx = *state;

	fx->st = store_close(fx->st);
	free(fx);
	return 0;
}

static int
group_setup(void **state)
{
	(void) state;
	return redis_fixture_start(&rf, 0);
}

static int
group_teardown(void **state)
{
	(void) state;
	redis_fixture_stop(&rf);
	return 0;
}

/* A command on a direct connection, for looking behind the store. */
static redisReply *
direct(const char *fmt, ...)
{
	redisContext *c = redisConnect("127.0.0.1", rf.port);
	redisReply *r;
	va_list	ap;

	assert_true(c && !c->err);
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	redisFree(c);
	assert_non_null(r);
	return r;
}

static void
test_encoding_and_ttl(void **state)
{
	fixture_t *fx = *state;
	int64_t	now = (int64_t) time(NULL);
	addr_t	a = ip("192.0.2.10");
	unsigned char want[RECORD_MAX_SIZE];
	grey_record_t g = {.first = now, .last = now, .retries = 0, .flags = 0};
	const char *key = "t1000:greylist:192.0.2.0/s@x.org/r@y.org";
	redisReply *r;
	size_t	n = record_grey_encode(&g, want, sizeof(want));

	store_close(fx->st);
	fx->st = open_redis("t1000:", NULL);
	assert_int_equal(store_tarpit_failed(fx->st, &P, now, &a), 0);
	want_check(fx->st, now, "192.0.2.10", "s@x.org", "r@y.org", 0, GREYLIST_GREYLIST, "new");
	r = direct("GET %s", key);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_int_equal(r->len, n);
	assert_memory_equal(r->str, want, n);
	freeReplyObject(r);
	/* a triplet that did not pass lives retry_window (2 days) */
	r = direct("PTTL %s", key);
	if (r->integer < 2 * DAY * 1000 - 5000 || r->integer > 2 * DAY * 1000 + 2000)
		fail_msg("PTTL of a new triplet: got %lld ms, want about %lld",
		    (long long) r->integer, 2 * DAY * 1000);
	freeReplyObject(r);
	r = direct("PTTL t1000:tarpit:192.0.2.10");
	assert_true(r->integer > 29 * DAY * 1000 && r->integer <= 30 * DAY * 1000 + 2000);
	freeReplyObject(r);
}

static void
test_binary_keys_and_glob_prefix(void **state)
{
	fixture_t *fx = *state;
	const char key[] = "k\0 \"'*?\n]", val[] = {1, 2, 0, 3};
	unsigned char buf[16];
	size_t	len = sizeof(buf), n;
	int	seen = 0;

	store_close(fx->st);
	fx->st = open_redis("g*[x]?:", NULL);
	assert_int_equal(store_put(fx->st, STORE_DB_META, key, sizeof(key) - 1, val, sizeof(val)), 0);
	assert_int_equal(store_get(fx->st, STORE_DB_META, key, sizeof(key) - 1, buf, &len), 0);
	assert_int_equal(len, sizeof(val));
	assert_memory_equal(buf, val, sizeof(val));
	/* a key of another prefix the glob would match is not walked */
	freeReplyObject(direct("SET %s v", "gA[x]?:meta:other"));
	freeReplyObject(direct("SET %s v", "gx:meta:other"));
	assert_int_equal(store_walk(fx->st, STORE_DB_META, NULL, count_cb, &seen), 0);
	assert_int_equal(seen, 1);
	assert_int_equal(store_count(fx->st, STORE_DB_META, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_delete(fx->st, STORE_DB_META, key, sizeof(key) - 1), 0);
	assert_int_equal(store_delete(fx->st, STORE_DB_META, key, sizeof(key) - 1), STORE_NOTFOUND);
}

typedef struct {
	store_t *st;
	int	grey, pass, other;
} host_t;

static void *
host_worker(void *arg)
{
	host_t *h = arg;
	addr_t	a = ip("192.0.2.20");
	greylist_result_t r;

	for (int i = 0; i < 200; i++) {
		greylist_verdict_t v = store_check(h->st, &P, T0 + 400 + i / 50, &a, "s@x.org",
		    "r@y.org", 0, &r);

		h->grey += v == GREYLIST_GREYLIST;
		h->pass += v == GREYLIST_PASS_TRIPLET;
		h->other += v != GREYLIST_GREYLIST && v != GREYLIST_PASS_TRIPLET;
	}
	return NULL;
}

/* Two stores on one prefix are two MX hosts: 4 threads each. */
static void
test_two_hosts_one_triplet(void **state)
{
	fixture_t *fx = *state;
	store_t *other;
	addr_t	a = ip("192.0.2.20");
	host_t	h[8];
	pthread_t th[8];
	int	grey = 0, pass = 0, rest = 0;
	store_facts_t f;

	store_close(fx->st);
	fx->st = open_redis("two:", NULL);
	other = open_redis("two:", NULL);
	assert_int_equal(store_tarpit_failed(fx->st, &P, T0, &a), 0);
	want_check(other, T0, "192.0.2.20", "s@x.org", "r@y.org", 0, GREYLIST_GREYLIST, "new");
	for (int i = 0; i < 8; i++) {
		h[i] = (host_t) {.st = i % 2 ? other : fx->st};
		assert_int_equal(pthread_create(&th[i], NULL, host_worker, &h[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		grey += h[i].grey;
		pass += h[i].pass;
		rest += h[i].other;
	}
	if (grey != 1 || pass != 8 * 200 - 1 || rest != 0)
		fail_msg("two hosts: got %d greylisted, %d passed, %d other; want 1, %d, 0",
		    grey, pass, rest, 8 * 200 - 1);
	assert_int_equal(store_lookup(fx->st, &P, &a, "s@x.org", "r@y.org", &f), 0);
	assert_int_equal(f.triplet.retries, 2);
	assert_int_equal(f.client.passes, 1);
	other = store_close(other);
}

/* Counters of two hosts add up in Redis (targreyctl stats shows the sum). */
static void
test_counters_shared(void **state)
{
	fixture_t *fx = *state;
	store_t *other, *third;
	uint64_t c;

	store_close(fx->st);
	fx->st = open_redis("cnt:", NULL);
	other = open_redis("cnt:", NULL);
	want_check(fx->st, T0, "192.0.2.1", "a@b", "c@d", 0, GREYLIST_TARPIT, NULL);
	want_check(other, T0, "192.0.2.2", "a@b", "c@d", 0, GREYLIST_TARPIT, NULL);
	want_check(other, T0, "192.0.2.3", "a@b", "c@d", 0, GREYLIST_TARPIT, NULL);
	store_event_count(fx->st, STORE_EVENT_TARPIT_FULL);
	assert_int_equal(store_sync(fx->st), 0);
	assert_int_equal(store_sync(other), 0);
	third = open_redis("cnt:", NULL);
	assert_int_equal(store_counter_get(third, GREYLIST_TARPIT, &c), 0);
	assert_int_equal(c, 3);
	assert_int_equal(store_event_get(third, STORE_EVENT_TARPIT_FULL, &c), 0);
	assert_int_equal(c, 1);
	other = store_close(other);
	third = store_close(third);
}

/* A key of another type where a record belongs: accepted, logged. */
static void
test_wrong_type_logged(void **state)
{
	fixture_t *fx = *state;

	store_close(fx->st);
	fx->st = open_redis("wt:", NULL);
	freeReplyObject(direct("HSET %s f v", "wt:greylist:192.0.2.0/s@x.org/r@y.org"));
	want_check(fx->st, T0, "192.0.2.9", "s@x.org", "r@y.org", GREYLIST_NO_TARPIT,
	    GREYLIST_UNAVAILABLE, "store=redis");
	assert_true(log_capture_count("redis: decide: ") == 1 && log_capture_count("WRONGTYPE") == 1);
}

/* A record of a newer version is absent for decisions, logged, kept. */
static void
test_unknown_version_redis(void **state)
{
	fixture_t *fx = *state;
	unsigned char v2[RECORD_CLIENT_SIZE] = {2}, buf[64];
	size_t	len = sizeof(buf);

	assert_int_equal(store_put(fx->st, STORE_DB_CLIENTS, "192.0.2.0", 9, v2, sizeof(v2)), 0);
	want_check(fx->st, T0, "192.0.2.50", "s@x.org", "r@y.org", 0, GREYLIST_TARPIT, NULL);
	assert_int_equal(log_capture_count("store: clients "), 1);
	assert_int_equal(log_capture_count("record version 2 unknown, treated as absent"), 1);
	assert_int_equal(store_get(fx->st, STORE_DB_CLIENTS, "192.0.2.0", 9, buf, &len), 0);
	assert_int_equal(buf[0], 2);
}

/* redis_server forms, table-driven; a bad one refuses to open the store. */
static void
test_parse_server(void **state)
{
	static const struct { const char *spec; int rc; const char *host; int port; } t[] = {
		{"127.0.0.1:6379", 0, "127.0.0.1", 6379},
		{"redis.example.net:6380", 0, "redis.example.net", 6380},
		{"[::1]:6379", 0, "::1", 6379},
		{"unix:/run/redis/redis.sock", 0, "/run/redis/redis.sock", 0},
		{"127.0.0.1", -1, NULL, 0}, {"127.0.0.1:0", -1, NULL, 0},
		{"127.0.0.1:65536", -1, NULL, 0}, {"127.0.0.1:63x", -1, NULL, 0},
		{"::1:6379", -1, NULL, 0}, {"[::1]", -1, NULL, 0}, {"unix:", -1, NULL, 0},
		{":6379", -1, NULL, 0},
	};
	char	host[256];
	int	port;
	config_t *cfg = config_load("/nonexistent/targrey-milter.conf", 1, stderr);

	(void) state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int	rc = redis_parse_server(t[i].spec, host, sizeof(host), &port);

		if (rc != t[i].rc || (rc == 0 && (strcmp(host, t[i].host) || port != t[i].port)))
			fail_msg("%s: got %d %s %d, want %d %s %d", t[i].spec, rc, rc ? "-" : host,
			    rc ? 0 : port, t[i].rc, t[i].host ? t[i].host : "-", t[i].port);
	}
	log_lines[0] = 0;
	assert_int_equal(config_set(cfg, "state_backend", "redis", stderr), 0);
	assert_int_equal(config_set(cfg, "redis_server", "localhost", stderr), 0);
	assert_null(store_open_config(cfg));
	assert_int_equal(log_capture_count("store: redis_server localhost: not HOST:PORT"), 1);
	config_free(cfg);
}

static void
test_noscript(void **state)
{
	fixture_t *fx = *state;

	want_check(fx->st, T0, "192.0.2.30", "s@x.org", "r@y.org", GREYLIST_NO_TARPIT,
	    GREYLIST_GREYLIST, "new");
	freeReplyObject(direct("SCRIPT FLUSH"));
	want_check(fx->st, T0 + 400, "192.0.2.30", "s@x.org", "r@y.org", GREYLIST_NO_TARPIT,
	    GREYLIST_GREYLIST, "retry_counted");
	want_check(fx->st, T0 + 800, "192.0.2.30", "s@x.org", "r@y.org", GREYLIST_NO_TARPIT,
	    GREYLIST_PASS_TRIPLET, "retried");
}

/* Commands this client sent since CONFIG RESETSTAT (not those of scripts). */
static long long
sent_calls(void)
{
	static const char *const sent[] = {"cmdstat_mget:calls=",
	    "cmdstat_evalsha:calls=", "cmdstat_eval:calls=", "cmdstat_script|load:calls="};
	redisReply *r = direct("INFO commandstats");
	long long n = 0;

	for (size_t i = 0; i < sizeof(sent) / sizeof(sent[0]); i++) {
		const char *at = strstr(r->str, sent[i]);

		n += at ? atoll(at + strlen(sent[i])) : 0;
	}
	freeReplyObject(r);
	return n;
}

/* Each decision, tarpit failure and tarpit pass is one round trip (main: MGET + script). */
static void
test_one_round_trip(void **state)
{
	fixture_t *fx = *state;
	const char *rcpts[] = {"r@y.org", "r2@y.org"};
	addr_t	a = ip("192.0.2.40");

	want_check(fx->st, T0, "192.0.2.41", "s@x.org", "r@y.org", 0, GREYLIST_TARPIT, NULL);
	freeReplyObject(direct("CONFIG RESETSTAT"));
	want_check(fx->st, T0, "192.0.2.40", "s@x.org", "r@y.org", 0, GREYLIST_TARPIT, NULL);
	assert_int_equal(store_tarpit_failed(fx->st, &P, T0, &a), 0);
	want_check(fx->st, T0, "192.0.2.40", "s@x.org", "r@y.org", 0, GREYLIST_GREYLIST, "new");
	want_check(fx->st, T0 + 400, "192.0.2.40", "s@x.org", "r@y.org", 0, GREYLIST_GREYLIST,
	    "retry_counted");
	assert_int_equal(store_tarpit_passed(fx->st, &P, T0 + 500, &a, "s@x.org", rcpts, 2), 0);
	if (sent_calls() != 5)
		fail_msg("got %lld commands for 5 store operations, want 5", sent_calls());
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One decision: its verdict, and how long it took in *SECS. */
static greylist_verdict_t
timed_check(store_t *st, const char *client, double *secs)
{
	addr_t	a = ip(client);
	greylist_result_t r;
	double	t = mono();
	greylist_verdict_t v = store_check(st, &P, T0, &a, "s@x.org", "r@y.org", 0, &r);

	*secs = mono() - t;
	return v;
}

static void
test_server_down_and_back(void **state)
{
	fixture_t *fx = *state;
	int	port = rf.port;
	double	secs, worst = 0;
	int	i;

	store_close(fx->st);
	fx->st = open_redis(NULL, "300ms");
	assert_int_equal(timed_check(fx->st, "192.0.2.40", &secs), GREYLIST_TARPIT);
	redis_fixture_stop(&rf);
	for (i = 0; i < 20; i++) {
		assert_int_equal(timed_check(fx->st, "192.0.2.40", &secs), GREYLIST_UNAVAILABLE);
		worst = secs > worst ? secs : worst;
	}
	if (worst > 0.3 + 0.5)
		fail_msg("a decision with Redis down took %.3f s, want <= redis_timeout", worst);
	assert_true(log_capture_count("redis: ") >= 1);
	assert_int_equal(redis_fixture_start(&rf, port), 0);
	/* back-off is at most 2 s: decisions resume without reopening */
	for (i = 0; i < 100 && timed_check(fx->st, "192.0.2.40", &secs) != GREYLIST_TARPIT; i++)
		usleep(100000);
	if (i == 100)
		fail_msg("decisions did not resume within 10 s of Redis coming back");
}

static void
test_server_frozen(void **state)
{
	fixture_t *fx = *state;
	double	secs;

	store_close(fx->st);
	fx->st = open_redis(NULL, "300ms");
	assert_int_equal(timed_check(fx->st, "192.0.2.41", &secs), GREYLIST_TARPIT);
	kill(rf.pid, SIGSTOP);
	assert_int_equal(timed_check(fx->st, "192.0.2.41", &secs), GREYLIST_UNAVAILABLE);
	kill(rf.pid, SIGCONT);
	if (secs < 0.25 || secs > 0.3 + 0.5)
		fail_msg("a decision with Redis frozen took %.3f s, want about redis_timeout (0.3 s)",
		    secs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* from test_store.c: the same assertions as on LMDB */
		cmocka_unit_test_setup_teardown(test_flow, setup_redis, teardown_redis),
		cmocka_unit_test_setup_teardown(test_tarpit_passed, setup_redis, teardown_redis),
		cmocka_unit_test_setup_teardown(test_auto_whitelist, setup_redis, teardown_redis),
		cmocka_unit_test_setup_teardown(test_counters_and_walk, setup_redis, teardown_redis),
		cmocka_unit_test_setup_teardown(test_whitelist, setup_redis, teardown_redis),
		cmocka_unit_test_setup_teardown(test_concurrent_updates, setup_redis, teardown_redis),
		/* Redis only */
		cmocka_unit_test(test_parse_server),
		cmocka_unit_test_setup_teardown(test_encoding_and_ttl, setup_redis, teardown_redis),
		cmocka_unit_test_setup_teardown(test_binary_keys_and_glob_prefix, setup_redis,
		    teardown_redis),
		cmocka_unit_test_setup_teardown(test_two_hosts_one_triplet, setup_redis, teardown_redis),
		cmocka_unit_test_setup_teardown(test_noscript, setup_redis, teardown_redis),
		cmocka_unit_test_setup_teardown(test_one_round_trip, setup_redis, teardown_redis),
		cmocka_unit_test_setup_teardown(test_unknown_version_redis, setup_redis,
		    teardown_redis),
		cmocka_unit_test_setup_teardown(test_wrong_type_logged, setup_redis, teardown_redis),
		cmocka_unit_test_setup_teardown(test_counters_shared, setup_redis, teardown_redis),
		/* first: the fault lines are logged once a minute */
		cmocka_unit_test_setup_teardown(test_server_down_and_back, setup_redis, teardown_redis),
		cmocka_unit_test_setup_teardown(test_server_frozen, setup_redis, teardown_redis),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
