/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_table - unit tests for the regexp:, pcre:, cidr: table types
 * DESCRIPTION
 *	Table-driven: each case writes a table file, opens it, checks the
 *	number of bad lines, then looks keys up as postmap -q would. Every
 *	Postfix feature has a case where a naive reading gives another
 *	answer (continuation white space, negation, if/endif, flags, $N).
 *	list: and builtin: tables are in test_table_list.c. A table with
 *	more rules and nested IFs than the first allocation keeps them all.
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
#include "log.h"
#include "table.h"
#include "table_test_util.h"

static const table_case_t regexp_cases[] = {
	{"continuation keeps its leading white space", "regexp",
	    "/^a\n b$/ R\n", 0,
	    {{"a b", "R", 1}, {"ab", NULL, 0}}},
	{"comments and blank lines inside a continuation", "regexp",
	    "/^a$/\n# comment\n\n   RESULT\n/^b$/ B\n", 0,
	    {{"a", "RESULT", 1}, {"b", "B", 5}}},
	{"negated pattern answers for what does not match", "regexp",
	    "!/^x/ NOTX\n", 0,
	    {{"y", "NOTX", 1}, {"x1", NULL, 0}}},
	{"double negation is positive", "regexp",
	    "!!/^x/ X\n", 0,
	    {{"x1", "X", 1}, {"y", NULL, 0}}},
	{"second pattern must not match", "regexp",
	    "/^mail/!/^mail\\.example/ M\n", 0,
	    {{"mail1.foo", "M", 1}, {"mail.example.com", NULL, 0}}},
	{"if/endif guards a block", "regexp",
	    "if /\\.example\\.com$/\n/^mx/ EXMX\nendif\n/^mx/ OTHERMX\n", 0,
	    {{"mx.example.com", "EXMX", 2}, {"mx.other.net", "OTHERMX", 4}}},
	{"if ! and nesting", "regexp",
	    "IF !/^a/\nif /b$/\n/./ NOTA_B\nendif\nENDIF\n/./ ANY\n", 0,
	    {{"xb", "NOTA_B", 3}, {"ab", "ANY", 6}, {"xc", "ANY", 6}}},
	{"if without endif ends the search when it does not match", "regexp",
	    "if /^a/\n/x/ AX\n/./ ANY\n", 1,
	    {{"ax", "AX", 2}, {"bx", NULL, 0}}},
	{"endif without if is skipped", "regexp",
	    "endif\n/./ ANY\n", 1,
	    {{"q", "ANY", 2}}},
	{"case-insensitive by default, i turns it off", "regexp",
	    "/^abc$/ A\n/^def$/i D\n", 0,
	    {{"ABC", "A", 1}, {"DEF", NULL, 0}, {"def", "D", 2}}},
	{"x turns extended syntax off (basic: + is literal)", "regexp",
	    "/^a+$/x B\n", 0,
	    {{"a+", "B", 1}, {"aaa", NULL, 0}}},
	{"m lets ^ match after a newline", "regexp",
	    "/^b/m MB\n/^c/ C\n", 0,
	    {{"a\nb", "MB", 1}, {"a\nc", NULL, 0}, {"c", "C", 2}}},
	{"$N, ${N}, $(N) and $$ in results", "regexp",
	    "/^([a-z]+)-([0-9]+)\\./ host=$1 num=${2} $(1)$$\n", 0,
	    {{"abc-12.x", "host=abc num=12 abc$", 1}, {"ABC-3.y", "host=ABC num=3 ABC$", 1}}},
	{"unset and empty groups expand to nothing", "regexp",
	    "/^(a)|(b)(c*)/ [$1][$2][$3]\n", 0,
	    {{"b", "[][b][]", 1}, {"a", "[a][][]", 1}}},
	{"$N in a negated rule, out of range, bad syntax are skipped", "regexp",
	    "!/^(a)/ $1\n/^(b)/ $2\n/^c/ $x\n/^d/ ${1\n/./ LAST\n", 4,
	    {{"z", "LAST", 5}, {"b", "LAST", 5}, {"c", "LAST", 5}}},
	{"unknown flag, missing delimiter, bad pattern, junk are skipped", "regexp",
	    "/^a/q A\n/^b B\n/(/ C\nfoo bar\n/./ LAST\n", 4,
	    {{"a", "LAST", 5}, {"b", "LAST", 5}}},
	{"missing result is the empty string", "regexp",
	    "/^e/\n", 1,
	    {{"e", "", 1}}},
	{"other delimiters and escaped delimiters", "regexp",
	    "|^a/b|  AB\n/^c\\/d/ CD\n", 0,
	    {{"a/b", "AB", 1}, {"c/d", "CD", 2}}},
	{"a logical line may not start with white space", "regexp",
	    "# top\n  /^a/ A\n/^b/ B\n", 1,
	    {{"a", NULL, 0}, {"b", "B", 3}}},
	{"keys that are not UTF-8 get no answer (smtputf8_enable = yes)", "regexp",
	    "/./ ANY\n", 0,
	    {{"\xc3\xa9", "ANY", 1}, {"\xff", NULL, 0}, {"\xc0\xaf", NULL, 0},
	     {"\xed\xa0\x80", NULL, 0}, {"\xe2\x82", NULL, 0}, {"\xf0\x9f\x98\x80", "ANY", 1}}},
	{"first match wins, trailing white space of results trimmed", "regexp",
	    "/a/ FIRST  \t\n/a/ SECOND\n", 0,
	    {{"a", "FIRST", 1}}},
	{NULL, NULL, NULL, 0, {{NULL, NULL, 0}}},
};

