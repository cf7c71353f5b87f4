/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	monotime - milliseconds and microseconds on the monotonic clock
 * SYNOPSIS
 *	#include "monotime.h"
 *
 *	long long monotime_ms(void);
 *	long long monotime_us(void);
 * DESCRIPTION
 *	monotime_ms() returns CLOCK_MONOTONIC in milliseconds: for
 *	deadlines and back-off times that must not jump with the wall
 *	clock; monotime_us() the same in microseconds (timing a command).
 *	Their zero is arbitrary; only differences mean anything.
 * THREADS
 *	Safe from any thread.
 * DIAGNOSTICS
 *	None.
 */
#ifndef TG_MONOTIME_H
#define TG_MONOTIME_H

long long monotime_ms(void);
long long monotime_us(void);

#endif
