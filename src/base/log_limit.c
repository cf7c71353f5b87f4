/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	log_limit - at most one line per interval for a recurring fault
 * DESCRIPTION
 *	See log_limit.h. The first caller past the interval wins a
 *	compare-and-swap on the next allowed second; the others count.
 * DIAGNOSTICS
 *	None.
 */
#include <time.h>
#include "log_limit.h"

int
log_limit_due(log_limit_t *lim, long interval_s, unsigned long *suppressed)
{
	struct timespec ts;
	long	now, next;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (long)ts.tv_sec + 1;	/* never 0: 0 means "not yet written" */
	next = atomic_load(&lim->next);
	if ((next == 0 || now >= next)
	    && atomic_compare_exchange_strong(&lim->next, &next, now + interval_s)) {
		*suppressed = atomic_exchange(&lim->suppressed, 0);
		return 1;
	}
	atomic_fetch_add(&lim->suppressed, 1);
	return 0;
}
