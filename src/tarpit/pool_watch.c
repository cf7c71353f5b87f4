/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	pool_watch - when to hand off: explicitly, or when a callback blocks
 * DESCRIPTION
 *	See pool.h. Each thread that runs callbacks gets a slot on first
 *	pool_busy_begin(): the start time of its running callback (0 when
 *	none) and the start time of the busy period already handed off.
 *	Whoever hands off for a period - the thread itself in
 *	pool_handoff(), or the watchdog - first claims it with a
 *	compare-and-swap on that second field, so each period gets exactly
 *	one handoff. The watchdog runs its handoff sessions side by side
 *	(one poll() over all of them): a session that libmilter queues
 *	behind a blocked callback must not hold up the handoffs of the next
 *	callbacks that block.
 *
 *	An idle daemon must sleep: the watchdog wakes only when a callback
 *	it has not handed off yet reaches the threshold (it sleeps until the
 *	earliest such moment), every THRESHOLD_MS / 2 while handoff sessions
 *	are in flight, and otherwise not at all. With nothing to watch it
 *	says so in pool_watch_asleep and waits on a condition variable; the
 *	next pool_busy_begin() sees the flag and wakes it (a mutex and a
 *	signal, once per idle period; otherwise one atomic load). Both sides
 *	store, then load the other's variable, with sequential consistency,
 *	so at least one of them sees the other: the watchdog rescans after
 *	raising the flag, and never sleeps past a busy callback.
 * DIAGNOSTICS
 *	See pool.h.
 */
#include "autoconfig.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include "pool.h"
#include "pool_int.h"

/* one per thread that ever called pool_busy_begin(); watched by the watchdog */
typedef struct pool_slot {
	atomic_llong start_us;		/* start of the running callback, 0: none */
	atomic_llong handed_us;		/* start_us of the period handed off */
	struct pool_slot *prev, *next;
} pool_slot_t;

static pthread_mutex_t pool_slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pool_slot_t *pool_slots;		/* list, under pool_slots_lock */
static __thread pool_slot_t *pool_self;
static pthread_key_t pool_key;
static pthread_once_t pool_key_once = PTHREAD_ONCE_INIT;

static pthread_t pool_watch_tid;
static atomic_int pool_watch_run;
static long pool_watch_threshold_us;
static atomic_int pool_watch_up;	/* the watchdog serves requests */
static atomic_int pool_watch_asleep;	/* the watchdog waits for a callback */
static atomic_int pool_requests;	/* pool_handoff() calls not yet served */
static atomic_int pool_failed_rc;	/* a watchdog session failed: not yet told */
static int pool_watch_fd = -1;		/* eventfd: wakes the watchdog */

#define POOL_WATCH_TIMEOUT_MS	10000	/* the watchdog's sessions: no one waits */

typedef struct {			/* the watchdog's sessions in flight */
	pool_session_t *ps;
	struct pollfd *pfd;
	size_t	n, cap;
} pool_pending_t;

/* pool_slot_free - unlink and free a thread's slot when the thread exits */
static void
pool_slot_free(void *arg)
{
	pool_slot_t *slot = arg;

	pthread_mutex_lock(&pool_slots_lock);
	if (slot->prev)
		slot->prev->next = slot->next;
	else
		pool_slots = slot->next;
	if (slot->next)
		slot->next->prev = slot->prev;
	pthread_mutex_unlock(&pool_slots_lock);
	free(slot);
}

/* pool_key_init - the key whose destructor frees a thread's slot */
static void
pool_key_init(void)
{
	(void) pthread_key_create(&pool_key, pool_slot_free);
}

/* pool_slot_get - this thread's slot, made and listed on first use */
static pool_slot_t *
pool_slot_get(void)
{
	pool_slot_t *slot;

	if (pool_self != NULL)
		return pool_self;
	(void) pthread_once(&pool_key_once, pool_key_init);
	if ((slot = calloc(1, sizeof(*slot))) == NULL)
		return NULL;
	if (pthread_setspecific(pool_key, slot) != 0) {
		free(slot);
		return NULL;
	}
	pthread_mutex_lock(&pool_slots_lock);
	slot->next = pool_slots;
	if (pool_slots)
		pool_slots->prev = slot;
	pool_slots = slot;
	pthread_mutex_unlock(&pool_slots_lock);
	return pool_self = slot;
}

/* pool_watch_kick - wake the watchdog */
static void
pool_watch_kick(void)
{
	uint64_t one = 1;

	(void) !write(pool_watch_fd, &one, sizeof(one));
}

