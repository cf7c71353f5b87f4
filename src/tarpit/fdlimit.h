/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	fdlimit - descriptor limit: raise it, and keep tarpits within it
 * SYNOPSIS
 *	#include "fdlimit.h"
 *
 *	long fdlimit_raise(void);
 *	long fdlimit_tarpits(long nofile);
 *	void fdlimit_setup(long tarpit_max_sessions);
 *	int fdlimit_check(long tarpit_max_sessions);
 *	int fdlimit_tarpit_enter(long tarpit_max_sessions);
 *	long fdlimit_tarpit_cap(void);
 * DESCRIPTION
 *	Each tarpitted session holds FDLIMIT_PER_TARPIT descriptors (its
 *	milter connection and its thread's netlink socket, measured); the
 *	rest of the daemon needs FDLIMIT_RESERVE (listener, LMDB, log, worker
 *	handoffs, DNS questions and sessions that are not tarpitted).
 *
 *	fdlimit_raise() raises the soft RLIMIT_NOFILE to the hard limit and
 *	returns the soft limit now in force (LONG_MAX when unlimited).
 *	fdlimit_tarpits() says how many tarpits fit NOFILE descriptors.
 *
 *	fdlimit_setup() runs once at start: it raises the limit, computes
 *	the tarpit cap and logs a warning when TARPIT_MAX_SESSIONS does not
 *	fit (also at each reload, through fdlimit_check()).
 *	fdlimit_check() warns the same way about the hard limit (what the
 *	daemon will raise to) without changing anything: for -t. Both
 *	return 1 when the sessions do not fit, else 0.
 *
 *	fdlimit_tarpit_enter() is tarpit_try_enter() with the smaller of
 *	TARPIT_MAX_SESSIONS and the cap: beyond the cap new tarpits are
 *	refused (the caller greylists, as when tarpit_max_sessions is
 *	reached) and a warning says why, at most once a minute.
 *	fdlimit_tarpit_cap() is that cap (LONG_MAX before fdlimit_setup()).
 * THREADS
 *	fdlimit_setup() before threads start; fdlimit_tarpit_enter() from
 *	any thread.
 * DIAGNOSTICS
 *	"tarpit_max_sessions N does not fit the descriptor limit L: at most
 *	C tarpits at once ..." at start, at reload and from -t;
 *	"tarpit: C sessions tarpitted fill the descriptor limit L: new
 *	tarpits greylist instead" when the cap refuses one.
 */
#ifndef TG_FDLIMIT_H
#define TG_FDLIMIT_H

#define FDLIMIT_PER_TARPIT	2
#define FDLIMIT_RESERVE		48

long	fdlimit_raise(void);
long	fdlimit_tarpits(long nofile);
void	fdlimit_setup(long tarpit_max_sessions);
int	fdlimit_check(long tarpit_max_sessions);
int	fdlimit_tarpit_enter(long tarpit_max_sessions);
long	fdlimit_tarpit_cap(void);

#endif
