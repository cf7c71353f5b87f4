/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	metrics_hist - lock-free histograms, the switch and HELP lines of /metrics
 * DESCRIPTION
 *	See metrics_hist.h. Each bucket counts only its own observations;
 *	the writer sums them into Prometheus's cumulative buckets, so that
 *	an observation is one atomic add, not one per bucket. This file
 *	also holds what every family shares, declared in metrics.h: the
 *	on/off switch (metrics_set_enabled(), metrics_enabled()) and the
 *	HELP and TYPE lines (metrics_help()), so that metrics.c and
 *	metrics_redis.c use it and not each other.
 * DIAGNOSTICS
 *	None.
 */
#include "metrics.h"
#include "metrics_hist.h"

static atomic_int metrics_on;

void
metrics_set_enabled(int on)
{
	atomic_store(&metrics_on, on != 0);
}

int
metrics_enabled(void)
{
	return atomic_load_explicit(&metrics_on, memory_order_relaxed);
}

/* The # HELP and # TYPE lines of a family. */
void
metrics_help(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
metrics_hist_observe_us(metrics_hist_t *h, long long us)
{
	double	s;
	size_t	b = 0;

	if (us < 0)
		us = 0;
	s = (double) us / 1e6;
	while (b < h->nbounds && s > h->bounds[b])
		b++;
	atomic_fetch_add_explicit(&h->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, (unsigned long long) us, memory_order_relaxed);
}

void
metrics_hist_observe_ms(metrics_hist_t *h, long ms)
{
	metrics_hist_observe_us(h, (long long) ms * 1000);
}

void
metrics_hist_write(FILE *out, metrics_hist_t *h)
{
	unsigned long long cum = 0;

	metrics_help(out, h->name, "histogram", h->help);
	for (size_t b = 0; b <= h->nbounds; b++) {
		cum += atomic_load(&h->buckets[b]);
		if (b < h->nbounds)
			fprintf(out, "%s_bucket{le=\"%g\"} %llu\n", h->name, h->bounds[b], cum);
		else
			fprintf(out, "%s_bucket{le=\"+Inf\"} %llu\n", h->name, cum);
	}
	fprintf(out, "%s_sum %.6f\n%s_count %llu\n", h->name,
	    (double) atomic_load(&h->sum_us) / 1e6, h->name, cum);
}