static const table_case_t pcre_cases[] = {
	{"caseless and dotall by default", "pcre",
	    "/^a.b$/ AB\n", 0,
	    {{"A\nB", "AB", 1}, {"a-b", "AB", 1}}},
	{"s turns dotall off, i turns caseless off", "pcre",
	    "/^a.b$/s S\n/^c$/i C\n", 0,
	    {{"a\nb", NULL, 0}, {"axb", "S", 1}, {"C", NULL, 0}, {"c", "C", 2}}},
	{"U makes quantifiers lazy", "pcre",
	    "/^(a+)/U $1\n", 0,
	    {{"aaa", "a", 1}}},
	{"A anchors, x allows comments", "pcre",
	    "/b/A ANCH\n/ c  d /x CD\n", 0,
	    {{"ab", NULL, 0}, {"ba", "ANCH", 1}, {"cd", "CD", 2}}},
	{"Perl syntax: lookahead", "pcre",
	    "/^(?!mail)[a-z]+[0-9]+\\./ DYN\n", 0,
	    {{"host12.example", "DYN", 1}, {"mail12.example", NULL, 0}}},
	{"no second pattern in pcre tables", "pcre",
	    "/^a/!/^ab/ A\n/./ LAST\n", 1,
	    {{"ac", "LAST", 2}}},
	{"X is obsolete: warned, ignored", "pcre",
	    "/^a/X A\n", 1,
	    {{"a", "A", 1}}},
	{"$N and if/endif as in regexp tables", "pcre",
	    "if !/\\.jp$/\n/^(\\w+)\\./ OTHER $1\nendif\n/^(\\w+)\\./ JP $1\n", 0,
	    {{"host.example.jp", "JP host", 4}, {"host.example.com", "OTHER host", 2}}},
	{"$N beyond the groups is skipped", "pcre",
	    "/^(a)/ $2\n", 1,
	    {{"a", NULL, 0}}},
	{NULL, NULL, NULL, 0, {{NULL, NULL, 0}}},
};

