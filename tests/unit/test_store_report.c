/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_store_report - unit tests for store_report.c and report.c
 * DESCRIPTION
 *	Real LMDB in a temporary directory: counts added twice to one hour
 *	are summed, hours are read oldest first within the window, records
 *	older than the kept history are deleted, a record of an unknown
 *	version is skipped; decisions map to the categories the report
 *	shows, and milter_report_flush() moves the in-memory counts into the store.
 *	A gauge keeps the larger sample of an hour instead of the sum; S25R
 *	reasons and greylist return delays land in their categories; the
 *	first flush of an hour samples the records per database. The top
 *	networks sketch keeps a heavy network on top among more networks
 *	than it has slots; the stored hourly list sums and keeps the top.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "metrics_hourly.h"
#include "milter_report.h"
#include "store_report.h"

typedef struct {
	int64_t	hours[16];
	uint32_t first[16];	/* counts[0] of each */
	uint32_t third[16];	/* counts[2] of each */
	uint32_t grey[16];	/* counts[REPORT_STORE_GREYLIST] of each */
	size_t	n;
} seen_t;

static int
collect(int64_t hour, const uint32_t counts[REPORT_CATEGORIES], void *ctx)
{
	seen_t *s = ctx;

	if (s->n < 16) {
		s->hours[s->n] = hour;
		s->first[s->n] = counts[0];
		s->grey[s->n] = counts[REPORT_STORE_GREYLIST];
		s->third[s->n++] = counts[2];
	}
	return 0;
}

static store_t *
open_temp(char *dir)
{
	strcpy(dir, "/tmp/tg-report-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return store_open(dir, 16 * 1024 * 1024);
}

static void
remove_temp(store_t *st, const char *dir)
{
	char	cmd[128];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_add_read_prune(void **state)
{
	uint32_t c[REPORT_CATEGORIES] = {3, 0, 1};
	char	dir[64];
	store_t *st = open_temp(dir);
	seen_t	s = {0};

	(void) state;
	assert_non_null(st);
	assert_int_equal(store_report_add(st, 1000, c, 0), 0);
	assert_int_equal(store_report_add(st, 1000, c, 0), 0);
	assert_int_equal(store_report_add(st, 1005, c, 0), 0);
	assert_int_equal(store_report_add(st, 990, c, 0), 0);
	assert_int_equal(store_report_read(st, 995, 1010, collect, &s), 0);
	assert_int_equal(s.n, 2);
	if (s.hours[0] != 1000 || s.first[0] != 6 || s.third[0] != 2 || s.hours[1] != 1005)
		fail_msg("got hour %lld first %u third %u, then %lld; want 1000 6 2, then 1005",
		    (long long) s.hours[0], s.first[0], s.third[0], (long long) s.hours[1]);
	/* keep 10 hours back from 1005: 990 goes, 1000 stays */
	assert_int_equal(store_report_add(st, 1005, c, 10), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_report_read(st, 0, 2000, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.hours[0], 1000);
	assert_int_equal(s.first[1], 6);
	/* an unknown version is skipped */
	assert_int_equal(store_put(st, STORE_DB_META, STORE_REPORT_PREFIX "0000001001", 17,
	    "\x09\x01\0\0\0\x07", 6), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_report_read(st, 0, 2000, collect, &s), 0);
	assert_int_equal(s.n, 2);
	remove_temp(st, dir);
}

static void
test_gauge_max(void **state)
{
	uint32_t c[REPORT_CATEGORIES] = {1};
	char	dir[64];
	store_t *st = open_temp(dir);
	seen_t	s = {0};

	(void) state;
	c[REPORT_STORE_GREYLIST] = 7;
	assert_int_equal(store_report_add(st, 1000, c, 0), 0);
	c[REPORT_STORE_GREYLIST] = 4;
	assert_int_equal(store_report_add(st, 1000, c, 0), 0);
	assert_int_equal(store_report_read(st, 0, 2000, collect, &s), 0);
	if (s.n != 1 || s.first[0] != 2 || s.grey[0] != 7)
		fail_msg("got %zu hours, accepted %u, greylist records %u; want 1, 2 (sum), 7 (max)",
		    s.n, s.first[0], s.grey[0]);
	remove_temp(st, dir);
}

static void
test_s25r_and_delays(void **state)
{
	static const struct {
		const char *reason;
		long	delay;
		int	want;		/* category, or -1: none */
	} cases[] = {
		{"s25r_rule_0", -1, REPORT_S25R_RULE0},
		{"s25r_rule_6", -1, REPORT_S25R_RULE0 + 6},
		{"s25r_rule_7", -1, -1},
		{"no_match", -1, -1},
		{"whitelist_/etc/wl:3", -1, REPORT_S25R_WHITELIST},
		{"/etc/access:12", -1, REPORT_S25R_TABLE},
		{NULL, 0, REPORT_RETURN_5M},
		{NULL, 299, REPORT_RETURN_5M},
		{NULL, 300, REPORT_RETURN_15M},
		{NULL, 3599, REPORT_RETURN_1H},
		{NULL, 3600, REPORT_RETURN_4H},
		{NULL, 86399, REPORT_RETURN_1D},
		{NULL, 86400, REPORT_RETURN_LATER},
		{NULL, -1, -1},
	};
	uint32_t got[REPORT_CATEGORIES];

	(void) state;
	(void) metrics_hour_take(got);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].reason)
			metrics_hour_s25r(cases[i].reason);
		else
			metrics_hour_return_delay(cases[i].delay);
		int	any = metrics_hour_take(got);

		for (int c = 0; c < REPORT_CATEGORIES; c++)
			if (got[c] != (c == cases[i].want))
				fail_msg("%s %ld: category %d got %u, want %d", cases[i].reason
				    ? cases[i].reason : "delay", cases[i].delay, c, got[c],
				    c == cases[i].want);
		assert_int_equal(any, cases[i].want >= 0);
	}
}

