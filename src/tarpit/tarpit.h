/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	tarpit - delay a reply against a deadline, watching the client
 * SYNOPSIS
 *	#include "tarpit.h"
 *
 *	int tarpit_wait(const tarpit_req_t *req, tarpit_result_t *res);
 *	const char *tarpit_outcome_name(tarpit_outcome_t outcome);
 *	int tarpit_recheck(const sockdiag_tuple_t *tuple, unsigned long inode);
 *
 *	int tarpit_try_enter(long max);
 *	void tarpit_leave(void);
 *	long tarpit_active(void);
 *
 *	void tarpit_cancel_all(void);
 * DESCRIPTION
 *	tarpit_wait() keeps the calling thread waiting until REQ->delay_ms
 *	have passed on CLOCK_MONOTONIC, and ends it early when smtpd's
 *	socket to the client shows the client gave up or talked out of turn.
 *	It never sleeps blind and never spins: the waiting thread sleeps on
 *	a condition variable with an absolute deadline (its next progress
 *	call or the end), and one prober thread shared by all tarpits makes
 *	the probes, on a grid of multiples of the poll interval, and wakes a
 *	waiter only when its client left or talked. Measured: 2000 waiting
 *	tarpits with a 250 ms poll interval cost about 57 ms CPU per second
 *	(5-7 us per probe) on a loaded 2-core machine. Events, in the order
 *	they are handled when due at the same moment:
 *
 *	- every REQ->poll_ms: sockdiag_probe() of REQ->tuple. The socket is
 *	  gone when the answer is not the socket of the first probe (another
 *	  inode, e.g. the listener after an RST), not ESTABLISHED (CLOSE_WAIT
 *	  after a FIN), or not found: outcome TARPIT_DISCONNECTED. More
 *	  unread bytes (rqueue) than at the last baseline: within
 *	  REQ->grace_ms of the start this is the tail of a pipelined batch
 *	  that the client wrote in pieces (RFC 2920 allows any number of
 *	  writes), and the baseline moves up (res->grace_bytes counts it);
 *	  after the grace the client talked out of turn: res->pipelined is
 *	  set, and with REQ->stop_on_pipelining the outcome is
 *	  TARPIT_PIPELINING at once (otherwise the wait goes on). A FIN
 *	  within the grace behind such a tail (more than the FIN's own
 *	  byte) is a half-close, as below, not a hang-up.
 *	- every REQ->progress_ms: REQ->progress(REQ->progress_arg); the
 *	  milter passes a function that calls smfi_progress(). A negative
 *	  return (the MTA is gone) ends the wait: TARPIT_ABORTED.
 *	- the deadline: TARPIT_PASSED.
 *
 *	The first probe is made at once. When it cannot work - REQ->tuple
 *	is NULL (no {daemon_port}), the socket is not found, the 4-tuple
 *	only matches a listener (XCLIENT or a proxy changed the client's
 *	address), or netlink is not available - the wait goes on as a plain
 *	deadline wait and the outcome is TARPIT_NO_PROBE (the milter logs
 *	that detection is off); res->probe_error says why. When the first
 *	probe finds the client's FIN already there (CLOSE_WAIT) the client
 *	wrote its end before smtpd even read this RCPT: Exim with CHUNKING
 *	writes MAIL, RCPTs, BDAT LAST, the body and QUIT, then shuts down
 *	its sending side and reads the replies. That is no hang-up: the
 *	wait goes on, ending early only when the socket is reset or gone,
 *	and the outcome is TARPIT_HALF_CLOSED; the caller judges the
 *	client at the next stage (tarpit_recheck() at DATA, or the session
 *	ending before DATA). A first probe that finds the socket in any
 *	other closing state gives TARPIT_DISCONNECTED after 0 s.
 *
 *	tarpit_recheck() probes TUPLE again after the wait: 1 when the
 *	socket of inode INODE is still there (ESTABLISHED or CLOSE_WAIT),
 *	0 when it was reset or is gone (LISTEN, another inode, not found),
 *	-1 when the probe failed. A later probe that fails with an
 *	error other than "not found" (e.g. -ENOBUFS) is not taken as a
 *	disconnect: the probe is retried at the next interval.
 *
 *	tarpit_try_enter() counts one more tarpit if fewer than MAX are
 *	running and returns 1; otherwise it returns 0 and the caller
 *	greylists instead (MAX 0 allows none). Every successful
 *	tarpit_try_enter() must be paired with one tarpit_leave().
 *	tarpit_active() returns the number running now.
 *
 *	tarpit_cancel_all() ends every running and future tarpit_wait()
 *	with TARPIT_ABORTED at once: for daemon shutdown (call it from the
 *	drain hook so that SIGTERM does not wait 125 s). It
 *	cannot be undone.
 * EXAMPLE
 *	The RCPT callback when the decision is "tarpit" (the real code is
 *	src/milter/stage_tarpit.c and stage_rcpt.c; see pool.h for
 *	pool_handoff()):
 *
 *	cap = the smaller of tarpit_max_sessions and tarpit_max_share
 *	    percent of smtpd's process limit;
 *	if (!fdlimit_tarpit_enter(cap))	(also bounded by descriptors)
 *		greylist instead, log "tarpit=full limit=...";
 *	else {
 *		if (pool_handoff() < 0)
 *			log a warning and wait all the same;
 *		tarpit_req_t req = {.delay_ms = cfg->tarpit_delay,
 *		    .poll_ms = cfg->tarpit_poll_interval,
 *		    .progress_ms = cfg->tarpit_progress_interval,
 *		    .stop_on_pipelining = cfg->tarpit_pipelining_action
 *			== TARPIT_PIPELINING_FAIL,
 *		    .grace_ms = cfg->tarpit_pipelining_grace,
 *		    .tuple = have_daemon_port ? &tuple : NULL,
 *		    .progress = call_smfi_progress, .progress_arg = ctx};
 *		tarpit_wait(&req, &res);
 *		PASSED: continue (provisionally when res.grace_bytes: judged
 *		    at DATA); NO_PROBE: continue, "detection=off";
 *		HALF_CLOSED: continue, judged at DATA;
 *		DISCONNECTED: mark failed, 450 4.7.1, "lost connection
 *		    after N.N s"; PIPELINING: mark failed, 450 4.5.0;
 *		ABORTED: log it, no reply of its own;
 *		tarpit_leave();
 *	}
 *
 *	where call_smfi_progress(arg) returns smfi_progress(arg) ==
 *	MI_SUCCESS ? 0 : -1, and the tuple is filled at RCPT from
 *	{daemon_addr}, {daemon_port} and the client's address and port
 *	of the connect callback.
 * DIAGNOSTICS
 *	tarpit_wait() returns 0 with RES filled, or -EINVAL for a null
 *	argument, a negative delay, or a poll or progress interval below
 *	1 ms.
 * THREADS
 *	All functions are safe to call from many threads at once; the
 *	counter is a C11 atomic; the list of waits, their probe results and
 *	the cancel flag are under one mutex. The prober thread is started
 *	on the first tarpit_wait() with every signal blocked (libmilter
 *	takes SIGTERM with sigwait()); if it cannot start, each waiter
 *	probes for itself on the same schedule.
 */
