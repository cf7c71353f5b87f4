/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_spf_verdict - unit test for spf_verdict.c, one row per branch
 * DESCRIPTION
 *	Each row gives the facts of one MAIL FROM (skip and whitelist
 *	answers, null sender, the HELO and MAIL FROM results, the four
 *	settings) and the verdict wanted: action, reply codes, reason word,
 *	reply text and which checks get headers. No configuration file, no
 *	DNS, no spf_t: the function under test is pure. Failures print
 *	"row N: got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "spf_verdict.h"

/* Results; NC: check not made; NUL(r): the null sender's check (HELO identity). */
enum { NO = SPF_RES_NONE, NE = SPF_RES_NEUTRAL, PA = SPF_RES_PASS, FA = SPF_RES_FAIL,
    SF = SPF_RES_SOFTFAIL, TE = SPF_RES_TEMPERROR, PE = SPF_RES_PERMERROR, NC = -1 };
#define NUL(r)		((r) + 16)
/* Settings. */
enum { HF = SPF_HELO_REJECT_FAIL, HS = SPF_HELO_REJECT_SOFTFAIL,
    HNP = SPF_HELO_REJECT_NOT_PASS, HNULL = SPF_HELO_REJECT_NULL, HNO = SPF_HELO_REJECT_NO,
    HNC = SPF_HELO_REJECT_NO_CHECK };
enum { MF = SPF_MAIL_REJECT_FAIL, MS = SPF_MAIL_REJECT_SOFTFAIL,
    MNP = SPF_MAIL_REJECT_NOT_PASS, MNO = SPF_MAIL_REJECT_NO };
enum { C = SPF_ACT_CONTINUE, R = SPF_ACT_REJECT, D = SPF_ACT_DEFER };

typedef struct {
	/* facts */
	int	skip, wl, null, helo, mail, hr, mr, perm, temp;
	const char *exp;		/* explanation of the deciding check */
	/* want */
	int	action;			/* spf_action_t */
	const char *code;		/* "550 5.7.23", or NULL */
	const char *tag;
	const char *text;		/* the reply text, or NULL: "" */
	int	hmail, hhelo;		/* headers */
} row_t;

#define TXT_HELO(r)	"SPF " r " (HELO helo.example): why"
#define TXT_MAIL(r)	"SPF " r " (MAIL FROM mail.example): why"

