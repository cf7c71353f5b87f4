/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_s25r - unit tests for the S25R classifier
 * DESCRIPTION
 *	Table-driven: every built-in rule on both sides (a name whose first
 *	matching rule is N, and a near miss that is clean), rule 0 forms,
 *	then the order whitelist / rule 0 / access tables / rules, with the
 *	taRgrey negated-table idiom and cidr tables that get the address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <pthread.h>
#include "config.h"
#include "s25r.h"
#include "table_test_util.h"

typedef struct {
	const char *name;
	const char *addr;	/* NULL: none */
	int	suspicious;
	const char *reason;	/* exact, or a prefix when it ends in ':' */
} s25r_case_t;

/* Classify each case and compare verdict and reason. */
static void
s25r_run(const s25r_t *s, const s25r_case_t *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		s25r_verdict_t v;
		addr_t	a;
		const char *want = cases[i].reason;
		size_t	wlen = strlen(want);
		int	prefix = wlen > 0 && want[wlen - 1] == ':';

		if (cases[i].addr)
			assert_int_equal(addr_parse(cases[i].addr, &a), 0);
		int	got = s25r_classify(s, cases[i].name, cases[i].addr ? &a : NULL, &v);

		if (got != cases[i].suspicious || v.suspicious != got)
			fail_msg("%s: got %s (%s), want %s (%s)", cases[i].name ? cases[i].name : "NULL",
			    got ? "suspicious" : "clean", v.reason,
			    cases[i].suspicious ? "suspicious" : "clean", want);
		if (prefix ? strncmp(v.reason, want, wlen) != 0 || strchr(want, ':') == NULL
		    : strcmp(v.reason, want) != 0)
			fail_msg("%s: reason: got %s, want %s", cases[i].name ? cases[i].name : "NULL",
			    v.reason, want);
	}
}

/* A classifier over the embedded defaults plus OVERRIDES (name, value pairs). */
static s25r_t *
s25r_test_create(const char *const *overrides)
{
	config_t *cfg = config_load(NULL, 1, stderr);
	char	why[256];
	int	nerr = 0;
	s25r_t *s;

	assert_non_null(cfg);
	for (; overrides && overrides[0]; overrides += 2)
		assert_int_equal(config_set(cfg, overrides[0], overrides[1], stderr), 0);
	if ((s = s25r_create(cfg, &nerr, why, sizeof(why))) == NULL)
		fail_msg("s25r_create: %s", why);
	assert_int_equal(nerr, 0);
	config_free(cfg);
	return s;
}

/* Every built-in rule, matched and missed; whitelist off. */
static void
test_builtin_rules(void **state)
{
	static const char *const no_whitelist[] = {"s25r_whitelist", "", NULL};
	static const s25r_case_t cases[] = {
		{"[192.0.2.1]", NULL, 1, "s25r_rule_0"},
		{"[2001:db8::1]", NULL, 1, "s25r_rule_0"},
		{"unknown", NULL, 1, "s25r_rule_0"},
		{"", NULL, 1, "s25r_rule_0"},
		{NULL, "192.0.2.1", 1, "s25r_rule_0"},
		{"p2213-ipngn100101sapodori.hokkaido.ocn.ne.jp", NULL, 1, "s25r_rule_1"},
		{"a1.example.com", NULL, 0, "no_match"},
		{"softbank126012345678.bbtec.net", NULL, 1, "s25r_rule_2"},
		{"catv12345.example.ne.jp", NULL, 1, "s25r_rule_2"},
		{"mx1234.example.com", NULL, 0, "no_match"},
		{"201.example.ne.jp", NULL, 1, "s25r_rule_3"},
		{"42.red-80-39-27.staticip.rima-tde.net", NULL, 1, "s25r_rule_3"},
		{"201.example.jp", NULL, 0, "no_match"},
		{"host1.pool2-3.example.com", NULL, 1, "s25r_rule_4"},
		{"host1.pool-3.example.com", NULL, 0, "no_match"},
		{"a1.b2.example.co.jp", NULL, 1, "s25r_rule_5"},
		{"a1.b2.example.jp", NULL, 0, "no_match"},
		{"dsl-pool7.example.net", NULL, 1, "s25r_rule_6"},
		{"ADSL-Pool7.Example.NET", NULL, 1, "s25r_rule_6"},
		{"ppp-seven8.example.net", NULL, 1, "s25r_rule_6"},
		{"dslam.example.com", NULL, 0, "no_match"},
		{"mail.dsl1.example.com", NULL, 0, "no_match"},
		{"mail.example.com", NULL, 0, "no_match"},
		{"mail-ed1-f41.google.com", NULL, 1, "s25r_rule_1"},
		{"MAIL-ED1-F41.GOOGLE.COM.", NULL, 1, "s25r_rule_1"},
		/* a trailing dot would otherwise satisfy rule 5's last \. */
		{"a1.b2.example.jp.", NULL, 0, "no_match"},
	};
	s25r_t *s = s25r_test_create(no_whitelist);

	(void) state;
	s25r_run(s, cases, sizeof(cases) / sizeof(cases[0]));
	s25r_free(s);
}

