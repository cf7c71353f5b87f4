/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_greylist - unit tests for greylist.c and greylist_key.c
 * DESCRIPTION
 *	The taRgrey decision table, every greylisting timing edge (time is
 *	passed in), auto-whitelisting an hour apart, expiry predicates,
 *	Postgrey-style sender normalisation, IPv4/IPv6 key grouping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "greylist.h"
#include "greylist_cases.h"

static void
test_params_from_config(void **state)
{
	config_t cfg = {0};
	greylist_params_t p;

	(void) state;
	cfg.greylist_delay = 300000;
	cfg.greylist_retry_window = 2 * DAY * 1000;
	cfg.greylist_max_age = 30 * DAY * 1000;
	cfg.tarpit_failed_max_age = 7 * DAY * 1000;
	cfg.greylist_retry_count = 3;
	cfg.auto_whitelist_clients = 5;
	cfg.greylist_ipv4_prefix = 24;
	cfg.greylist_ipv6_prefix = 48;
	greylist_params_init(&p, &cfg);
	assert_int_equal(p.delay, 300);
	assert_int_equal(p.retry_window, 2 * DAY);
	assert_int_equal(p.tarpit_max_age, 7 * DAY);
	assert_int_equal(p.retry_count, 3);
	assert_int_equal(p.ipv6_prefix, 48);
}

static void
test_decision_table(void **state)
{
	static const char *names[] = {"pass_awl", "pass_triplet", "greylist", "tarpit"};
	greylist_result_t r;

	(void) state;
	for (size_t i = 0; i < GL_COUNT(GL_CASES); i++) {
		const struct gl_case *c = &GL_CASES[i];

		greylist_decide(&P, T0, &c->f, c->flags, &r);
		if (r.verdict != c->want || strcmp(r.reason, c->reason) != 0)
			fail_msg("%s: got %s (%s), want %s (%s)", c->name,
			    names[r.verdict], r.reason, names[c->want], c->reason);
		if (r.write_triplet != c->write_triplet || r.write_client != c->write_client)
			fail_msg("%s: got writes triplet=%d client=%d, want %d %d", c->name,
			    r.write_triplet, r.write_client, c->write_triplet, c->write_client);
	}
	assert_string_equal(greylist_verdict_name(GREYLIST_UNAVAILABLE), "store_unavailable");
}

/* Apply one attempt at time NOW to *G (tarpit-failed client). */
static greylist_verdict_t
attempt(const greylist_params_t *p, int64_t now, grey_record_t *g, int *have,
	greylist_result_t *r)
{
	const tarpit_record_t failed = {now - 10, now - 10, 1};
	greylist_facts_t f = {.triplet = *have ? g : NULL, .tarpit = &failed};

	greylist_decide(p, now, &f, 0, r);
	if (r->write_triplet) {
		*g = r->triplet;
		*have = 1;
	}
	return r->verdict;
}

static void
test_greylist_timeline(void **state)
{
	const struct gl_step *steps = GL_STEPS;
	grey_record_t g;
	greylist_result_t r;
	int	have = 0;

	(void) state;
	for (size_t i = 0; i < GL_COUNT(GL_STEPS); i++) {
		greylist_verdict_t v = attempt(&P, T0 + steps[i].at, &g, &have, &r);

		if (v != steps[i].want || strcmp(r.reason, steps[i].reason) != 0)
			fail_msg("at +%lld: got %d (%s), want %d (%s)", (long long) steps[i].at,
			    v, r.reason, steps[i].want, steps[i].reason);
		if (v == GREYLIST_GREYLIST && (r.remaining_delay != steps[i].remaining_delay
		    || r.remaining_retries != steps[i].remaining_retries))
			fail_msg("at +%lld: got delay %lld retries %ld, want %lld %ld",
			    (long long) steps[i].at, (long long) r.remaining_delay,
			    r.remaining_retries, (long long) steps[i].remaining_delay,
			    steps[i].remaining_retries);
	}
}

