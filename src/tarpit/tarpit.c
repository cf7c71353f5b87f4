/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	tarpit - delay a reply against a deadline, watching the client
 * DESCRIPTION
 *	See tarpit.h. All times are nanoseconds on CLOCK_MONOTONIC; each
 *	event keeps its own next due time (start + k * interval; probes on a
 *	grid of multiples of the poll interval shared by all tarpits), so a
 *	late wake-up neither drifts the schedule nor makes up for missed
 *	slots with a burst of probes.
 *
 *	Probes are made by one prober thread for all tarpits: a waiting
 *	thread sleeps on its own condition variable until its deadline or
 *	its next progress call, and is woken early only when the prober
 *	found its client gone or talking. That saves every tarpit thread
 *	four wake-ups a second. Whenever a waiter is awake anyway and its
 *	probe is due, it probes itself first (under the same lock), so a
 *	disconnect is always seen before the next progress call that falls
 *	due at the same moment; if the prober cannot be started, waiters
 *	probe for themselves on schedule.
 *
 *	Locking: tarpit_lock guards the list of waits, each wait's probe
 *	state and result fields, and the cancel flag. The prober probes
 *	while holding it (about 5 us per tarpit); waiters drop it while
 *	they call the progress callback.
 * DIAGNOSTICS
 *	See tarpit.h. This module does not log: the milter logs the outcome.
 */
#include "autoconfig.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include "tarpit.h"
#include "words.h"

#define NSEC		1000000000LL
#define MSEC		1000000LL
#define NEVER		INT64_MAX

/* one running tarpit_wait(), on its thread's stack, listed for the prober */
typedef struct tarpit_watch {
	const tarpit_req_t *req;
	tarpit_result_t *res;		/* probe fields: under tarpit_lock */
	unsigned long inode;		/* of the first probe */
	int	probing;		/* 0: plain deadline wait */
	int	half_closed;		/* the FIN was there at the first probe */
	int64_t	grace_end;		/* growth before it is the batch's tail */
	int64_t	next_poll;		/* under tarpit_lock */
	int	outcome;		/* -1 until a probe ends the wait */
	pthread_cond_t cond;		/* the waiter sleeps here */
	struct tarpit_watch *prev, *next;
} tarpit_watch_t;

static atomic_long tarpit_count;
static pthread_mutex_t tarpit_lock = PTHREAD_MUTEX_INITIALIZER;
static tarpit_watch_t *tarpit_watches;	/* under tarpit_lock */
static int tarpit_cancelled;		/* under tarpit_lock */
static int64_t tarpit_prober_wake = NEVER;	/* under tarpit_lock */
static int tarpit_prober_up;		/* set once, before any watch is listed */
static pthread_cond_t tarpit_prober_cond;
static pthread_condattr_t tarpit_condattr;
static pthread_once_t tarpit_once = PTHREAD_ONCE_INIT;

/* tarpit_now - monotonic time in nanoseconds */
static int64_t
tarpit_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * NSEC + ts.tv_nsec;
}

/* tarpit_cond_wait - wait on COND (tarpit_lock held) until WHEN or a signal */
static void
tarpit_cond_wait(pthread_cond_t *cond, int64_t when)
{
	struct timespec ts;

	if (when == NEVER) {
		pthread_cond_wait(cond, &tarpit_lock);
		return;
	}
	ts.tv_sec = when / NSEC;
	ts.tv_nsec = when % NSEC;
	pthread_cond_timedwait(cond, &tarpit_lock, &ts);
}

/* tarpit_next_due - advance a periodic due time past NOW */
static int64_t
tarpit_next_due(int64_t due, int64_t interval, int64_t now)
{
	if (due == NEVER)
		return NEVER;
	do
		due += interval;
	while (due <= now);
	return due;
}

/*
 * tarpit_probe_first - the first probe: 1 probing, 2 probing a half-closed
 * client, 0 gone at once, -1 off
 */
static int
tarpit_probe_first(const tarpit_req_t *req, tarpit_result_t *res,
		   sockdiag_info_t *info)
{
	int	rc;

	if (req->tuple == NULL) {
		res->probe_error = -EINVAL;
		return -1;
	}
	res->probes = 1;
	if ((rc = sockdiag_probe(req->tuple, info)) < 0) {
		res->probe_error = rc;
		return -1;
	}
	res->last_state = info->state;
	if (info->state == SOCKDIAG_LISTEN) {
		/* no connection has this 4-tuple: XCLIENT, proxy, or an RST */
		res->probe_error = -EADDRNOTAVAIL;
		return -1;
	}
	res->rqueue_start = res->rqueue_last = info->rqueue;
	res->inode = info->inode;
	if (info->state == SOCKDIAG_CLOSE_WAIT)
		return 2;		/* wrote its part, then a FIN: Exim + BDAT */
	return info->state == SOCKDIAG_ESTABLISHED;
}

