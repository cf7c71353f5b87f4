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
 *	void metrics_hour_s25r(const char *reason);
 *	void metrics_hour_return_delay(long seconds);
 *	long report_return_limit(int bucket);
 * DESCRIPTION
 *	metrics_hour_count() (called with each decision line, whether the
 *	endpoint is on or not) adds one to the decision's category
 *	(report_category()) in memory: an atomic increment, nothing else;
 *	connect-time classifications (clean, suspicious) are not verdicts
 *	and are not counted. metrics_hour_take() moves the counts out (zero
 *	behind) and says whether any was nonzero; metrics_hour_event() counts
 *	one of the events after REPORT_DECISIONS (not decisions: a client, a
 *	retry, an SPF result); metrics_hour_return() adds
 *	counts back (a flush that failed; gauges are not returned: the next
 *	flush samples them again). metrics_hour_s25r() counts the S25R
 *	answer of REASON (s25r.h: s25r_rule_N, whitelist TABLE:LINE,
 *	TABLE:LINE; no_match is not counted); metrics_hour_return_delay()
 *	counts a greylist return after SECONDS in its bucket, whose upper
 *	bound report_return_limit() gives (seconds; -1 for the last). The
 *	gauges after REPORT_GAUGES are filled by the flush, not counted
 *	here. The store keeps them per hour
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
	/* S25R answers by where they came from (metrics_hour_s25r()) */
	REPORT_S25R_RULE0,	/* ... to REPORT_S25R_RULE0 + 6: built-in rules */
	REPORT_S25R_TABLE = REPORT_S25R_RULE0 + 7,	/* s25r_client_access hit */
	REPORT_S25R_WHITELIST,	/* s25r_whitelist hit */
	/* greylist returns by delay (metrics_hour_return_delay()) */
	REPORT_RETURN_5M,	/* under 5 min */
	REPORT_RETURN_15M,
	REPORT_RETURN_1H,
	REPORT_RETURN_4H,
	REPORT_RETURN_1D,
	REPORT_RETURN_LATER,	/* a day or more */
	/* gauges, sampled by the flush: the hour keeps the largest sample */
	REPORT_GAUGES,
	REPORT_STORE_GREYLIST = REPORT_GAUGES,	/* records per database ... */
	REPORT_STORE_CLIENTS,
	REPORT_STORE_TARPIT,
	REPORT_STORE_META,
	REPORT_STORE_KIB,	/* LMDB map size, KiB (0 on Redis) */
	REPORT_CATEGORIES	/* new ones are only ever appended */
} report_category_t;

#define REPORT_RETURN_BUCKETS	(REPORT_RETURN_LATER - REPORT_RETURN_5M + 1)

void	metrics_hour_count(const char *stage, const char *action, const char *reason);
report_category_t report_category(const char *stage, const char *action, const char *reason);
int	metrics_hour_take(uint32_t counts[REPORT_CATEGORIES]);
void	metrics_hour_return(const uint32_t counts[REPORT_CATEGORIES]);
void	metrics_hour_event(report_category_t event);
void	metrics_hour_s25r(const char *reason);
void	metrics_hour_return_delay(long seconds);
long	report_return_limit(int bucket);

#endif
