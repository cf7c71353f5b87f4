/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_report - hourly decision counters kept in the store
 * SYNOPSIS
 *	#include "store_report.h"
 *
 *	int store_report_add(store_t *st, int64_t hour,
 *		const uint32_t counts[REPORT_CATEGORIES], int64_t keep_hours);
 *	int store_report_read(store_t *st, int64_t from_hour, int64_t to_hour,
 *		store_report_fn fn, void *ctx);
 *	int store_report_net_add(store_t *st, int64_t hour,
 *		const topnet_t *nets, size_t n, int64_t keep_hours);
 *	int store_report_net_read(store_t *st, int64_t from_hour,
 *		int64_t to_hour, store_report_net_fn fn, void *ctx);
 * DESCRIPTION
 *	HOUR is hours since the Epoch (UTC). store_report_add() adds COUNTS
 *	to the record of HOUR (creating it; for the gauges from
 *	REPORT_GAUGES on, the record keeps the larger of the two) and deletes the records older
 *	than HOUR - KEEP_HOURS. store_report_read() calls FN for each stored
 *	hour in [FROM_HOUR, TO_HOUR], oldest first, with its counts (zero
 *	for categories a shorter, older record lacks); FN returns nonzero to
 *	stop. Both return 0, or STORE_ERROR.
 *
 *	Record (database meta): key "report/HHHHHHHHHH" (the hour, ten
 *	decimal digits, so that key order is time order); value: version
 *	byte 1, category count N, then N counts as 32-bit big-endian
 *	integers. A newer version is skipped by the reader. Categories are
 *	only ever appended (metrics_hourly.h), so a record with more counts
 *	than the reader knows is read for the ones it knows, and one with
 *	fewer (an older daemon's) reads zero for the rest.
 *
 *	With state_backend = redis the same calls keep one hash per hour in
 *	Redis instead (the Redis backend's table, store_redis_report.c: HINCRBY, so several MX hosts
 *	sharing the server add into the same hours; the server expires the
 *	hours past KEEP_HOURS).
 *
 *	store_report_net_add() merges the top suspicious networks NETS[N]
 *	(metrics_topnet.h) into HOUR's list, which keeps the TOPNET_KEEP
 *	largest counts (a network that falls out loses its count: the list
 *	is a bounded top, not a total), and prunes as store_report_add().
 *	store_report_net_read() calls FN for each stored hour of the window
 *	with its list, largest first. Record (meta): key "report-net/HOUR";
 *	value: version byte 1, entry count N, then N entries: name length
 *	byte, the name ("192.0.2.0/24"), the count as 32-bit big-endian.
 *	At most TOPNET_KEEP * 53 + 2 bytes per hour with suspicious clients.
 * DIAGNOSTICS
 *	LMDB errors as for store_get()/store_put().
 */
#ifndef TG_STORE_REPORT_H
#define TG_STORE_REPORT_H

#include <stdint.h>
#include "metrics_hourly.h"
#include "metrics_topnet.h"
#include "store.h"


#define STORE_REPORT_PREFIX	"report/"

typedef int (*store_report_fn)(int64_t hour, const uint32_t counts[REPORT_CATEGORIES], void *ctx);

int	store_report_add(store_t *st, int64_t hour, const uint32_t counts[REPORT_CATEGORIES],
	    int64_t keep_hours);
int	store_report_read(store_t *st, int64_t from_hour, int64_t to_hour,
	    store_report_fn fn, void *ctx);

/* the top suspicious networks of each hour (metrics_topnet.h) */
#define STORE_REPORT_NET_PREFIX	"report-net/"

typedef int (*store_report_net_fn)(int64_t hour, const topnet_t *nets, size_t n, void *ctx);

int	store_report_net_add(store_t *st, int64_t hour, const topnet_t *nets, size_t n,
	    int64_t keep_hours);
int	store_report_net_read(store_t *st, int64_t from_hour, int64_t to_hour,
	    store_report_net_fn fn, void *ctx);

#endif