/* tarpit_same - the socket of the first probe, ESTABLISHED or half-closed */
static int
tarpit_same(const sockdiag_info_t *info, unsigned long inode, int half_closed)
{
	if (half_closed && info->state == SOCKDIAG_CLOSE_WAIT)
		return info->inode == inode;
	return sockdiag_alive(info, inode);
}

/* tarpit_growth - unread bytes grew: the batch's tail, or out of turn */
static void
tarpit_growth(tarpit_watch_t *w, unsigned rqueue, int64_t now)
{
	tarpit_result_t *res = w->res;

	if (rqueue <= res->rqueue_start)
		return;
	if (now <= w->grace_end) {
		res->grace_bytes += rqueue - res->rqueue_start;
		res->rqueue_start = rqueue;	/* re-baseline */
		return;
	}
	res->pipelined = 1;
	if (w->req->stop_on_pipelining)
		w->outcome = TARPIT_PIPELINING;
}

/*
 * tarpit_tail_fin - a FIN within the grace behind the batch's tail: the
 * client wrote the rest of its transaction and then half-closed (a FIN
 * alone, 1 byte of rqueue, is a hang-up)
 */
static int
tarpit_tail_fin(const tarpit_watch_t *w, const sockdiag_info_t *info, int64_t now)
{
	if (w->half_closed || info->state != SOCKDIAG_CLOSE_WAIT || now > w->grace_end)
		return 0;
	return info->rqueue > w->res->rqueue_start + 1 || w->res->grace_bytes > 0;
}

/* tarpit_probe_due - a later probe of W (tarpit_lock held); may set outcome */
static void
tarpit_probe_due(tarpit_watch_t *w, int64_t now)
{
	tarpit_result_t *res = w->res;
	sockdiag_info_t info;
	int	rc;

	w->next_poll = tarpit_next_due(w->next_poll, w->req->poll_ms * MSEC, now);
	res->probes++;
	rc = sockdiag_probe(w->req->tuple, &info);
	if (rc == -ENOENT) {
		res->last_state = 0;
		w->outcome = TARPIT_DISCONNECTED;
		return;
	}
	if (rc < 0)
		return;				/* transient: try next time */
	res->last_state = info.state;
	if (tarpit_tail_fin(w, &info, now))
		w->half_closed = 1;
	if (!tarpit_same(&info, w->inode, w->half_closed)) {
		w->outcome = TARPIT_DISCONNECTED;
		return;
	}
	res->rqueue_last = info.rqueue;
	tarpit_growth(w, info.rqueue, now);
}

/* tarpit_prober - one thread probes every listed tarpit when it is due */
static void *
tarpit_prober(void *arg)
{
	tarpit_watch_t *w;
	int64_t	now, earliest;

	(void) arg;
	pthread_mutex_lock(&tarpit_lock);
	for (;;) {
		now = tarpit_now();
		earliest = NEVER;
		for (w = tarpit_watches; w != NULL; w = w->next) {
			if (!w->probing || w->outcome >= 0)
				continue;
			if (now >= w->next_poll) {
				tarpit_probe_due(w, now);
				if (w->outcome >= 0) {
					pthread_cond_signal(&w->cond);
					continue;
				}
			}
			if (w->next_poll < earliest)
				earliest = w->next_poll;
		}
		tarpit_prober_wake = earliest;
		tarpit_cond_wait(&tarpit_prober_cond, earliest);
	}
	return NULL;
}

/* tarpit_init - condition clock; the prober, born with signals blocked */
static void
tarpit_init(void)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t tid;

	pthread_condattr_init(&tarpit_condattr);
	pthread_condattr_setclock(&tarpit_condattr, CLOCK_MONOTONIC);
	pthread_cond_init(&tarpit_prober_cond, &tarpit_condattr);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* without the prober each waiter probes for itself */
	tarpit_prober_up = pthread_create(&tid, &attr, tarpit_prober, NULL) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
}

/* tarpit_watch_list - list W for the prober (tarpit_lock held) */
static void
tarpit_watch_list(tarpit_watch_t *w)
{
	w->prev = NULL;
	w->next = tarpit_watches;
	if (tarpit_watches)
		tarpit_watches->prev = w;
	tarpit_watches = w;
	if (w->probing && w->next_poll < tarpit_prober_wake)
		pthread_cond_signal(&tarpit_prober_cond);
}

/* tarpit_watch_unlist - take W off the list (tarpit_lock held) */
static void
tarpit_watch_unlist(tarpit_watch_t *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		tarpit_watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
}