#ifndef TG_TARPIT_H
#define TG_TARPIT_H

#include "sockdiag.h"

typedef int (*tarpit_progress_fn)(void *arg);	/* 0, or < 0: MTA gone */

typedef struct {
	long	delay_ms;		/* tarpit_delay */
	long	poll_ms;		/* tarpit_poll_interval */
	long	progress_ms;		/* tarpit_progress_interval */
	int	stop_on_pipelining;	/* tarpit_pipelining_action = fail */
	const sockdiag_tuple_t *tuple;	/* smtpd's socket; NULL: no probe */
	tarpit_progress_fn progress;	/* NULL: no progress calls */
	void   *progress_arg;
	long	grace_ms;		/* tarpit_pipelining_grace; 0: none */
} tarpit_req_t;

typedef enum {
	TARPIT_PASSED,		/* waited the whole delay, client still there */
	TARPIT_DISCONNECTED,	/* client gone after res->elapsed_ms */
	TARPIT_PIPELINING,	/* client wrote during the wait (stop_on_pipelining) */
	TARPIT_NO_PROBE,	/* waited the whole delay, detection off */
	TARPIT_ABORTED,		/* progress failed or tarpit_cancel_all() */
	TARPIT_HALF_CLOSED,	/* waited the whole delay; the client's FIN was
				 * there at the start: judge at the next stage */
} tarpit_outcome_t;

typedef struct {
	tarpit_outcome_t outcome;
	long	elapsed_ms;	/* from the start of the wait to its end */
	int	probe_error;	/* NO_PROBE: negative errno of the first probe,
				 * -EINVAL without tuple, -EADDRNOTAVAIL when
				 * only a listener matched */
	int	pipelined;	/* unread bytes grew after the grace */
	unsigned grace_bytes;	/* growth within the grace (the batch's tail) */
	unsigned long inode;	/* of the first probe, 0 without one */
	int	last_state;	/* TCP state of the last probe answer, or 0 */
	unsigned rqueue_start;	/* unread bytes at the first probe */
	unsigned rqueue_last;	/* unread bytes at the last probe */
	int	probes;		/* probes made */
	int	progress_calls;	/* progress callbacks made */
} tarpit_result_t;

int	tarpit_wait(const tarpit_req_t *req, tarpit_result_t *res);
const char *tarpit_outcome_name(tarpit_outcome_t outcome);
int	tarpit_recheck(const sockdiag_tuple_t *tuple, unsigned long inode);
int	tarpit_try_enter(long max);
void	tarpit_leave(void);
long	tarpit_active(void);
void	tarpit_cancel_all(void);

#endif
