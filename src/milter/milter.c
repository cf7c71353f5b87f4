/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	milter - the libmilter callbacks
 * DESCRIPTION
 *	See milter.h. At negotiation the milter asks Postfix for exactly the
 *	macros it uses (smfi_setsymlist empties Postfix's lists, so every
 *	stage is listed) and switches off the events it does not need
 *	(headers, body) and the replies it never sends, which saves Postfix
 *	work on every message.
 *
 *	Per stage (the decisions themselves are in stage_*.c):
 *	connect	session, client facts; while the daemon drains for a stop
 *		-> tempfail; else trusted network -> accept (skip all),
 *		whitelist, reverse lookup, S25R (stage_connect)
 *	helo	remember the HELO name (no reply)
 *	mail	queue id; authenticated client -> accept (skip all); SPF
 *	rcpt	taRgrey: greylist or tarpit a suspicious client
 *	data	a passed tarpit is recorded; continue
 *	eom	SPF headers; the message's decision line
 *	abort	forget the transaction
 *	close	free the session (also for libmilter's own handoff sessions,
 *		which have no private data, see pool.h)
 *
 *	DATA is answered although the milter has nothing to say there. With
 *	SMFIP_NR_DATA Postfix writes the DATA packets and expects nothing
 *	back; over TCP the milter host then delays its ACK (40 ms) and Nagle
 *	on Postfix's socket, which has no TCP_NODELAY, holds the next small
 *	packet (the end-of-message macros) until that ACK comes: every
 *	message waited ~44 ms. The reply carries the ACK at once. Measured
 *	one message at a time through Postfix 3.7 over inet: 48.8 ms with
 *	NR_DATA, 4.4-5.3 ms answering DATA (unix socket: 4.3-4.7 ms either
 *	way), milter CPU no higher (tests/bench/e2e_serial.py).
 *	TCP_NODELAY on the milter's socket cannot help: Nagle is on
 *	Postfix's side.
 *
 *	Every callback is bracketed by pool_busy_begin()/pool_busy_end() so
 *	that the pool watchdog can find callbacks that block (slow DNS).
 * DIAGNOSTICS
 *	A session that cannot be set up (out of memory, no snapshot) is
 *	logged and continues unchecked: a milter problem must not refuse mail.
 */
#include <libmilter/mfapi.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "milter.h"
#include "runtime.h"
#include "session.h"
#include "signals.h"
#include "pool.h"
#include "stage.h"
#include "words.h"

#define MILTER_FLAGS	(SMFIF_ADDHDRS)

/* Macros asked for, per stage (Postfix sends nothing else). */
static const struct {
	int	stage;
	char   *macros;
} milter_macros[] = {
	{SMFIM_CONNECT, "j {daemon_addr} {daemon_port} {client_resolve}"},
	{SMFIM_HELO, "{tls_version}"},
	{SMFIM_ENVFROM, "i {auth_authen}"},
	{SMFIM_ENVRCPT, "i"},
	{SMFIM_DATA, "i"},
	{SMFIM_EOM, "i"},
};

#define MILTER_SESSION(ctx)	((session_t *) smfi_getpriv(ctx))

/* Copy a macro value into a fixed buffer ("" when absent). */
static void
milter_macro(SMFICTX *ctx, const char *name, char *buf, size_t size)
{
	const char *v = smfi_getsymval(ctx, (char *) name);
	size_t	len = v ? strnlen(v, size - 1) : 0;

	memcpy(buf, v ? v : "", len);
	buf[len] = '\0';
}

/* Negotiation: the events and macros this milter needs. */
static sfsistat
milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
		 unsigned long f3, unsigned long *pf0, unsigned long *pf1,
		 unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN
	    | SMFIP_NR_HELO;	/* not SMFIP_NR_DATA: see the top of this file */

	(void) f2;
	(void) f3;
	*pf0 = f0 & MILTER_FLAGS;
	*pf1 = f1 & want;
	*pf2 = *pf3 = 0;
	for (size_t i = 0; i < sizeof(milter_macros) / sizeof(milter_macros[0]); i++)
		if (smfi_setsymlist(ctx, milter_macros[i].stage, milter_macros[i].macros) != MI_SUCCESS)
			log_warning("milter: cannot request macros for stage %d", milter_macros[i].stage);
	return SMFIS_CONTINUE;
}

