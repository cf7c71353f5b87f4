/*
 * NAME
 *	report - count decisions per hour for targreyctl report
 * SYNOPSIS
 *	#include "report.h"
 *
 *	void report_count(const char *stage, const char *action,
 *		const char *reason);
 *	report_category_t report_category(const char *stage,
 *		const char *action, const char *reason);
 *	int report_start(store_t *st, long interval_ms);
 *	void report_stop(void);
 *	int report_flush(store_t *st);
 * DESCRIPTION
 *	report_count() (called with each decision line) adds one to the
 *	decision's category (report_category()) in memory: an atomic
 *	increment, nothing else. report_start() starts a thread that every
 *	INTERVAL_MS moves those counts into the store's record of the
 *	current hour (store_report_add()), keeping report_history;
 *	report_stop() stops it after a last flush. report_flush() does one
 *	flush now; it returns 0 or STORE_ERROR (the counts are then kept
 *	for the next flush).
 * THREADS
 *	report_count() from any thread; the others from the main thread.
 */
#ifndef TG_REPORT_H
#define TG_REPORT_H

#include "store_report.h"

void	report_count(const char *stage, const char *action, const char *reason);
report_category_t report_category(const char *stage, const char *action, const char *reason);
int	report_start(store_t *st, long interval_ms);
void	report_stop(void);
int	report_flush(store_t *st);

#endif