static void
test_topnet_sketch(void **state)
{
	static const struct {
		const char *addr, *want;
	} keys[] = {
		{"192.0.2.77", "192.0.2.0/24"},
		{"2001:db8:1:2::5", "2001:db8:1::/48"},
		{"::ffff:198.51.100.9", "198.51.100.0/24"},
	};
	topnet_t top[TOPNET_KEEP];
	char	net[TOPNET_NET_MAX];
	addr_t	a;
	size_t	n;

	(void) state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_int_equal(addr_parse(keys[i].addr, &a), 0);
		assert_true(topnet_key(&a, net, sizeof(net)) > 0);
		if (strcmp(net, keys[i].want) != 0)
			fail_msg("%s: got %s, want %s", keys[i].addr, net, keys[i].want);
	}
	/* 100 clients of one /24 among 200 single ones: more networks than
	 * slots, yet the heavy one is on top, over-counted by at most 300/64 */
	for (int i = 0; i < 300; i++) {
		char	text[32];

		if (i % 3 == 0)
			snprintf(text, sizeof(text), "203.0.113.%d", i % 250);
		else
			snprintf(text, sizeof(text), "10.%d.%d.1", i / 250, i % 250);
		assert_int_equal(addr_parse(text, &a), 0);
		metrics_topnet_add(&a);
	}
	n = metrics_topnet_take(top);
	assert_int_equal(n, TOPNET_KEEP);
	if (strcmp(top[0].net, "203.0.113.0/24") != 0 || top[0].count < 100 || top[0].count > 105)
		fail_msg("got %s %u on top, want 203.0.113.0/24 100..105", top[0].net, top[0].count);
	assert_int_equal(metrics_topnet_take(top), 0);	/* emptied */
}

static int
collect_nets(int64_t hour, const topnet_t *nets, size_t n, void *ctx)
{
	topnet_t *out = ctx;

	(void) hour;
	memcpy(out, nets, n * sizeof(*nets));
	out[n].count = 0;
	return 0;
}