static const table_case_t cidr_cases[] = {
	{"first match, IPv4 and IPv6", "cidr",
	    "192.168.0.0/16 A\n192.168.1.0/24 B\n2001:db8::/32 V6\n", 0,
	    {{"192.168.1.1", "A", 1}, {"2001:db8::5", "V6", 3}, {"10.0.0.1", NULL, 0}}},
	{"negation never matches the other family", "cidr",
	    "!10.0.0.0/8 NOT10\n", 0,
	    {{"192.0.2.1", "NOT10", 1}, {"10.1.2.3", NULL, 0}, {"2001:db8::1", NULL, 0}}},
	{"if of the other family skips its block", "cidr",
	    "if !2001:db8::/32\n::/0 V6\nendif\n0.0.0.0/0 ALL4\n", 0,
	    {{"2002::1", "V6", 2}, {"192.0.2.1", "ALL4", 4}, {"2001:db8::1", NULL, 0}}},
	{"brackets, spaces after !, result with spaces", "cidr",
	    "[2001:db8::1] C\n[2001:db8::/64] D\n! 1.2.3.4 not  one\n", 0,
	    {{"2001:db8::1", "C", 1}, {"2001:db8::2", "D", 2}, {"5.6.7.8", "not  one", 3}}},
	{"keys are addresses only: no brackets, no leading zeros", "cidr",
	    "0.0.0.0/0 ALL\n", 0,
	    {{"[1.2.3.4]", NULL, 0}, {"1.2.3.04", NULL, 0}, {"host.example", NULL, 0},
	     {"::ffff:1.2.3.4", NULL, 0}, {"1.2.3.4", "ALL", 1}}},
	{"bad patterns are skipped", "cidr",
	    "1.2.7.1/24 HOSTBITS\n1.2.3.4/33 LONG\n1.2.3.5/ EMPTY\n010.1.1.1 OCTAL\n1.2.3.7\n"
	    "endif\nif 1.2.3.0/24 junk\n0.0.0.0/0 LAST\n", 7,
	    {{"1.2.7.1", "LAST", 8}, {"1.2.3.5", "LAST", 8}, {"10.1.1.1", "LAST", 8}}},
	{"mask with leading zeros, value after a space-separated /", "cidr",
	    "1.2.3.0/024 A\n1.2.9.0 /24 G\n", 0,
	    {{"1.2.3.9", "A", 1}, {"1.2.9.0", "/24 G", 2}}},
	{NULL, NULL, NULL, 0, {{NULL, NULL, 0}}},
};

static void
test_regexp(void **state)
{
	(void) state;
	table_run_cases(regexp_cases);
}

static void
test_pcre(void **state)
{
	(void) state;
	table_run_cases(pcre_cases);
}

static void
test_cidr(void **state)
{
	(void) state;
	table_run_cases(cidr_cases);
}

/* More rules (and nested IFs) than the first allocation: every rule kept. */
static void
test_many_rules(void **state)
{
	static const char *const types[] = {"regexp", "pcre", "cidr"};
	char	path[256], text[8192], want[16];
	size_t	used;
	table_answer_t a;
	table_t *t;
	int	nerr;

	(void) state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int	cidr = strcmp(types[i], "cidr") == 0;

		used = 0;
		for (int d = 0; !cidr && d < 40; d++)	/* 40 nested IFs */
			used += (size_t) snprintf(text + used, sizeof(text) - used, "if /./\n");
		for (int n = 0; n < 100; n++)
			used += (size_t) snprintf(text + used, sizeof(text) - used,
			    cidr ? "10.0.%d.0/24 R%d\n" : "/^k%d$/ R%d\n", n, n);
		for (int d = 0; !cidr && d < 40; d++)
			used += (size_t) snprintf(text + used, sizeof(text) - used, "endif\n");
		table_test_write(path, sizeof(path), text);
		nerr = 0;
		t = table_test_open(types[i], path, &nerr);
		assert_non_null(t);
		assert_int_equal(nerr, 0);
		for (int n = 0; n < 100; n += 33) {
			char	key[32];

			memset(&a, 0, sizeof(a));
			snprintf(key, sizeof(key), cidr ? "10.0.%d.7" : "k%d", n);
			snprintf(want, sizeof(want), "R%d", n);
			if (table_lookup_key(t, key, &a) != 1 || strcmp(a.text, want) != 0)
				fail_msg("%s %s: got %s, want %s", types[i], key, a.text, want);
		}
		table_free(t);
		unlink(path);
	}
}