/* Connect: build the session; trusted clients skip everything. */
static sfsistat
milter_connect_run(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	runtime_t *rt = runtime_acquire();
	session_t *s;
	char	port[16], resolve[16];

	if (rt == NULL || (s = session_new(rt)) == NULL) {
		runtime_release(rt);
		log_error("milter: cannot set up a session (out of memory); mail passes unchecked");
		return SMFIS_ACCEPT;
	}
	smfi_setpriv(ctx, s);
	if (signals_draining()) {
		session_set_client(s, hostaddr, hostname);
		session_log(s, W_CONNECT, W_TEMPFAIL, W_SHUTTING_DOWN, NULL);
		return SMFIS_TEMPFAIL;
	}
	if (session_set_client(s, hostaddr, hostname) < 0) {
		s->skip_reason = W_NO_CLIENT_ADDRESS;
		session_log(s, W_CONNECT, W_SKIP, s->skip_reason, NULL);
		return SMFIS_ACCEPT;
	}
	milter_macro(ctx, "{daemon_addr}", s->daemon_addr, sizeof(s->daemon_addr));
	milter_macro(ctx, "{daemon_port}", port, sizeof(port));
	s->daemon_port = (unsigned) strtoul(port, NULL, 10);
	milter_macro(ctx, "{client_resolve}", resolve, sizeof(resolve));
	return stage_connect(s, resolve) ? SMFIS_ACCEPT : SMFIS_CONTINUE;
}

/* HELO/EHLO: remember the name (the reply is switched off). */
static sfsistat
milter_helo(SMFICTX *ctx, char *helo)
{
	session_t *s = MILTER_SESSION(ctx);

	if (s != NULL && session_set_text(&s->helo, helo) < 0)
		log_warning("milter: out of memory saving HELO");
	return SMFIS_NOREPLY;
}

/* Send R to Postfix: the reply text and the matching status. */
static sfsistat
milter_reply(SMFICTX *ctx, const stage_reply_t *r)
{
	if (r->action == STAGE_CONTINUE)
		return SMFIS_CONTINUE;
	if (smfi_setreply(ctx, (char *) r->rcode, (char *) r->xcode, (char *) r->text) != MI_SUCCESS)
		log_warning("milter: libmilter refused the reply text \"%s\"", r->text);
	return r->action == STAGE_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/* Copy an envelope address without its angle brackets. */
static void
milter_address(char **field, const char *arg)
{
	size_t	len = strlen(arg);
	char   *inner;

	if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>') {
		if ((inner = strndup(arg + 1, len - 2)) != NULL)
			session_set_text(field, inner);
		free(inner);
	} else {
		session_set_text(field, arg);
	}
}

/* MAIL FROM: start a transaction; SPF. */
static sfsistat
milter_envfrom_run(SMFICTX *ctx, char **argv)
{
	session_t *s = MILTER_SESSION(ctx);
	stage_reply_t r = {0};
	char	auth[SESSION_NAME_MAX];

	if (s == NULL)
		return SMFIS_ACCEPT;
	session_reset_transaction(s);
	milter_macro(ctx, "i", s->queue_id, sizeof(s->queue_id));
	milter_address(&s->from, argv && argv[0] ? argv[0] : "");
	milter_macro(ctx, "{auth_authen}", auth, sizeof(auth));
	if (auth[0] != '\0' && s->rt->cfg->skip_authenticated) {
		session_log(s, W_MAIL, W_SKIP, W_AUTHENTICATED, NULL);
		return SMFIS_ACCEPT;
	}
	stage_mail(s, &r);
	return milter_reply(ctx, &r);
}

/* Progress for the tarpit: Postfix restarts its command timeout. */
static int
milter_progress(void *ctx)
{
	return smfi_progress((SMFICTX *) ctx) == MI_SUCCESS ? 0 : -1;
}

