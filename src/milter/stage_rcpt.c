/*
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
#include "stage_int.h"
#include "whitelist.h"

/* Greylist RCPT: 450 4.7.1 (or a "would" line); WHY_NO_TARPIT or NULL. */
static void
stage_greylist(session_t *s, const char *rcpt, const greylist_result_t *g,
	       const char *why_no_tarpit, stage_reply_t *r)
{
	char	extra[512];
	size_t	len = stage_summary(s, extra, sizeof(extra));

	snprintf(extra + len, sizeof(extra) - len, " retry_in=%llds retries_left=%ld%s%s",
	    (long long) g->remaining_delay, g->remaining_retries,
	    why_no_tarpit ? " " : "", why_no_tarpit ? why_no_tarpit : "");
	if (s->rt->cfg->dry_run) {
		session_log_to(s, rcpt, "rcpt", "would_greylist", g->reason, extra);
		return;
	}
	if (s->grey_replied >= (unsigned long) s->rt->cfg->greylist_rcpt_replies) {
		/* more 450s would trip smtpd's error limits: defer at the end */
		s->grey_deferred++;
		len = strlen(extra);
		snprintf(extra + len, sizeof(extra) - len, " deferred_to=eom");
		session_log_to(s, rcpt, "rcpt", "greylist", g->reason, extra);
		return;
	}
	s->grey_replied++;
	stage_reply_set(r, STAGE_TEMPFAIL, "450", "4.7.1", "%s", s->rt->cfg->greylist_text);
	session_log_to(s, rcpt, "rcpt", "greylist", g->reason, extra);
}

/* Remember an accepted recipient for the pass recorded at DATA. */
static void
stage_remember_rcpt(session_t *s, const char *rcpt)
{
	if (s->rcpts.n < SESSION_RCPTS_MAX && strlist_add(&s->rcpts, rcpt, strlen(rcpt)) < 0)
		log_warning("out of memory remembering a recipient");
}

/* taRgrey for one recipient of a suspicious client. */
static void
stage_rcpt_decide(session_t *s, const char *rcpt, const stage_waiter_t *w, stage_reply_t *r)
{
	const config_t *cfg = s->rt->cfg;
	table_answer_t a;
	greylist_result_t g;
	greylist_verdict_t v;
	char	why[160];
	const char *no_tarpit = NULL;
	int	entered = 0, flags = 0;

	if (whitelist_recipient(s->rt->whitelist, rcpt, &a)) {
		s->tg_verdict = "recipient_whitelist";
		return;
	}
	if (whitelist_sender(s->rt->whitelist, s->from ? s->from : "", &a)) {
		s->tg_verdict = "sender_whitelist";
		return;
	}
	if (s->tarpit_done || cfg->dry_run)
		flags = s->tarpit_done ? GREYLIST_NO_TARPIT : 0;
	else if ((no_tarpit = stage_tarpit_enter(s->rt, why, sizeof(why))) != NULL)
		flags = GREYLIST_NO_TARPIT;
	else
		entered = 1;
	v = store_check(runtime_store(), &s->rt->grey, (int64_t) time(NULL), &s->client,
	    s->from ? s->from : "", rcpt, flags, &g);
	s->tg_verdict = greylist_verdict_name(v);
	if (v == GREYLIST_GREYLIST)
		stage_greylist(s, rcpt, &g, no_tarpit, r);
	else if (v == GREYLIST_TARPIT && cfg->dry_run)
		session_log_to(s, rcpt, "rcpt", "would_tarpit", g.reason, NULL);
	else if (v == GREYLIST_TARPIT)
		stage_tarpit(s, rcpt, w, r);
	else if (v == GREYLIST_UNAVAILABLE)
		session_log_to(s, rcpt, "rcpt", "accept", "store_unavailable", g.reason);
	if (entered)
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
