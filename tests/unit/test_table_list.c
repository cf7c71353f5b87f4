/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_table_list - unit tests for list: and builtin: tables and whitelists
 * DESCRIPTION
 *	Table-driven: Postgrey whitelist_clients / whitelist_recipients
 *	entries matched against names, addresses and mail addresses; the
 *	compiled-in s25r whitelist; the client/sender/recipient whitelist
 *	helpers over a configuration.
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
#include "config.h"
#include "table.h"
#include "table_test_util.h"
#include "whitelist.h"

static const table_case_t list_cases[] = {
	{"host names match themselves and their subdomains", "list",
	    "example.com\n", 0,
	    {{"example.com", "OK", 1}, {"MX.Example.COM", "OK", 1}, {"badexample.com", NULL, 0},
	     {"example.com.evil.net", NULL, 0}}},
	{".domain matches only below it", "list",
	    ".example.org\n", 0,
	    {{"example.org", NULL, 0}, {"a.example.org", "OK", 1}}},
	{"comments anywhere, white space around entries", "list",
	    "# header\n   a.example   # trailing comment\n\n\tb.example\t\n", 0,
	    {{"a.example", "OK", 2}, {"b.example", "OK", 4}}},
	{"no continuation lines (Postgrey reads lines)", "list",
	    "a.example\n  b.example\n", 0,
	    {{"b.example", "OK", 2}}},
	{"/regex/ is a caseless PCRE on the name", "list",
	    "/^mail[0-9]+\\.example\\.net$/\n", 0,
	    {{"MAIL12.example.net", "OK", 1}, {"mailx.example.net", NULL, 0}}},
	{"IPv4 addresses and 3-, 2-, 1-part prefixes", "list",
	    "192.0.2.1\n198.51.100\n172.16\n10\n", 0,
	    {{"192.0.2.1", "OK", 1}, {"192.0.2.2", NULL, 0}, {"198.51.100.77", "OK", 2},
	     {"198.51.10.1", NULL, 0}, {"172.16.9.9", "OK", 3}, {"10.200.1.1", "OK", 4}}},
	{"CIDR blocks and IPv6", "list",
	    "203.0.113.0/25\n2001:db8::/32\n2001:db8:1::1\n", 0,
	    {{"203.0.113.5", "OK", 1}, {"203.0.113.200", NULL, 0}, {"2001:db8:ffff::1", "OK", 2},
	     {"2001:db9::1", NULL, 0}}},
	{"address entries do not match names", "list",
	    "192.0.2.1\n", 0,
	    {{"192.0.2.1.example.com", NULL, 0}}},
	{"user@ matches any domain, with +extension", "list",
	    "postmaster@\nabuse@\n", 0,
	    {{"postmaster@example.com", "OK", 1}, {"Postmaster+x@example.org", "OK", 1},
	     {"abuse@a.example", "OK", 2}, {"postmasters@example.com", NULL, 0},
	     {"xpostmaster@example.com", NULL, 0}}},
	{"user@domain is exact (with +extension)", "list",
	    "info@example.com\n", 0,
	    {{"info@example.com", "OK", 1}, {"info+list@example.com", "OK", 1},
	     {"info@sub.example.com", NULL, 0}, {"info@example.com.evil", NULL, 0}}},
	{"a domain matches mail at it and below it", "list",
	    "example.net\n", 0,
	    {{"anyone@example.net", "OK", 1}, {"x@mx.example.net", "OK", 1},
	     {"x@badexample.net", NULL, 0}}},
	{"entries with white space inside are skipped", "list",
	    "two words\nok.example\n", 1,
	    {{"ok.example", "OK", 2}}},
	{"a bad regex is skipped", "list",
	    "/(/\n", 1,
	    {{"(", NULL, 0}}},
	{NULL, NULL, NULL, 0, {{NULL, NULL, 0}}},
};

/* A line too long for the reader is reported, not cut. */
static void
test_list_long_line(void **state)
{
	char	text[3000], path[256];
	int	nerr = 0;
	table_t *t;
	table_answer_t a;

	(void) state;
	memset(text, 'a', 2000);
	strcpy(text + 2000, ".example\nshort.example\n");
	table_test_write(path, sizeof(path), text);
	table_test_capture_start();
	t = table_test_open("list", path, &nerr);
	table_test_capture_stop();
	assert_int_equal(nerr, 1);
	assert_int_equal(table_lookup_key(t, "short.example", &a), 1);
	assert_int_equal(a.line, 2);
	table_free(t);
	unlink(path);
}

static void
test_list(void **state)
{
	(void) state;
	table_run_cases(list_cases);
}

/* builtin:s25r_whitelist is conf/s25r_whitelist, compiled in, without errors. */
static void
test_builtin_s25r_whitelist(void **state)
{
	static const struct {
		const char *name;
		int	want;
	} cases[] = {
		{"mail-ed1-f41.google.com", 1},
		{"mail-tyzapc01on2095.outbound.protection.outlook.com", 1},
		{"sonic301-20.consmr.mail.ne1.yahoo.com", 1},
		{"e226-55.smtp-out.us-west-2.amazonses.com", 1},
		{"a8-12.smtp-out.amazonses.com", 1},
		{"ms11p00im-qufo17281701.me.com", 1},
		{"sender4-op-o12.zoho.com", 1},
		{"m228-4.mailgun.net", 1},
		{"mx0a-00190b01.pphosted.com", 1},
		{"9.mo4.mail-out.ovh.net", 1},
		{"wrqvbjvm.outbound-mail.sendgrid.net", 1},
		{"1.2.3.4.bc.googleusercontent.com", 0},
		{"ec2-3-4-5-6.compute-1.amazonaws.com", 0},
		{"google.com.evil.example", 0},
		{"p1234-ipngn100.tokyo.ocn.ne.jp", 0},
	};
	char	why[256];
	int	nerr = 0;
	table_t *t = table_open("builtin:s25r_whitelist", &nerr, why, sizeof(why));
	table_answer_t a;

	(void) state;
	assert_non_null(t);
	assert_int_equal(nerr, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		table_query_t q = {cases[i].name, NULL, NULL};
		int	got = table_lookup(t, &q, &a);

		if (got != cases[i].want)
			fail_msg("builtin:s25r_whitelist %s: got %d, want %d", cases[i].name, got,
			    cases[i].want);
		if (got && strcmp(a.table, "builtin:s25r_whitelist") != 0)
			fail_msg("answer table: got %s, want builtin:s25r_whitelist", a.table);
	}
	table_free(t);
}

