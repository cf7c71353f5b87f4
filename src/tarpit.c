/*
 * NAME
 *	tarpit - delay a reply against a deadline, watching the client
 * DESCRIPTION
 *	See tarpit.h. All times are nanoseconds on CLOCK_MONOTONIC counted
 *	from the start of the wait; each event keeps its own next due time
 *	(start + k * interval), so a late wake-up neither drifts the schedule
 *	nor makes up for missed slots with a burst of probes.
 * DIAGNOSTICS
 *	See tarpit.h. This module does not log: the milter logs the outcome.
 */
#include "autoconfig.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include "tarpit.h"

#define NSEC		1000000000LL
#define MSEC		1000000LL
#define NEVER		INT64_MAX

static atomic_long tarpit_count;
static int tarpit_cancel_fd = -1;
static pthread_once_t tarpit_once = PTHREAD_ONCE_INIT;

/* tarpit_cancel_init - the eventfd that tarpit_cancel_all() makes readable */
static void
tarpit_cancel_init(void)
{
	tarpit_cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

/* tarpit_now - monotonic time in nanoseconds */
static int64_t
tarpit_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * NSEC + ts.tv_nsec;
}

/* tarpit_sleep_until - wait until WHEN (absolute); -ECANCELED if cancelled */
static int
tarpit_sleep_until(int64_t when)
{
	struct pollfd pfd = {.fd = tarpit_cancel_fd, .events = POLLIN};
	struct timespec ts;
	int64_t	left;

	while ((left = when - tarpit_now()) > 0) {
		ts.tv_sec = left / NSEC;
		ts.tv_nsec = left % NSEC;
		if (ppoll(&pfd, pfd.fd >= 0, &ts, NULL) > 0)
			return -ECANCELED;
	}
	return 0;
}

/* tarpit_probe_first - the first probe: 1 probing, 0 gone at once, -1 off */
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
	return info->state == SOCKDIAG_ESTABLISHED;
}

/* tarpit_probe_next - a later probe: the outcome it implies, or -1 to go on */
static int
tarpit_probe_next(const tarpit_req_t *req, tarpit_result_t *res,
		  unsigned long inode)
{
	sockdiag_info_t info;
	int	rc;

	res->probes++;
	rc = sockdiag_probe(req->tuple, &info);
	if (rc == -ENOENT) {
		res->last_state = 0;
		return TARPIT_DISCONNECTED;
	}
	if (rc < 0)
		return -1;			/* transient: try next time */
	res->last_state = info.state;
	if (!sockdiag_alive(&info, inode))
		return TARPIT_DISCONNECTED;
	res->rqueue_last = info.rqueue;
	if (info.rqueue > res->rqueue_start) {
		res->pipelined = 1;
		if (req->stop_on_pipelining)
			return TARPIT_PIPELINING;
	}
	return -1;
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

/* tarpit_loop - the wait proper, from START; returns the outcome */
static tarpit_outcome_t
tarpit_loop(const tarpit_req_t *req, tarpit_result_t *res, int probing,
	    unsigned long inode, int64_t start)
{
	int64_t	deadline = start + req->delay_ms * MSEC;
	int64_t	poll_ns = req->poll_ms * MSEC, prog_ns = req->progress_ms * MSEC;
	int64_t	next_poll = probing ? start + poll_ns : NEVER;
	int64_t	next_prog = req->progress ? start + prog_ns : NEVER;
	int64_t	now, wake;
	int	rc;

	for (;;) {
		now = tarpit_now();
		if (now >= deadline)
			return probing ? TARPIT_PASSED : TARPIT_NO_PROBE;
		if (now >= next_poll) {
			if ((rc = tarpit_probe_next(req, res, inode)) >= 0)
				return (tarpit_outcome_t) rc;
			next_poll = tarpit_next_due(next_poll, poll_ns, now);
		}
		if (now >= next_prog) {
			res->progress_calls++;
			if (req->progress(req->progress_arg) < 0)
				return TARPIT_ABORTED;
			next_prog = tarpit_next_due(next_prog, prog_ns, now);
		}
		wake = deadline;
		if (next_poll < wake)
			wake = next_poll;
		if (next_prog < wake)
			wake = next_prog;
		if (tarpit_sleep_until(wake) < 0)
			return TARPIT_ABORTED;
	}
}

/* tarpit_wait - wait out the delay unless the client leaves or talks */
int
tarpit_wait(const tarpit_req_t *req, tarpit_result_t *res)
{
	sockdiag_info_t info;
	int64_t	start;
	int	probing;

	if (req == NULL || res == NULL || req->delay_ms < 0
	    || req->poll_ms < 1 || req->progress_ms < 1)
		return -EINVAL;
	(void) pthread_once(&tarpit_once, tarpit_cancel_init);
	memset(res, 0, sizeof(*res));
	start = tarpit_now();
	probing = tarpit_probe_first(req, res, &info);
	if (probing == 0)
		res->outcome = TARPIT_DISCONNECTED;
	else
		res->outcome = tarpit_loop(req, res, probing > 0,
					   probing > 0 ? info.inode : 0, start);
	res->elapsed_ms = (tarpit_now() - start) / MSEC;
	return 0;
}

/* tarpit_outcome_name - a word for the log */
const char *
tarpit_outcome_name(tarpit_outcome_t outcome)
{
	switch (outcome) {
	case TARPIT_PASSED:
		return "passed";
	case TARPIT_DISCONNECTED:
		return "disconnected";
	case TARPIT_PIPELINING:
		return "pipelining";
	case TARPIT_NO_PROBE:
		return "passed-no-probe";
	case TARPIT_ABORTED:
		return "aborted";
	}
	return "unknown";
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
	uint64_t one = 1;

	(void) pthread_once(&tarpit_once, tarpit_cancel_init);
	if (tarpit_cancel_fd >= 0)
		(void) !write(tarpit_cancel_fd, &one, sizeof(one));
}
