/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	stage_rcpt - taRgrey at RCPT TO
 * DESCRIPTION
 *	See stage.h and docs/architecture.md. For a suspicious client, per
 *	recipient: whitelisted recipient or sender -> pass; otherwise the
 *	store decides (auto-whitelisted, triplet passed, greylist, tarpit).
 *	The tarpit (stage_tarpit.c) happens at most once per session: a
 *	client that waited it out passes for the rest of the session, and
 *	reaching DATA counts as a pass in the store (stage_data.c). A full
 *	or switched-off tarpit greylists instead.
 * DIAGNOSTICS
 *	One decision line per greylist, naming the recipient it is about;
 *	a full or switched-off tarpit is said on it. A store failure is
 *	logged and the mail accepted.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "policy.h"
#include "stage_int.h"
#include "stage_metrics.h"
#include "whitelist.h"
#include "words.h"

/* Greylist RCPT as P says: 450 4.7.1, deferred to EOM, or a "would" line. */
static void
stage_greylist(session_t *s, const char *rcpt, const greylist_result_t *g,
	       const policy_facts_t *f, const policy_result_t *p, stage_reply_t *r)
{
	char	extra[512];
	size_t	len = stage_summary(s, extra, sizeof(extra));

	snprintf(extra + len, sizeof(extra) - len, " retry_in=%llds retries_left=%ld%s%s",
	    (long long) g->remaining_delay, g->remaining_retries,
	    f->slot_denied ? " " : "", f->slot_denied ? f->slot_denied : "");
	if (p->defer_to_eom) {
		s->grey_deferred++;
		len = strlen(extra);
		snprintf(extra + len, sizeof(extra) - len, " deferred_to=eom");
	} else if (p->rcode) {
		s->grey_replied++;
		stage_reply_set(r, STAGE_TEMPFAIL, p->rcode, p->xcode, "%s",
		    s->rt->cfg->greylist_text);
	}
	session_log_to(s, rcpt, W_RCPT, p->action, g->reason, extra);
}

/* Remember an accepted recipient for the pass recorded at DATA. */
static void
stage_remember_rcpt(session_t *s, const char *rcpt)
{
	if (s->rcpts.n < SESSION_RCPTS_MAX && strlist_add(&s->rcpts, rcpt, strlen(rcpt)) < 0)
		log_warning("out of memory remembering a recipient");
}

/* The facts known at RCPT: the connect steps passed (suspicious). */
static void
stage_rcpt_facts(const session_t *s, const char *rcpt, policy_facts_t *f,
		 s25r_verdict_t *v, table_answer_t *ra, table_answer_t *sa)
{
	const config_t *cfg = s->rt->cfg;

	memset(f, 0, sizeof(*f));
	memset(v, 0, sizeof(*v));
	v->suspicious = 1;
	memcpy(v->reason, s->s25r_reason, sizeof(v->reason));
	f->client_known = 1;
	f->s25r = v;
	f->rcpt = rcpt;
	f->rcpt_wl = whitelist_recipient(s->rt->whitelist, rcpt, ra) ? ra : NULL;
	f->sender_wl = f->rcpt_wl == NULL
	    && whitelist_sender(s->rt->whitelist, s->from ? s->from : "", sa) ? sa : NULL;
	f->dry_run = cfg->dry_run;
	f->tarpit_done = s->tarpit_done;
	f->grey_replies_left = cfg->greylist_rcpt_replies - (long) s->grey_replied;
}

/* Apply the RCPT decision P (the store step's result G). */
static void
stage_rcpt_apply(session_t *s, const char *rcpt, const stage_waiter_t *w,
		 const policy_facts_t *f, const policy_result_t *p, stage_reply_t *r)
{
	if (p->verdict == POLICY_PASS) {
		s->tg_verdict = p->step;
		return;
	}
	if (f->grey == NULL) {		/* cannot happen: policy_decide() asks at most twice */
		log_error("rcpt: no decision (%s)", policy_verdict_name(p->verdict));
		return;
	}
	s->tg_verdict = greylist_verdict_name(f->grey->verdict);
	if (p->verdict == POLICY_GREYLIST)
		stage_greylist(s, rcpt, f->grey, f, p, r);
	else if (p->start_tarpit)
		stage_tarpit(s, rcpt, w, r);
	else if (p->action)
		session_log_to(s, rcpt, W_RCPT, p->action, p->verdict == POLICY_UNAVAILABLE
		    ? p->reason : f->grey->reason, p->verdict == POLICY_UNAVAILABLE
		    ? f->grey->reason : NULL);
}

/* taRgrey for one recipient of a suspicious client: gather what
 * policy_decide() asks for (a tarpit slot, the store step), apply it. */
static void
stage_rcpt_decide(session_t *s, const char *rcpt, const stage_waiter_t *w, stage_reply_t *r)
{
	policy_facts_t f;
	policy_result_t p;
	s25r_verdict_t v;
	table_answer_t ra, sa;
	greylist_result_t g;
	char	why[160];

	stage_rcpt_facts(s, rcpt, &f, &v, &ra, &sa);
	for (int asked = 0; asked <= 2; asked++) {
		policy_decide(&f, &p);
		if (p.verdict == POLICY_ASK_SLOT) {
			f.slot_denied = stage_tarpit_enter(s->rt, why, sizeof(why));
			f.slot = f.slot_denied ? POLICY_SLOT_DENIED : POLICY_SLOT_TAKEN;
		} else if (p.verdict == POLICY_ASK_STORE) {
			store_check(runtime_store(), &s->rt->grey, (int64_t) time(NULL), &s->client,
			    s->from ? s->from : "", rcpt, p.grey_flags, &g);
			stage_metrics_greylist(g.verdict, &g, (int64_t) time(NULL));
			f.grey = &g;
		} else
			break;
	}
	stage_rcpt_apply(s, rcpt, w, &f, &p, r);
	if (f.slot == POLICY_SLOT_TAKEN)
		tarpit_leave();
}

/* taRgrey for one recipient; counts the recipients let through. */
void
stage_rcpt(session_t *s, const char *rcpt, const stage_waiter_t *w, stage_reply_t *r)
{
	if (s->tg_skip || !s->suspicious)
		;
	else if (s->tarpit_passed)
		stage_remember_rcpt(s, rcpt);
	else {
		stage_rcpt_decide(s, rcpt, w, r);
		if (r->action == STAGE_CONTINUE)
			stage_remember_rcpt(s, rcpt);
	}
	if (r->action == STAGE_CONTINUE && s->rcpt_accepted++ == 0)
		session_set_text(&s->rcpt, rcpt);
}
