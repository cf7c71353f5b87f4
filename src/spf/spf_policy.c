/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_policy - what to do with SPF results (pypolicyd-spf semantics)
 * DESCRIPTION
 *	See spf_policy.h. The parameter words mirror pypolicyd-spf's
 *	HELO_reject, Mail_From_reject, PermError_reject, TempError_Defer,
 *	skip_addresses and Whitelist settings.
 * DIAGNOSTICS
 *	spf_policy_setup() names a bad network in ERR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "spf_int.h"
#include "spf_policy.h"
#include "words.h"

int
spf_policy_setup(spf_t *spf, char *err, size_t len)
{
	const config_t *cfg = spf->cfg;
	char	why[256];
	size_t	i;

	for (i = 0; i < cfg->spf_whitelist.n; i++)
		if (strncmp(cfg->spf_whitelist.items[i], "cidr:", 5) == 0) {
			snprintf(err, len, "spf_whitelist: cidr: tables are not "
			    "supported yet: %s", cfg->spf_whitelist.items[i]);
			return -1;
		}
	if (netlist_parse(&cfg->spf_skip_addresses, &spf->skip, &spf->nskip,
	    why, sizeof(why)) < 0) {
		snprintf(err, len, "spf_skip_addresses: %s", why);
		return -1;
	}
	if (netlist_parse(&cfg->spf_whitelist, &spf->whitelist, &spf->nwhitelist,
	    why, sizeof(why)) < 0) {
		snprintf(err, len, "spf_whitelist: %s", why);
		return -1;
	}
	return 0;
}

int
spf_skip_client(const spf_t *spf, const addr_t *client)
{
	return netlist_contains(spf->skip, spf->nskip, client);
}

/* NAME matches an entry of L: equal, or under a ".domain" entry. */
static int
name_listed(const strlist_t *l, const char *name)
{
	size_t	i, nl = strlen(name), el;
	const char *e;

	if (nl && name[nl - 1] == '.')
		nl--;
	for (i = 0; i < l->n; i++) {
		e = l->items[i];
		el = strlen(e);
		if (e[0] == '.' && nl > el && strncasecmp(name + nl - el, e, el) == 0)
			return 1;
		if (el == nl && strncasecmp(name, e, nl) == 0)
			return 1;
	}
	return 0;
}

int
spf_whitelisted(const spf_t *spf, const addr_t *client, const char *helo,
    const char *sender)
{
	const char *at = sender ? strrchr(sender, '@') : NULL;
	const char *domain = at ? at + 1 : (sender && *sender ? sender : helo);

	if (netlist_contains(spf->whitelist, spf->nwhitelist, client))
		return 1;
	if (helo && name_listed(&spf->cfg->spf_helo_whitelist, helo))
		return 1;
	return domain && name_listed(&spf->cfg->spf_domain_whitelist, domain);
}

/* Does the HELO policy MODE reject result R? */
static int
helo_rejects(int mode, spf_res_t r, int null_sender)
{
	switch (mode) {
	case SPF_HELO_REJECT_FAIL:
		return r == SPF_RES_FAIL;
	case SPF_HELO_REJECT_SOFTFAIL:
		return r == SPF_RES_FAIL || r == SPF_RES_SOFTFAIL;
	case SPF_HELO_REJECT_NOT_PASS:
		return r == SPF_RES_FAIL || r == SPF_RES_SOFTFAIL
		    || r == SPF_RES_NEUTRAL || r == SPF_RES_NONE;
	case SPF_HELO_REJECT_NULL:
		return r == SPF_RES_FAIL && null_sender;
	default:
		return 0;
	}
}

/* Does the MAIL FROM policy MODE reject result R? */
static int
mail_rejects(int mode, spf_res_t r)
{
	switch (mode) {
	case SPF_MAIL_REJECT_FAIL:
		return r == SPF_RES_FAIL;
	case SPF_MAIL_REJECT_SOFTFAIL:
		return r == SPF_RES_FAIL || r == SPF_RES_SOFTFAIL;
	case SPF_MAIL_REJECT_NOT_PASS:
		return r == SPF_RES_FAIL || r == SPF_RES_SOFTFAIL
		    || r == SPF_RES_NEUTRAL || r == SPF_RES_NONE;
	default:
		return 0;
	}
}

