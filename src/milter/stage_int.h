/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	stage_int - what the stage files share among themselves
 * SYNOPSIS
 *	#include "stage_int.h"
 *
 *	const char *stage_tarpit_enter(const runtime_t *rt, char *why, size_t size);
 *	void stage_tarpit(session_t *s, const char *rcpt, const stage_waiter_t *w,
 *	    stage_reply_t *r);
 *	void stage_tarpit_failed(session_t *s);
 *	int stage_tuple(const session_t *s, sockdiag_tuple_t *t);
 * DESCRIPTION
 *	Not for milter.c (which uses stage.h). stage_tarpit.c:
 *	stage_tarpit_enter() takes a tarpit slot (release it with
 *	tarpit_leave()), or returns why not for the log, in WHY;
 *	stage_tarpit() holds the RCPT reply and acts on the outcome;
 *	stage_tarpit_failed() records a failed tarpit; stage_tuple() fills
 *	the probe's 4-tuple, -1 when {daemon_addr}/{daemon_port} are
 *	missing.
 */
#ifndef TG_STAGE_INT_H
#define TG_STAGE_INT_H

#include "sockdiag.h"
#include "stage.h"

const char *stage_tarpit_enter(const runtime_t *rt, char *why, size_t size);
void	stage_tarpit(session_t *s, const char *rcpt, const stage_waiter_t *w,
	    stage_reply_t *r);
void	stage_tarpit_failed(session_t *s);
int	stage_tuple(const session_t *s, sockdiag_tuple_t *t);

#endif