/* RCPT TO: taRgrey for each recipient. */
static sfsistat
milter_envrcpt_run(SMFICTX *ctx, char **argv)
{
	session_t *s = MILTER_SESSION(ctx);
	stage_waiter_t w = {milter_progress, ctx};
	stage_reply_t r = {0};
	char   *rcpt = NULL;

	if (s == NULL)
		return SMFIS_ACCEPT;
	milter_address(&rcpt, argv && argv[0] ? argv[0] : "");
	if (rcpt == NULL)
		return SMFIS_CONTINUE;
	if (s->rcpt_count++ == 0) {
		milter_macro(ctx, "i", s->queue_id, sizeof(s->queue_id));
		session_set_text(&s->rcpt, rcpt);
	}
	stage_rcpt(s, rcpt, &w, &r);
	free(rcpt);
	return milter_reply(ctx, &r);
}

/*
 * The callbacks that may block are watched by the pool watchdog: NAME
 * runs NAME_run between pool_busy_begin() and pool_busy_end().
 */
#define MILTER_WATCHED(name, params, args)				\
static sfsistat								\
name params								\
{									\
	sfsistat r;							\
									\
	pool_busy_begin();						\
	r = name##_run args;						\
	pool_busy_end();						\
	return r;							\
}

MILTER_WATCHED(milter_connect, (SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr),
    (ctx, hostname, hostaddr))
MILTER_WATCHED(milter_envfrom, (SMFICTX *ctx, char **argv), (ctx, argv))
MILTER_WATCHED(milter_envrcpt, (SMFICTX *ctx, char **argv), (ctx, argv))

/* DATA: a client that waited out its tarpit passed. Answered, so that
 * Postfix's next packet is not held by Nagle over TCP (see the top). */
static sfsistat
milter_data(SMFICTX *ctx)
{
	session_t *s = MILTER_SESSION(ctx);

	if (s != NULL)
		stage_data(s);
	return SMFIS_CONTINUE;
}

/* End of message: SPF headers and one decision line per message. */
static sfsistat
milter_eom(SMFICTX *ctx)
{
	session_t *s = MILTER_SESSION(ctx);
	spf_header_t hdrs[SPF_HEADERS_MAX];
	stage_reply_t r = {0};
	char	extra[512];
	size_t	n;

	if (s == NULL)
		return SMFIS_CONTINUE;
	milter_macro(ctx, "i", s->queue_id, sizeof(s->queue_id));
	stage_eom(s, &r);
	if (r.action != STAGE_CONTINUE) {
		session_reset_transaction(s);
		return milter_reply(ctx, &r);
	}
	n = stage_headers(s, hdrs);
	for (size_t i = n; i-- > 0;)
		if (smfi_insheader(ctx, 0, (char *) hdrs[i].name, hdrs[i].value) != MI_SUCCESS)
			log_warning("milter: cannot add the %s header", hdrs[i].name);
	s->messages++;
	stage_eom_summary(s, extra, sizeof(extra));
	session_log(s, W_EOM, W_ACCEPT, s->rt->cfg->dry_run ? W_DRY_RUN : W_PASSED, extra);
	session_reset_transaction(s);
	return SMFIS_CONTINUE;
}

/* Abort: the transaction ended without a message. */
static sfsistat
milter_abort(SMFICTX *ctx)
{
	session_t *s = MILTER_SESSION(ctx);

	if (s != NULL) {
		stage_end(s);
		session_reset_transaction(s);
	}
	return SMFIS_CONTINUE;
}

/* Close: free the session. */
static sfsistat
milter_close(SMFICTX *ctx)
{
	session_t *s = MILTER_SESSION(ctx);

	smfi_setpriv(ctx, NULL);
	if (s != NULL)
		stage_end(s);
	session_free(s);
	return SMFIS_CONTINUE;
}

/* Register the callbacks. */
int
milter_register(const char *name)
{
	static struct smfiDesc desc = {
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = MILTER_FLAGS,
		.xxfi_connect = milter_connect,
		.xxfi_helo = milter_helo,
		.xxfi_envfrom = milter_envfrom,
		.xxfi_envrcpt = milter_envrcpt,
		.xxfi_eom = milter_eom,
		.xxfi_abort = milter_abort,
		.xxfi_close = milter_close,
		.xxfi_data = milter_data,
		.xxfi_negotiate = milter_negotiate,
	};

	desc.xxfi_name = (char *) name;
	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