/* Bad lines are logged as FILE:LINE: reason. */
static void
test_warning_names_file_and_line(void **state)
{
	char	path[256], want[300];
	int	nerr = 0;
	table_t *t;

	(void) state;
	table_test_write(path, sizeof(path), "/^a/ A\n/^b\n");
	snprintf(want, sizeof(want), "%s:2: no closing delimiter", path);
	table_test_capture_start();
	t = table_test_open("regexp", path, &nerr);
	table_test_capture_stop();
	assert_int_equal(nerr, 1);
	if (strstr(table_test_captured(), want) == NULL)
		fail_msg("log: got \"%s\", want a line with \"%s\"", table_test_captured(), want);
	table_free(t);
	unlink(path);
}

/* A missing file or an unknown type is an error for the caller. */
static void
test_open_errors(void **state)
{
	char	why[256];
	int	nerr = 0;

	(void) state;
	assert_null(table_open("regexp:/nonexistent/table", &nerr, why, sizeof(why)));
	if (strstr(why, "No such file") == NULL)
		fail_msg("why: got \"%s\", want \"No such file\"", why);
	assert_null(table_open("hash:/etc/postfix/access", &nerr, why, sizeof(why)));
	if (strstr(why, "unsupported table type") == NULL)
		fail_msg("why: got \"%s\", want \"unsupported table type\"", why);
	assert_null(table_open("noprefix", &nerr, why, sizeof(why)));
	assert_null(table_open("builtin:nosuch", &nerr, why, sizeof(why)));
	assert_int_equal(nerr, 0);
}

/* A table list: first answer wins, and the answer names table and line. */
static void
test_tablelist(void **state)
{
	char	p1[256], p2[256], spec[300];
	strlist_t specs = {0};
	tablelist_t *l;
	table_answer_t a;
	table_query_t q = {"mail-ed1-f41.google.com", NULL, NULL};
	char	why[256];
	int	nerr = 0;

	(void) state;
	table_test_write(p1, sizeof(p1), "# nothing for google\n/^x/ X\n");
	table_test_write(p2, sizeof(p2), "\n/google/ FROM2\n/./ LATER\n");
	snprintf(spec, sizeof(spec), "regexp:%s", p1);
	strlist_add(&specs, spec, strlen(spec));
	snprintf(spec, sizeof(spec), "pcre:%s", p2);
	strlist_add(&specs, spec, strlen(spec));
	l = tablelist_open(&specs, &nerr, why, sizeof(why));
	assert_non_null(l);
	assert_int_equal(tablelist_count(l), 2);
	assert_int_equal(tablelist_lookup(l, &q, &a), 1);
	assert_string_equal(a.text, "FROM2");
	assert_string_equal(a.table, spec);
	assert_int_equal(a.line, 2);
	q.name = NULL;
	assert_int_equal(tablelist_lookup(l, &q, &a), 0);
	assert_int_equal(tablelist_lookup(NULL, &q, &a), 0);
	tablelist_free(l);
	/* one missing table fails the whole list */
	strlist_add(&specs, "cidr:/nonexistent", 17);
	assert_null(tablelist_open(&specs, &nerr, why, sizeof(why)));
	strlist_clear(&specs);
	unlink(p1);
	unlink(p2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regexp),
		cmocka_unit_test(test_pcre),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_many_rules),
		cmocka_unit_test(test_warning_names_file_and_line),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_tablelist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
