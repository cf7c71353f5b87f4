/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	stage - what targrey-milter decides at each SMTP stage
 * SYNOPSIS
 *	#include "stage.h"
 *
 *	int stage_connect(session_t *s, const char *client_resolve);
 *	void stage_mail(session_t *s, stage_reply_t *r);
 *	void stage_rcpt(session_t *s, const char *rcpt, const stage_waiter_t *w,
 *		stage_reply_t *r);
 *	void stage_data(session_t *s);
 *	void stage_end(session_t *s);
 *	void stage_eom(session_t *s, stage_reply_t *r);
 *	size_t stage_headers(const session_t *s, spf_header_t out[SPF_HEADERS_MAX]);
 *	size_t stage_summary(const session_t *s, char *buf, size_t size);
 *	size_t stage_eom_summary(const session_t *s, char *buf, size_t size);
 * DESCRIPTION
 *	These functions hold the decisions of one session; milter.c only
 *	translates libmilter events into calls to them and their replies
 *	back. Each writes one decision line for every decision that changes
 *	what Postfix does (reject, defer, tarpit, greylist) and, in dry_run
 *	mode, "would ..." lines instead while everything continues.
 *
 *	stage_connect() returns 1 for a client in trusted_networks (it
 *	skips everything); otherwise it does the milter's own
 *	forward-confirmed reverse lookup when Postfix did not look the name
 *	up (s25r_reverse_lookup), looks the client up in client_whitelist
 *	and classifies it with S25R, and returns 0. The decisions of every
 *	stage but MAIL's are policy_decide()'s (policy.h).
 *
 *	stage_mail() runs the SPF checks (HELO, then MAIL FROM) and fills R
 *	with a reject or defer per the spf_* policy.
 *
 *	stage_rcpt() applies the recipient and sender whitelists and, for a
 *	suspicious client, taRgrey: greylist, tarpit (waiting through
 *	W->progress so Postfix keeps waiting) or pass.
 *
 *	stage_rcpt() logs each decision with the recipient it is about, and
 *	counts the recipients let through (the first becomes s->rcpt, the
 *	to= of later lines).
 *
 *	stage_data() records a passed tarpit when the client reaches DATA;
 *	a client that half-closed before its tarpit (see tarpit.h) passes
 *	here unless its socket was reset meanwhile. stage_end() is called
 *	at abort and close: such a client that never reached DATA hung up,
 *	and is recorded and logged as a failed tarpit.
 *	stage_headers() gives the headers to add at end of message.
 *	stage_rcpt() answers at most greylist_rcpt_replies greylisted
 *	recipients of a transaction with 450; later greylisted ones are
 *	recorded and accepted, and stage_eom() then defers the whole message
 *	once (450 4.7.1): a greylisted message to 25 recipients costs the
 *	client 5 + 1 errors, not 25 (smtpd's soft limit 10 slows it, its hard
 *	limit 20 cuts it off before the last triplets are recorded).
 *
 *	stage_summary() writes "key=value" facts for the message's log line;
 *	stage_eom_summary() adds the number of recipients (rcpts=N) for the
 *	end-of-message line, whose to= is the first of them.
 *
 *	stage_reply_set() fills a reply; its text is printable ASCII
 *	(other bytes become '?') with every '%' doubled: the milter protocol
 *	keeps sendmail's format-string convention, so Postfix turns "%%"
 *	back into '%' and drops a single '%'.
 */
#ifndef TG_STAGE_H
#define TG_STAGE_H

#include <stddef.h>
#include "session.h"
#include "spf_header.h"

typedef enum { STAGE_CONTINUE = 0, STAGE_REJECT, STAGE_TEMPFAIL } stage_action_t;

typedef struct {
	stage_action_t action;
	const char *rcode;		/* "550", "450", ... */
	const char *xcode;		/* "5.7.23", ... */
	char	text[320];		/* printable ASCII, '%' doubled */
} stage_reply_t;

typedef struct {
	int	(*progress)(void *arg);	/* keeps Postfix waiting; < 0: it is gone */
	void   *arg;
} stage_waiter_t;

int	stage_connect(session_t *s, const char *client_resolve);
void	stage_mail(session_t *s, stage_reply_t *r);
void	stage_rcpt(session_t *s, const char *rcpt, const stage_waiter_t *w, stage_reply_t *r);
void	stage_data(session_t *s);
void	stage_end(session_t *s);
void	stage_eom(session_t *s, stage_reply_t *r);
size_t	stage_headers(const session_t *s, spf_header_t out[SPF_HEADERS_MAX]);
size_t	stage_summary(const session_t *s, char *buf, size_t size);
size_t	stage_eom_summary(const session_t *s, char *buf, size_t size);
void	stage_reply_set(stage_reply_t *r, stage_action_t action, const char *rcode,
	    const char *xcode, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
