/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	metrics_hist - lock-free histograms, the switch and HELP lines of /metrics
 * SYNOPSIS
 *	#include "metrics_hist.h"
 *
 *	static metrics_hist_t h = {.name = ..., .help = ..., .bounds = ...,
 *		.nbounds = ...};
 *	void metrics_hist_observe_us(metrics_hist_t *h, long long us);
 *	void metrics_hist_observe_ms(metrics_hist_t *h, long ms);
 *	void metrics_hist_write(FILE *out, metrics_hist_t *h);
 * DESCRIPTION
 *	A histogram of durations: BOUNDS are the upper bounds of its buckets
 *	in seconds, ascending, at most METRICS_BUCKETS_MAX of them (a last
 *	+Inf bucket follows). metrics_hist_observe_us() and _ms() count one
 *	observation (a negative one as 0) with two atomic adds: one bucket
 *	and the sum in microseconds. metrics_hist_write() writes the family
 *	with HELP, TYPE, cumulative buckets, _sum (seconds) and _count.
 *	For the modules of src/metrics only.
 * THREADS
 *	Observing may happen from any thread while another writes.
 */
#ifndef TG_METRICS_HIST_H
#define TG_METRICS_HIST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

#define METRICS_BUCKETS_MAX	16

typedef struct {
	const char *name;
	const char *help;
	const double *bounds;	/* seconds, ascending */
	size_t	nbounds;
	atomic_ullong buckets[METRICS_BUCKETS_MAX + 1];	/* last: +Inf; not cumulative */
	atomic_ullong sum_us;
} metrics_hist_t;

void	metrics_hist_observe_us(metrics_hist_t *h, long long us);
void	metrics_hist_observe_ms(metrics_hist_t *h, long ms);
void	metrics_hist_write(FILE *out, metrics_hist_t *h);

#endif
