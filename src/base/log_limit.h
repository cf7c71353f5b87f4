/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	log_limit - at most one line per interval for a recurring fault
 * SYNOPSIS
 *	#include "log_limit.h"
 *
 *	static log_limit_t lim = LOG_LIMIT_INIT;
 *	int log_limit_due(log_limit_t *lim, long interval_s,
 *	    unsigned long *suppressed);
 * DESCRIPTION
 *	log_limit_due() says whether a line about a recurring fault may be
 *	written now: 1 at the first call and then at most once every
 *	INTERVAL_S seconds (monotonic clock), with *SUPPRESSED set to the
 *	number of calls answered 0 since the last 1; 0 otherwise.
 * THREADS
 *	Lock-free; any number of threads may share one log_limit_t.
 * DIAGNOSTICS
 *	None.
 */
#ifndef TG_LOG_LIMIT_H
#define TG_LOG_LIMIT_H

#include <stdatomic.h>

typedef struct {
	atomic_long next;		/* monotonic second of the next line */
	atomic_ulong suppressed;
} log_limit_t;

#define LOG_LIMIT_INIT	{0, 0}
#define LOG_LIMIT_INTERVAL	60	/* seconds: once a minute */

int	log_limit_due(log_limit_t *lim, long interval_s, unsigned long *suppressed);

#endif