/* The embedded default whitelist clears the big senders. */
static void
test_default_whitelist(void **state)
{
	static const s25r_case_t cases[] = {
		{"mail-ed1-f41.google.com", NULL, 0, "whitelist_builtin:s25r_whitelist:"},
		{"mail-tyzapc01on2095.outbound.protection.outlook.com", NULL, 0,
		    "whitelist_builtin:s25r_whitelist:"},
		{"e226-55.smtp-out.us-west-2.amazonses.com", NULL, 0, "whitelist_builtin:s25r_whitelist:"},
		{"1.2.3.4.bc.googleusercontent.com", NULL, 1, "s25r_rule_3"},
		{"[192.0.2.1]", NULL, 1, "s25r_rule_0"},
	};
	s25r_t *s = s25r_test_create(NULL);

	(void) state;
	s25r_run(s, cases, sizeof(cases) / sizeof(cases[0]));
	s25r_free(s);
}

/* Access tables decide before rules 1-6, after the whitelist and rule 0. */
static void
test_access_tables(void **state)
{
	char	re[256], cidr[256], wl[256], v1[600], v2[300];
	const char *ov[] = {"s25r_client_access", v1, "s25r_whitelist", v2, NULL};
	s25r_t *s;

	(void) state;
	table_test_write(re, sizeof(re),
	    "/^mail[0-9]+\\.example\\.jp$/ OK\n"
	    "/\\.dyn\\.example\\.net$/ WARN dynamic\n"
	    "/^static1-2\\./ permit\n"
	    "!/(^unknown$)|(^[^.]*[0-9][^0-9.]+[0-9].*\\.)|(^[^.]*[0-9]{5})/ OK\n");
	table_test_write(cidr, sizeof(cidr), "192.0.2.0/24 REJECT no\n198.51.100.0/24 OK\n");
	table_test_write(wl, sizeof(wl), "/^mail2\\./ DUNNO\n/example\\.jp$/ OK\n");
	snprintf(v1, sizeof(v1), "cidr:%s regexp:%s", cidr, re);
	snprintf(v2, sizeof(v2), "regexp:%s", wl);
	s = s25r_test_create(ov);
	const s25r_case_t cases[] = {
		/* whitelist OK wins; its DUNNO falls through to the access tables */
		{"a1-2-3.example.jp", NULL, 0, "whitelist_regexp:"},
		{"mail2.example.jp", NULL, 0, "regexp:"},
		/* rule 0 before the negated catch-all: [IP] is not "not S25R" */
		{"[203.0.113.9]", "203.0.113.9", 1, "s25r_rule_0"},
		/* cidr tables get the address only */
		{"host.example.com", "192.0.2.7", 1, "cidr:"},
		{"p1-2.example.com", "198.51.100.7", 0, "cidr:"},
		/* regexp answers: WARN is suspicious, permit is clean */
		{"h.dyn.example.net", "203.0.113.1", 1, "regexp:"},
		{"static1-2.example.com", NULL, 0, "regexp:"},
		/* the negated catch-all answers OK for names that are not S25R */
		{"mx.example.com", NULL, 0, "regexp:"},
		/* an S25R name falls through the table to the rules */
		{"p1-2.example.com", NULL, 1, "s25r_rule_1"},
	};
	s25r_run(s, cases, sizeof(cases) / sizeof(cases[0]));
	s25r_free(s);
	unlink(re);
	unlink(cidr);
	unlink(wl);
}

