/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	session - per-connection state of one SMTP session
 * SYNOPSIS
 *	#include "session.h"
 *
 *	session_t *session_new(runtime_t *rt);
 *	session_t *session_free(session_t *s);
 *	int session_set_client(session_t *s, const struct sockaddr *sa, const char *name);
 *	int session_set_text(char **field, const char *value);
 *	void session_reset_transaction(session_t *s);
 *	void session_log(const session_t *s, const char *stage, const char *action,
 *		const char *reason, const char *extra);
 *	void session_log_to(const session_t *s, const char *to, const char *stage,
 *		const char *action, const char *reason, const char *extra);
 *	unsigned session_active(void);
 * DESCRIPTION
 *	A session_t lives from connect to close. It holds the runtime
 *	snapshot the session started with (a reload never changes a running
 *	session), the client facts Postfix gave, and the transaction state.
 *
 *	session_set_client() records the client address and port from the
 *	connect packet and the host name; Postfix writes "[ADDR]" when it has
 *	no verified name, which is kept as an empty client_name.
 *	session_set_text() replaces a string field with a copy of VALUE cut
 *	at SESSION_TEXT_MAX bytes (HELO and addresses are client data).
 *	session_reset_transaction() forgets MAIL FROM and recipients.
 *	session_log() writes the decision line with the session's facts
 *	(to= the transaction's first accepted recipient); session_log_to()
 *	names recipient TO instead, for a decision about that recipient.
 *	session_active() counts sessions alive (for shutdown).
 */
#ifndef TG_SESSION_H
#define TG_SESSION_H

#include <sys/socket.h>
#include <time.h>
#include "addr.h"
#include "runtime.h"
#include "s25r.h"
#include "spf_policy.h"
#include "strlist.h"
#include "tarpit.h"

#define SESSION_TEXT_MAX	1024
#define SESSION_NAME_MAX	256
#define SESSION_RCPTS_MAX	100	/* recipients remembered per transaction */

typedef struct session {
	runtime_t *rt;			/* snapshot, referenced until close */
	struct timespec started;	/* CLOCK_MONOTONIC at connect */
	/* client */
	int	has_addr;		/* 0 for unix-domain or unknown families */
	addr_t	client;
	char	client_addr[ADDR_TEXT_MAX];
	unsigned client_port;
	char	client_name[SESSION_NAME_MAX];	/* verified name, "" = none */
	char	daemon_addr[ADDR_TEXT_MAX];
	unsigned daemon_port;
	/* why the checks are skipped, NULL = they are not */
	const char *skip_reason;
	/* S25R at connect */
	int	suspicious;		/* 1: taRgrey applies to this client */
	char	s25r_reason[S25R_REASON_MAX];
	const char *tg_skip;		/* client whitelisted: no taRgrey, or NULL */
	/* SPF at MAIL FROM (per transaction) */
	int	spf_done;
	spf_outcome_t spf;
	/* taRgrey */
	int	tarpit_done;		/* one tarpit per session */
	int	tarpit_passed;		/* waited it out: record a pass at DATA */
	int	tarpit_pending;		/* pass judged at DATA or the end */
	unsigned long tarpit_inode;	/* smtpd's socket, for that judgment */
	const char *tarpit_pending_reason;	/* logged if it fails */
	const char *tg_verdict;		/* of the transaction, for the log */
	/* SMTP */
	char   *helo;
	char   *from;			/* without <>, "" = null sender */
	char   *rcpt;			/* first recipient of the transaction */
	strlist_t rcpts;		/* accepted recipients (at most SESSION_RCPTS_MAX) */
	unsigned rcpt_count;
	unsigned rcpt_accepted;		/* recipients the milter let through */
	unsigned grey_replied;		/* greylisted with 450 at RCPT */
	unsigned grey_deferred;		/* greylisted, deferred to end of message */
	char	queue_id[32];
	unsigned messages;		/* transactions that reached end of message */
} session_t;

session_t *session_new(runtime_t *rt);
session_t *session_free(session_t *s);
int	session_set_client(session_t *s, const struct sockaddr *sa, const char *name);
int	session_set_text(char **field, const char *value);
void	session_reset_transaction(session_t *s);
void	session_log(const session_t *s, const char *stage, const char *action,
	    const char *reason, const char *extra);
void	session_log_to(const session_t *s, const char *to, const char *stage,
	    const char *action, const char *reason, const char *extra);
double	session_elapsed(const session_t *s);
unsigned session_active(void);

#endif
