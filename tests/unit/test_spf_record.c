/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_spf_record - unit tests for the strict SPF record validator
 * DESCRIPTION
 *	Table-driven: valid records of every mechanism and modifier, the
 *	malformed ones libspf2 would evaluate anyway (bad host names,
 *	macros, control bytes, duplicate modifiers, empty modifiers), the
 *	macro forms behind CVE-2023-42118, domain checks of RFC 7208 4.3,
 *	and the rewrite handed to libspf2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "spf_record.h"

static void
test_validate(void **state)
{
	static const struct {
		const char *rec;
		int	rc;
	} cases[] = {
		{"v=spf1", 0},
		{"v=spf1 -all", 0},
		{"V=SPF1 +A MX/24 ~ALL", 0},
		{"v=spf1  ip4:192.0.2.0/24   ip6:2001:db8::/32 -all ", 0},
		{"v=spf1 a:mail.example.com/24//64 mx:example.com//48 ptr ptr:example.org -all", 0},
		{"v=spf1 include:_spf.example.com exists:%{ir}.%{l1r+-}._spf.%{d} -all", 0},
		{"v=spf1 redirect=_spf.example.com", 0},
		{"v=spf1 -all exp=explain.%{d}", 0},
		{"v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all", 0},
		{"v=spf1 a:%{d}", 0},
		{"v=spf1 a:example.com.", 0},
		{"v=spf1 x=", 0},
		{"v=spf10", -1},			/* not version 1 */
		{"v=spf1 -all\x01", -1},		/* control byte */
		{"v=spf1 -all\t", -1},
		{"v=spf1 a:caf\xc3\xa9.example.com", -1},	/* non-ASCII */
		{"v=spf1 redirect=a.example.com redirect=b.example.com", -1},
		{"v=spf1 exp=a.example.com exp=b.example.com -all", -1},
		{"v=spf1 redirect=", -1},		/* empty modifier */
		{"v=spf1 exp=", -1},
		{"v=spf1 =foo", -1},
		{"v=spf1 1x=foo", -1},
		{"v=spf1 a:museum", -1},		/* no "." toplabel */
		{"v=spf1 a:example.123", -1},		/* numeric toplabel */
		{"v=spf1 a:example.com-", -1},
		{"v=spf1 a:", -1},
		{"v=spf1 include:", -1},
		{"v=spf1 include", -1},
		{"v=spf1 exists", -1},
		{"v=spf1 all:foo", -1},
		{"v=spf1 -all/24", -1},
		{"v=spf1 ip4:1.2.3.4/33", -1},
		{"v=spf1 ip4:1.2.3.4/032", -1},
		{"v=spf1 ip4:01.2.3.4", -1},
		{"v=spf1 ip4:1.2.3", -1},
		{"v=spf1 ip6:2001:db8::/129", -1},
		{"v=spf1 ip6:1.2.3.4", -1},
		{"v=spf1 a/33", -1},
		{"v=spf1 a//129", -1},
		{"v=spf1 ptr/24", -1},
		{"v=spf1 include:example.com/24", -1},
		{"v=spf1 foo:bar", -1},			/* unknown mechanism */
		{"v=spf1 +redirect=x.example.com", -1},
		{"v=spf1 a:%{x}.example.com", -1},	/* unknown macro letter */
		{"v=spf1 a:%{c}.example.com", -1},	/* c only in exp text */
		{"v=spf1 a:%{d", -1},			/* unterminated */
		{"v=spf1 a:%x.example.com", -1},
		{"v=spf1 a:%", -1},
		{"v=spf1 exists:%{l0}.example.com", -1},	/* zero parts */
		{"v=spf1 exists:%{l129}.example.com", -1},
		{"v=spf1 exists:%{l4294967297}.example.com", -1},	/* CVE-2023-42118 */
		{"v=spf1 exists:%{l99999999999r}.example.com", -1},
		{"v=spf1 exists:%{d*}.example.com", -1},	/* bad delimiter */
		{"v=spf1 a:x" SPF_CIDR0_MARK, -1},	/* reserved */
		{"v=spf1 a:x" SPF_CIDR0_MARK "-0.example.com", -1},
	};
	char	why[128];
	size_t	i;
	int	rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = 0;
		rc = spf_record_validate(cases[i].rec, strlen(cases[i].rec), why, sizeof(why));
		if (rc != cases[i].rc)
			fail_msg("\"%s\": got %d (%s), want %d", cases[i].rec, rc, why,
			    cases[i].rc);
		if (rc < 0 && why[0] == 0)
			fail_msg("\"%s\": no reason given", cases[i].rec);
	}
}

static void
test_validate_nul(void **state)
{
	static const char rec[] = "v=spf1 a:x.example.com\0 -all";
	char	why[128];

	(void)state;
	assert_int_equal(spf_record_validate(rec, sizeof(rec) - 1, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "0x00"));
}

/* A NUL byte is never a macro delimiter, letter or term start. */
static void
test_macro_nul(void **state)
{
#define NUL_CASE(s, exp, ok)	{s, sizeof(s) - 1, exp, ok}
	static const struct {
		const char *text;
		size_t	len;
		int	exp, ok;
	} cases[] = {
		NUL_CASE("%{d.}", 1, 1),
		NUL_CASE("%{d\0}", 1, 0),		/* NUL as a delimiter */
		NUL_CASE("%{dr\0}", 1, 0),
		NUL_CASE("%{d2r.\0-}", 1, 0),
		NUL_CASE("%{d\0}", 0, 0),
		NUL_CASE("%{\0}", 1, 0),		/* NUL as the letter */
		NUL_CASE("a\0b", 1, 0),
		NUL_CASE("%\0", 1, 0),
	};
	size_t	i;
	int	ok;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ok = spf_record_macro_ok(cases[i].text, cases[i].len, cases[i].exp);
		if (ok != cases[i].ok)
			fail_msg("case %zu (%zu bytes) exp=%d: got %d, want %d", i,
			    cases[i].len, cases[i].exp, ok, cases[i].ok);
	}