/* A configuration with one list table per whitelist parameter. */
static config_t *
whitelist_test_config(char *path, size_t size)
{
	char	spec[300];
	config_t *cfg = config_load(NULL, 1, stderr);

	assert_non_null(cfg);
	table_test_write(path, size, "postmaster@\n/^list-bounces@/\nexample.org\n"
	    "192.0.2.0/24\ngood.example\n");
	snprintf(spec, sizeof(spec), "list:%s", path);
	assert_int_equal(config_set(cfg, "client_whitelist", spec, stderr), 0);
	assert_int_equal(config_set(cfg, "sender_whitelist", spec, stderr), 0);
	assert_int_equal(config_set(cfg, "recipient_whitelist", spec, stderr), 0);
	return cfg;
}

/* Client, sender and recipient whitelists as the milter calls them. */
static void
test_whitelist_helpers(void **state)
{
	char	path[256], why[256];
	config_t *cfg = whitelist_test_config(path, sizeof(path));
	whitelist_t *w;
	table_answer_t a;
	addr_t	in, out;
	int	nerr = 0;

	(void) state;
	assert_non_null(w = whitelist_create(cfg, &nerr, why, sizeof(why)));
	assert_int_equal(nerr, 0);
	assert_int_equal(addr_parse("192.0.2.9", &in), 0);
	assert_int_equal(addr_parse("198.51.100.9", &out), 0);
	assert_int_equal(whitelist_client(w, "mx.good.example", &out, &a), 1);
	assert_int_equal(a.line, 5);
	assert_int_equal(whitelist_client(w, "mx.good.example.", &out, &a), 1);
	assert_int_equal(whitelist_client(w, "[192.0.2.9]", &in, &a), 1);
	assert_int_equal(whitelist_client(w, "unknown", &in, &a), 1);
	assert_int_equal(whitelist_client(w, NULL, &in, &a), 1);
	assert_int_equal(whitelist_client(w, "mx.other.example", &out, &a), 0);
	assert_int_equal(whitelist_sender(w, "<list-bounces@lists.example>", &a), 1);
	assert_int_equal(whitelist_sender(w, "<someone@example.org>", &a), 1);
	assert_int_equal(whitelist_sender(w, "<>", &a), 0);
	assert_int_equal(whitelist_sender(w, "", &a), 0);
	assert_int_equal(whitelist_recipient(w, "<postmaster@mydomain.example>", &a), 1);
	assert_string_equal(a.text, "OK");
	assert_int_equal(a.line, 1);
	assert_int_equal(whitelist_recipient(w, "user@mydomain.example", &a), 0);
	{
		char	longaddr[1100];

		/* cut at 1023 bytes it would end in @example.org */
		memset(longaddr, 'a', sizeof(longaddr));
		strcpy(longaddr + 1023 - strlen("@example.org"), "@example.org");
		assert_int_equal(whitelist_sender(w, longaddr, &a), 1);
		longaddr[1023] = 'X';
		longaddr[1099] = '\0';
		assert_int_equal(whitelist_sender(w, longaddr, &a), 0);
	}
	whitelist_free(w);
	/* a missing table is an error for the caller */
	assert_int_equal(config_set(cfg, "recipient_whitelist", "list:/nonexistent", stderr), 0);
	assert_null(whitelist_create(cfg, &nerr, why, sizeof(why)));
	if (strstr(why, "/nonexistent") == NULL)
		fail_msg("why: got \"%s\", want the missing file named", why);
	config_free(cfg);
	unlink(path);
}

/* A DUNNO answer stops the search without whitelisting. */
static void
test_whitelist_dunno_exception(void **state)
{
	char	path[256], spec[300], why[256];
	config_t *cfg = config_load(NULL, 1, stderr);
	whitelist_t *w;
	table_answer_t a;
	int	nerr = 0;

	(void) state;
	table_test_write(path, sizeof(path),
	    "/\\.googleusercontent\\.com$/ DUNNO\n/\\.com$/ OK\n");
	snprintf(spec, sizeof(spec), "regexp:%s", path);
	assert_int_equal(config_set(cfg, "client_whitelist", spec, stderr), 0);
	assert_non_null(w = whitelist_create(cfg, &nerr, why, sizeof(why)));
	assert_int_equal(whitelist_client(w, "1.2.3.4.bc.googleusercontent.com", NULL, &a), 0);
	assert_string_equal(a.text, "DUNNO");
	assert_int_equal(whitelist_client(w, "mx.example.com", NULL, &a), 1);
	whitelist_free(w);
	config_free(cfg);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_list_long_line),
		cmocka_unit_test(test_builtin_s25r_whitelist),
		cmocka_unit_test(test_whitelist_helpers),
		cmocka_unit_test(test_whitelist_dunno_exception),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