/* pool_busy_begin - a callback starts on this thread */
void
pool_busy_begin(void)
{
	pool_slot_t *slot = pool_slot_get();
	long long now = pool_now_us();

	if (slot == NULL)
		return;
	if (now == atomic_load(&slot->handed_us))
		now++;				/* a new period, never "already handed" */
	atomic_store(&slot->start_us, now);
	if (atomic_load(&pool_watch_asleep))
		pool_watch_kick();
}

/* pool_busy_end - the callback on this thread returns */
void
pool_busy_end(void)
{
	if (pool_self != NULL)
		atomic_store(&pool_self->start_us, 0);
}

/* pool_slot_claim - 1 if the caller is to hand off for SLOT's busy period */
static int
pool_slot_claim(pool_slot_t *slot)
{
	long long start = atomic_load(&slot->start_us);
	long long handed = atomic_load(&slot->handed_us);

	if (start == 0)
		return -1;			/* not inside a callback */
	if (handed == start)
		return 0;			/* done for this busy period */
	return atomic_compare_exchange_strong(&slot->handed_us, &handed, start);
}

/* pool_handoff - make a free libmilter worker take over the ready queue */
int
pool_handoff(void)
{
	if (pool_self != NULL && pool_slot_claim(pool_self) == 0)
		return 0;			/* the watchdog already did */
	if (!atomic_load(&pool_watch_up))
		return pool_session_run();	/* no watchdog: wait for it here */
	atomic_fetch_add(&pool_requests, 1);
	pool_watch_kick();
	return atomic_exchange(&pool_failed_rc, 0);	/* an earlier one failed */
}

/* pool_watch_scan - claim every callback busy for too long; how many.
 * *NEXT becomes the earliest time another one will be, or 0: none busy */
static int
pool_watch_scan(int64_t now, int64_t *next)
{
	pool_slot_t *slot;
	long long start, due;
	int	n = 0;

	*next = 0;
	pthread_mutex_lock(&pool_slots_lock);
	for (slot = pool_slots; slot != NULL; slot = slot->next) {
		start = atomic_load(&slot->start_us);
		if (start == 0 || start == atomic_load(&slot->handed_us))
			continue;
		due = start + pool_watch_threshold_us;
		if (now >= due && pool_slot_claim(slot) == 1)
			n++;
		else if (now < due && (*next == 0 || due < *next))
			*next = due;
	}
	pthread_mutex_unlock(&pool_slots_lock);
	return n;
}

/* pool_pending_grow - room for one more session; 0 or -ENOMEM */
static int
pool_pending_grow(pool_pending_t *pp)
{
	size_t	cap = pp->cap ? 2 * pp->cap : 16;
	pool_session_t *ps;
	struct pollfd *pfd;

	if (pp->n < pp->cap)
		return 0;
	if ((ps = realloc(pp->ps, cap * sizeof(*ps))) == NULL)
		return -ENOMEM;
	pp->ps = ps;
	if ((pfd = realloc(pp->pfd, (cap + 1) * sizeof(*pfd))) == NULL)
		return -ENOMEM;			/* pfd[0] is the wake-up fd */
	pp->pfd = pfd;
	pp->cap = cap;
	return 0;
}

/* pool_pending_start - start one handoff session */
static void
pool_pending_start(pool_pending_t *pp)
{
	pool_session_t *ps;
	int	rc;

	if (pool_pending_grow(pp) < 0) {
		(void) pool_session_run();	/* no memory: wait for it here */
		return;
	}
	ps = pp->ps + pp->n;
	if ((rc = pool_session_open(ps)) < 0) {
		atomic_store(&pool_failed_rc, rc);	/* before it is counted */
		(void) pool_session_close(ps, rc);
		return;
	}
	ps->deadline_us = ps->start_us + POOL_WATCH_TIMEOUT_MS * 1000LL;
	pp->n++;
}

/* pool_pending_step - end the sessions that are done or timed out */
static void
pool_pending_step(pool_pending_t *pp, int polled)
{
	int64_t	now = pool_now_us();
	size_t	i;
	int	r;

	for (i = 0; i < pp->n;) {
		r = polled && pp->pfd[i + 1].revents ? pool_session_step(pp->ps + i) : 0;
		if (r == 0 && now >= pp->ps[i].deadline_us)
			r = -ETIMEDOUT;
		if (r == 0) {
			i++;
			continue;
		}
		if (r < 0)
			atomic_store(&pool_failed_rc, r);	/* before it is counted */
		(void) pool_session_close(pp->ps + i, r > 0 ? 0 : r);
		pp->n--;
		pp->ps[i] = pp->ps[pp->n];	/* the moved one is looked at next */
		pp->pfd[i + 1] = pp->pfd[pp->n + 1];
	}
}