static void
test_net_records(void **state)
{
	topnet_t a[TOPNET_KEEP], got[TOPNET_KEEP + 1];
	char	dir[64];
	store_t *st = open_temp(dir);

	(void) state;
	for (int i = 0; i < TOPNET_KEEP; i++) {
		snprintf(a[i].net, sizeof(a[i].net), "10.0.%d.0/24", i);
		a[i].count = (uint32_t) (i + 1);
	}
	assert_int_equal(store_report_net_add(st, 1000, a, TOPNET_KEEP, 0), 0);
	/* a second flush: 10.0.0.0/24 grows to 31, a new network of 5 pushes
	 * out the smallest (10.0.1.0/24, 2): the last kept has 3 */
	snprintf(a[0].net, sizeof(a[0].net), "10.0.0.0/24"), a[0].count = 30;
	snprintf(a[1].net, sizeof(a[1].net), "192.0.2.0/24"), a[1].count = 5;
	assert_int_equal(store_report_net_add(st, 1000, a, 2, 0), 0);
	memset(got, 0, sizeof(got));
	assert_int_equal(store_report_net_read(st, 0, 2000, collect_nets, got), 0);
	if (strcmp(got[0].net, "10.0.0.0/24") != 0 || got[0].count != 31
	    || got[TOPNET_KEEP - 1].count != 3 || got[TOPNET_KEEP].count != 0)
		fail_msg("got %s %u first, %u last; want 10.0.0.0/24 31 first, 3 last of %d",
		    got[0].net, got[0].count, got[TOPNET_KEEP - 1].count, TOPNET_KEEP);
	remove_temp(st, dir);
}

static void
test_categories(void **state)
{
	static const struct {
		const char *stage, *action, *reason;
		report_category_t want;
	} cases[] = {
		{"eom", "accept", "passed", REPORT_ACCEPTED},
		{"eom", "accept", "dry_run", REPORT_ACCEPTED},
		{"rcpt", "accept", "store_unavailable", REPORT_UNCHECKED},
		{"connect", "skip", "trusted", REPORT_SKIPPED},
		{"rcpt", "tarpit", "passed", REPORT_TARPIT_PASSED},
		{"rcpt", "tarpit", "lost_connection", REPORT_TARPIT_FAILED},
		{"rcpt", "greylist", "new", REPORT_GREYLISTED},
		{"mail", "reject", "mail_fail", REPORT_SPF_REJECTED},
		{"mail", "defer", "mail_temperror", REPORT_SPF_DEFERRED},
		{"rcpt", "would_greylist", "new", REPORT_OTHER},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		report_category_t got = report_category(cases[i].stage, cases[i].action, cases[i].reason);

		if (got != cases[i].want)
			fail_msg("%s %s %s: got %d, want %d", cases[i].stage, cases[i].action,
			    cases[i].reason, got, cases[i].want);
	}
}

static void
test_flush(void **state)
{
	char	dir[64];
	store_t *st = open_temp(dir);
	seen_t	s = {0};
	int64_t	now = (int64_t) time(NULL) / 3600;

	(void) state;
	for (int i = 0; i < 5; i++)
		metrics_hour_count("eom", "accept", "passed");
	metrics_hour_count("rcpt", "tarpit", "passed");
	metrics_hour_count("connect", "suspicious", "s25r_rule_1");	/* not a verdict */
	assert_int_equal(milter_report_flush(st), 0);
	assert_int_equal(milter_report_flush(st), 0);		/* nothing new: no change */
	assert_int_equal(store_report_read(st, now - 1, now + 1, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.first[0], 5);
	assert_int_equal(s.third[0], 1);
	assert_int_equal(s.grey[0], 0);
	/* two greylist records: sampled again only in the next hour */
	assert_int_equal(store_put(st, STORE_DB_GREYLIST, "a", 1, "x", 1), 0);
	assert_int_equal(store_put(st, STORE_DB_GREYLIST, "b", 1, "x", 1), 0);
	metrics_hour_count("eom", "accept", "passed");
	assert_int_equal(milter_report_flush(st), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_report_read(st, now - 1, now + 1, collect, &s), 0);
	assert_int_equal(s.first[0], 6);
	if (s.grey[0] != 0 && s.n == 1)
		fail_msg("greylist records sampled twice in one hour: got %u, want 0", s.grey[0]);
	remove_temp(st, dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_read_prune),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_gauge_max),
		cmocka_unit_test(test_s25r_and_delays),
		cmocka_unit_test(test_topnet_sketch),
		cmocka_unit_test(test_net_records),
		cmocka_unit_test(test_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
