/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	report_view - the hourly counters of targreyctl report, as text or HTML
 * SYNOPSIS
 *	#include "report_view.h"
 *
 *	void report_text(FILE *out, const report_data_t *d);
 *	void report_html(FILE *out, const report_data_t *d);
 *	const char *report_label(const report_data_t *d, int category);
 *	size_t report_day_nets(const report_data_t *d, size_t from,
 *		size_t to, topnet_t out[REPORT_DAY_NETS_MAX]);
 *	uint64_t report_total(const report_data_t *d, int category,
 *		size_t from, size_t to);
 *	uint64_t report_peak_of(const report_data_t *d, int category,
 *		size_t from, size_t to);
 * DESCRIPTION
 *	D holds one row of counts per hour from D->first_hour on (hours
 *	since the Epoch, UTC), D->nhours rows, and the language (0 English,
 *	1 Japanese), and D->nets, the stored top suspicious networks of
 *	each hour; report_day_nets() sums them over rows [FROM, TO) into
 *	OUT, largest first, and returns their number. report_text() writes a summary like pflogsumm's: the
 *	totals, one line per day, the tarpit and greylist rates.
 *	report_html() writes one self-contained HTML page (no script, no
 *	external file or font) with inline SVG charts: decisions per hour
 *	stacked by verdict, and tarpit outcomes per day.
 */
#ifndef TG_REPORT_VIEW_H
#define TG_REPORT_VIEW_H

#include <stdio.h>
#include "store_report.h"

typedef struct {
	int64_t	hour;
	topnet_t net;
} report_net_row_t;

typedef struct {
	int64_t	first_hour;
	size_t	nhours;
	uint32_t (*counts)[REPORT_CATEGORIES];	/* [nhours] */
	int	lang;			/* 0 en, 1 ja */
	report_net_row_t *nets;		/* the hours' top networks, [nnets] */
	size_t	nnets;
} report_data_t;

#define REPORT_DAY_NETS	10		/* networks shown per day */
#define REPORT_DAY_NETS_MAX (24 * TOPNET_KEEP)

void	report_text(FILE *out, const report_data_t *d);
void	report_html(FILE *out, const report_data_t *d);
const char *report_label(const report_data_t *d, int category);
uint64_t report_total(const report_data_t *d, int category, size_t from, size_t to);
uint64_t report_peak_of(const report_data_t *d, int category, size_t from, size_t to);
void	report_day(char *buf, size_t size, int64_t hour);
size_t	report_day_end(const report_data_t *d, size_t start);
size_t	report_day_nets(const report_data_t *d, size_t from, size_t to,
	    topnet_t out[REPORT_DAY_NETS_MAX]);

#endif
