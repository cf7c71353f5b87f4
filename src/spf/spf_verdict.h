/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_verdict - what to do with SPF results: a pure function
 * SYNOPSIS
 *	#include "spf_verdict.h"
 *
 *	void spf_verdict_facts(spf_facts_t *f, const config_t *cfg);
 *	void spf_verdict_decide(const spf_facts_t *f, spf_verdict_t *v);
 *	void spf_verdict_headers(const spf_facts_t *f, int *mail, int *helo);
 * DESCRIPTION
 *	spf_verdict_decide() maps the facts F of one MAIL FROM to the
 *	verdict V, with pypolicyd-spf's semantics; it reads nothing but F
 *	(no DNS, clock, configuration or other global) and writes only V.
 *	In order:
 *
 *	a skipped client (spf_skip_addresses) continues, reason
 *	"spf_skipped"; a whitelisted one (spf_whitelist, spf_helo_whitelist,
 *	spf_domain_whitelist) continues, "spf_whitelisted"; neither gets a
 *	header.
 *
 *	The HELO check, when made, per helo_reject (spf_helo_reject: fail,
 *	softfail, not_pass, null = a fail of a null sender only, no), then
 *	the MAIL FROM check, when made, per mail_from_reject (fail,
 *	softfail, not_pass, no). The null sender's MAIL FROM check has the
 *	HELO identity and goes by helo_reject (as a null sender), unless
 *	helo_reject is no_check. The first check that decides gives the
 *	verdict: a result that its rule rejects gives 550 5.7.23
 *	(RFC 7372), else a permerror with permerror_reject 550 5.7.24, a
 *	temperror with temperror_defer 451 4.7.24. Reasons name the
 *	identity and result ("helo_fail", "mailfrom_permerror"); nothing
 *	deciding gives continue, "spf_continue". V->text is "SPF RESULT
 *	(IDENTITY DOMAIN): REASON - EXPLANATION", printable ASCII only.
 *
 *	V->header_mail and V->header_helo say which checks get headers
 *	(Received-SPF, Authentication-Results): each check made, except
 *	for a skipped or whitelisted client, and the HELO check when the
 *	MAIL FROM check is the null sender's (the same identity, one
 *	header). spf_verdict_headers() gives just that answer.
 *
 *	spf_verdict_facts() clears F and copies the four settings from
 *	CFG; the caller adds the answers and the checks.
 * THREADS
 *	Pure functions.
 */
#ifndef TG_SPF_VERDICT_H
#define TG_SPF_VERDICT_H

#include "config.h"
#include "spf.h"

typedef enum { SPF_ACT_CONTINUE = 0, SPF_ACT_REJECT, SPF_ACT_DEFER } spf_action_t;

#define SPF_REPLY_MAX	300

typedef struct {
	int	skipped;		/* client in spf_skip_addresses */
	int	whitelisted;		/* one of the three SPF whitelists matched */
	int	null_sender;		/* MAIL FROM:<> */
	const spf_check_t *helo;	/* the HELO check; NULL: not made */
	const spf_check_t *mail;	/* MAIL FROM (HELO identity for <>); NULL: not made */
	int	helo_reject;		/* spf_helo_reject: SPF_HELO_REJECT_* */
	int	mail_from_reject;	/* spf_mail_from_reject: SPF_MAIL_REJECT_* */
	int	permerror_reject;	/* spf_permerror_reject */
	int	temperror_defer;	/* spf_temperror_defer */
} spf_facts_t;

typedef struct {
	spf_action_t action;
	const char *rcode;		/* "550", "451"; NULL to continue */
	const char *xcode;		/* "5.7.23", "5.7.24", "4.7.24" */
	const char *tag;		/* reason word for the log: "helo_fail", ... */
	char	text[SPF_REPLY_MAX];	/* reply text, printable ASCII */
	int	header_mail;		/* the MAIL FROM check gets headers */
	int	header_helo;		/* the HELO check gets headers */
} spf_verdict_t;

void	spf_verdict_facts(spf_facts_t *f, const config_t *cfg);
void	spf_verdict_decide(const spf_facts_t *f, spf_verdict_t *v);
void	spf_verdict_headers(const spf_facts_t *f, int *mail, int *helo);

#endif
