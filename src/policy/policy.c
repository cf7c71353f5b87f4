/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	policy - the taRgrey decision, from facts to a verdict
 * DESCRIPTION
 *	See policy.h. Pure: no clock, no I/O, no globals; the same facts
 *	give the same result. The order of the steps is the order of the
 *	functions called by policy_decide(); each step adds one line to the
 *	trace before it decides or passes on.
 * DIAGNOSTICS
 *	None: the caller logs R->action with R->reason.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "policy.h"

static const char *const policy_names[] = {
	[POLICY_ASK_CLIENT] = "ask-client", [POLICY_ASK_S25R] = "ask-s25r",
	[POLICY_ASK_SLOT] = "ask-slot", [POLICY_ASK_STORE] = "ask-store",
	[POLICY_SKIP] = "skip", [POLICY_CLEAN] = "clean",
	[POLICY_SUSPICIOUS] = "suspicious", [POLICY_PASS] = "pass",
	[POLICY_ACCEPT] = "accept", [POLICY_GREYLIST] = "greylist",
	[POLICY_TARPIT] = "tarpit", [POLICY_UNAVAILABLE] = "unavailable",
};

/* The word for verdict V. */
const char *
policy_verdict_name(policy_verdict_t v)
{
	return (unsigned) v < sizeof(policy_names) / sizeof(policy_names[0])
	    && policy_names[v] ? policy_names[v] : "?";
}

static void policy_trace(policy_result_t *r, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Add a trace line: what STEP found. */
static void
policy_trace(policy_result_t *r, const char *step, const char *fmt, ...)
{
	policy_trace_t *t;
	va_list	ap;

	if (r->ntrace >= POLICY_TRACE_MAX)
		return;
	t = &r->trace[r->ntrace++];
	t->step = step;
	va_start(ap, fmt);
	vsnprintf(t->text, sizeof(t->text), fmt, ap);
	va_end(ap);
}

/* Trace a table step; 1 when A answered. */
static int
policy_table(policy_result_t *r, const char *step, const table_answer_t *a)
{
	if (a == NULL) {
		policy_trace(r, step, "no");
		return 0;
	}
	policy_trace(r, step, "%.60s:%d answers %.*s", a->table ? a->table : "?", a->line,
	    (int) sizeof(r->trace[0].text) - 80, a->text);
	return 1;
}

/* End with verdict V of STEP, log ACTION and REASON. */
static void
policy_end(policy_result_t *r, policy_verdict_t v, const char *step, const char *action,
	   const char *reason)
{
	r->verdict = v;
	r->step = step;
	r->action = action;
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
}

/* trusted_networks, client_whitelist, reverse lookup, S25R; 1: decided. */
static int
policy_connect(const policy_facts_t *f, policy_result_t *r)
{
	char	why[POLICY_REASON_MAX];

	policy_trace(r, "trusted_networks", "%s", f->trusted ? "yes" : "no");
	if (f->trusted)
		return policy_end(r, POLICY_SKIP, "trusted_networks", "skip", POLICY_TRUSTED), 1;
	if (!f->client_known)
		return policy_end(r, POLICY_ASK_CLIENT, NULL, NULL, NULL), 1;
	if (policy_table(r, "client_whitelist", f->client_wl)) {
		snprintf(why, sizeof(why), "whitelist_%.*s:%d", (int) sizeof(why) - 24,
		    f->client_wl->table, f->client_wl->line);
		return policy_end(r, POLICY_SKIP, "client_whitelist", "skip", why), 1;
	}
	if (f->reverse_tempfail && !f->tempfail_is_unknown) {
		policy_trace(r, "reverse_lookup", "temporary failure");
		return policy_end(r, POLICY_CLEAN, "reverse_lookup", "clean",
		    "reverse_lookup_tempfail"), 1;
	}
	if (f->s25r == NULL)
		return policy_end(r, POLICY_ASK_S25R, NULL, NULL, NULL), 1;
	policy_trace(r, "S25R", "%s (%s)", f->s25r->suspicious ? "suspicious" : "clean",
	    f->s25r->reason);
	if (!f->s25r->suspicious)
		return policy_end(r, POLICY_CLEAN, "S25R", "clean", f->s25r->reason), 1;
	if (f->rcpt == NULL)
		return policy_end(r, POLICY_SUSPICIOUS, "S25R", "suspicious", f->s25r->reason), 1;
	return 0;
}

/* The tarpit slot: sets R->grey_flags; 1 when a slot must be asked for. */
static int
policy_slot(const policy_facts_t *f, policy_result_t *r)
{
	r->grey_flags = 0;
	if (f->tarpit_done) {
		r->grey_flags = GREYLIST_NO_TARPIT;
		policy_trace(r, "tarpit_slot", "done in this session");
	} else if (f->dry_run)
		policy_trace(r, "tarpit_slot", "dry_run: no slot taken");
	else if (f->slot == POLICY_SLOT_UNASKED)
		return policy_end(r, POLICY_ASK_SLOT, NULL, NULL, NULL), 1;
	else if (f->slot == POLICY_SLOT_DENIED) {
		r->grey_flags = GREYLIST_NO_TARPIT;
		policy_trace(r, "tarpit_slot", "no slot: %s", f->slot_denied ? f->slot_denied : "?");
	} else if (f->slot == POLICY_SLOT_ASSUMED)
		policy_trace(r, "tarpit_slot", "assumed free (none taken)");
	else
		policy_trace(r, "tarpit_slot", "taken");
	return 0;
}

/* The store step's result: verdict, reply and effects. */
static void
policy_store(const policy_facts_t *f, policy_result_t *r)
{
	const greylist_result_t *g = f->grey;

	policy_trace(r, "store", "%s (%s)", greylist_verdict_name(g->verdict), g->reason);
	switch (g->verdict) {
	case GREYLIST_GREYLIST:
		policy_end(r, POLICY_GREYLIST, "store", f->dry_run ? "would_greylist" : "greylist",
		    g->reason);
		if (f->dry_run)
			break;
		if (f->grey_replies_left <= 0)
			r->defer_to_eom = 1;	/* more 450s would trip smtpd's error limits */
		else
			r->rcode = "450", r->xcode = "4.7.1";
		break;
	case GREYLIST_TARPIT:
		policy_end(r, POLICY_TARPIT, "store", f->dry_run ? "would_tarpit" : NULL, g->reason);
		r->start_tarpit = !f->dry_run;
		break;
	case GREYLIST_UNAVAILABLE:
		policy_end(r, POLICY_UNAVAILABLE, "store", "accept", "store_unavailable");
		break;
	default:
		policy_end(r, POLICY_ACCEPT, "store", NULL, g->reason);
	}
}

/* The whole order; see policy.h. */
void
policy_decide(const policy_facts_t *f, policy_result_t *r)
{
	memset(r, 0, sizeof(*r));
	if (policy_connect(f, r))
		return;
	if (policy_table(r, "recipient_whitelist", f->rcpt_wl)) {
		policy_end(r, POLICY_PASS, "recipient_whitelist", NULL, "recipient_whitelist");
		return;
	}
	if (policy_table(r, "sender_whitelist", f->sender_wl)) {
		policy_end(r, POLICY_PASS, "sender_whitelist", NULL, "sender_whitelist");
		return;
	}
	if (policy_slot(f, r))
		return;
	if (f->grey == NULL) {
		policy_end(r, POLICY_ASK_STORE, NULL, NULL, NULL);
		return;
	}
	policy_store(f, r);
}
