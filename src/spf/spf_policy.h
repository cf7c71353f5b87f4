/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_policy - what to do with SPF results (pypolicyd-spf semantics)
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
 *	sender reuses the HELO check, whose identity it is), and decides.
 *	A HELO result that rejects stops there. It returns 0.
 *
 *	spf_policy_decide() is the pure decision: HELO per spf_helo_reject
 *	(fail, softfail, not_pass, null = fail of a null sender only, no),
 *	MAIL FROM per spf_mail_from_reject (a null sender's check, which
 *	has the HELO identity, per spf_helo_reject, or per
 *	spf_mail_from_reject when that is no_check); a fail that rejects gives
 *	550 5.7.23 (RFC 7372), permerror with spf_permerror_reject 550
 *	5.7.24, temperror with spf_temperror_defer 451 4.7.24. V->text is
 *	a short reply text without CR, LF or '%'. Either check may be NULL.
 *
 *	spf_whitelisted() is 1 when one of the three whitelists matches:
 *	client network; HELO name; sender domain (for <> the HELO name).
 *	Names match exactly (case-insensitive) or, for an entry starting
 *	with ".", as a subdomain.
 * THREADS
 *	Safe from any thread; spf_policy_decide() and spf_whitelisted()
 *	read only the configuration.
 */
#ifndef TG_SPF_POLICY_H
#define TG_SPF_POLICY_H

#include "spf.h"

typedef enum { SPF_ACT_CONTINUE = 0, SPF_ACT_REJECT, SPF_ACT_DEFER } spf_action_t;

#define SPF_REPLY_MAX	300

typedef struct {
	spf_action_t action;
	const char *rcode;		/* "550", "451"; NULL to continue */
	const char *xcode;		/* "5.7.23", "5.7.24", "4.7.24" */
	const char *tag;		/* for the log: "helo_fail", ... */
	char	text[SPF_REPLY_MAX];	/* reply text, printable ASCII */
} spf_verdict_t;

typedef struct {
	int	skipped;		/* spf_skip_addresses: no check, no header */
	int	whitelisted;		/* a whitelist matched: no check, no header */
	int	helo_done, mail_done;
	spf_check_t helo;		/* valid when helo_done */
	spf_check_t mail;		/* valid when mail_done (<>: HELO identity) */
	spf_verdict_t verdict;
} spf_outcome_t;

int	spf_evaluate(spf_t *spf, const addr_t *client, const char *helo,
	    const char *sender, spf_outcome_t *out);
int	spf_whitelisted(const spf_t *spf, const addr_t *client, const char *helo,
	    const char *sender);
void	spf_policy_decide(const spf_t *spf, const spf_check_t *helo,
	    const spf_check_t *mail, spf_verdict_t *v);

#endif
