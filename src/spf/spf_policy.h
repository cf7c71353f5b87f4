/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_policy - run the SPF checks of one MAIL FROM and ask for a verdict
 * SYNOPSIS
 *	#include "spf_policy.h"
 *
 *	int spf_evaluate(spf_t *spf, const addr_t *client, const char *helo,
 *	    const char *sender, spf_outcome_t *out);
 *	int spf_whitelisted(const spf_t *spf, const addr_t *client,
 *	    const char *helo, const char *sender);
 *	void spf_policy_decide(const spf_t *spf, const spf_check_t *helo,
 *	    const spf_check_t *mail, spf_verdict_t *v);
 * DESCRIPTION
 *	spf_evaluate() is what the MAIL FROM stage calls: it skips clients
 *	in spf_skip_addresses (out->skipped: no header either) and
 *	whitelisted ones (spf_whitelist, spf_helo_whitelist,
 *	spf_domain_whitelist: out->whitelisted, no check), then checks HELO
 *	first unless spf_helo_reject = no_check, then MAIL FROM (a null
 *	sender reuses the HELO check, whose identity it is), asking
 *	spf_verdict_decide() (spf_verdict.h, pure) after each step: a HELO
 *	result that rejects stops there. It returns 0.
 *
 *	spf_policy_decide() is spf_verdict_decide() on HELO and MAIL (either
 *	may be NULL) with the settings of SPF's configuration, for a
 *	client neither skipped nor whitelisted; HELO's null_sender says
 *	whether MAIL FROM was <>.
 *
 *	spf_whitelisted() is 1 when one of the three whitelists matches:
 *	client network; HELO name; sender domain (for <> the HELO name).
 *	Names match exactly (case-insensitive) or, for an entry starting
 *	with ".", as a subdomain.
 * THREADS
 *	Safe from any thread; spf_policy_decide() and spf_whitelisted()
 *	read only the configuration.
 * SEE ALSO
 *	spf_verdict.h (the mapping of results to actions).
 */
#ifndef TG_SPF_POLICY_H
#define TG_SPF_POLICY_H

#include "spf.h"
#include "spf_verdict.h"

typedef struct {
	int	skipped;		/* spf_skip_addresses: no check, no header */
	int	whitelisted;		/* a whitelist matched: no check, no header */
	int	helo_done, mail_done;
	spf_check_t helo;		/* valid when helo_done */
	spf_check_t mail;		/* valid when mail_done (<>: HELO identity) */
	spf_verdict_t verdict;		/* of the checks made */
} spf_outcome_t;

int	spf_evaluate(spf_t *spf, const addr_t *client, const char *helo,
	    const char *sender, spf_outcome_t *out);
int	spf_whitelisted(const spf_t *spf, const addr_t *client, const char *helo,
	    const char *sender);
void	spf_policy_decide(const spf_t *spf, const spf_check_t *helo,
	    const spf_check_t *mail, spf_verdict_t *v);

#endif
