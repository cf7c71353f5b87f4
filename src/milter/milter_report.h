/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	milter_report - move the hourly decision counts into the store
 * SYNOPSIS
 *	#include "milter_report.h"
 *
 *	int milter_report_start(store_t *st, long interval_ms);
 *	void milter_report_stop(void);
 *	int milter_report_flush(store_t *st);
 * DESCRIPTION
 *	milter_report_start() starts a thread (every signal blocked) that
 *	every INTERVAL_MS moves the counts of metrics_hourly.c into the
 *	store's record of the current hour (store_report_add()), keeping
 *	report_history of the running configuration; milter_report_stop()
 *	stops it after a last flush. milter_report_flush() does one flush
 *	now; it returns 0, or STORE_ERROR (the counts are then kept for the
 *	next flush).
 * THREADS
 *	Start and stop from the main thread.
 * DIAGNOSTICS
 *	"report: cannot write the hourly counters; kept in memory" (at most
 *	once an hour).
 */
#ifndef TG_MILTER_REPORT_H
#define TG_MILTER_REPORT_H

#include "store.h"

int	milter_report_start(store_t *st, long interval_ms);
void	milter_report_stop(void);
int	milter_report_flush(store_t *st);

#endif
