/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	stage_mail - SPF at MAIL FROM
 * DESCRIPTION
 *	See stage.h. spf_evaluate() checks HELO then MAIL FROM in the order
 *	pypolicyd-spf uses and decides with the spf_* parameters; this file
 *	turns its verdict into a reply (or, with dry_run, a "would" line).
 *	The headers and the summary of facts are in stage_reply.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "stage.h"
#include "stage_metrics.h"
#include "words.h"

/* SPF: HELO, then MAIL FROM; reject or defer per policy. */
void
stage_mail(session_t *s, stage_reply_t *r)
{
	const spf_verdict_t *v = &s->spf.verdict;
	char	extra[256];

	spf_evaluate(s->rt->spf, &s->client, s->helo ? s->helo : "", s->from ? s->from : "",
	    &s->spf);
	s->spf_done = 1;
	stage_metrics_spf(&s->spf);
	if (v->action == SPF_ACT_CONTINUE)
		return;
	stage_summary(s, extra, sizeof(extra));
	if (s->rt->cfg->dry_run) {
		session_log(s, W_MAIL, v->action == SPF_ACT_REJECT ? W_WOULD_REJECT : W_WOULD_DEFER,
		    v->tag, extra);
		return;
	}
	stage_reply_set(r, v->action == SPF_ACT_REJECT ? STAGE_REJECT : STAGE_TEMPFAIL,
	    v->rcode, v->xcode, "%s", v->text);
	session_log(s, W_MAIL, v->action == SPF_ACT_REJECT ? W_REJECT : W_DEFER, v->tag, extra);
}