/* With the built-in rules off, tables alone decide, [IP] included. */
static void
test_builtin_off(void **state)
{
	char	re[256], v[300];
	const char *ov[] = {"s25r_builtin_rules", "no", "s25r_client_access", v, NULL};
	s25r_t *s;

	(void) state;
	table_test_write(re, sizeof(re), "/^\\[/ DUNNO no name\n");
	snprintf(v, sizeof(v), "regexp:%s", re);
	s = s25r_test_create(ov);
	const s25r_case_t cases[] = {
		{"[192.0.2.1]", NULL, 1, "regexp:"},
		{"p1-2.example.com", NULL, 0, "no_match"},
	};
	s25r_run(s, cases, sizeof(cases) / sizeof(cases[0]));
	s25r_free(s);
	unlink(re);
}

/* A missing table makes s25r_create fail with the reason. */
static void
test_create_errors(void **state)
{
	config_t *cfg = config_load(NULL, 1, stderr);
	char	why[256];
	int	nerr = 0;

	(void) state;
	assert_int_equal(config_set(cfg, "s25r_client_access", "regexp:/nonexistent/x", stderr), 0);
	assert_null(s25r_create(cfg, &nerr, why, sizeof(why)));
	if (strstr(why, "/nonexistent/x") == NULL)
		fail_msg("why: got \"%s\", want the file named", why);
	config_free(cfg);
}

typedef struct {
	const s25r_t *s;
	int	mismatches;
} s25r_thread_arg_t;

static const char *const thread_names[] = {
	"p2213-ipngn100101sapodori.hokkaido.ocn.ne.jp", "mail.example.com",
	"softbank126012345678.bbtec.net", "[192.0.2.1]", "mail-ed1-f41.google.com",
	"h.dyn.example.net", "host1.pool2-3.example.com", "mx.example.com",
};

/* Classify the same names many times; count answers that differ from rule. */
static void *
s25r_thread(void *p)
{
	s25r_thread_arg_t *arg = p;
	s25r_verdict_t want[8], v;

	for (int i = 0; i < 8; i++)
		s25r_classify(arg->s, thread_names[i], NULL, &want[i]);
	for (int n = 0; n < 20000; n++) {
		int	i = n % 8;

		s25r_classify(arg->s, thread_names[i], NULL, &v);
		if (v.suspicious != want[i].suspicious || strcmp(v.reason, want[i].reason) != 0)
			arg->mismatches++;
	}
	return NULL;
}

/* Concurrent readers of one classifier agree with each other. */
static void
test_threads(void **state)
{
	char	re[256], v[300];
	const char *ov[] = {"s25r_client_access", v, NULL};
	pthread_t tid[4];
	s25r_thread_arg_t args[4];
	s25r_t *s;

	(void) state;
	table_test_write(re, sizeof(re), "/\\.dyn\\.(example)\\.net$/ WARN $1\n/^mx\\./ OK\n");
	snprintf(v, sizeof(v), "pcre:%s", re);
	s = s25r_test_create(ov);
	for (int i = 0; i < 4; i++) {
		args[i].s = s;
		args[i].mismatches = 0;
		assert_int_equal(pthread_create(&tid[i], NULL, s25r_thread, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		if (args[i].mismatches)
			fail_msg("thread %d: got %d differing verdicts, want 0", i, args[i].mismatches);
	}
	s25r_free(s);
	unlink(re);
}

static void
test_helpers(void **state)
{
	(void) state;
	assert_true(s25r_answer_is_ok("OK"));
	assert_true(s25r_answer_is_ok("ok whitelisted"));
	assert_true(s25r_answer_is_ok("PERMIT"));
	assert_false(s25r_answer_is_ok("OKAY"));
	assert_false(s25r_answer_is_ok("DUNNO"));
	assert_false(s25r_answer_is_ok("450 4.7.1 go away"));
	assert_true(s25r_name_unknown("[10.0.0.1]"));
	assert_false(s25r_name_unknown("[bracket.example"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_rules),
		cmocka_unit_test(test_default_whitelist),
		cmocka_unit_test(test_access_tables),
		cmocka_unit_test(test_builtin_off),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
