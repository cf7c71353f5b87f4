/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_verdict - what to do with SPF results (pypolicyd-spf semantics)
 * DESCRIPTION
 *	See spf_verdict.h. Each reject setting is a set of results, written
 *	once as data below; the parameter words mirror pypolicyd-spf's
 *	HELO_reject, Mail_From_reject, PermError_reject and TempError_Defer.
 *	It lives in src/spf, not src/policy, because spf_evaluate()
 *	(spf_policy.c), which runs the checks between two of its calls,
 *	is a service that may not include the policy layer.
 * DIAGNOSTICS
 *	None: a pure function. An unknown setting rejects nothing.
 */
#include <stdio.h>
#include <string.h>
#include "spf_int.h"
#include "spf_verdict.h"
#include "text.h"
#include "words.h"

#define RES(r)		(1u << (r))
#define REJ_FAIL	RES(SPF_RES_FAIL)
#define REJ_SOFTFAIL	(REJ_FAIL | RES(SPF_RES_SOFTFAIL))
#define REJ_NOT_PASS	(REJ_SOFTFAIL | RES(SPF_RES_NEUTRAL) | RES(SPF_RES_NONE))

/* The results each setting rejects; "null" only for a null sender. */
static const unsigned helo_rejects[] = {
	[SPF_HELO_REJECT_FAIL] = REJ_FAIL, [SPF_HELO_REJECT_SOFTFAIL] = REJ_SOFTFAIL,
	[SPF_HELO_REJECT_NOT_PASS] = REJ_NOT_PASS, [SPF_HELO_REJECT_NULL] = REJ_FAIL,
	[SPF_HELO_REJECT_NO] = 0, [SPF_HELO_REJECT_NO_CHECK] = 0};
static const unsigned mail_rejects[] = {
	[SPF_MAIL_REJECT_FAIL] = REJ_FAIL, [SPF_MAIL_REJECT_SOFTFAIL] = REJ_SOFTFAIL,
	[SPF_MAIL_REJECT_NOT_PASS] = REJ_NOT_PASS, [SPF_MAIL_REJECT_NO] = 0};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Does the HELO setting MODE reject R (NULL_SENDER: of MAIL FROM:<>)? */
static int
verdict_helo_rejects(int mode, spf_res_t r, int null_sender)
{
	if ((unsigned)mode >= NELEM(helo_rejects))
		return 0;
	if (mode == SPF_HELO_REJECT_NULL && !null_sender)
		return 0;
	return (helo_rejects[mode] & RES(r)) != 0;
}

/* Does the MAIL FROM setting MODE reject R? */
static int
verdict_mail_rejects(int mode, spf_res_t r)
{
	return (unsigned)mode < NELEM(mail_rejects) && (mail_rejects[mode] & RES(r)) != 0;
}

/* Fill V for check C (a result that decides: none to permerror). */
static void
verdict_set(spf_verdict_t *v, spf_action_t a, const char *rcode, const char *xcode,
    const spf_check_t *c)
{
	static const char *const tags[2][7] = {
	    {W_HELO_NONE, W_HELO_NEUTRAL, W_HELO_PASS, W_HELO_FAIL,
	     W_HELO_SOFTFAIL, W_HELO_TEMPERROR, W_HELO_PERMERROR},
	    {W_MAILFROM_NONE, W_MAILFROM_NEUTRAL, W_MAILFROM_PASS, W_MAILFROM_FAIL,
	     W_MAILFROM_SOFTFAIL, W_MAILFROM_TEMPERROR, W_MAILFROM_PERMERROR}};
	char	buf[SPF_REPLY_MAX + SPF_REASON_MAX + DNS_NAME_MAX + SPF_EXP_MAX];

	v->action = a;
	v->rcode = rcode;
	v->xcode = xcode;
	v->tag = tags[c->identity == SPF_ID_MAILFROM][c->result];
	snprintf(buf, sizeof(buf), "SPF %s (%s %s): %s%s%.120s",
	    spf_result_name(c->result), c->identity == SPF_ID_HELO ? "HELO" : "MAIL FROM",
	    c->domain, c->reason, c->explanation[0] ? " - " : "", c->explanation);
	text_clean(TEXT_PRINTABLE, v->text, sizeof(v->text), buf);
}

/* Decide on one check C whose result the setting REJECTS or not; 1 when decided. */
static int
verdict_one(const spf_facts_t *f, const spf_check_t *c, int rejects, spf_verdict_t *v)
{
	if (rejects) {
		verdict_set(v, SPF_ACT_REJECT, "550", "5.7.23", c);
		return 1;
	}
	if (c->result == SPF_RES_PERMERROR && f->permerror_reject) {
		verdict_set(v, SPF_ACT_REJECT, "550", "5.7.24", c);
		return 1;
	}
	if (c->result == SPF_RES_TEMPERROR && f->temperror_defer) {
		verdict_set(v, SPF_ACT_DEFER, "451", "4.7.24", c);
		return 1;
	}
	return 0;
}

void
spf_verdict_facts(spf_facts_t *f, const config_t *cfg)
{
	memset(f, 0, sizeof(*f));
	f->helo_reject = cfg->spf_helo_reject;
	f->mail_from_reject = cfg->spf_mail_from_reject;
	f->permerror_reject = cfg->spf_permerror_reject;
	f->temperror_defer = cfg->spf_temperror_defer;
}

void
spf_verdict_headers(const spf_facts_t *f, int *mail, int *helo)
{
	*mail = *helo = 0;
	if (f->skipped || f->whitelisted)
		return;
	*mail = f->mail != NULL;
	/* <>: one check, the HELO identity's, under the MAIL FROM name */
	*helo = f->helo != NULL && !(f->mail && f->mail->identity == SPF_ID_HELO);
}

void
spf_verdict_decide(const spf_facts_t *f, spf_verdict_t *v)
{
	const spf_check_t *mail = f->mail;

	memset(v, 0, sizeof(*v));
	v->action = SPF_ACT_CONTINUE;
	spf_verdict_headers(f, &v->header_mail, &v->header_helo);
	if (f->skipped || f->whitelisted) {
		v->tag = f->skipped ? W_SPF_SKIPPED : W_SPF_WHITELISTED;
		return;
	}
	v->tag = W_SPF_CONTINUE;
	if (f->helo && verdict_one(f, f->helo, verdict_helo_rejects(f->helo_reject,
	    f->helo->result, f->null_sender), v))
		return;
	if (mail == NULL)
		return;
	/* <> is checked with the HELO identity: the HELO setting applies,
	 * unless HELO checks are off, then the MAIL FROM setting does. */
	if (mail->identity == SPF_ID_HELO && f->helo_reject != SPF_HELO_REJECT_NO_CHECK)
		(void)verdict_one(f, mail, verdict_helo_rejects(f->helo_reject,
		    mail->result, 1), v);
	else
		(void)verdict_one(f, mail, verdict_mail_rejects(f->mail_from_reject,
		    mail->result), v);
}