/* pool_watch_timeout - poll() timeout in ms: 0 for a request, the next
 * callback due, the session cadence, or -1: asleep until kicked */
static int
pool_watch_timeout(const pool_pending_t *pp, int64_t next)
{
	int64_t	ms = -1, half = pool_watch_threshold_us / 2000;

	if (atomic_load(&pool_requests) > 0)
		return 0;
	if (next == 0 && pp->n == 0) {
		atomic_store(&pool_watch_asleep, 1);
		(void) pool_watch_scan(0, &next);	/* at time 0 nothing is due: only looks */
		if (next == 0 && atomic_load(&pool_requests) == 0)
			return -1;
		atomic_store(&pool_watch_asleep, 0);	/* one began meanwhile */
	}
	if (next != 0)
		ms = (next - pool_now_us() + 999) / 1000;
	if (pp->n > 0 && (ms < 0 || ms > half))
		ms = half < 1 ? 1 : half;
	return ms < 0 ? 0 : (int) ms;
}

/* pool_watch_main - the watchdog: hand off for callbacks that block */
static void *
pool_watch_main(void *arg)
{
	pool_pending_t pp = *(pool_pending_t *) arg;	/* allocated by pool_watch_start() */
	int64_t	next = 0;
	uint64_t drain;
	size_t	i;
	int	rc, due;

	while (atomic_load(&pool_watch_run)) {
		pp.pfd[0] = (struct pollfd) {.fd = pool_watch_fd, .events = POLLIN};
		for (i = 0; i < pp.n; i++)
			pp.pfd[i + 1] = (struct pollfd) {.fd = pp.ps[i].fd,
				.events = pool_session_events(pp.ps + i)};
		rc = poll(pp.pfd, pp.n + 1, pool_watch_timeout(&pp, next));
		atomic_store(&pool_watch_asleep, 0);
		if (rc > 0 && (pp.pfd[0].revents & POLLIN))
			(void) !read(pool_watch_fd, &drain, sizeof(drain));
		pool_pending_step(&pp, rc > 0);
		/* one session per blocked callback: each worker that takes
		 * one over drains the ready queue in parallel */
		due = pool_watch_scan(pool_now_us(), &next)
		    + atomic_exchange(&pool_requests, 0);
		while (due-- > 0)
			pool_pending_start(&pp);
	}
	atomic_store(&pool_watch_up, 0);
	while (pp.n > 0)
		(void) pool_session_close(pp.ps + --pp.n, -ECANCELED);
	free(pp.ps);
	free(pp.pfd);
	return NULL;
}

/* pool_watch_start - start the watchdog thread */
int
pool_watch_start(long threshold_ms)
{
	static pool_pending_t pp;	/* handed to the thread, which frees it */
	sigset_t all, old;
	int	rc;

	if (!pool_ready())
		return -ENOTCONN;
	if (threshold_ms < 1)
		return -EINVAL;
	if (atomic_exchange(&pool_watch_run, 1))
		return -EALREADY;
	pool_watch_threshold_us = threshold_ms * 1000;
	memset(&pp, 0, sizeof(pp));
	if (pool_watch_fd < 0
	    && (pool_watch_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		rc = errno;
	else
		rc = pool_pending_grow(&pp) < 0 ? ENOMEM : 0;
	/* born with every signal blocked: libmilter takes SIGTERM with
	 * sigwait() in its own thread; here it would kill the process */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	atomic_store(&pool_watch_up, 1);	/* requests wait in pool_requests */
	if (rc == 0)
		rc = pthread_create(&pool_watch_tid, NULL, pool_watch_main, &pp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		atomic_store(&pool_watch_up, 0);
		atomic_store(&pool_watch_run, 0);
		free(pp.ps);
		free(pp.pfd);
		return -rc;
	}
	return 0;
}

/* pool_watch_stop - stop the watchdog thread and wait for it */
void
pool_watch_stop(void)
{
	if (atomic_exchange(&pool_watch_run, 0)) {
		pool_watch_kick();
		pthread_join(pool_watch_tid, NULL);
	}			/* the eventfd stays: a late pool_handoff() may kick it */
}