/* Fill V for check C with the given reply codes. */
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
	spf_copy_printable(v->text, sizeof(v->text), buf);
}

/* Apply the policy to one check; 1 when it decided. */
static int
decide_one(const config_t *cfg, const spf_check_t *c, int rejects, spf_verdict_t *v)
{
	if (rejects) {
		verdict_set(v, SPF_ACT_REJECT, "550", "5.7.23", c);
		return 1;
	}
	if (c->result == SPF_RES_PERMERROR && cfg->spf_permerror_reject) {
		verdict_set(v, SPF_ACT_REJECT, "550", "5.7.24", c);
		return 1;
	}
	if (c->result == SPF_RES_TEMPERROR && cfg->spf_temperror_defer) {
		verdict_set(v, SPF_ACT_DEFER, "451", "4.7.24", c);
		return 1;
	}
	return 0;
}

void
spf_policy_decide(const spf_t *spf, const spf_check_t *helo, const spf_check_t *mail,
    spf_verdict_t *v)
{
	const config_t *cfg = spf->cfg;

	memset(v, 0, sizeof(*v));
	v->action = SPF_ACT_CONTINUE;
	v->tag = W_SPF_CONTINUE;
	if (helo && decide_one(cfg, helo, helo_rejects((int)cfg->spf_helo_reject,
	    helo->result, helo->null_sender), v))
		return;
	/* <> is checked with the HELO identity: the HELO policy applies,
	 * unless HELO checks are off, then the MAIL FROM policy does. */
	if (mail && mail->identity == SPF_ID_HELO
	    && cfg->spf_helo_reject != SPF_HELO_REJECT_NO_CHECK)
		(void)decide_one(cfg, mail, helo_rejects(cfg->spf_helo_reject,
		    mail->result, 1), v);
	else if (mail)
		(void)decide_one(cfg, mail, mail_rejects(cfg->spf_mail_from_reject,
		    mail->result), v);
}

int
spf_evaluate(spf_t *spf, const addr_t *client, const char *helo, const char *sender,
    spf_outcome_t *out)
{
	const config_t *cfg = spf->cfg;
	int	null = sender == NULL || *sender == 0;

	memset(out, 0, sizeof(*out));
	out->verdict.action = SPF_ACT_CONTINUE;
	out->verdict.tag = W_SPF_SKIPPED;
	if ((out->skipped = spf_skip_client(spf, client)) != 0)
		return 0;
	if ((out->whitelisted = spf_whitelisted(spf, client, helo, sender)) != 0) {
		out->verdict.tag = W_SPF_WHITELISTED;
		return 0;
	}
	if (cfg->spf_helo_reject != SPF_HELO_REJECT_NO_CHECK) {
		spf_check_helo(spf, client, helo, &out->helo);
		out->helo.null_sender = null;	/* for envelope-from= */
		spf_clean(out->helo.sender, sizeof(out->helo.sender), null ? "" : sender);
		out->helo_done = 1;
	}
	if (null && out->helo_done) {
		out->mail = out->helo;		/* the same identity: no second check */
		out->mail_done = 1;
		spf_policy_decide(spf, &out->helo, NULL, &out->verdict);
		return 0;
	}
	spf_policy_decide(spf, out->helo_done ? &out->helo : NULL, NULL, &out->verdict);
	if (out->verdict.action != SPF_ACT_CONTINUE)
		return 0;
	spf_check_mailfrom(spf, client, helo, sender, &out->mail);
	out->mail_done = 1;
	spf_policy_decide(spf, out->helo_done ? &out->helo : NULL, &out->mail,
	    &out->verdict);
	return 0;
}
