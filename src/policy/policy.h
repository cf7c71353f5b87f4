/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	policy - the taRgrey decision, from facts to a verdict
 * SYNOPSIS
 *	#include "policy.h"
 *
 *	void policy_decide(const policy_facts_t *f, policy_result_t *r);
 *	const char *policy_verdict_name(policy_verdict_t v);
 * DESCRIPTION
 *	policy_decide() walks the whole taRgrey order on the facts F:
 *	trusted_networks -> client_whitelist (skip everything) -> reverse
 *	lookup failure -> S25R (clean: no taRgrey) -> recipient_whitelist
 *	-> sender_whitelist (pass) -> tarpit slot -> the store step. It
 *	reads no clock, table, store or socket: a fact it needs and F does
 *	not have yet makes it stop with an ASK verdict naming that fact;
 *	the caller gathers it, sets it in F and calls again (at most four
 *	times per recipient). POLICY_ASK_CLIENT: the client whitelist
 *	answer (after any reverse lookup); POLICY_ASK_S25R: the S25R class;
 *	POLICY_SUSPICIOUS: connect is done, the rest needs a recipient;
 *	POLICY_ASK_SLOT: try to take a tarpit slot; POLICY_ASK_STORE: run
 *	the store step (store_check(), which runs greylist_decide() on the
 *	stored records inside its transaction) with R->grey_flags.
 *
 *	R gets the verdict, the reason word for the log (R->reason), the
 *	step that decided (R->step), the log action (R->action: "skip",
 *	"clean", "greylist", "would_greylist", ...; NULL when the decision
 *	is not logged), the reply (R->rcode/R->xcode; the text is
 *	greylist_text), the effects (R->start_tarpit, R->defer_to_eom) and
 *	the trace of the steps taken (R->trace[0..R->ntrace-1]: the step
 *	and what it found), which targreyctl explain prints.
 *
 *	The verdicts are one table in policy.c; every word it returns
 *	(verdict, step, action, reason) is a row of words.def.
 */
#ifndef TG_POLICY_H
#define TG_POLICY_H

#include "greylist.h"
#include "s25r.h"
#include "table.h"

typedef enum {
	POLICY_ASK_CLIENT,	/* need: client whitelist answer */
	POLICY_ASK_S25R,	/* need: S25R class */
	POLICY_ASK_SLOT,	/* need: a tarpit slot, or why not */
	POLICY_ASK_STORE,	/* need: the store step's result */
	POLICY_SKIP,		/* trusted or whitelisted client: nothing applies */
	POLICY_CLEAN,		/* not suspicious: no taRgrey */
	POLICY_SUSPICIOUS,	/* connect done: decided per recipient */
	POLICY_PASS,		/* recipient or sender whitelisted */
	POLICY_ACCEPT,		/* the store passed it (auto-whitelist, triplet) */
	POLICY_GREYLIST,	/* 450 now, or deferred to the end of message */
	POLICY_TARPIT,		/* hold the RCPT reply */
	POLICY_UNAVAILABLE,	/* no store: accept and log */
} policy_verdict_t;

typedef enum {
	POLICY_SLOT_UNASKED = 0,
	POLICY_SLOT_TAKEN,
	POLICY_SLOT_DENIED,
	POLICY_SLOT_ASSUMED,		/* targreyctl explain: none taken, assumed free */
} policy_slot_t;

typedef struct {
	/* connect */
	int	trusted;			/* client in trusted_networks */
	int	client_known;			/* client_wl and reverse_tempfail set */
	const table_answer_t *client_wl;	/* client whitelist answer, NULL: none */
	int	reverse_tempfail;		/* the reverse lookup failed temporarily */
	int	tempfail_is_unknown;		/* s25r_tempfail_is_unknown */
	const s25r_verdict_t *s25r;		/* NULL: not classified yet */
	/* RCPT (rcpt NULL: connect only) */
	const char *rcpt;
	const table_answer_t *rcpt_wl;		/* NULL: not listed */
	const table_answer_t *sender_wl;	/* NULL: not listed */
	int	dry_run;
	int	tarpit_done;			/* this session was tarpitted */
	policy_slot_t slot;
	const char *slot_denied;		/* why no slot, for the log */
	long	grey_replies_left;		/* 450s the session may still send */
	const greylist_result_t *grey;		/* the store step, NULL: not run */
} policy_facts_t;

#define POLICY_TRACE_MAX	10
#define POLICY_REASON_MAX	S25R_REASON_MAX

typedef struct {
	const char *step;		/* W_TRUSTED_NETWORKS, W_S25R, ... */
	char	text[TABLE_ANSWER_MAX + 64];	/* what it found */
} policy_trace_t;

typedef struct {
	policy_verdict_t verdict;
	const char *step;		/* the step that decided */
	const char *action;		/* log verdict word, NULL: not logged */
	char	reason[POLICY_REASON_MAX];
	const char *rcode, *xcode;	/* reply; NULL: none */
	int	grey_flags;		/* for the store step */
	int	start_tarpit;		/* effect: hold the RCPT reply */
	int	defer_to_eom;		/* effect: greylist at the end of message */
	size_t	ntrace;
	policy_trace_t trace[POLICY_TRACE_MAX];
} policy_result_t;

void	policy_decide(const policy_facts_t *f, policy_result_t *r);
const char *policy_verdict_name(policy_verdict_t v);

#endif