static const row_t rows[] = {
	/* skipped, whitelisted: no decision, no header, whatever the checks */
	{1, 0, 0, NC, NC, HF, MF, 1, 1, NULL, C, NULL, "spf_skipped", NULL, 0, 0},
	{1, 1, 0, FA, FA, HF, MF, 1, 1, NULL, C, NULL, "spf_skipped", NULL, 0, 0},
	{0, 1, 0, FA, FA, HF, MF, 1, 1, NULL, C, NULL, "spf_whitelisted", NULL, 0, 0},
	/* no check made */
	{0, 0, 0, NC, NC, HF, MF, 1, 1, NULL, C, NULL, "spf_continue", NULL, 0, 0},
	/* spf_helo_reject */
	{0, 0, 0, FA, NC, HF, MF, 0, 0, NULL, R, "550 5.7.23", "helo_fail",
	 TXT_HELO("fail"), 0, 1},
	{0, 0, 0, SF, PA, HF, MF, 0, 0, NULL, C, NULL, "spf_continue", NULL, 1, 1},
	{0, 0, 0, SF, NC, HS, MF, 0, 0, NULL, R, "550 5.7.23", "helo_softfail",
	 TXT_HELO("softfail"), 0, 1},
	{0, 0, 0, NE, NC, HNP, MF, 0, 0, NULL, R, "550 5.7.23", "helo_neutral",
	 TXT_HELO("neutral"), 0, 1},
	{0, 0, 0, NO, NC, HNP, MF, 0, 0, NULL, R, "550 5.7.23", "helo_none",
	 TXT_HELO("none"), 0, 1},
	{0, 0, 0, PA, PA, HNP, MF, 0, 0, NULL, C, NULL, "spf_continue", NULL, 1, 1},
	{0, 0, 0, TE, NC, HNP, MF, 0, 0, NULL, C, NULL, "spf_continue", NULL, 0, 1},
	{0, 0, 0, FA, PA, HNULL, MF, 0, 0, NULL, C, NULL, "spf_continue", NULL, 1, 1},
	{0, 0, 1, FA, NC, HNULL, MF, 0, 0, NULL, R, "550 5.7.23", "helo_fail",
	 TXT_HELO("fail"), 0, 1},
	{0, 0, 0, FA, FA, HNO, MNO, 0, 0, NULL, C, NULL, "spf_continue", NULL, 1, 1},
	{0, 0, 0, FA, NC, 99, MF, 0, 0, NULL, C, NULL, "spf_continue", NULL, 0, 1},
	{0, 0, 0, FA, NC, -1, MF, 0, 0, NULL, C, NULL, "spf_continue", NULL, 0, 1},
	/* spf_mail_from_reject */
	{0, 0, 0, PA, FA, HF, MF, 0, 0, NULL, R, "550 5.7.23", "mailfrom_fail",
	 TXT_MAIL("fail"), 1, 1},
	{0, 0, 0, PA, SF, HF, MF, 0, 0, NULL, C, NULL, "spf_continue", NULL, 1, 1},
	{0, 0, 0, PA, SF, HF, MS, 0, 0, NULL, R, "550 5.7.23", "mailfrom_softfail",
	 TXT_MAIL("softfail"), 1, 1},
	{0, 0, 0, PA, NE, HF, MNP, 0, 0, NULL, R, "550 5.7.23", "mailfrom_neutral",
	 TXT_MAIL("neutral"), 1, 1},
	{0, 0, 0, NC, NO, HNC, MNP, 0, 0, NULL, R, "550 5.7.23", "mailfrom_none",
	 TXT_MAIL("none"), 1, 0},
	{0, 0, 0, PA, PA, HF, MNP, 0, 0, NULL, C, NULL, "spf_continue", NULL, 1, 1},
	{0, 0, 0, PA, FA, HF, MNO, 0, 0, NULL, C, NULL, "spf_continue", NULL, 1, 1},
	{0, 0, 0, PA, FA, HF, 99, 0, 0, NULL, C, NULL, "spf_continue", NULL, 1, 1},
	/* spf_permerror_reject, spf_temperror_defer */
	{0, 0, 0, PE, PA, HF, MF, 1, 0, NULL, R, "550 5.7.24", "helo_permerror",
	 TXT_HELO("permerror"), 1, 1},
	{0, 0, 0, PE, PE, HF, MF, 0, 1, NULL, C, NULL, "spf_continue", NULL, 1, 1},
	{0, 0, 0, PA, PE, HF, MF, 1, 0, NULL, R, "550 5.7.24", "mailfrom_permerror",
	 TXT_MAIL("permerror"), 1, 1},
	{0, 0, 0, TE, NC, HF, MF, 0, 1, NULL, D, "451 4.7.24", "helo_temperror",
	 TXT_HELO("temperror"), 0, 1},
	{0, 0, 0, PA, TE, HF, MF, 0, 1, NULL, D, "451 4.7.24", "mailfrom_temperror",
	 TXT_MAIL("temperror"), 1, 1},
	{0, 0, 0, TE, TE, HF, MF, 1, 0, NULL, C, NULL, "spf_continue", NULL, 1, 1},
	/* the null sender: one HELO-identity check, one header */
	{0, 0, 1, FA, NUL(FA), HF, MNO, 0, 0, NULL, R, "550 5.7.23", "helo_fail",
	 TXT_HELO("fail"), 1, 0},
	{0, 0, 1, PA, NUL(PA), HF, MF, 0, 0, NULL, C, NULL, "spf_continue", NULL, 1, 0},
	{0, 0, 1, NC, NUL(FA), HNC, MF, 0, 0, NULL, R, "550 5.7.23", "helo_fail",
	 TXT_HELO("fail"), 1, 0},
	{0, 0, 1, NC, NUL(FA), HNC, MNO, 0, 0, NULL, C, NULL, "spf_continue", NULL, 1, 0},
	{0, 0, 0, NC, NUL(FA), HNULL, MNO, 0, 0, NULL, R, "550 5.7.23", "helo_fail",
	 TXT_HELO("fail"), 1, 0},
	{0, 0, 1, NC, NUL(FA), HNO, MF, 0, 0, NULL, C, NULL, "spf_continue", NULL, 1, 0},
	{0, 0, 1, NC, NUL(PE), HNO, MF, 1, 0, NULL, R, "550 5.7.24", "helo_permerror",
	 TXT_HELO("permerror"), 1, 0},
	/* the reply text: the explanation, printable ASCII only */
	{0, 0, 0, PA, FA, HF, MF, 0, 0, "see http://x.example/?a=%41", R, "550 5.7.23",
	 "mailfrom_fail", TXT_MAIL("fail") " - see http://x.example/?a=%41", 1, 1},
	{0, 0, 0, FA, NC, HF, MF, 0, 0, "bad\r\n250 ok\x7f\xc3\xa9", R, "550 5.7.23",
	 "helo_fail", TXT_HELO("fail") " - bad??250 ok???", 0, 1},
};