static void
test_retry_window_edges(void **state)
{
	grey_record_t g;
	greylist_result_t r;
	int	have = 0;

	(void) state;
	/* the last retry inside the window still counts */
	attempt(&P, T0, &g, &have, &r);
	attempt(&P, T0 + 400, &g, &have, &r);
	assert_int_equal(attempt(&P, T0 + 2 * DAY, &g, &have, &r), GREYLIST_PASS_TRIPLET);
	/* one second after the window: the triplet starts over */
	have = 0;
	attempt(&P, T0, &g, &have, &r);
	attempt(&P, T0 + 400, &g, &have, &r);
	assert_int_equal(attempt(&P, T0 + 2 * DAY + 1, &g, &have, &r), GREYLIST_GREYLIST);
	assert_string_equal(r.reason, "new");
	assert_int_equal(g.first, T0 + 2 * DAY + 1);
	assert_int_equal(g.retries, 0);
	/* an unpassed triplet expires retry_window after its last attempt */
	assert_false(greylist_grey_expired(&P, g.last + 2 * DAY, &g));
	assert_true(greylist_grey_expired(&P, g.last + 2 * DAY + 1, &g));
}

static void
test_retry_count_one_is_postgrey(void **state)
{
	greylist_params_t p = P;
	grey_record_t g;
	greylist_result_t r;
	int	have = 0;

	(void) state;
	p.retry_count = 1;
	assert_int_equal(attempt(&p, T0, &g, &have, &r), GREYLIST_GREYLIST);
	assert_int_equal(attempt(&p, T0 + 299, &g, &have, &r), GREYLIST_GREYLIST);
	assert_int_equal(attempt(&p, T0 + 300, &g, &have, &r), GREYLIST_PASS_TRIPLET);
	assert_true(g.flags & GREY_FLAG_PASSED);
}

static void
test_clock_went_back(void **state)
{
	grey_record_t g = {T0 + 1000, T0 + 1000, 0, 0};
	greylist_result_t r;
	int	have = 1;

	(void) state;
	/* first seen in the future: start over rather than wait forever */
	assert_int_equal(attempt(&P, T0, &g, &have, &r), GREYLIST_GREYLIST);
	assert_string_equal(r.reason, "new");
	assert_int_equal(g.first, T0);
}

static void
test_auto_whitelist(void **state)
{
	static const struct {
		int64_t	at;
		int	write;
		uint32_t passes;
		int	listed;
	} steps[] = {
		{0, 1, 1, 0},
		{3599, 0, 1, 0},	/* within the hour: nothing to write */
		{3600, 1, 2, 0},
		{7199, 0, 2, 0},
		{7200, 1, 3, 0},
		{10800, 1, 4, 0},
		{14400, 1, 5, 1},
		{14401, 0, 5, 1},
		{3600, 1, 6, 1},	/* clock went back: counts, no freeze */
	};
	client_record_t c, upd;
	int	have = 0;

	(void) state;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int	w = greylist_client_pass(&P, T0 + steps[i].at, have ? &c : NULL, &upd);

		if (w != steps[i].write)
			fail_msg("pass at +%lld: got write %d, want %d", (long long) steps[i].at, w, steps[i].write);
		if (w) {
			c = upd;
			have = 1;
		}
		if (c.passes != steps[i].passes || greylist_client_listed(&P, &c) != steps[i].listed)
			fail_msg("pass at +%lld: got %u passes listed %d, want %u %d",
			    (long long) steps[i].at, c.passes, greylist_client_listed(&P, &c),
			    steps[i].passes, steps[i].listed);
	}
}

static void
test_auto_whitelist_off_and_refresh(void **state)
{
	greylist_params_t off = P;
	client_record_t c = {T0, T0, T0, 9}, upd;

	(void) state;
	off.awl_clients = 0;
	assert_int_equal(greylist_client_pass(&off, T0 + DAY, &c, &upd), 0);
	assert_false(greylist_client_listed(&off, &c));
	/* a listed client's last_seen is refreshed at most hourly */
	c.last_pass = T0;
	c.last_seen = T0 + 1800;
	assert_int_equal(greylist_client_pass(&P, T0 + 3000, &c, &upd), 0);
	/* an expired record starts again at 1 */
	assert_int_equal(greylist_client_pass(&P, T0 + 31 * DAY + 1800, &c, &upd), 1);
	assert_int_equal(upd.passes, 1);
}