/* tarpit_step - one turn of the wait (lock held): outcome, or -1 to go on */
static int
tarpit_step(tarpit_watch_t *w, int64_t deadline, int64_t *next_prog)
{
	const tarpit_req_t *req = w->req;
	int64_t	now = tarpit_now(), wake;
	int	rc;

	if (w->outcome >= 0)
		return w->outcome;
	if (tarpit_cancelled)
		return TARPIT_ABORTED;
	if (w->probing && now >= w->next_poll) {
		tarpit_probe_due(w, now);	/* the prober is late or absent */
		return -1;
	}
	if (now >= deadline)
		return !w->probing ? TARPIT_NO_PROBE
		    : w->half_closed ? TARPIT_HALF_CLOSED : TARPIT_PASSED;
	if (now >= *next_prog) {
		w->res->progress_calls++;
		pthread_mutex_unlock(&tarpit_lock);
		rc = req->progress(req->progress_arg);
		pthread_mutex_lock(&tarpit_lock);
		*next_prog = tarpit_next_due(*next_prog, req->progress_ms * MSEC, now);
		return rc < 0 ? TARPIT_ABORTED : -1;
	}
	wake = deadline < *next_prog ? deadline : *next_prog;
	if (w->probing && !tarpit_prober_up && w->next_poll < wake)
		wake = w->next_poll;
	tarpit_cond_wait(&w->cond, wake);
	return -1;
}

/* tarpit_loop - the wait proper, from START; returns the outcome */
static tarpit_outcome_t
tarpit_loop(tarpit_watch_t *w, int64_t start)
{
	int64_t	deadline = start + w->req->delay_ms * MSEC;
	int64_t	next_prog = w->req->progress ? start + w->req->progress_ms * MSEC : NEVER;
	int64_t	poll_ns = w->req->poll_ms * MSEC;
	int	outcome;

	w->grace_end = start + w->req->grace_ms * MSEC;
	/* on a grid common to all tarpits: the prober wakes once per round */
	w->next_poll = w->probing ? (start / poll_ns + 1) * poll_ns : NEVER;
	w->outcome = -1;
	pthread_cond_init(&w->cond, &tarpit_condattr);
	pthread_mutex_lock(&tarpit_lock);
	tarpit_watch_list(w);
	while ((outcome = tarpit_step(w, deadline, &next_prog)) < 0)
		;
	tarpit_watch_unlist(w);
	pthread_mutex_unlock(&tarpit_lock);
	pthread_cond_destroy(&w->cond);
	return (tarpit_outcome_t) outcome;
}

/* tarpit_wait - wait out the delay unless the client leaves or talks */
int
tarpit_wait(const tarpit_req_t *req, tarpit_result_t *res)
{
	tarpit_watch_t w;
	sockdiag_info_t info;
	int64_t	start;
	int	probing;

	if (req == NULL || res == NULL || req->delay_ms < 0 || req->grace_ms < 0
	    || req->poll_ms < 1 || req->progress_ms < 1)
		return -EINVAL;
	(void) pthread_once(&tarpit_once, tarpit_init);
	memset(res, 0, sizeof(*res));
	start = tarpit_now();
	probing = tarpit_probe_first(req, res, &info);
	if (probing == 0)
		res->outcome = TARPIT_DISCONNECTED;
	else {
		memset(&w, 0, sizeof(w));
		w.req = req;
		w.res = res;
		w.probing = probing > 0;
		w.half_closed = probing == 2;
		w.inode = probing > 0 ? info.inode : 0;
		res->outcome = tarpit_loop(&w, start);
	}
	res->elapsed_ms = (tarpit_now() - start) / MSEC;
	return 0;
}

/* tarpit_outcome_name - a word for the log */
const char *
tarpit_outcome_name(tarpit_outcome_t outcome)
{
	switch (outcome) {
	case TARPIT_PASSED:
		return W_PASSED;
	case TARPIT_DISCONNECTED:
		return W_DISCONNECTED;
	case TARPIT_PIPELINING:
		return W_PIPELINING;
	case TARPIT_NO_PROBE:
		return W_PASSED_NO_PROBE;
	case TARPIT_ABORTED:
		return W_ABORTED;
	case TARPIT_HALF_CLOSED:
		return W_HALF_CLOSED;
	}
	return W_UNKNOWN;
}

/* tarpit_recheck - is the socket of INODE still there after the wait? */
int
tarpit_recheck(const sockdiag_tuple_t *tuple, unsigned long inode)
{
	sockdiag_info_t info;
	int	rc;

	if (tuple == NULL || inode == 0)
		return -1;
	if ((rc = sockdiag_probe(tuple, &info)) == -ENOENT)
		return 0;
	if (rc < 0)
		return -1;
	return tarpit_same(&info, inode, 1);
}

/* tarpit_try_enter - count one more tarpit unless MAX are running */
int
tarpit_try_enter(long max)
{
	long	n = atomic_load(&tarpit_count);

	do {
		if (n >= max)
			return 0;
	} while (!atomic_compare_exchange_weak(&tarpit_count, &n, n + 1));
	return 1;
}

/* tarpit_leave - one tarpit fewer */
void
tarpit_leave(void)
{
	atomic_fetch_sub(&tarpit_count, 1);
}

/* tarpit_active - tarpits running now */
long
tarpit_active(void)
{
	return atomic_load(&tarpit_count);
}

/* tarpit_cancel_all - end every tarpit now and from now on */
void
tarpit_cancel_all(void)
{
	tarpit_watch_t *w;

	pthread_mutex_lock(&tarpit_lock);
	tarpit_cancelled = 1;
	for (w = tarpit_watches; w != NULL; w = w->next)
		pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&tarpit_lock);
}
