/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	pool - keep libmilter's worker pool serving while a callback waits
 * SYNOPSIS
 *	#include "pool.h"
 *
 *	int pool_init(const char *conn);
 *	int pool_handoff(void);
 *	void pool_stats_get(pool_stats_t *st);
 *
 *	int pool_watch_start(long threshold_ms);
 *	void pool_busy_begin(void);
 *	void pool_busy_end(void);
 *	void pool_watch_stop(void);
 * DESCRIPTION
 *	The problem. Debian's libmilter (8.17, built with _FFR_WORKERS_POOL)
 *	runs callbacks on a pool of worker threads. A controller thread
 *	polls the sessions that wait for the MTA; when one becomes readable
 *	and a worker is counted idle, the session is only marked "ready to
 *	run" and the idle worker is signalled; a new worker is launched only
 *	when no worker is counted idle. A worker counts as idle until it has
 *	woken up and taken the pool's lock, so one idle worker can be handed
 *	many ready sessions, and it serves them one after the other. If one
 *	of them is a tarpit (a callback that waits 125 s), every session
 *	queued behind it waits too: nothing launches a worker for them,
 *	because they are no longer polled - only a new event on another
 *	session, or the end of some other callback, lets a worker look at
 *	the queue again. Measured: sessions stranded for 30 s and more.
 *
 *	The mechanism. Every worker, after it finishes a session's work,
 *	takes the next ready session before it goes idle. So it is enough
 *	that, each time a callback is about to block, one more worker
 *	passes through "finish a session" after that moment. pool_handoff()
 *	makes that happen through libmilter's public door: it opens a
 *	connection to the daemon's own milter socket (CONN, as given to
 *	smfi_setconn()), sends a one-packet QUIT, and waits until libmilter
 *	closes the connection. libmilter accepts it as a new session; having
 *	no idle worker it launches a new one (or it signals the idle one);
 *	that worker reads the QUIT, ends the session, closes the socket and
 *	then takes whatever sessions are queued as ready. When
 *	pool_handoff() returns 0 that worker exists and is free, and the
 *	calling thread may block: the queue it leaves behind is served. If
 *	the worker that takes over also lands on a tarpit, that tarpit hands
 *	off in turn, so the queue never strands. A handoff takes about
 *	0.1 ms (p50) against an idle milter; in a burst it is confirmed
 *	only after the ready sessions listed before it were taken (mean
 *	50-150 ms, longest 120-225 ms for 200 tarpits at once on a loaded
 *	2-core machine) - that delays the start of the tarpit, not other
 *	sessions. Measured with tests/bench/pool_burst.
 *
 *	Why it is safe. It uses only the listening socket and the milter
 *	protocol, no libmilter internals, so it also suits a libmilter built
 *	with a thread per session (by reading the code, not tested: there it
 *	costs one short thread). The handoff session never reaches a connect callback:
 *	libmilter calls only xxfi_close() for it, with no private data
 *	(smfi_getpriv() returns NULL) - the close callback must accept
 *	that, as it must for any MTA that connects and quits. QUIT makes
 *	libmilter close first, so no TIME_WAIT piles up on the daemon's
 *	client ports, and nothing is logged. Surplus workers left idle
 *	afterwards exit by themselves (libmilter keeps at most one or two
 *	idle). The cost is one loopback connection and, at most, one
 *	thread creation per long wait.
 *
 *	pool_init() resolves CONN once: "inet:PORT@HOST", "inet:PORT",
 *	"inet6:PORT@HOST", "unix:PATH", "local:PATH", a bare "/PATH", or
 *	Postfix's "inet:HOST:PORT". A wildcard or missing HOST means
 *	loopback (127.0.0.1, ::1). Call it before smfi_main() (or at
 *	least before the first callback). The daemon must be able to
 *	connect to its own socket after dropping privileges: a unix socket
 *	made while root must be chown()ed to the daemon's user or group.
 *
 *	pool_handoff() is called by a callback right before it starts a
 *	long wait (the tarpit; in general anything that may block for more
 *	than a few milliseconds). While the watchdog runs it only asks the
 *	watchdog for a handoff and returns at once: the session the watchdog
 *	starts for it begins after the caller entered its callback, which is
 *	all the mechanism needs. Without the watchdog it runs the session
 *	itself and waits at most POOL_HANDOFF_TIMEOUT_MS. Why: when 2,000
 *	tarpits open at once, each waited for its own handoff behind the
 *	burst (1 s, then a warning, 493 times in one run); now no thread
 *	waits and the watchdog watches them for 10 s (bench-burst.sh). One
 *	session per request, not one for all requests pending: one worker
 *	draining the queue for a whole burst served clean sessions 2-3
 *	times later (tests/bench/pool_burst -n 2000 -W 40, p99).
 *
 *	pool_stats_get() copies counters: handoffs confirmed, failed, the
 *	longest and the total confirmation time.
 *
 *	The watchdog (optional) covers waits nobody announced, such as a DNS
 *	lookup that takes seconds: every callback calls pool_busy_begin()
 *	first and pool_busy_end() before it returns (two clock reads and two
 *	atomic stores); a thread started by pool_watch_start() looks every
 *	THRESHOLD_MS / 2 for callbacks busy for THRESHOLD_MS or more and
 *	makes one handoff for each (any thread may make the handoff: what
 *	counts is that it happens after the callback started to block; its
 *	sessions are watched for POOL_WATCH_TIMEOUT_MS, 10 s). A
 *	pool_handoff() inside a busy period the watchdog already handed off
 *	returns 0 at once, and the watchdog never hands off twice for one
 *	period, so the tarpit's explicit handoff and the watchdog do not add
 *	up. pool_watch_stop() stops the thread (for tests and shutdown).
 *	The watchdog is a safety net, not a substitute for pool_handoff():
 *	each callback it covers waits THRESHOLD_MS before its handoff, and
 *	when the worker that takes over blocks too, the delays add up along
 *	the chain.
 * DIAGNOSTICS
 *	pool_init() returns 0, -EINVAL for a CONN it cannot parse, or
 *	-EHOSTUNREACH when HOST does not resolve. pool_handoff() returns 0
 *	when a worker confirmed (with the watchdog: when the request was
 *	queued), -ENOTCONN before pool_init(), -ETIMEDOUT
 *	when libmilter did not answer in time (the caller should log it and
 *	go on: the request stays queued and is served later), or the
 *	negative errno of socket(), connect() or write(). With the watchdog
 *	such an error is that of an earlier handoff the watchdog made (told
 *	once, to the next caller), the request itself is queued all the same. Advice: when it
 *	fails, greylist instead of tarpitting - the pool is already short of
 *	workers. pool_watch_start() returns 0, -ENOTCONN before
 *	pool_init(), -EINVAL for a threshold below 1, -EALREADY when it
 *	runs, or the negative error of pthread_create().
 * THREADS
 *	pool_init() and pool_watch_start() before threads start; the others
 *	from any thread. The counters are atomics; each thread's busy slot is
 *	written only by that thread and read by the watchdog under a mutex
 *	that guards the list (the slot is unlisted when the thread exits).
 *	The watchdog thread is created with every signal blocked, so
 *	pool_watch_start() may run before smfi_main(): libmilter waits for
 *	SIGTERM/SIGHUP/SIGINT with sigwait() in its own thread, and any other
 *	thread that leaves them unblocked lets SIGTERM kill the process.
 */
#ifndef TG_POOL_H
#define TG_POOL_H

#define POOL_HANDOFF_TIMEOUT_MS	1000

typedef struct {
	unsigned long handoffs;		/* confirmed */
	unsigned long failures;		/* timed out or failed */
	long	max_us;			/* longest confirmation */
	long long total_us;		/* sum of confirmation times */
} pool_stats_t;

int	pool_init(const char *conn);
int	pool_handoff(void);
void	pool_stats_get(pool_stats_t *st);
int	pool_watch_start(long threshold_ms);
void	pool_busy_begin(void);
void	pool_busy_end(void);
void	pool_watch_stop(void);

#endif
