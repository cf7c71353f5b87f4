/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	fdlimit - descriptor limit: raise it, and keep tarpits within it
 * DESCRIPTION
 *	See fdlimit.h. Out of descriptors, libmilter's listener retries
 *	accept() at once without end and every DNS question fails: the cap
 *	keeps tarpits, which hold descriptors for tarpit_delay each, from
 *	eating the reserve the rest of the daemon needs.
 * DIAGNOSTICS
 *	Warnings through log.c, see fdlimit.h.
 */
#include <limits.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include "fdlimit.h"
#include "log.h"
#include "log_limit.h"
#include "tarpit.h"

#define FDLIMIT_NR_OPEN	1048576L	/* Linux's default fs.nr_open */

static atomic_long fdlimit_cap = LONG_MAX;
static long fdlimit_nofile = LONG_MAX;

/* A limit value as a long; LONG_MAX for unlimited. */
static long
fdlimit_value(rlim_t v)
{
	return v == RLIM_INFINITY || v > (rlim_t)LONG_MAX ? LONG_MAX : (long)v;
}

long
fdlimit_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return LONG_MAX;
	if (rl.rlim_cur != rl.rlim_max) {
		struct rlimit want = rl;

		want.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl = want;
		else if (rl.rlim_max == RLIM_INFINITY
		    && (rlim_t)FDLIMIT_NR_OPEN > rl.rlim_cur) {
			want.rlim_cur = (rlim_t)FDLIMIT_NR_OPEN;	/* above nr_open fails */
			if (setrlimit(RLIMIT_NOFILE, &want) == 0)
				rl = want;
		}
	}
	return fdlimit_value(rl.rlim_cur);
}

long
fdlimit_tarpits(long nofile)
{
	if (nofile == LONG_MAX)
		return LONG_MAX;
	return nofile > FDLIMIT_RESERVE ? (nofile - FDLIMIT_RESERVE) / FDLIMIT_PER_TARPIT : 0;
}

/* Warn when MAX tarpits do not fit NOFILE; 1 if so. */
static int
fdlimit_warn(long max, long nofile, const char *what)
{
	long	fit = fdlimit_tarpits(nofile);

	if (max <= fit)
		return 0;
	log_warning("tarpit_max_sessions %ld does not fit the descriptor limit %ld (%s):"
	    " at most %ld tarpits at once (%d descriptors each, %d kept for the rest);"
	    " beyond that new tarpits greylist; raise LimitNOFILE or ulimit -n",
	    max, nofile, what, fit, FDLIMIT_PER_TARPIT, FDLIMIT_RESERVE);
	return 1;
}

void
fdlimit_setup(long tarpit_max_sessions)
{
	fdlimit_nofile = fdlimit_raise();
	atomic_store(&fdlimit_cap, fdlimit_tarpits(fdlimit_nofile));
	(void)fdlimit_warn(tarpit_max_sessions, fdlimit_nofile, "RLIMIT_NOFILE");
}

int
fdlimit_check(long tarpit_max_sessions)
{
	struct rlimit rl;

	if (fdlimit_nofile != LONG_MAX)	/* running: the limit in force */
		return fdlimit_warn(tarpit_max_sessions, fdlimit_nofile, "RLIMIT_NOFILE");
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	return fdlimit_warn(tarpit_max_sessions, fdlimit_value(rl.rlim_max),
	    "hard RLIMIT_NOFILE");
}

long
fdlimit_tarpit_cap(void)
{
	return atomic_load(&fdlimit_cap);
}

int
fdlimit_tarpit_enter(long tarpit_max_sessions)
{
	static log_limit_t lim = LOG_LIMIT_INIT;
	long	cap = atomic_load(&fdlimit_cap);
	unsigned long more;

	if (tarpit_max_sessions <= cap)
		return tarpit_try_enter(tarpit_max_sessions);
	if (tarpit_try_enter(cap))
		return 1;
	if (tarpit_active() >= cap && log_limit_due(&lim, LOG_LIMIT_INTERVAL, &more))
		log_warning("tarpit: %ld sessions tarpitted fill the descriptor limit %ld:"
		    " new tarpits greylist instead (%lu more since the last report)",
		    cap, fdlimit_nofile, more);
	return 0;
}
