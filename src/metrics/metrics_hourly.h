/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	metrics_hourly - decisions counted by category for the hourly report
 * SYNOPSIS
 *	#include "metrics_hourly.h"
 *
 *	void metrics_hour_count(const char *stage, const char *action,
 *		const char *reason);
 *	report_category_t report_category(const char *stage,
 *		const char *action, const char *reason);
 *	int metrics_hour_take(uint32_t counts[REPORT_CATEGORIES]);
 *	void metrics_hour_return(const uint32_t counts[REPORT_CATEGORIES]);
 *	void metrics_hour_event(report_category_t event);
 * DESCRIPTION
 *	metrics_hour_count() (called with each decision line, whether the
 *	endpoint is on or not) adds one to the decision's category
 *	(report_category()) in memory: an atomic increment, nothing else;
 *	connect-time classifications (clean, suspicious) are not verdicts
 *	and are not counted. metrics_hour_take() moves the counts out (zero
 *	behind) and says whether any was nonzero; metrics_hour_event() counts
 *	one of the events after REPORT_DECISIONS (not decisions: a client, a
 *	retry, an SPF result); metrics_hour_return() adds
 *	counts back (a flush that failed). The store keeps them per hour
 *	(store_report.h); milter_report.c moves them there.
 * THREADS
 *	All functions may be called from any thread.
 */
#ifndef TG_METRICS_HOURLY_H
#define TG_METRICS_HOURLY_H

#include <stdint.h>

typedef enum {
	REPORT_ACCEPTED,	/* accepted at end of message */
	REPORT_SKIPPED,		/* trusted, authenticated, whitelisted */
	REPORT_TARPIT_PASSED,	/* waited out the tarpit */
	REPORT_TARPIT_FAILED,	/* hung up or pipelined in the tarpit */
	REPORT_GREYLISTED,	/* 450 greylisted */
	REPORT_SPF_REJECTED,
	REPORT_SPF_DEFERRED,
	REPORT_UNCHECKED,	/* accepted: store unavailable */
	REPORT_OTHER,
	REPORT_DECISIONS,	/* the ones above are decisions; below, events */
	REPORT_SUSPICIOUS = REPORT_DECISIONS,	/* S25R: suspicious client */
	REPORT_GREY_RETURNED,	/* a greylisted triplet came back and passed */
	REPORT_SPF_PASS,	/* MAIL FROM identity: pass */
	REPORT_SPF_FAIL,	/* MAIL FROM identity: fail or softfail */
	REPORT_CATEGORIES
} report_category_t;

void	metrics_hour_count(const char *stage, const char *action, const char *reason);
report_category_t report_category(const char *stage, const char *action, const char *reason);
int	metrics_hour_take(uint32_t counts[REPORT_CATEGORIES]);
void	metrics_hour_return(const uint32_t counts[REPORT_CATEGORIES]);
void	metrics_hour_event(report_category_t event);

#endif
