/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_spf_policy - unit tests for the SPF policy (spf_policy.c)
 * DESCRIPTION
 *	Table-driven over the pypolicyd-spf style parameters: which HELO
 *	and MAIL FROM results are rejected, permerror and temperror
 *	switches, the reply codes (550 5.7.23, 550 5.7.24, 451 4.7.24),
 *	clean reply text, skip addresses and the three whitelists, and
 *	spf_evaluate() order (HELO first, a rejecting HELO stops there).
 *	In the table, mail = -2 stands for the null sender's check (HELO
 *	identity, result fail).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "config.h"
#include "dns.h"
#include "spf.h"
#include "spf_policy.h"

typedef struct {
	config_t *cfg;
	dns_t  *dns;
	spf_t  *spf;
} fix_t;

/* A checker over an empty zone with parameters NAMES[i] = VALUES[i]. */
static void
fix_init(fix_t *f, const char *const *set)
{
	dns_opts_t opts = {.zone_mode = 1};
	char	err[256];

	assert_non_null(f->cfg = config_load(NULL, 1, stderr));
	for (; set && set[0]; set += 2)
		assert_int_equal(config_set(f->cfg, set[0], set[1], stderr), 0);
	assert_non_null(f->dns = dns_create(&opts, err, sizeof(err)));
	f->spf = spf_create_dns(f->cfg, f->dns, err, sizeof(err));
	if (f->spf == NULL)
		fail_msg("spf_create_dns: %s", err);
}

static void
fix_done(fix_t *f)
{
	spf_free(f->spf);
	dns_free(f->dns);
	config_free(f->cfg);
}

/* A check result as spf_check_*() would fill it. */
static void
check_make(spf_check_t *c, spf_identity_t id, int r, int null_sender)
{
	memset(c, 0, sizeof(*c));
	c->identity = id;
	c->result = (spf_res_t)r;
	c->null_sender = null_sender;
	strcpy(c->domain, "example.com");
	strcpy(c->client_ip, "192.0.2.1");
	strcpy(c->reason, "192.0.2.1 is not allowed to send for example.com");
}

static void
test_decide(void **state)
{
	enum { N = -1, NO = SPF_RES_NONE, NE = SPF_RES_NEUTRAL, PA = SPF_RES_PASS,
	    FA = SPF_RES_FAIL, SF = SPF_RES_SOFTFAIL, TE = SPF_RES_TEMPERROR,
	    PE = SPF_RES_PERMERROR };
	static const struct {
		const char *helo_reject, *mail_reject, *perm, *temp;
		int	helo, mail, null;
		const char *rcode, *xcode;
	} cases[] = {
		{"fail", "fail", "no", "no", PA, FA, 0, "550", "5.7.23"},
		{"fail", "fail", "no", "no", FA, PA, 0, "550", "5.7.23"},
		{"fail", "fail", "no", "no", SF, SF, 0, NULL, NULL},
		{"softfail", "fail", "no", "no", SF, PA, 0, "550", "5.7.23"},
		{"fail", "softfail", "no", "no", NO, SF, 0, "550", "5.7.23"},
		{"not_pass", "fail", "no", "no", NE, PA, 0, "550", "5.7.23"},
		{"not_pass", "fail", "no", "no", TE, PA, 0, NULL, NULL},
		{"fail", "not_pass", "no", "no", PA, NO, 0, "550", "5.7.23"},
		{"null", "fail", "no", "no", FA, PA, 0, NULL, NULL},
		{"null", "fail", "no", "no", FA, N, 1, "550", "5.7.23"},
		{"no", "no", "no", "no", FA, FA, 0, NULL, NULL},
		{"no", "fail", "no", "no", FA, N, 1, NULL, NULL},
		{"fail", "fail", "yes", "no", PE, PA, 0, "550", "5.7.24"},
		{"fail", "fail", "no", "no", PE, PE, 0, NULL, NULL},
		{"fail", "fail", "no", "yes", PA, TE, 0, "451", "4.7.24"},
		{"fail", "fail", "no", "no", PA, TE, 0, NULL, NULL},
		{"no_check", "fail", "no", "no", N, FA, 0, "550", "5.7.23"},
		{"no_check", "no", "no", "no", N, FA, 0, NULL, NULL},
		{"no_check", "fail", "no", "no", N, -2, 1, "550", "5.7.23"},
		{"no_check", "no", "no", "no", N, -2, 1, NULL, NULL},
		{"null", "no", "no", "no", N, -2, 1, "550", "5.7.23"},
	};
	spf_check_t helo, mail;
	spf_verdict_t v;
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *set[] = {"spf_helo_reject", cases[i].helo_reject,
		    "spf_mail_from_reject", cases[i].mail_reject,
		    "spf_permerror_reject", cases[i].perm,
		    "spf_temperror_defer", cases[i].temp, NULL};
		fix_t	f;

		fix_init(&f, set);
		check_make(&helo, SPF_ID_HELO, cases[i].helo, cases[i].null);
		if (cases[i].mail == -2)	/* <>: a HELO-identity fail */
			check_make(&mail, SPF_ID_HELO, SPF_RES_FAIL, 1);
		else
			check_make(&mail, SPF_ID_MAILFROM, cases[i].mail, 0);
		spf_policy_decide(f.spf, cases[i].helo == N ? NULL : &helo,
		    cases[i].mail == N ? NULL : &mail, &v);
		if ((v.rcode == NULL) != (cases[i].rcode == NULL)
		    || (v.rcode && (strcmp(v.rcode, cases[i].rcode) != 0
		    || strcmp(v.xcode, cases[i].xcode) != 0)))
			fail_msg("case %zu: got %s %s, want %s %s", i,
			    v.rcode ? v.rcode : "continue", v.xcode ? v.xcode : "",
			    cases[i].rcode ? cases[i].rcode : "continue",
			    cases[i].xcode ? cases[i].xcode : "");
		assert_int_equal(v.action, cases[i].rcode == NULL ? SPF_ACT_CONTINUE
		    : cases[i].rcode[0] == '4' ? SPF_ACT_DEFER : SPF_ACT_REJECT);
		fix_done(&f);
	}
}