/* A check as spf_check_*() fills it; R < 0: none. */
static const spf_check_t *
check_make(spf_check_t *c, int r, spf_identity_t id, const char *exp)
{
	if (r < 0)
		return NULL;
	memset(c, 0, sizeof(*c));
	if (r >= 16) {			/* the null sender's check */
		r -= 16;
		id = SPF_ID_HELO;
		c->null_sender = 1;
	}
	c->result = (spf_res_t)r;
	c->identity = id;
	snprintf(c->domain, sizeof(c->domain), "%s",
	    id == SPF_ID_HELO ? "helo.example" : "mail.example");
	snprintf(c->reason, sizeof(c->reason), "why");
	snprintf(c->explanation, sizeof(c->explanation), "%s", exp ? exp : "");
	return c;
}

/* Compare V with row W; "" when equal, else what differs. */
static const char *
row_diff(const spf_verdict_t *v, const row_t *w, char *buf, size_t size)
{
	char	code[32];

	snprintf(code, sizeof(code), "%s %s", v->rcode ? v->rcode : "", v->xcode ? v->xcode : "");
	if ((int)v->action != w->action || (v->rcode == NULL) != (w->code == NULL)
	    || (w->code && strcmp(code, w->code) != 0) || strcmp(v->tag, w->tag) != 0
	    || strcmp(v->text, w->text ? w->text : "") != 0
	    || v->header_mail != w->hmail || v->header_helo != w->hhelo) {
		snprintf(buf, size, "got action %d \"%s\" %s \"%s\" headers %d/%d, "
		    "want action %d \"%s\" %s \"%s\" headers %d/%d", v->action,
		    v->rcode ? code : "-", v->tag, v->text, v->header_mail, v->header_helo,
		    w->action, w->code ? w->code : "-", w->tag, w->text ? w->text : "",
		    w->hmail, w->hhelo);
		return buf;
	}
	return "";
}

static void
test_table(void **state)
{
	spf_check_t helo, mail;
	spf_facts_t f;
	spf_verdict_t v;
	char	why[1024];
	size_t	i;
	int	bad = 0;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const row_t *w = &rows[i];

		f = (spf_facts_t){.skipped = w->skip, .whitelisted = w->wl,
		    .null_sender = w->null, .helo_reject = w->hr, .mail_from_reject = w->mr,
		    .permerror_reject = w->perm, .temperror_defer = w->temp};
		f.helo = check_make(&helo, w->helo, SPF_ID_HELO, w->exp);
		f.mail = check_make(&mail, w->mail, SPF_ID_MAILFROM, w->exp);
		memset(&v, 0x55, sizeof(v));	/* everything must be written */
		spf_verdict_decide(&f, &v);
		if (*row_diff(&v, w, why, sizeof(why))) {
			print_error("row %zu: %s\n", i, why);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* spf_verdict_facts() takes the four settings and nothing else. */
static void
test_facts(void **state)
{
	config_t cfg;
	spf_facts_t f;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.spf_helo_reject = SPF_HELO_REJECT_NULL;
	cfg.spf_mail_from_reject = SPF_MAIL_REJECT_NOT_PASS;
	cfg.spf_permerror_reject = 1;
	cfg.spf_temperror_defer = 1;
	memset(&f, 0x55, sizeof(f));
	spf_verdict_facts(&f, &cfg);
	assert_int_equal(f.helo_reject, SPF_HELO_REJECT_NULL);
	assert_int_equal(f.mail_from_reject, SPF_MAIL_REJECT_NOT_PASS);
	assert_int_equal(f.permerror_reject, 1);
	assert_int_equal(f.temperror_defer, 1);
	assert_int_equal(f.skipped + f.whitelisted + f.null_sender, 0);
	assert_null(f.helo);
	assert_null(f.mail);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_facts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
