/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	stage_data - the tarpit's outcome at DATA, greylisting at the end
 *	of message, a pending pass at the end of the session
 * DESCRIPTION
 *	See stage.h and stage_rcpt.c (where a pass becomes pending). At
 *	DATA a provisional tarpit pass is confirmed when the socket was
 *	not reset, and a passed tarpit is recorded in the store for the
 *	recipients remembered at RCPT. At the end of the message, the
 *	recipients greylisted into it (greylist_rcpt_replies) defer it
 *	once. A session or transaction that ends before DATA fails a
 *	pending pass.
 * DIAGNOSTICS
 *	"tarpit" lines at stage "data" or "end" for a pending pass that
 *	fails; one "eom greylist deferred_recipients" line.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "sockdiag.h"
#include "stage_int.h"
#include "words.h"

/* Judge a pending tarpit pass now: the client is still there (1) or not. */
static void
stage_pending_judge(session_t *s, int there, const char *stage, const char *when)
{
	char	extra[512];
	size_t	len;

	s->tarpit_pending = 0;
	if (there) {
		s->tg_verdict = W_TARPIT_PASSED;
		return;
	}
	stage_tarpit_failed(s);
	len = stage_summary(s, extra, sizeof(extra));
	if (len < sizeof(extra))
		snprintf(extra + len, sizeof(extra) - len, " (%s)", when);
	session_log(s, stage, W_TARPIT, s->tarpit_pending_reason, extra);
}

/* DATA after a passed tarpit: the client proved patient. */
void
stage_data(session_t *s)
{
	sockdiag_tuple_t tuple;

	if (s->tarpit_pending)
		stage_pending_judge(s, stage_tuple(s, &tuple) < 0
		    || tarpit_recheck(&tuple, s->tarpit_inode) != 0, W_DATA,
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
	session_log(s, W_EOM, W_GREYLIST, W_DEFERRED_RECIPIENTS, extra);
}

/* The transaction or session ended before DATA: a pending pass fails. */
void
stage_end(session_t *s)
{
	if (s->tarpit_pending)
		stage_pending_judge(s, 0, W_END, "the session ended before DATA");
}
