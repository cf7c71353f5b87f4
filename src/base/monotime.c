/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	monotime - milliseconds on the monotonic clock
 * DESCRIPTION
 *	See monotime.h.
 * DIAGNOSTICS
 *	None.
 */
#include <time.h>
#include "monotime.h"

long long
monotime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long
monotime_ms(void)
{
	return monotime_us() / 1000;
}
