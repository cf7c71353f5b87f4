/*
 * NAME
 *	stage_rcpt - taRgrey at RCPT TO and its outcome at DATA
 * DESCRIPTION
 *	See stage.h and ARCHITECTURE.md. For a suspicious client, per
 *	recipient: whitelisted recipient or sender -> pass; otherwise the
 *	store decides (auto-whitelisted, triplet passed, greylist, tarpit).
 *	The tarpit happens at most once per session: a client that waited it
 *	out passes for the rest of the session, and reaching DATA counts as a
 *	pass in the store.
 *
 *	Before the tarpit waits, pool_handoff() makes sure libmilter has a
 *	free worker for the other sessions (see pool.h); a full tarpit
 *	(tarpit_max_sessions) greylists instead.
 * DIAGNOSTICS
 *	One decision line per greylist or tarpit; a store failure is logged
 *	and the mail accepted. With log_level 2 or more, "tarpit: start
 *	client=[ADDR] ..." when a tarpit begins (tests wait on it).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "pool.h"
#include "sockdiag.h"
#include "stage.h"
#include "whitelist.h"

/* Greylist the recipient: 450 4.7.1 (or a "would" line). */
static void
stage_greylist(session_t *s, const greylist_result_t *g, int tarpit_full, stage_reply_t *r)
{
	char	extra[512];
	size_t	len = stage_summary(s, extra, sizeof(extra));

	snprintf(extra + len, sizeof(extra) - len, " retry_in=%llds retries_left=%ld%s",
	    (long long) g->remaining_delay, g->remaining_retries, tarpit_full ? " tarpit=full" : "");
	if (s->rt->cfg->dry_run) {
		session_log(s, "rcpt", "would_greylist", g->reason, extra);
		return;
	}
	stage_reply_set(r, STAGE_TEMPFAIL, "450", "4.7.1", "%s", s->rt->cfg->greylist_text);
	session_log(s, "rcpt", "greylist", g->reason, extra);
}

/* Log a tarpit's outcome. */
static void
stage_tarpit_log(session_t *s, const char *reason, const tarpit_result_t *res, const char *more)
{
	char	extra[512];
	size_t	len = stage_summary(s, extra, sizeof(extra));

	snprintf(extra + len, sizeof(extra) - len, " waited=%.1fs probes=%d%s%s",
	    (double) res->elapsed_ms / 1000.0, res->probes, more ? " " : "", more ? more : "");
	session_log(s, "rcpt", "tarpit", reason, extra);
}

/* The probe's 4-tuple: smtpd's end from {daemon_addr}/{daemon_port}. */
static int
stage_tuple(const session_t *s, sockdiag_tuple_t *t)
{
	memset(t, 0, sizeof(*t));
	if (s->daemon_port == 0 || addr_parse(s->daemon_addr, &t->local) < 0)
		return -1;
	t->local_port = s->daemon_port;
	t->remote = s->client;
	t->remote_port = s->client_port;
	return 0;
}

/* Act on the tarpit's outcome. */
static void
stage_tarpit_outcome(session_t *s, const tarpit_result_t *res, stage_reply_t *r)
{
	const config_t *cfg = s->rt->cfg;
	char	more[96];

	switch (res->outcome) {
	case TARPIT_PASSED:
	case TARPIT_NO_PROBE:
		s->tarpit_passed = 1;
		s->tg_verdict = "tarpit_passed";
		snprintf(more, sizeof(more), "%s%s", res->outcome == TARPIT_NO_PROBE ? "detection=off" : "",
		    res->pipelined ? " pipelining=ignored" : "");
		stage_tarpit_log(s, "passed", res, more[0] ? more : NULL);
		break;
	case TARPIT_DISCONNECTED:
		s->tg_verdict = "tarpit_failed";
		store_tarpit_failed(runtime_store(), &s->rt->grey, (int64_t) time(NULL), &s->client);
		snprintf(more, sizeof(more), "(lost connection after %.1f s)", (double) res->elapsed_ms / 1000.0);
		stage_tarpit_log(s, "lost_connection", res, more);
		stage_reply_set(r, STAGE_TEMPFAIL, "450", "4.7.1", "%s", cfg->greylist_text);
		break;
	case TARPIT_PIPELINING:
		s->tg_verdict = "tarpit_failed";
		store_tarpit_failed(runtime_store(), &s->rt->grey, (int64_t) time(NULL), &s->client);
		stage_tarpit_log(s, "pipelining", res, NULL);
		stage_reply_set(r, STAGE_TEMPFAIL, "450", "4.5.0",
		    "Improper use of SMTP command pipelining");
		break;
	case TARPIT_ABORTED:
		s->tg_verdict = "tarpit_aborted";
		stage_tarpit_log(s, "aborted", res, "(shutting down or Postfix gone)");
		break;
	}
}

