/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	stage_metrics - the milter's side of the metrics
 * SYNOPSIS
 *	#include "stage_metrics.h"
 *
 *	void stage_metrics_greylist(greylist_verdict_t v,
 *		const greylist_result_t *g, int64_t now);
 *	void stage_metrics_spf(const spf_outcome_t *o);
 *	void stage_metrics_collect(FILE *out);
 * DESCRIPTION
 *	stage_metrics_greylist() and stage_metrics_spf() are the one-line
 *	hooks of the RCPT and MAIL stages: they turn the policy's and SPF's
 *	results into the labels of metrics.h (and, for a triplet that passed
 *	by its counted retry, the time since its first attempt).
 *	stage_metrics_collect() is the collector given to
 *	http_metrics_start(): on the endpoint's thread, it writes sessions
 *	and tarpits in flight and their caps, the store's counters, records,
 *	map size and health (short LMDB read transactions, which never block
 *	a writer).
 * DIAGNOSTICS
 *	A store that cannot be read leaves its series out; the health series
 *	says why.
 */
#ifndef TG_STAGE_METRICS_H
#define TG_STAGE_METRICS_H

#include <stdint.h>
#include <stdio.h>
#include "greylist.h"
#include "spf_policy.h"

void	stage_metrics_greylist(greylist_verdict_t v, const greylist_result_t *g, int64_t now);
void	stage_metrics_spf(const spf_outcome_t *o);
void	stage_metrics_collect(FILE *out);

#endif
