/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	stage_tarpit - running the tarpit for RCPT and recording its outcome
 * DESCRIPTION
 *	See stage_int.h. Entering the tarpit (its admission cap:
 *	tarpit_max_sessions, or tarpit_max_share percent of the smtpd
 *	process limit, or the descriptor budget, whichever is smallest),
 *	holding the RCPT reply (tarpit_wait(), after asking pool_handoff()
 *	for a free libmilter worker for the other sessions, see pool.h; when
 *	none is confirmed it warns and waits all the same) and acting on the outcome: passed, passed provisionally
 *	(pipelined batch tail or half-closed: judged at DATA, see
 *	stage_data.c), failed (store write, 450) or aborted.
 * DIAGNOSTICS
 *	One "tarpit" line per tarpit naming the recipient; with log_level
 *	2 or more, "tarpit: start client=[ADDR] ..." when a tarpit begins
 *	(tests wait on it). A full or switched-off tarpit is described for
 *	the greylist line (tarpit=full limit=... running=N max=M
 *	tarpit_full_total=T, or tarpit=off) and counted in the store.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "fdlimit.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "sockdiag.h"
#include "stage_int.h"
#include "words.h"

static atomic_ulong stage_tarpit_full_total;	/* greylisted: tarpit full */

/* Log a tarpit's outcome for RCPT. */
static void
stage_tarpit_log(session_t *s, const char *rcpt, const char *reason,
		 const tarpit_result_t *res, const char *more)
{
	char	extra[512];
	size_t	len = stage_summary(s, extra, sizeof(extra));

	snprintf(extra + len, sizeof(extra) - len, " waited=%.1fs probes=%d%s%s",
	    (double) res->elapsed_ms / 1000.0, res->probes, more ? " " : "", more ? more : "");
	session_log_to(s, rcpt, W_RCPT, W_TARPIT, reason, extra);
}

/* The probe's 4-tuple: smtpd's end from {daemon_addr}/{daemon_port}. */
int
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
void
stage_tarpit_failed(session_t *s)
{
	s->tg_verdict = W_TARPIT_FAILED;
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
		s->tg_verdict = W_TARPIT_PASSED;
		if (res->grace_bytes)
			stage_tarpit_pending(s, res, W_PIPELINING);
		stage_tarpit_log(s, rcpt, W_PASSED, res, more[0] ? more : NULL);
		break;
	case TARPIT_NO_PROBE:
		/* nobody watched: it waited, whether the client stayed is unknown */
		s->tarpit_passed = 1;
		s->tg_verdict = W_TARPIT_UNWATCHED;
		stage_tarpit_log(s, rcpt, W_WAITED, res, "detection=off");
		break;
	case TARPIT_HALF_CLOSED:
		s->tarpit_passed = 1;
		stage_tarpit_pending(s, res, W_LOST_CONNECTION);
		s->tg_verdict = W_TARPIT_HALF_CLOSED;
		stage_tarpit_log(s, rcpt, W_HALF_CLOSED, res, "(client shut down its sending side"
		    " behind its transaction; judged at DATA)");
		break;
	case TARPIT_DISCONNECTED:
		stage_tarpit_failed(s);
		snprintf(more, sizeof(more), "(lost connection after %.1f s)", (double) res->elapsed_ms / 1000.0);
		stage_tarpit_log(s, rcpt, W_LOST_CONNECTION, res, more);
		stage_reply_set(r, STAGE_TEMPFAIL, "450", "4.7.1", "%s", s->rt->cfg->greylist_text);
		break;
	case TARPIT_PIPELINING:
		stage_tarpit_failed(s);
		stage_tarpit_log(s, rcpt, W_PIPELINING, res, NULL);
		stage_reply_set(r, STAGE_TEMPFAIL, "450", "4.5.0",
		    "Improper use of SMTP command pipelining");
		break;
	case TARPIT_ABORTED:
		s->tg_verdict = W_TARPIT_ABORTED;
		stage_tarpit_log(s, rcpt, W_ABORTED, res, "(shutting down or Postfix gone)");
		break;
	}
}

/* Hold the RCPT reply for tarpit_delay, watching the client. */
void
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
const char *
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
