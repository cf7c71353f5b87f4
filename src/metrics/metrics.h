/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	metrics - lock-free counters and histograms for the Prometheus endpoint
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	void metrics_count_decision(const char *stage, const char *action,
 *		const char *reason);
 *	void metrics_count_tarpit(const char *outcome, long elapsed_ms);
 *	void metrics_count_dns(int failed, long elapsed_ms);
 *	void metrics_count_reload(int ok);
 *	void metrics_count_greylist(const char *verdict, const char *reason,
 *		long pass_delay_s);
 *	void metrics_count_spf(const char *identity, const char *result);
 *	void metrics_count_s25r(int suspicious, const char *reason);
 *	void metrics_set_collector(metrics_collect_fn fn);
 *	void metrics_set_enabled(int on);
 *
 *	int metrics_write(FILE *out);
 * DESCRIPTION
 *	The metrics_count_*() functions are the one-line hooks the milter
 *	calls where it logs a decision, ends a tarpit wait, finishes a DNS
 *	lookup or reloads. They touch only C11 atomics: no lock, no
 *	allocation, no system call, so a milter callback never waits for a
 *	scrape. Labelled counters live in a fixed table of METRICS_SERIES
 *	series per family; a new label set claims a free slot with a
 *	compare-and-swap; when the table is full the event is counted in
 *	targrey_metrics_dropped_total instead (labels come from the
 *	program, not from clients, so this is a guard, not a path).
 *
 *	Label values that name a table line ("TABLE:LINE") are cut at the
 *	colon, so that a long whitelist cannot fill a family.
 *	metrics_count_greylist() also observes PASS_DELAY_S (the time from a
 *	triplet's first attempt to the retry that passed it) unless it is
 *	negative. The milter turns its own types into these arguments
 *	(stage_metrics.c): this module knows no layer above base.
 *
 *	metrics_set_enabled(0) (the default, metrics_listen empty) makes
 *	every hook return at once; the daemon turns them on when it starts
 *	the endpoint. Counters are process-wide and survive SIGHUP.
 *
 *	metrics_write() writes every family in the Prometheus text
 *	exposition format (version 0.0.4) to OUT: the counters above, then
 *	what the collector set by metrics_set_collector() writes (the
 *	gauges the daemon reads at scrape time). It returns 0, or -1 when
 *	OUT failed. metrics_help() writes a family's HELP and TYPE lines
 *	for a collector.
 * THREADS
 *	Every function may be called from any thread at any time.
 */
#ifndef TG_METRICS_H
#define TG_METRICS_H

#include <stdio.h>

#define METRICS_SERIES		256	/* label sets per family */
#define METRICS_LABELS_MAX	160	/* bytes of one rendered label set */

void	metrics_set_enabled(int on);
int	metrics_enabled(void);
void	metrics_count_decision(const char *stage, const char *action, const char *reason);
void	metrics_count_tarpit(const char *outcome, long elapsed_ms);
void	metrics_count_dns(int failed, long elapsed_ms);
void	metrics_count_reload(int ok);
void	metrics_count_greylist(const char *verdict, const char *reason, long pass_delay_s);
void	metrics_count_spf(const char *identity, const char *result);
void	metrics_count_s25r(int suspicious, const char *reason);

typedef void (*metrics_collect_fn)(FILE *out);
void	metrics_set_collector(metrics_collect_fn fn);
int	metrics_write(FILE *out);
void	metrics_help(FILE *out, const char *name, const char *type, const char *help);
size_t	metrics_escape(char *dst, size_t size, const char *src);

#endif
