/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_policy - run the SPF checks of one MAIL FROM and ask for a verdict
 * DESCRIPTION
 *	See spf_policy.h. Runs the checks and gathers the facts: the
 *	skip_addresses and Whitelist answers here, the results from
 *	spf_check.c; what to do with them is spf_verdict_decide()
 *	(spf_verdict.c, pure). The parameter words mirror pypolicyd-spf's.
 * DIAGNOSTICS
 *	spf_policy_setup() names a bad network in ERR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "spf_int.h"
#include "spf_policy.h"
#include "text.h"
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

void
spf_policy_decide(const spf_t *spf, const spf_check_t *helo, const spf_check_t *mail,
    spf_verdict_t *v)
{
	spf_facts_t f;

	spf_verdict_facts(&f, spf->cfg);
	f.null_sender = helo ? helo->null_sender : mail && mail->null_sender;
	f.helo = helo;
	f.mail = mail;
	spf_verdict_decide(&f, v);
}

int
spf_evaluate(spf_t *spf, const addr_t *client, const char *helo, const char *sender,
    spf_outcome_t *out)
{
	spf_facts_t f;
	int	null = sender == NULL || *sender == 0;

	memset(out, 0, sizeof(*out));
	spf_verdict_facts(&f, spf->cfg);
	f.null_sender = null;
	out->skipped = f.skipped = spf_skip_client(spf, client);
	if (!f.skipped)
		out->whitelisted = f.whitelisted = spf_whitelisted(spf, client, helo, sender);
	if (!f.skipped && !f.whitelisted && f.helo_reject != SPF_HELO_REJECT_NO_CHECK) {
		spf_check_helo(spf, client, helo, &out->helo);
		out->helo.null_sender = null;	/* for envelope-from= */
		text_clean(TEXT_HEADER_COMMENT, out->helo.sender, sizeof(out->helo.sender), null ? "" : sender);
		out->helo_done = 1;
		f.helo = &out->helo;
	}
	if (null && out->helo_done) {
		out->mail = out->helo;		/* the same identity: no second check */
		out->mail_done = 1;
		f.mail = &out->mail;
	}
	spf_verdict_decide(&f, &out->verdict);
	if (f.skipped || f.whitelisted || out->mail_done
	    || out->verdict.action != SPF_ACT_CONTINUE)
		return 0;
	spf_check_mailfrom(spf, client, helo, sender, &out->mail);
	out->mail_done = 1;
	f.mail = &out->mail;
	spf_verdict_decide(&f, &out->verdict);
	return 0;
}