static void
test_reply_text(void **state)
{
	fix_t	f;
	spf_check_t c;
	spf_verdict_t v;

	(void)state;
	fix_init(&f, NULL);
	check_make(&c, SPF_ID_MAILFROM, SPF_RES_FAIL, 0);
	strcpy(c.explanation, "see http://x.example/?a=%41\r\n250 fake");
	spf_policy_decide(f.spf, NULL, &c, &v);
	assert_int_equal(v.action, SPF_ACT_REJECT);
	assert_null(strpbrk(v.text, "\r\n\""));
	assert_non_null(strstr(v.text, "SPF fail (MAIL FROM example.com)"));
	/* '%' stays (URL escapes); the milter reply doubles it (stage_reply_set) */
	assert_non_null(strstr(v.text, "see http://x.example/?a=%41??250 fake"));
	fix_done(&f);
}

static void
test_whitelists(void **state)
{
	static const char *const set[] = {
	    "spf_whitelist", "10.0.0.0/8, [2001:db8::]/32",
	    "spf_domain_whitelist", "friend.example, .partner.example",
	    "spf_helo_whitelist", "relay.example", NULL};
	static const struct {
		const char *ip, *helo, *sender;
		int	want;
	} cases[] = {
		{"10.1.2.3", "x.example", "a@b.example", 1},
		{"2001:db8::1", "x.example", "a@b.example", 1},
		{"192.0.2.1", "relay.example", "a@b.example", 1},
		{"192.0.2.1", "RELAY.example.", "a@b.example", 1},
		{"192.0.2.1", "x.example", "a@friend.example", 1},
		{"192.0.2.1", "x.example", "a@sub.friend.example", 0},
		{"192.0.2.1", "x.example", "a@mx.partner.example", 1},
		{"192.0.2.1", "x.example", "a@partner.example", 0},
		{"192.0.2.1", "friend.example", "", 1},		/* <>: the HELO name */
		{"192.0.2.1", "x.example", "a@b.example", 0},
	};
	fix_t	f;
	addr_t	a;
	size_t	i;
	int	got;

	(void)state;
	fix_init(&f, set);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(addr_parse(cases[i].ip, &a), 0);
		got = spf_whitelisted(f.spf, &a, cases[i].helo, cases[i].sender);
		if (got != cases[i].want)
			fail_msg("%s %s %s: got %d, want %d", cases[i].ip, cases[i].helo,
			    cases[i].sender, got, cases[i].want);
	}
	fix_done(&f);
}

static void
test_evaluate(void **state)
{
	fix_t	f;
	spf_outcome_t o;
	addr_t	a;

	(void)state;
	fix_init(&f, NULL);
	dns_zone_add(f.dns, "bad.example", DNS_T_TXT, 60, "v=spf1 -all", 11, 0);
	dns_zone_add(f.dns, "good.example", DNS_T_TXT, 60, "v=spf1 +all", 11, 0);
	addr_parse("127.0.0.1", &a);
	spf_evaluate(f.spf, &a, "bad.example", "x@good.example", &o);
	assert_int_equal(o.skipped, 1);			/* spf_skip_addresses */
	assert_int_equal(o.helo_done + o.mail_done, 0);
	addr_parse("192.0.2.1", &a);
	spf_evaluate(f.spf, &a, "bad.example", "x@good.example", &o);
	assert_int_equal(o.helo_done, 1);
	assert_int_equal(o.mail_done, 0);		/* HELO fail stops there */
	assert_int_equal(o.verdict.action, SPF_ACT_REJECT);
	assert_string_equal(o.verdict.tag, "helo_fail");
	spf_evaluate(f.spf, &a, "good.example", "x@bad.example", &o);
	assert_int_equal(o.mail_done, 1);
	assert_int_equal(o.mail.result, SPF_RES_FAIL);
	assert_string_equal(o.verdict.tag, "mailfrom_fail");
	spf_evaluate(f.spf, &a, "good.example", "", &o);
	assert_int_equal(o.mail_done, 1);		/* <>: the HELO check */
	assert_int_equal(o.mail.identity, SPF_ID_HELO);
	assert_int_equal(o.mail.result, SPF_RES_PASS);
	assert_int_equal(o.verdict.action, SPF_ACT_CONTINUE);
	fix_done(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_reply_text),
		cmocka_unit_test(test_whitelists),
		cmocka_unit_test(test_evaluate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
