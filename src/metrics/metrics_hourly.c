/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	metrics_hourly - decisions counted by category for the hourly report
 * DESCRIPTION
 *	See metrics_hourly.h. The category of a decision follows its action
 *	first (skip, greylist, tarpit), then its stage (SPF at MAIL).
 * DIAGNOSTICS
 *	None.
 */
#include <stdatomic.h>
#include <string.h>
#include "metrics_hourly.h"
#include "words.h"

static atomic_uint hour_counts[REPORT_CATEGORIES];

report_category_t
report_category(const char *stage, const char *action, const char *reason)
{
	if (strcmp(action, W_SKIP) == 0)
		return REPORT_SKIPPED;
	if (strcmp(action, W_GREYLIST) == 0)
		return REPORT_GREYLISTED;
	if (strcmp(action, W_TARPIT) == 0)
		return strcmp(reason, W_PASSED) == 0 ? REPORT_TARPIT_PASSED : REPORT_TARPIT_FAILED;
	if (strcmp(stage, W_MAIL) == 0 && strcmp(action, W_REJECT) == 0)
		return REPORT_SPF_REJECTED;
	if (strcmp(stage, W_MAIL) == 0 && strcmp(action, W_DEFER) == 0)
		return REPORT_SPF_DEFERRED;
	if (strcmp(action, W_ACCEPT) == 0)
		return strcmp(reason, W_STORE_UNAVAILABLE) == 0 ? REPORT_UNCHECKED : REPORT_ACCEPTED;
	return REPORT_OTHER;
}

void
metrics_hour_count(const char *stage, const char *action, const char *reason)
{
	if (stage == NULL || action == NULL || reason == NULL)
		return;
	if (strcmp(action, W_CLEAN) == 0 || strcmp(action, W_SUSPICIOUS) == 0)
		return;		/* connect-time classification, not a verdict */
	atomic_fetch_add_explicit(&hour_counts[report_category(stage, action, reason)], 1,
	    memory_order_relaxed);
}

void
metrics_hour_event(report_category_t event)
{
	if (event >= REPORT_DECISIONS && event < REPORT_GAUGES)
		atomic_fetch_add_explicit(&hour_counts[event], 1, memory_order_relaxed);
}

int
metrics_hour_take(uint32_t counts[REPORT_CATEGORIES])
{
	int	any = 0;

	for (size_t i = 0; i < REPORT_CATEGORIES; i++)
		any |= (counts[i] = atomic_exchange(&hour_counts[i], 0)) != 0;
	return any;
}

void
metrics_hour_return(const uint32_t counts[REPORT_CATEGORIES])
{
	for (size_t i = 0; i < REPORT_GAUGES; i++)
		atomic_fetch_add(&hour_counts[i], counts[i]);
}

void
metrics_hour_s25r(const char *reason)
{
	const char *rule = W_S25R_RULE_;

	if (reason == NULL || strcmp(reason, W_NO_MATCH) == 0)
		return;
	if (strncmp(reason, rule, strlen(rule)) == 0) {
		int	n = reason[strlen(rule)] - '0';

		if (n >= 0 && n <= 6 && reason[strlen(rule) + 1] == '\0')
			metrics_hour_event((report_category_t) (REPORT_S25R_RULE0 + n));
	} else
		metrics_hour_event(strncmp(reason, W_WHITELIST_, strlen(W_WHITELIST_)) == 0
		    ? REPORT_S25R_WHITELIST : REPORT_S25R_TABLE);
}

/* Upper bounds of the return delay buckets, seconds; the last has none. */
static const long return_limits[REPORT_RETURN_BUCKETS] = {
	300, 900, 3600, 4 * 3600, 24 * 3600, -1};

long
report_return_limit(int bucket)
{
	return bucket >= 0 && bucket < REPORT_RETURN_BUCKETS ? return_limits[bucket] : -1;
}

void
metrics_hour_return_delay(long seconds)
{
	int	b = 0;

	if (seconds < 0)
		return;
	while (b < REPORT_RETURN_BUCKETS - 1 && seconds >= return_limits[b])
		b++;
	metrics_hour_event((report_category_t) (REPORT_RETURN_5M + b));
}
