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
 *	(tarpit_max_sessions, or tarpit_max_share percent of the smtpd
 *	process limit: stage_tarpit_cap()) greylists instead.
 *
 *	A tarpit that saw the tail of a pipelined batch within the grace, or
 *	a half-closed client (see tarpit.h), passes only provisionally: the
 *	pass is confirmed at DATA (Postfix raises DATA only for a command in
 *	turn; the socket must not have been reset) and turned into a failure
 *	when the transaction or session ends first (stage_end()).
 * DIAGNOSTICS
 *	One decision line per greylist or tarpit, naming the recipient it is
 *	about; a provisional pass that fails adds a line at stage "data" or
 *	"end". A full or switched-off tarpit is said on the greylist line
 *	(tarpit=full limit=... running=N max=M tarpit_full_total=T, or
 *	tarpit=off) and counted in the store (targreyctl stats). A store
 *	failure is logged and the mail accepted. With log_level 2 or more,
 *	"tarpit: start client=[ADDR] ..." when a tarpit begins (tests wait
 *	on it).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "fdlimit.h"
#include "log.h"
#include "pool.h"
#include "metrics.h"
#include "stage_metrics.h"
#include "sockdiag.h"
#include "stage.h"
#include "whitelist.h"

static atomic_ulong stage_tarpit_full_total;	/* greylisted: tarpit full */

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