/* Hold the RCPT reply for tarpit_delay, watching the client. */
static void
stage_tarpit(session_t *s, const stage_waiter_t *w, stage_reply_t *r)
{
	const config_t *cfg = s->rt->cfg;
	sockdiag_tuple_t tuple;
	tarpit_result_t res;
	tarpit_req_t req = {
		.delay_ms = cfg->tarpit_delay,
		.poll_ms = cfg->tarpit_poll_interval,
		.progress_ms = cfg->tarpit_progress_interval,
		.stop_on_pipelining = cfg->tarpit_pipelining_action == TARPIT_PIPELINING_FAIL,
		.tuple = stage_tuple(s, &tuple) == 0 ? &tuple : NULL,
		.progress = w->progress,
		.progress_arg = w->arg,
	};
	int	rc;

	s->tarpit_done = 1;
	if ((rc = pool_handoff()) < 0)
		log_warning("tarpit: no spare libmilter worker confirmed (%d); other sessions may wait", rc);
	log_debug(2, "tarpit: start client=[%s] delay=%.1fs running=%ld", s->client_addr,
	    (double) cfg->tarpit_delay / 1000.0, tarpit_active());
	if (tarpit_wait(&req, &res) < 0) {
		log_error("tarpit: bad parameters; not delaying");
		return;
	}
	stage_tarpit_outcome(s, &res, r);
}

/* Remember an accepted recipient for the pass recorded at DATA. */
static void
stage_remember_rcpt(session_t *s, const char *rcpt)
{
	if (s->rcpts.n < SESSION_RCPTS_MAX && strlist_add(&s->rcpts, rcpt, strlen(rcpt)) < 0)
		log_warning("out of memory remembering a recipient");
}

/* taRgrey for one recipient. */
void
stage_rcpt(session_t *s, const char *rcpt, const stage_waiter_t *w, stage_reply_t *r)
{
	const config_t *cfg = s->rt->cfg;
	table_answer_t a;
	greylist_result_t g;
	greylist_verdict_t v;
	int	entered = 0, flags = 0;

	if (s->tg_skip || !s->suspicious)
		return;
	if (s->tarpit_passed) {
		stage_remember_rcpt(s, rcpt);
		return;
	}
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
	else if (!(entered = tarpit_try_enter(cfg->tarpit_max_sessions)))
		flags = GREYLIST_NO_TARPIT;
	v = store_check(runtime_store(), &s->rt->grey, (int64_t) time(NULL), &s->client,
	    s->from ? s->from : "", rcpt, flags, &g);
	s->tg_verdict = greylist_verdict_name(v);
	if (v == GREYLIST_GREYLIST)
		stage_greylist(s, &g, flags && !s->tarpit_done, r);
	else if (v == GREYLIST_TARPIT && cfg->dry_run)
		session_log(s, "rcpt", "would_tarpit", g.reason, NULL);
	else if (v == GREYLIST_TARPIT)
		stage_tarpit(s, w, r);
	else if (v == GREYLIST_UNAVAILABLE)
		session_log(s, "rcpt", "accept", "store_unavailable", g.reason);
	if (entered)
		tarpit_leave();
	if (r->action == STAGE_CONTINUE)
		stage_remember_rcpt(s, rcpt);
}

/* DATA after a passed tarpit: the client proved patient. */
void
stage_data(session_t *s)
{
	if (!s->tarpit_passed || runtime_store() == NULL)
		return;
	store_tarpit_passed(runtime_store(), &s->rt->grey, (int64_t) time(NULL), &s->client,
	    s->from ? s->from : "", (const char *const *) s->rcpts.items, s->rcpts.n);
}