#undef NUL_CASE
}

static void
test_validate_long(void **state)
{
	char	rec[SPF_RECORD_MAX + 16], why[128];

	(void)state;
	memset(rec, 'a', sizeof(rec));
	memcpy(rec, "v=spf1 a:", 9);
	assert_int_equal(spf_record_validate(rec, sizeof(rec), why, sizeof(why)), -1);
}

static void
test_macro_exp(void **state)
{
	static const struct {
		const char *text;
		int	exp, ok;
	} cases[] = {
		{"Connections from %{c} not authorized.", 1, 1},
		{"%{i} is queried as %{ir}.%{v}.arpa at %{t} by %{r}", 1, 1},
		{"100%% sure %_ %-", 1, 1},
		{"bad % here", 1, 0},
		{"%{c}", 0, 0},
		{"with space", 0, 0},
		{"tab\there", 1, 0},
	};
	size_t	i;
	int	ok;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ok = spf_record_macro_ok(cases[i].text, strlen(cases[i].text), cases[i].exp);
		if (ok != cases[i].ok)
			fail_msg("\"%s\" exp=%d: got %d, want %d", cases[i].text,
			    cases[i].exp, ok, cases[i].ok);
	}
}

static void
test_domain_ok(void **state)
{
	static const struct {
		const char *d;
		int	ok;
	} cases[] = {
		{"example.com", 1},
		{"example.com.", 1},
		{"a.b.c.d.example", 1},
		{"A2345678", 0},		/* not fully qualified */
		{"", 0},
		{"[192.0.2.1]", 0},
		{"a..example.com", 0},
		{".example.com", 0},
		{"A123456789012345678901234567890123456789012345678901234567890123.example.com", 0},
		{"A12345678901234567890123456789012345678901234567890123456789012.example.com", 1},
		{"bad\nname.example.com", 0},
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (spf_record_domain_ok(cases[i].d) != cases[i].ok)
			fail_msg("\"%s\": got %d, want %d", cases[i].d,
			    !cases[i].ok, cases[i].ok);
}

static void
test_rewrite(void **state)
{
	static const struct {
		const char *in;
		int	family;
		const char *want;
	} cases[] = {
		{"v=spf1 -all", AF_INET, "v=spf1 -all"},
		{"v=spf1 foo=bar ip4:1.2.3.4 -all", AF_INET, "v=spf1 ip4:1.2.3.4 -all"},
		{"v=spf1 redirect=x.example.com ~all", AF_INET, "v=spf1 ~all"},
		{"v=spf1 ip4:1.2.3.4 redirect=x.example.com", AF_INET,
		 "v=spf1 ip4:1.2.3.4 redirect=x.example.com"},
		{"v=spf1 -ip4:1.2.3.4/0", AF_INET, "v=spf1 -ip4:0.0.0.0/1 -ip4:128.0.0.0/1"},
		{"v=spf1 ip6:::1/0", AF_INET6, "v=spf1 ip6:::/1 ip6:8000::/1"},
		{"v=spf1 a/0 -all", AF_INET, "v=spf1 a:%{d}@Z@ -all"},
		{"v=spf1 a/0 -all", AF_INET6, "v=spf1 a -all"},
		{"v=spf1 mx:e.example.com./24//0", AF_INET6,
		 "v=spf1 mx:e.example.com@Z@"},
		{"v=spf1 mx:e.example.com/24//64", AF_INET, "v=spf1 mx:e.example.com/24"},
		{"v=spf1 a//64", AF_INET6, "v=spf1 a//64"},
		{"v=spf1 ?exists:%{i}.x.example.com exp=e.example.com", AF_INET,
		 "v=spf1 ?exists:%{i}.x.example.com exp=e.example.com"},
	};
	char	out[512], want[512];
	const char *z;
	size_t	i;

	(void)state;
	assert_int_equal(strncmp(spf_record_cidr0_suffix(), SPF_CIDR0_MARK ".",
	    sizeof(SPF_CIDR0_MARK)), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* "@Z@" stands for the per-process zero-prefix suffix */
		z = strstr(cases[i].want, "@Z@");
		snprintf(want, sizeof(want), "%.*s%s%s", z ? (int)(z - cases[i].want)
		    : (int)strlen(cases[i].want), cases[i].want,
		    z ? spf_record_cidr0_suffix() : "", z ? z + 3 : "");
		assert_int_equal(spf_record_rewrite(cases[i].in, cases[i].family, out,
		    sizeof(out)), 0);
		if (strcmp(out, want) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i].in, out, want);
	}
	assert_int_equal(spf_record_rewrite("v=spf1 ip4:1.2.3.4/0", AF_INET, out, 20), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_validate_nul),
		cmocka_unit_test(test_macro_nul),
		cmocka_unit_test(test_validate_long),
		cmocka_unit_test(test_macro_exp),
		cmocka_unit_test(test_domain_ok),
		cmocka_unit_test(test_rewrite),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
