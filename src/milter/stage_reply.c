/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	stage_reply - what every stage shares: the reply, the SPF headers
 *	and the facts summarised on a decision line
 * DESCRIPTION
 *	See stage.h. Below stage_mail.c, stage_rcpt.c and stage_data.c,
 *	which all use it; it calls no stage.
 * DIAGNOSTICS
 *	None: values are cleaned for the log, texts for the reply.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "stage.h"
#include "text.h"
#include "words.h"

/* Fill R; the text is cleaned as TEXT_SMTP_REPLY ('%' doubled, see stage.h). */
void
stage_reply_set(stage_reply_t *r, stage_action_t action, const char *rcode,
		const char *xcode, const char *fmt, ...)
{
	char	raw[sizeof(r->text)];
	va_list	ap;

	r->action = action;
	r->rcode = rcode;
	r->xcode = xcode;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	text_clean(TEXT_SMTP_REPLY, r->text, sizeof(r->text), raw);
}

/* The SPF headers for the message. */
size_t
stage_headers(const session_t *s, spf_header_t out[SPF_HEADERS_MAX])
{
	if (!s->spf_done)
		return 0;
	return spf_headers(s->rt->spf, &s->spf, out);
}

/* Append " key=value" with VALUE cleaned for the log; the new length,
 * always below SIZE (snprintf() returns what it would have written). */
static size_t
stage_fact(char *buf, size_t size, size_t len, const char *key, const char *value)
{
	char	clean[LOG_VALUE_MAX];
	int	n;

	if (value == NULL || len >= size)
		return len;
	text_clean(TEXT_LOG_VALUE, clean, sizeof(clean), value);
	n = snprintf(buf + len, size - len, "%s%s=%s", len ? " " : "", key, clean);
	if (n < 0)
		return len;
	return (size_t) n < size - len ? len + (size_t) n : size - 1;
}

/* "s25r=... spf=... helo_spf=... tg=..." for the message's line. */
size_t
stage_summary(const session_t *s, char *buf, size_t size)
{
	size_t	len = 0;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	len = stage_fact(buf, size, len, "s25r", s->s25r_reason[0] ? s->s25r_reason : NULL);
	if (s->spf_done && s->spf.skipped)
		len = stage_fact(buf, size, len, "spf", W_SKIPPED);
	else if (s->spf_done && s->spf.whitelisted)
		len = stage_fact(buf, size, len, "spf", W_WHITELISTED);
	if (s->spf_done && s->spf.mail_done)
		len = stage_fact(buf, size, len, "spf", spf_result_name(s->spf.mail.result));
	if (s->spf_done && s->spf.helo_done)
		len = stage_fact(buf, size, len, "helo_spf", spf_result_name(s->spf.helo.result));
	len = stage_fact(buf, size, len, "tg", s->tg_verdict);
	return len;
}

/* The summary plus "rcpts=N" for the end-of-message line. */
size_t
stage_eom_summary(const session_t *s, char *buf, size_t size)
{
	size_t	len = stage_summary(s, buf, size);
	int	n;

	if (len >= size)
		return len;
	n = snprintf(buf + len, size - len, "%srcpts=%u", len ? " " : "", s->rcpt_accepted);
	return n < 0 ? len : len + (size_t) n;
}
