/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	milter_report - move the hourly decision counts into the store
 * DESCRIPTION
 *	See milter_report.h. A decision counted in the last moments of an
 *	hour may be flushed into the next hour's record: the report is
 *	hourly, the flush interval a minute. The first flush of each hour
 *	also samples the store's size (records per database, map size) into
 *	the report's gauges, and so does the last flush when the daemon
 *	stops (the hour keeps the larger sample). Each flush also merges
 *	the top suspicious networks since the last one into the hour's list.
 * DIAGNOSTICS
 *	See milter_report.h.
 */
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "metrics_hourly.h"
#include "metrics_topnet.h"
#include "milter_report.h"
#include "runtime.h"
#include "store_report.h"

static pthread_t report_thread;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t report_cond = PTHREAD_COND_INITIALIZER;
static int report_running, report_stopping;
static store_t *report_store;
static long report_interval_ms;
static int64_t report_sampled = -1;	/* hour of the last size sample */

/* report_history in hours, from the running configuration. */
static int64_t
report_keep_hours(void)
{
	runtime_t *rt = runtime_acquire();
	int64_t	keep = 35 * 24;

	if (rt != NULL) {
		keep = rt->cfg->report_history / 3600000;
		runtime_release(rt);
	}
	return keep;
}

/* The store's size into the gauges of TAKE, once an hour (the first
 * flush of each hour); 1 when sampled. */
static int
report_sample(store_t *st, int64_t hour, uint32_t take[REPORT_CATEGORIES])
{
	size_t	n;

	if (hour == report_sampled)
		return 0;
	for (int db = 0; db < STORE_DB_COUNT && REPORT_STORE_GREYLIST + db <= REPORT_STORE_META; db++)
		if (store_count(st, (store_db_t) db, &n) == 0)
			take[REPORT_STORE_GREYLIST + db] = n > UINT32_MAX ? UINT32_MAX : (uint32_t) n;
	take[REPORT_STORE_KIB] = (uint32_t) (store_map_size(st) / 1024);
	report_sampled = hour;
	return 1;
}

/* The top suspicious networks since the last flush into the store. */
static int
report_flush_nets(store_t *st, int64_t hour)
{
	topnet_t nets[TOPNET_KEEP];
	size_t	n = metrics_topnet_take(nets);

	if (n == 0 || store_report_net_add(st, hour, nets, n, report_keep_hours()) == 0)
		return 0;
	metrics_topnet_return(nets, n);	/* kept for the next try */
	return STORE_ERROR;
}

int
milter_report_flush(store_t *st)
{
	uint32_t take[REPORT_CATEGORIES];
	int64_t	hour = (int64_t) time(NULL) / 3600;
	int	any;

	if (st == NULL)
		return 0;
	if (report_flush_nets(st, hour) < 0)
		return STORE_ERROR;
	any = metrics_hour_take(take);
	if (!report_sample(st, hour, take) && !any)
		return 0;
	if (store_report_add(st, hour, take, report_keep_hours()) == 0)
		return 0;
	metrics_hour_return(take);	/* kept for the next try */
	report_sampled = -1;		/* sampled again */
	return STORE_ERROR;
}

static void *
report_main(void *arg)
{
	struct timespec until;
	static time_t last_warn;

	(void) arg;
	pthread_mutex_lock(&report_lock);
	while (!report_stopping) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += report_interval_ms / 1000;
		until.tv_nsec += (report_interval_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000)
			until.tv_sec++, until.tv_nsec -= 1000000000;
		pthread_cond_timedwait(&report_cond, &report_lock, &until);
		pthread_mutex_unlock(&report_lock);
		if (milter_report_flush(report_store) < 0 && time(NULL) - last_warn >= 3600) {
			log_warning("report: cannot write the hourly counters; kept in memory");
			last_warn = time(NULL);
		}
		pthread_mutex_lock(&report_lock);
	}
	pthread_mutex_unlock(&report_lock);
	return NULL;
}

int
milter_report_start(store_t *st, long interval_ms)
{
	sigset_t all, old;
	int	rc;

	if (report_running || st == NULL)
		return 0;
	report_store = st;
	report_interval_ms = interval_ms > 0 ? interval_ms : 60000;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);	/* signals stay with libmilter */
	rc = pthread_create(&report_thread, NULL, report_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	report_running = rc == 0;
	return rc == 0 ? 0 : -1;
}

void
milter_report_stop(void)
{
	if (!report_running)
		return;
	pthread_mutex_lock(&report_lock);
	report_stopping = 1;
	pthread_cond_signal(&report_cond);
	pthread_mutex_unlock(&report_lock);
	pthread_join(report_thread, NULL);
	report_running = 0;
	report_sampled = -1;	/* the last flush samples the store's size too */
	(void) milter_report_flush(report_store);
}