static void
test_passed_triplet_refresh(void **state)
{
	const grey_record_t g = {T0, T0, 2, GREY_FLAG_PASSED};
	greylist_facts_t f = {.triplet = &g};
	greylist_result_t r;

	(void) state;
	greylist_decide(&P, T0 + 59, &f, 0, &r);
	assert_int_equal(r.verdict, GREYLIST_PASS_TRIPLET);
	assert_int_equal(r.write_triplet, 0);
	greylist_decide(&P, T0 + 60, &f, 0, &r);
	assert_int_equal(r.write_triplet, 1);
	assert_int_equal(r.triplet.last, T0 + 60);
	assert_int_equal(r.triplet.first, T0);
}

static void
test_tarpit_records(void **state)
{
	tarpit_record_t t, t2;
	grey_record_t g;

	(void) state;
	greylist_tarpit_fail(T0, NULL, &t);
	assert_true(t.count == 1 && t.first == T0 && t.last == T0);
	greylist_tarpit_fail(T0 + 50, &t, &t2);
	assert_true(t2.count == 2 && t2.first == T0 && t2.last == T0 + 50);
	assert_false(greylist_tarpit_expired(&P, T0 + 50 + 30 * DAY, &t2));
	assert_true(greylist_tarpit_expired(&P, T0 + 51 + 30 * DAY, &t2));
	greylist_triplet_pass(T0 + 9, NULL, &g);
	assert_true(g.flags == GREY_FLAG_PASSED && g.first == T0 + 9 && g.last == T0 + 9);
}

static void
test_sender_normalize(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		{"User@Example.COM", "user@example.com"},
		{"user+ext@x.org", "user@x.org"},
		{"user+a+b@x.org", "user@x.org"},
		{"prvs=0123abcdef=john@x.org", "john@x.org"},
		{"prvs=john=0123abcdef@x.org", "john@x.org"},
		{"PRVS=0123ABCDEF=John@X.org", "john@x.org"},
		{"prvs=onlytwo@x.org", "prvs=onlytwo@x.org"},
		{"msprvs1=17827abcde=bounces-123@x.com", "bounces-#@x.com"},
		{"SRS0=HhHh=TT=orig.example=alice@fwd.example", "srs0=orig.example=alice@fwd.example"},
		{"SRS1=HHH=fwd1.example==HHH=TT=orig.example=alice@fwd2.example",
		    "srs1=fwd1.example=orig.example=alice@fwd2.example"},
		{"bounce-1234-56@lists.example", "bounce-#-#@lists.example"},
		{"user123@x", "user123@x"},
		{"123@x", "#@x"},
		{"a.1.b@x", "a.#.b@x"},
		{"a_1@x", "a_1@x"},
		{"12abc@x", "12abc@x"},
		{"", ""},
		{"NoAtSign", "noatsign"},
		{"a@b@C.example", "a@b@c.example"},
	};
	char	buf[GREYLIST_KEY_MAX];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t	n = greylist_sender_normalize(cases[i].in, buf, sizeof(buf));

		if (strcmp(buf, cases[i].want) != 0 || n != strlen(cases[i].want))
			fail_msg("normalize(\"%s\"): got \"%s\" (%zu), want \"%s\"",
			    cases[i].in, buf, n, cases[i].want);
	}
	assert_int_equal(greylist_sender_normalize("user@example.com", buf, 5), 0);
}

