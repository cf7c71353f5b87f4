/*
 * NAME
 *	tarpit - delay a reply against a deadline, watching the client
 * SYNOPSIS
 *	#include "tarpit.h"
 *
 *	int tarpit_wait(const tarpit_req_t *req, tarpit_result_t *res);
 *	const char *tarpit_outcome_name(tarpit_outcome_t outcome);
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
 *	It never sleeps blind and never spins: between events the thread
 *	waits in ppoll() with an absolute deadline in mind, so a waiting
 *	tarpit costs no CPU. Events, in the order they are handled when due
 *	at the same moment:
 *
 *	- every REQ->poll_ms: sockdiag_probe() of REQ->tuple. The socket is
 *	  gone when the answer is not the socket of the first probe (another
 *	  inode, e.g. the listener after an RST), not ESTABLISHED (CLOSE_WAIT
 *	  after a FIN), or not found: outcome TARPIT_DISCONNECTED. More
 *	  unread bytes (rqueue) than at the start: the client pipelined;
 *	  res->pipelined is set, and with REQ->stop_on_pipelining the outcome
 *	  is TARPIT_PIPELINING at once (otherwise the wait goes on).
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
 *	probe finds the client already gone (CLOSE_WAIT) the outcome is
 *	TARPIT_DISCONNECTED after 0 s. A later probe that fails with an
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
 *	with TARPIT_ABORTED within microseconds: for daemon shutdown. It
 *	cannot be undone.
 * DIAGNOSTICS
 *	tarpit_wait() returns 0 with RES filled, or -EINVAL for a null
 *	argument, a negative delay, or a poll or progress interval below
 *	1 ms.
 * THREADS
 *	All functions are safe to call from many threads at once; the
 *	counter is a C11 atomic, the cancel flag an eventfd read by all.
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
} tarpit_req_t;

typedef enum {
	TARPIT_PASSED,		/* waited the whole delay, client still there */
	TARPIT_DISCONNECTED,	/* client gone after res->elapsed_ms */
	TARPIT_PIPELINING,	/* client wrote during the wait (stop_on_pipelining) */
	TARPIT_NO_PROBE,	/* waited the whole delay, detection off */
	TARPIT_ABORTED,		/* progress failed or tarpit_cancel_all() */
} tarpit_outcome_t;

typedef struct {
	tarpit_outcome_t outcome;
	long	elapsed_ms;	/* from the start of the wait to its end */
	int	probe_error;	/* NO_PROBE: negative errno of the first probe,
				 * -EINVAL without tuple, -EADDRNOTAVAIL when
				 * only a listener matched */
	int	pipelined;	/* unread bytes grew during the wait */
	int	last_state;	/* TCP state of the last probe answer, or 0 */
	unsigned rqueue_start;	/* unread bytes at the first probe */
	unsigned rqueue_last;	/* unread bytes at the last probe */
	int	probes;		/* probes made */
	int	progress_calls;	/* progress callbacks made */
} tarpit_result_t;

int	tarpit_wait(const tarpit_req_t *req, tarpit_result_t *res);
const char *tarpit_outcome_name(tarpit_outcome_t outcome);
int	tarpit_try_enter(long max);
void	tarpit_leave(void);
long	tarpit_active(void);
void	tarpit_cancel_all(void);

#endif
