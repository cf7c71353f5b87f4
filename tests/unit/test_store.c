/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_store - unit tests for store*.c on a real LMDB in a temp dir
 * DESCRIPTION
 *	The taRgrey flow through the store (tarpit, fail, greylist, pass,
 *	auto-whitelist), persistence across reopen, map growth and a full
 *	map (accept + log), expiry in batches, unknown record versions,
 *	the manual whitelist, counters, walking, the expiry thread, and
 *	concurrent read-modify-write from many threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <time.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "log.h"
#include "log_capture.h"
#include "store.h"
#include "greylist_params.h"

typedef struct {
	char	dir[64];
	store_t *st;
} fixture_t;

static int
setup(void **state)
{
	fixture_t *fx = calloc(1, sizeof(*fx));

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	log_capture_start();
	fx->st = store_open(fx->dir, 256UL * 1024 * 1024);
	*state = fx;
	return fx->st ? 0 : -1;
}

static int
teardown(void **state)
{
	fixture_t *fx = *state;
	char	cmd[128];

	fx->st = store_close(fx->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static addr_t
ip(const char *text)
{
	addr_t	a;

	if (addr_parse(text, &a) != 0)
		fail_msg("bad address %s", text);
	return a;
}

/* store_check() that fails with the reason when the verdict differs. */
static void
want_check(store_t *st, int64_t now, const char *client, const char *from,
	     const char *to, int flags, greylist_verdict_t want, const char *reason)
{
	greylist_result_t r;
	addr_t	a = ip(client);
	greylist_verdict_t v = store_check(st, &P, now, &a, from, to, flags, &r);

	if (v != want || (reason && strcmp(r.reason, reason) != 0))
		fail_msg("check %s %s %s at +%lld: got %s (%s), want %s (%s)", client, from, to,
		    (long long) (now - T0), greylist_verdict_name(v), r.reason,
		    greylist_verdict_name(want), reason ? reason : "any");
}

static void
test_flow(void **state)
{
	fixture_t *fx = *state;
	addr_t	a = ip("192.0.2.10");
	store_facts_t f;

	want_check(fx->st, T0, "192.0.2.10", "s@x.org", "r@y.org", 0, GREYLIST_TARPIT, "new_client");
	assert_int_equal(store_tarpit_failed(fx->st, &P, T0 + 5, &a), 0);
	want_check(fx->st, T0 + 600, "192.0.2.10", "s@x.org", "r@y.org", 0, GREYLIST_GREYLIST, "new");
	want_check(fx->st, T0 + 700, "192.0.2.10", "s@x.org", "r@y.org", 0, GREYLIST_GREYLIST, "early_retry");
	want_check(fx->st, T0 + 900, "192.0.2.10", "s+1@x.org", "r@y.org", 0, GREYLIST_GREYLIST, "retry_counted");
	want_check(fx->st, T0 + 960, "192.0.2.99", "s@x.org", "R@y.org", 0, GREYLIST_TARPIT, "new_client");
	want_check(fx->st, T0 + 961, "192.0.2.10", "s@x.org", "r@y.org", 0, GREYLIST_PASS_TRIPLET, "retried");
	/* another host of the same /24 shares the passed triplet */
	want_check(fx->st, T0 + 962, "192.0.2.99", "s@x.org", "R@y.org", 0, GREYLIST_PASS_TRIPLET, "triplet_passed");
	assert_int_equal(store_lookup(fx->st, &P, &a, "s@x.org", "r@y.org", &f), 0);
	assert_string_equal(f.triplet_key, "192.0.2.0/s@x.org/r@y.org");
	assert_true(f.has_triplet && (f.triplet.flags & GREY_FLAG_PASSED) && f.triplet.retries == 2);
	assert_true(f.has_client && f.client.passes == 1);
	assert_true(f.has_tarpit && f.tarpit.count == 1);
}

static void
test_tarpit_passed(void **state)
{
	fixture_t *fx = *state;
	addr_t	a = ip("2001:db8:5:6::7");
	const char *rcpts[] = {"one@y.org", "two@y.org"};
	store_facts_t f;

	assert_int_equal(store_tarpit_failed(fx->st, &P, T0, &a), 0);
	want_check(fx->st, T0 + 1, "2001:db8:5:6::7", "s@x.org", "one@y.org", 0, GREYLIST_GREYLIST, "new");
	assert_int_equal(store_tarpit_passed(fx->st, &P, T0 + 200, &a, "s@x.org", rcpts, 2), 0);
	assert_int_equal(store_lookup(fx->st, &P, &a, "s@x.org", "two@y.org", &f), 0);
	assert_false(f.has_tarpit);
	assert_true(f.has_client && f.client.passes == 1);
	assert_true(f.has_triplet && (f.triplet.flags & GREY_FLAG_PASSED));
	assert_string_equal(f.net_key, "2001:db8:5:6::");
	want_check(fx->st, T0 + 300, "2001:db8:5:6::1", "s@x.org", "one@y.org", 0, GREYLIST_PASS_TRIPLET, NULL);
	/* a new triplet of a client that passed is tarpitted, not greylisted */
	want_check(fx->st, T0 + 300, "2001:db8:5:6::7", "other@x.org", "one@y.org", 0, GREYLIST_TARPIT, NULL);
}

static void
test_auto_whitelist(void **state)
{
	fixture_t *fx = *state;
	addr_t	a = ip("198.51.100.4");
	const char *rcpt[] = {"r@y.org"};
	int64_t	t = T0 + 130;

	want_check(fx->st, T0, "198.51.100.4", "s@x.org", "r@y.org", 0, GREYLIST_TARPIT, NULL);
	assert_int_equal(store_tarpit_passed(fx->st, &P, t, &a, "s@x.org", rcpt, 1), 0);
	for (int i = 1; i <= 4; i++) {
		want_check(fx->st, t + i * 3600, "198.51.100.4", "s@x.org", "r@y.org", 0,
		    GREYLIST_PASS_TRIPLET, "triplet_passed");
		/* passes less than an hour apart do not count; the fifth whitelists */
		want_check(fx->st, t + i * 3600 + 10, "198.51.100.4", "s@x.org", "r@y.org", 0,
		    i < 4 ? GREYLIST_PASS_TRIPLET : GREYLIST_PASS_AWL, NULL);
		if (i < 4)
			want_check(fx->st, t + i * 3600 + 20, "198.51.100.200", "any@z.org",
			    "q@y.org", 0, GREYLIST_TARPIT, NULL);
	}
	/* the whole /24 */
	want_check(fx->st, t + 4 * 3600 + 20, "198.51.100.200", "any@z.org", "q@y.org", 0,
	    GREYLIST_PASS_AWL, "client_awl");
}

static void
test_persistence(void **state)
{
	fixture_t *fx = *state;
	addr_t	a = ip("203.0.113.5");

	assert_int_equal(store_tarpit_failed(fx->st, &P, T0, &a), 0);
	want_check(fx->st, T0 + 1, "203.0.113.5", "s@x.org", "r@y.org", 0, GREYLIST_GREYLIST, "new");
	fx->st = store_close(fx->st);
	assert_null(fx->st);
	fx->st = store_open(fx->dir, 256UL * 1024 * 1024);
	assert_non_null(fx->st);
	want_check(fx->st, T0 + 2, "203.0.113.5", "s@x.org", "r@y.org", 0, GREYLIST_GREYLIST, "early_retry");
}

static void
test_map_growth(void **state)
{
	fixture_t *fx = *state;
	char	from[64];
	size_t	before = store_map_size(fx->st), n;

	assert_int_equal(before, STORE_INITIAL_MAP);
	for (int i = 0; i < 120000; i++) {
		snprintf(from, sizeof(from), "sender%d-x@example.org", i);
		want_check(fx->st, T0, "192.0.2.1", from, "rcpt@example.net",
		    GREYLIST_NO_TARPIT, GREYLIST_GREYLIST, "new");
	}
	if (store_map_size(fx->st) <= before)
		fail_msg("map size: got %zu, want more than %zu", store_map_size(fx->st), before);
	assert_non_null(strstr(log_lines, "store: map grown to 16777216 bytes"));
	assert_int_equal(store_count(fx->st, STORE_DB_GREYLIST, &n), 0);
	assert_int_equal(n, 120000);
}

/* Reopen the store with a 1 MiB map and add new triplets from 192.0.2.1
 * until WANT of them were refused as unavailable; return how many were
 * tried (the last refusal's result in R). */
static int
fill_map(fixture_t *fx, int want, greylist_result_t *r)
{
	char	from[64];
	addr_t	a = ip("192.0.2.1");
	int	unavailable = 0, i;

	fx->st = store_close(fx->st);
	fx->st = store_open(fx->dir, 1024 * 1024);
	assert_non_null(fx->st);
	for (i = 0; i < 40000 && unavailable < want; i++) {
		snprintf(from, sizeof(from), "sender%d-x@example.org", i);
		unavailable += store_check(fx->st, &P, T0, &a, from, "r@example.net",
		    GREYLIST_NO_TARPIT, r) == GREYLIST_UNAVAILABLE;
	}
	assert_int_equal(unavailable, want);
	return i;
}

static void
test_map_full_is_unavailable(void **state)
{
	fixture_t *fx = *state;
	char	from[64];
	greylist_result_t r;
	store_facts_t f;
	addr_t	a = ip("192.0.2.1");
	int	unavailable;

	fill_map(fx, 1, &r);
	assert_string_equal(r.reason, "store=full");
	assert_non_null(strstr(log_lines, "store: map full at state_max_size 1048576 bytes"));
	/* a storm of failing writes does not flood the log: ten lines a second */
	unavailable = 0;
	for (int j = 0; j < 2000; j++) {
		snprintf(from, sizeof(from), "storm%d@example.org", j);
		unavailable += store_check(fx->st, &P, T0, &a, from, "r@example.net",
		    GREYLIST_NO_TARPIT, &r) == GREYLIST_UNAVAILABLE;
	}
	assert_true(unavailable > 500);
	if (log_capture_count("store: map full") + log_capture_count("MDB_MAP_FULL") > 30)
		fail_msg("log storm: got %d map-full lines for %d failures, want at most 30",
		    log_capture_count("store: map full") + log_capture_count("MDB_MAP_FULL"), unavailable);
	/* reads still work when the map is full */
	snprintf(from, sizeof(from), "sender%d-x@example.org", 0);
	assert_int_equal(store_lookup(fx->st, &P, &a, from, "r@example.net", &f), 0);
	assert_true(f.has_triplet && f.triplet.first == T0);
	/* and no store at all is "unavailable", never a crash */
	assert_int_equal(store_check(NULL, &P, T0, &a, from, "r@x", 0, &r), GREYLIST_UNAVAILABLE);
}

/* Run expiry batches until a pass completes; return the batch count. */
static int
expire_all(store_t *st, int64_t now, size_t batch, store_expire_t *ex)
{
	int	steps = 0, rc;

	memset(ex, 0, sizeof(*ex));
	do {
		rc = store_expire_step(st, &P, now, batch, ex);
		steps++;
	} while (rc == 0 && steps < 100000);
	assert_int_equal(rc, 1);
	return steps;
}

/* Regression: a full map must be emptied by the expiry (an LMDB delete
 * needs free pages too; the last eighth of the map is kept for it). */
static void
test_map_full_then_expiry(void **state)
{
	fixture_t *fx = *state;
	greylist_result_t r;
	store_expire_t ex;
	addr_t	a = ip("192.0.2.1");
	int	i = fill_map(fx, 50, &r);

	expire_all(fx->st, T0 + 3 * DAY, STORE_EXPIRE_BATCH, &ex);
	if (ex.deleted < (size_t) i - 50 || strstr(log_lines, "expire:") != NULL)
		fail_msg("expiry of a full map: got %zu deleted of %d, log:\n%s, want all",
		    ex.deleted, i - 50, log_lines);
	assert_int_equal(store_check(fx->st, &P, T0 + 3 * DAY, &a, "new@example.org",
	    "r@example.net", GREYLIST_NO_TARPIT, &r), GREYLIST_GREYLIST);
}

static void
test_expiry_batches(void **state)
{
	fixture_t *fx = *state;
	char	from[64];
	store_expire_t ex;
	size_t	n;
	int	steps;

	/* even senders tried at T0, odd ones at T0 + 1 day */
	for (int i = 0; i < 1234; i++) {
		snprintf(from, sizeof(from), "s%d-x@example.org", i);
		want_check(fx->st, i % 2 ? T0 + DAY : T0, "192.0.2.1", from, "r@y.org",
		    GREYLIST_NO_TARPIT, GREYLIST_GREYLIST, "new");
	}
	/* two days after T0 + 1 s: only the even ones are past retry_window */
	steps = expire_all(fx->st, T0 + 2 * DAY + 1, 100, &ex);
	/* 13 batches for greylist (the last one hits the end), 1 each for clients, tarpit */
	if (steps != 15 || ex.seen != 1234 || ex.deleted != 617)
		fail_msg("expiry: got %d steps, %zu seen, %zu deleted; want 15, 1234, 617",
		    steps, ex.seen, ex.deleted);
	assert_int_equal(store_count(fx->st, STORE_DB_GREYLIST, &n), 0);
	assert_int_equal(n, 617);
	expire_all(fx->st, T0 + 3 * DAY + 1, 1, &ex);
	assert_int_equal(ex.deleted, 617);
	assert_int_equal(store_count(fx->st, STORE_DB_GREYLIST, &n), 0);
	assert_int_equal(n, 0);
	assert_non_null(strstr(log_lines, "store: expiry pass: 617 records, 617 expired"));
}

static void
test_unknown_version(void **state)
{
	fixture_t *fx = *state;
	addr_t	a = ip("192.0.2.50");
	unsigned char v2[RECORD_GREY_SIZE] = {2}, shortv1[3] = {1, 0, 0};
	const char *key = "192.0.2.0/s@x.org/r@y.org";
	unsigned char buf[64];
	size_t	len = sizeof(buf), n;
	store_expire_t ex;

	usleep(1100000);	/* a new second: earlier tests' lines used up the rate limit */
	assert_int_equal(store_put(fx->st, STORE_DB_CLIENTS, "192.0.2.0", 9, v2, sizeof(v2)), 0);
	assert_int_equal(store_put(fx->st, STORE_DB_TARPIT, "192.0.2.77", 10, shortv1, sizeof(shortv1)), 0);
	/* an unknown client record is absent: no auto-whitelisting, tarpit */
	want_check(fx->st, T0, "192.0.2.50", "s@x.org", "r@y.org", 0, GREYLIST_TARPIT, NULL);
	assert_non_null(strstr(log_lines, "store: clients 192.0.2.0: record version 2 unknown, treated as absent"));
	assert_int_equal(store_put(fx->st, STORE_DB_GREYLIST, key, strlen(key), v2, sizeof(v2)), 0);
	assert_int_equal(store_tarpit_failed(fx->st, &P, T0, &a), 0);
	want_check(fx->st, T0 + 1, "192.0.2.50", "s@x.org", "r@y.org", 0, GREYLIST_GREYLIST, "new");
	/* expiry keeps what it cannot read (a newer program may own it), drops the short one */
	expire_all(fx->st, T0 + 400 * DAY, 10, &ex);
	assert_int_equal(store_get(fx->st, STORE_DB_CLIENTS, "192.0.2.0", 9, buf, &len), 0);
	assert_int_equal(buf[0], 2);
	assert_int_equal(store_count(fx->st, STORE_DB_TARPIT, &n), 0);
	assert_int_equal(n, 0);
}

static void
test_whitelist(void **state)
{
	fixture_t *fx = *state;
	net_t	n;

	assert_int_equal(net_parse("198.51.100.0/24", &n), 0);
	want_check(fx->st, T0, "198.51.100.9", "s@x.org", "r@y.org", 0, GREYLIST_TARPIT, NULL);
	assert_int_equal(store_whitelist_add(fx->st, &n, T0), 0);
	want_check(fx->st, T0, "198.51.100.9", "s@x.org", "r@y.org", 0, GREYLIST_PASS_AWL, "manual_whitelist");
	want_check(fx->st, T0, "198.51.101.9", "s@x.org", "r@y.org", 0, GREYLIST_TARPIT, NULL);
	assert_int_equal(store_whitelist_remove(fx->st, &n), 0);
	want_check(fx->st, T0, "198.51.100.9", "s@x.org", "r@y.org", 0, GREYLIST_TARPIT, NULL);
	assert_int_equal(store_whitelist_remove(fx->st, &n), STORE_NOTFOUND);
}

static int
count_cb(const char *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	(void) key;
	(void) klen;
	(void) val;
	(void) vlen;
	++*(int *) ctx;
	return 0;
}

static void
test_counters_and_walk(void **state)
{
	fixture_t *fx = *state;
	char	from[64];
	uint64_t c;
	int	n = 0;

	for (int i = 0; i < 2500; i++) {
		snprintf(from, sizeof(from), "s%d-x@example.org", i);
		want_check(fx->st, T0, i < 1000 ? "192.0.2.1" : "192.0.3.1", from, "r@y.org",
		    GREYLIST_NO_TARPIT, GREYLIST_GREYLIST, "new");
	}
	want_check(fx->st, T0, "192.0.2.1", "a@b", "c@d", 0, GREYLIST_TARPIT, NULL);
	assert_int_equal(store_sync(fx->st), 0);
	assert_int_equal(store_counter_get(fx->st, GREYLIST_GREYLIST, &c), 0);
	assert_int_equal(c, 2500);
	assert_int_equal(store_counter_get(fx->st, GREYLIST_TARPIT, &c), 0);
	assert_int_equal(c, 1);
	/* events: counted in memory, flushed into meta, read back as the sum */
	store_event_count(fx->st, STORE_EVENT_TARPIT_FULL);
	store_event_count(fx->st, STORE_EVENT_TARPIT_FULL);
	assert_int_equal(store_sync(fx->st), 0);
	store_event_count(fx->st, STORE_EVENT_TARPIT_FULL);
	assert_int_equal(store_event_get(fx->st, STORE_EVENT_TARPIT_FULL, &c), 0);
	assert_int_equal(c, 3);
	assert_int_equal(store_counter_get(fx->st, GREYLIST_TARPIT, &c), 0);
	assert_int_equal(c, 1);
	assert_int_equal(store_event_get(fx->st, STORE_EVENTS, &c), -1);
	assert_string_equal(store_event_name(STORE_EVENT_TARPIT_FULL), "tarpit_full");
	assert_int_equal(store_walk(fx->st, STORE_DB_GREYLIST, "192.0.2.0/", count_cb, &n), 0);
	assert_int_equal(n, 1000);
	n = 0;
	assert_int_equal(store_walk(fx->st, STORE_DB_GREYLIST, NULL, count_cb, &n), 0);
	assert_int_equal(n, 2500);
}

/* Wait (bounded) until the tarpit database holds WANT records. */
static size_t
wait_tarpit_count(store_t *st, size_t want)
{
	size_t	n = want + 1;

	for (int i = 0; i < 100 && n != want; i++) {
		usleep(50000);
		assert_int_equal(store_count(st, STORE_DB_TARPIT, &n), 0);
	}
	return n;
}

static void
test_expiry_thread(void **state)
{
	fixture_t *fx = *state;
	addr_t	a = ip("192.0.2.8"), b = ip("192.0.2.9");
	greylist_params_t shorter = P;

	assert_int_equal(store_tarpit_failed(fx->st, &P, 1000, &a), 0);	/* long expired */
	assert_int_equal(store_tarpit_failed(fx->st, &P, (int64_t) time(NULL) - 100, &b), 0);
	assert_int_equal(store_expire_start(fx->st, &P, 1000), 0);
	assert_int_equal(wait_tarpit_count(fx->st, 1), 1);
	/* new parameters reach the running thread */
	shorter.tarpit_max_age = 10;
	assert_int_equal(store_expire_start(fx->st, &shorter, 1000), 0);
	assert_int_equal(wait_tarpit_count(fx->st, 0), 0);
	store_expire_stop(fx->st);
	store_expire_stop(fx->st);	/* twice is harmless */
}

typedef struct {
	store_t *st;
	int	greylisted;
	int	passed;
	int	other;
} worker_t;

static void *
worker(void *arg)
{
	worker_t *w = arg;
	addr_t	a = ip("192.0.2.20");
	greylist_result_t r;

	for (int i = 0; i < 300; i++) {
		switch (store_check(w->st, &P, T0 + 400, &a, "s@x.org", "r@y.org", 0, &r)) {
		case GREYLIST_GREYLIST:
			w->greylisted++;
			break;
		case GREYLIST_PASS_TRIPLET:
			w->passed++;
			break;
		default:
			w->other++;
		}
	}
	return NULL;
}

static void
test_concurrent_updates(void **state)
{
	fixture_t *fx = *state;
	addr_t	a = ip("192.0.2.20");
	worker_t w[8] = {0};
	pthread_t th[8];
	int	grey = 0, pass = 0, other = 0;

	assert_int_equal(store_tarpit_failed(fx->st, &P, T0, &a), 0);
	want_check(fx->st, T0, "192.0.2.20", "s@x.org", "r@y.org", 0, GREYLIST_GREYLIST, "new");
	for (int i = 0; i < 8; i++) {
		w[i].st = fx->st;
		assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		grey += w[i].greylisted;
		pass += w[i].passed;
		other += w[i].other;
	}
	/* exactly one counted retry greylists, every later attempt passes */
	if (grey != 1 || pass != 8 * 300 - 1 || other != 0)
		fail_msg("concurrent: got %d greylisted, %d passed, %d other; want 1, %d, 0",
		    grey, pass, other, 8 * 300 - 1);
}

static void
test_map_grown_by_other_process(void **state)
{
	fixture_t *fx = *state;
	char	from[64];
	size_t	n;
	pid_t	pid;
	int	status;

	want_check(fx->st, T0, "192.0.2.1", "before@x.org", "r@y.org", GREYLIST_NO_TARPIT,
	    GREYLIST_GREYLIST, "new");
	/* another process (targreyctl load, say) grows the map past ours */
	if ((pid = fork()) == 0) {
		store_t *st;
		int	ok = 1;

		fx->st = NULL;		/* the parent's handle is not ours */
		if ((st = store_open(fx->dir, 256UL * 1024 * 1024)) == NULL)
			_exit(2);
		for (int i = 0; i < 120000 && ok; i++) {
			snprintf(from, sizeof(from), "child%d@example.org", i);
			greylist_result_t r;
			addr_t	a = ip("198.51.100.1");

			ok = store_check(st, &P, T0, &a, from, "r@y.org", GREYLIST_NO_TARPIT, &r) == GREYLIST_GREYLIST;
		}
		_exit(ok && store_map_size(st) > STORE_INITIAL_MAP ? 0 : 1);
	}
	assert_true(pid > 0);
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* our handle still reads and writes */
	want_check(fx->st, T0, "192.0.2.1", "after@x.org", "r@y.org", GREYLIST_NO_TARPIT,
	    GREYLIST_GREYLIST, "new");
	want_check(fx->st, T0 + 1, "198.51.100.1", "child119999@example.org", "r@y.org",
	    GREYLIST_NO_TARPIT, GREYLIST_GREYLIST, "early_retry");
	assert_int_equal(store_count(fx->st, STORE_DB_GREYLIST, &n), 0);
	assert_int_equal(n, 120002);
	assert_true(store_map_size(fx->st) > STORE_INITIAL_MAP);
}

/* Child: greylist new triplets until killed; publish each commit. */
static void
writer_child(const char *dir, int round, volatile long *done)
{
	char	from[64];
	greylist_result_t r;
	addr_t	a = ip("192.0.2.1");
	store_t *st = store_open(dir, 256UL * 1024 * 1024);

	for (long i = 0; st != NULL; i++) {
		/* one word: a digit run standing alone would normalise to '#' */
		snprintf(from, sizeof(from), "r%dx%ld@example.org", round, i);
		if (store_check(st, &P, T0, &a, from, "r@y.org", GREYLIST_NO_TARPIT, &r) != GREYLIST_GREYLIST)
			_exit(1);
		*done = i + 1;
	}
	_exit(1);
}

/* Every greylist record decodes. */
static int
decode_cb(const char *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	grey_record_t g;

	(void) key;
	(void) klen;
	if (record_grey_decode(val, vlen, &g) != RECORD_OK)
		++*(int *) ctx;
	return 0;
}

static void
test_kill_9(void **state)
{
	fixture_t *fx = *state;
	volatile long *done = mmap(NULL, sizeof(long), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	long	total = 0;
	char	from[64];
	size_t	n;
	pid_t	pid;
	int	bad = 0;

	assert_true(done != MAP_FAILED);
	fx->st = store_close(fx->st);	/* one LMDB handle per process */
	for (int round = 0; round < 6; round++) {
		*done = 0;
		if ((pid = fork()) == 0)
			writer_child(fx->dir, round, done);
		assert_true(pid > 0);
		usleep(20000 + (useconds_t) round * 37000);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		total += *done;
		fx->st = store_open(fx->dir, 256UL * 1024 * 1024);
		assert_non_null(fx->st);
		assert_int_equal(store_count(fx->st, STORE_DB_GREYLIST, &n), 0);
		/* every reported commit is there; at most the one in flight more */
		if ((long) n < total || (long) n > total + 1)
			fail_msg("after kill -9 round %d: got %zu records, want %ld or %ld",
			    round, n, total, total + 1);
		total = (long) n;
		assert_int_equal(store_walk(fx->st, STORE_DB_GREYLIST, NULL, decode_cb, &bad), 0);
		assert_int_equal(bad, 0);
		snprintf(from, sizeof(from), "after%d@x.org", round);
		want_check(fx->st, T0, "192.0.2.2", from, "r@y.org", GREYLIST_NO_TARPIT,
		    GREYLIST_GREYLIST, "new");
		total++;
		fx->st = store_close(fx->st);
	}
	fx->st = store_open(fx->dir, 256UL * 1024 * 1024);
	munmap((void *) done, sizeof(long));
	assert_true(total > 6);
}

#ifndef TEST_STORE_NO_MAIN	/* test_store_redis.c runs some of these on Redis */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tarpit_passed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_whitelist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_full_is_unavailable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_full_then_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_grown_by_other_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whitelist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_and_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_updates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_9, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