static void
test_keys(void **state)
{
	static const struct {
		const char *addr;
		unsigned v4, v6;
		const char *net;
		const char *triplet;
	} cases[] = {
		{"192.0.2.77", 24, 64, "192.0.2.0", "192.0.2.0/a@x.org/bob@y.example"},
		{"192.0.2.77", 16, 64, "192.0.0.0", "192.0.0.0/a@x.org/bob@y.example"},
		{"192.0.2.77", 32, 64, "192.0.2.77", "192.0.2.77/a@x.org/bob@y.example"},
		{"::ffff:192.0.2.77", 24, 64, "192.0.2.0", "192.0.2.0/a@x.org/bob@y.example"},
		{"2001:db8:1:2:3:4:5:6", 24, 64, "2001:db8:1:2::", "2001:db8:1:2::/a@x.org/bob@y.example"},
		{"IPv6:2001:db8:1:2:3:4:5:6", 24, 48, "2001:db8:1::", "2001:db8:1::/a@x.org/bob@y.example"},
		{"2001:db8:1:2:3:4:5:6", 24, 128, "2001:db8:1:2:3:4:5:6",
		    "2001:db8:1:2:3:4:5:6/a@x.org/bob@y.example"},
	};
	char	buf[GREYLIST_KEY_MAX];
	greylist_params_t p = P;
	addr_t	a;

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(addr_parse(cases[i].addr, &a), 0);
		p.ipv4_prefix = cases[i].v4;
		p.ipv6_prefix = cases[i].v6;
		greylist_net_key(&p, &a, buf, sizeof(buf));
		if (strcmp(buf, cases[i].net) != 0)
			fail_msg("net key of %s: got %s, want %s", cases[i].addr, buf, cases[i].net);
		greylist_triplet_key(&p, &a, "A+tag@X.org", "Bob@Y.Example", buf, sizeof(buf));
		if (strcmp(buf, cases[i].triplet) != 0)
			fail_msg("triplet key of %s: got %s, want %s", cases[i].addr, buf, cases[i].triplet);
	}
	assert_int_equal(addr_parse("192.0.2.77", &a), 0);
	greylist_addr_key(&a, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.77");
	greylist_triplet_key(&P, &a, "", "postmaster@y", buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.0//postmaster@y");
	/* milter arguments come with the SMTP path's brackets */
	greylist_triplet_key(&P, &a, "<>", "<Postmaster@Y>", buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.0//postmaster@y");
	greylist_triplet_key(&P, &a, "<A+b@X.org>", "<c@d>", buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.0/a@x.org/c@d");
	assert_int_equal(greylist_triplet_key(&P, &a, "a@b", "c@d", buf, 10), 0);
}

static void
test_long_addresses_fit_lmdb(void **state)
{
	char	big[1200], buf[GREYLIST_KEY_MAX];
	addr_t	a;
	size_t	n;

	(void) state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	big[600] = '@';
	assert_int_equal(addr_parse("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", &a), 0);
	n = greylist_triplet_key(&P, &a, big, big, buf, sizeof(buf));
	if (n == 0 || n > 511)
		fail_msg("long triplet key: got length %zu, want 1..511", n);
}

static void
test_damaged_times(void **state)
{
	const grey_record_t gmin = {INT64_MIN, INT64_MIN, 0, GREY_FLAG_PASSED};
	const grey_record_t gmax = {INT64_MAX, INT64_MAX, 0, 0};
	const client_record_t cmax = {INT64_MAX, INT64_MAX, INT64_MAX, 9};
	const tarpit_record_t tmin = {INT64_MIN, INT64_MIN, 1};
	greylist_facts_t f = {.triplet = &gmin, .client = &cmax, .tarpit = &tmin};
	greylist_result_t r;
	client_record_t upd;

	(void) state;
	/* absurd times (a damaged or hand-edited record) give sane verdicts */
	assert_true(greylist_grey_expired(&P, T0, &gmin));
	assert_false(greylist_grey_expired(&P, T0, &gmax));
	assert_true(greylist_tarpit_expired(&P, T0, &tmin));
	greylist_decide(&P, T0, &f, 0, &r);
	assert_int_equal(r.verdict, GREYLIST_PASS_AWL);
	f.client = NULL;
	f.triplet = &gmax;
	greylist_decide(&P, T0, &f, GREYLIST_NO_TARPIT, &r);
	assert_int_equal(r.verdict, GREYLIST_GREYLIST);
	assert_string_equal(r.reason, "new");	/* first seen in the future */
	assert_int_equal(greylist_client_pass(&P, T0, &cmax, &upd), 1);
	assert_int_equal(upd.last_pass, T0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_from_config),
		cmocka_unit_test(test_decision_table),
		cmocka_unit_test(test_greylist_timeline),
		cmocka_unit_test(test_retry_window_edges),
		cmocka_unit_test(test_retry_count_one_is_postgrey),
		cmocka_unit_test(test_clock_went_back),
		cmocka_unit_test(test_auto_whitelist),
		cmocka_unit_test(test_auto_whitelist_off_and_refresh),
		cmocka_unit_test(test_passed_triplet_refresh),
		cmocka_unit_test(test_tarpit_records),
		cmocka_unit_test(test_sender_normalize),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_long_addresses_fit_lmdb),
		cmocka_unit_test(test_damaged_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
