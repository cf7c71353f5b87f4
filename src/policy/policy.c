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
#include "words.h"

static const char *const policy_names[] = {
	[POLICY_ASK_CLIENT] = W_ASK_CLIENT, [POLICY_ASK_S25R] = W_ASK_S25R,
	[POLICY_ASK_SLOT] = W_ASK_SLOT, [POLICY_ASK_STORE] = W_ASK_STORE,
	[POLICY_SKIP] = W_SKIP, [POLICY_CLEAN] = W_CLEAN,
	[POLICY_SUSPICIOUS] = W_SUSPICIOUS, [POLICY_PASS] = W_PASS,
	[POLICY_ACCEPT] = W_ACCEPT, [POLICY_GREYLIST] = W_GREYLIST,
	[POLICY_TARPIT] = W_TARPIT, [POLICY_UNAVAILABLE] = W_UNAVAILABLE,
};

/* The word for verdict V. */
const char *
policy_verdict_name(policy_verdict_t v)
{
	return (unsigned) v < sizeof(policy_names) / sizeof(policy_names[0])
	    && policy_names[v] ? policy_names[v] : W_UNKNOWN;
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

	policy_trace(r, W_TRUSTED_NETWORKS, "%s", f->trusted ? "yes" : "no");
	if (f->trusted)
		return policy_end(r, POLICY_SKIP, W_TRUSTED_NETWORKS, W_SKIP, W_TRUSTED_NETWORK), 1;
	if (!f->client_known)
		return policy_end(r, POLICY_ASK_CLIENT, NULL, NULL, NULL), 1;
	if (policy_table(r, W_CLIENT_WHITELIST, f->client_wl)) {
		snprintf(why, sizeof(why), "%s%.*s:%d", W_WHITELIST_, (int) sizeof(why) - 24,
		    f->client_wl->table, f->client_wl->line);
		return policy_end(r, POLICY_SKIP, W_CLIENT_WHITELIST, W_SKIP, why), 1;
	}
	if (f->reverse_tempfail && !f->tempfail_is_unknown) {
		policy_trace(r, W_REVERSE_LOOKUP, "temporary failure");
		return policy_end(r, POLICY_CLEAN, W_REVERSE_LOOKUP, W_CLEAN,
		    W_REVERSE_LOOKUP_TEMPFAIL), 1;
	}
	if (f->s25r == NULL)
		return policy_end(r, POLICY_ASK_S25R, NULL, NULL, NULL), 1;
	policy_trace(r, W_S25R, "%s (%s)", f->s25r->suspicious ? W_SUSPICIOUS : W_CLEAN,
	    f->s25r->reason);
	if (!f->s25r->suspicious)
		return policy_end(r, POLICY_CLEAN, W_S25R, W_CLEAN, f->s25r->reason), 1;
	if (f->rcpt == NULL)
		return policy_end(r, POLICY_SUSPICIOUS, W_S25R, W_SUSPICIOUS, f->s25r->reason), 1;
	return 0;
}

/* The tarpit slot: sets R->grey_flags; 1 when a slot must be asked for. */
static int
policy_slot(const policy_facts_t *f, policy_result_t *r)
{
	r->grey_flags = 0;
	if (f->tarpit_done) {
		r->grey_flags = GREYLIST_NO_TARPIT;
		policy_trace(r, W_TARPIT_SLOT, "done in this session");
	} else if (f->dry_run)
		policy_trace(r, W_TARPIT_SLOT, "dry_run: no slot taken");
	else if (f->slot == POLICY_SLOT_UNASKED)
		return policy_end(r, POLICY_ASK_SLOT, NULL, NULL, NULL), 1;
	else if (f->slot == POLICY_SLOT_DENIED) {
		r->grey_flags = GREYLIST_NO_TARPIT;
		policy_trace(r, W_TARPIT_SLOT, "no slot: %s", f->slot_denied ? f->slot_denied : "?");
	} else if (f->slot == POLICY_SLOT_ASSUMED)
		policy_trace(r, W_TARPIT_SLOT, "assumed free (none taken)");
	else
		policy_trace(r, W_TARPIT_SLOT, "taken");
	return 0;
}

/* The store step's result: verdict, reply and effects. */
static void
policy_store(const policy_facts_t *f, policy_result_t *r)
{
	const greylist_result_t *g = f->grey;

	policy_trace(r, W_STORE, "%s (%s)", greylist_verdict_name(g->verdict), g->reason);
	switch (g->verdict) {
	case GREYLIST_GREYLIST:
		policy_end(r, POLICY_GREYLIST, W_STORE, f->dry_run ? W_WOULD_GREYLIST : W_GREYLIST,
		    g->reason);
		if (f->dry_run)
			break;
		if (f->grey_replies_left <= 0)
			r->defer_to_eom = 1;	/* more 450s would trip smtpd's error limits */
		else
			r->rcode = "450", r->xcode = "4.7.1";
		break;
	case GREYLIST_TARPIT:
		policy_end(r, POLICY_TARPIT, W_STORE, f->dry_run ? W_WOULD_TARPIT : NULL, g->reason);
		r->start_tarpit = !f->dry_run;
		break;
	case GREYLIST_UNAVAILABLE:
		policy_end(r, POLICY_UNAVAILABLE, W_STORE, W_ACCEPT, W_STORE_UNAVAILABLE);
		break;
	default:
		policy_end(r, POLICY_ACCEPT, W_STORE, NULL, g->reason);
	}
}

/* The whole order; see policy.h. */
void
policy_decide(const policy_facts_t *f, policy_result_t *r)
{
	memset(r, 0, sizeof(*r));
	if (policy_connect(f, r))
		return;
	if (policy_table(r, W_RECIPIENT_WHITELIST, f->rcpt_wl)) {
		policy_end(r, POLICY_PASS, W_RECIPIENT_WHITELIST, NULL, W_RECIPIENT_WHITELIST);
		return;
	}
	if (policy_table(r, W_SENDER_WHITELIST, f->sender_wl)) {
		policy_end(r, POLICY_PASS, W_SENDER_WHITELIST, NULL, W_SENDER_WHITELIST);
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