/* Log a tarpit's outcome for RCPT. */
static void
stage_tarpit_log(session_t *s, const char *rcpt, const char *reason,
		 const tarpit_result_t *res, const char *more)
{
	char	extra[512];
	size_t	len = stage_summary(s, extra, sizeof(extra));

	snprintf(extra + len, sizeof(extra) - len, " waited=%.1fs probes=%d%s%s",
	    (double) res->elapsed_ms / 1000.0, res->probes, more ? " " : "", more ? more : "");
	session_log_to(s, rcpt, "rcpt", "tarpit", reason, extra);
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

/* Record a failed tarpit (hang-up or out of turn). */
static void
stage_tarpit_failed(session_t *s)
{
	s->tg_verdict = "tarpit_failed";
	s->tarpit_passed = s->tarpit_pending = 0;
	store_tarpit_failed(runtime_store(), &s->rt->grey, (int64_t) time(NULL), &s->client);
}

/*
 * The client wrote more, or half-closed, soon after the tarpit began: the
 * pass holds only if it reaches DATA in turn (Postfix checks the order of
 * its commands, see smtpd_forbid_unauth_pipelining) with its socket not
 * reset; otherwise it fails for REASON.
 */
static void
stage_tarpit_pending(session_t *s, const tarpit_result_t *res, const char *reason)
{
	s->tarpit_pending = 1;
	s->tarpit_inode = res->inode;
	s->tarpit_pending_reason = reason;
}

/* Act on the tarpit's outcome for RCPT. */
static void
stage_tarpit_outcome(session_t *s, const char *rcpt, const tarpit_result_t *res,
		     stage_reply_t *r)
{
	char	more[128];

	snprintf(more, sizeof(more), "%s%s", res->pipelined ? "pipelining=ignored " : "",
	    res->grace_bytes ? "batch_tail=yes" : "");
	switch (res->outcome) {
	case TARPIT_PASSED:
		s->tarpit_passed = 1;
		s->tg_verdict = "tarpit_passed";
		if (res->grace_bytes)
			stage_tarpit_pending(s, res, "pipelining");
		stage_tarpit_log(s, rcpt, "passed", res, more[0] ? more : NULL);
		break;
	case TARPIT_NO_PROBE:
		/* nobody watched: it waited, whether the client stayed is unknown */
		s->tarpit_passed = 1;
		s->tg_verdict = "tarpit_unwatched";
		stage_tarpit_log(s, rcpt, "waited", res, "detection=off");
		break;
	case TARPIT_HALF_CLOSED:
		s->tarpit_passed = 1;
		stage_tarpit_pending(s, res, "lost_connection");
		s->tg_verdict = "tarpit_half_closed";
		stage_tarpit_log(s, rcpt, "half_closed", res, "(client shut down its sending side"
		    " behind its transaction; judged at DATA)");
		break;
	case TARPIT_DISCONNECTED:
		stage_tarpit_failed(s);
		snprintf(more, sizeof(more), "(lost connection after %.1f s)", (double) res->elapsed_ms / 1000.0);
		stage_tarpit_log(s, rcpt, "lost_connection", res, more);
		stage_reply_set(r, STAGE_TEMPFAIL, "450", "4.7.1", "%s", s->rt->cfg->greylist_text);
		break;
	case TARPIT_PIPELINING:
		stage_tarpit_failed(s);
		stage_tarpit_log(s, rcpt, "pipelining", res, NULL);
		stage_reply_set(r, STAGE_TEMPFAIL, "450", "4.5.0",
		    "Improper use of SMTP command pipelining");
		break;
	case TARPIT_ABORTED:
		s->tg_verdict = "tarpit_aborted";
		stage_tarpit_log(s, rcpt, "aborted", res, "(shutting down or Postfix gone)");
		break;
	}
}

/* Hold the RCPT reply for tarpit_delay, watching the client. */
static void
stage_tarpit(session_t *s, const char *rcpt, const stage_waiter_t *w, stage_reply_t *r)
{
	const config_t *cfg = s->rt->cfg;
	sockdiag_tuple_t tuple;
	tarpit_result_t res;
	tarpit_req_t req = {
		.delay_ms = cfg->tarpit_delay,
		.poll_ms = cfg->tarpit_poll_interval,
		.progress_ms = cfg->tarpit_progress_interval,
		.stop_on_pipelining = cfg->tarpit_pipelining_action == TARPIT_PIPELINING_FAIL,
		.grace_ms = cfg->tarpit_pipelining_grace,
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
	metrics_count_tarpit(tarpit_outcome_name(res.outcome), res.elapsed_ms);
	stage_tarpit_outcome(s, rcpt, &res, r);
}

/* Remember an accepted recipient for the pass recorded at DATA. */
static void
stage_remember_rcpt(session_t *s, const char *rcpt)
{
	if (s->rcpts.n < SESSION_RCPTS_MAX && strlist_add(&s->rcpts, rcpt, strlen(rcpt)) < 0)
		log_warning("out of memory remembering a recipient");
}

/*
 * The admission cap of the tarpit: the smaller of tarpit_max_sessions and
 * tarpit_max_share percent of smtpd_process_limit (or the limit learned
 * from postconf). *WHY names the one that binds, for the log.
 */
static long
stage_tarpit_cap(const runtime_t *rt, const char **why)
{
	const config_t *cfg = rt->cfg;
	long	share = rt->smtpd_limit * cfg->tarpit_max_share / 100;

	*why = "tarpit_max_sessions";
	if (share < cfg->tarpit_max_sessions) {
		*why = "tarpit_max_share";
		return share;
	}
	return cfg->tarpit_max_sessions;
}

/* Try to enter the tarpit; NULL, or why not, in WHY[SIZE] for the log. */
static const char *
stage_tarpit_enter(const runtime_t *rt, char *why, size_t size)
{
	const char *limit;
	long	cap = stage_tarpit_cap(rt, &limit);

	if (fdlimit_tarpit_enter(cap))
		return NULL;
	if (fdlimit_tarpit_cap() < cap) {
		limit = "descriptor_limit";
		cap = fdlimit_tarpit_cap();
	}
	if (cap == 0) {
		snprintf(why, size, "tarpit=off limit=%s", limit);
		return why;
	}
	store_event_count(runtime_store(), STORE_EVENT_TARPIT_FULL);
	snprintf(why, size, "tarpit=full limit=%s running=%ld max=%ld tarpit_full_total=%lu",
	    limit, tarpit_active(), cap, atomic_fetch_add(&stage_tarpit_full_total, 1) + 1);
	return why;
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
	stage_metrics_greylist(v, &g, (int64_t) time(NULL));
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

/* Judge a pending tarpit pass now: the client is still there (1) or not. */
static void
stage_pending_judge(session_t *s, int there, const char *stage, const char *when)
{
	char	extra[512];
	size_t	len;

	s->tarpit_pending = 0;
	if (there) {
		s->tg_verdict = "tarpit_passed";
		return;
	}
	stage_tarpit_failed(s);
	len = stage_summary(s, extra, sizeof(extra));
	if (len < sizeof(extra))
		snprintf(extra + len, sizeof(extra) - len, " (%s)", when);
	session_log(s, stage, "tarpit", s->tarpit_pending_reason, extra);
}

/* DATA after a passed tarpit: the client proved patient. */
void
stage_data(session_t *s)
{
	sockdiag_tuple_t tuple;

	if (s->tarpit_pending)
		stage_pending_judge(s, stage_tuple(s, &tuple) < 0
		    || tarpit_recheck(&tuple, s->tarpit_inode) != 0, "data",
		    "connection reset before DATA");
	if (!s->tarpit_passed || runtime_store() == NULL)
		return;
	store_tarpit_passed(runtime_store(), &s->rt->grey, (int64_t) time(NULL), &s->client,
	    s->from ? s->from : "", (const char *const *) s->rcpts.items, s->rcpts.n);
}

/* End of message: defer it once when recipients were greylisted into it. */
void
stage_eom(session_t *s, stage_reply_t *r)
{
	char	extra[512];
	size_t	len;

	if (s->grey_deferred == 0)
		return;
	len = stage_eom_summary(s, extra, sizeof(extra));
	if (len < sizeof(extra))
		snprintf(extra + len, sizeof(extra) - len, " greylisted=%u", s->grey_deferred);
	stage_reply_set(r, STAGE_TEMPFAIL, "450", "4.7.1", "%s", s->rt->cfg->greylist_text);
	session_log(s, "eom", "greylist", "deferred_recipients", extra);
}

/* The transaction or session ended before DATA: a pending pass fails. */
void
stage_end(session_t *s)
{
	if (s->tarpit_pending)
		stage_pending_judge(s, 0, "end", "the session ended before DATA");
}
