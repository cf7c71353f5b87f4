/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ctl_report - targreyctl report [--days N] [--html FILE] [--lang ja|en]
 * DESCRIPTION
 *	Reads the hourly decision counters and top suspicious networks of
 *	the last N days (default 1, at most 400) from the store and prints the text summary, or writes
 *	the HTML page to FILE ("-": standard output). The language defaults
 *	to Japanese when LC_ALL, LC_MESSAGES or LANG starts with "ja".
 * DIAGNOSTICS
 *	Exit 2 on bad usage, 1 when the store or FILE cannot be used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ctl_report.h"
#include "ctl_store.h"
#include "report_view.h"

/* The language from the locale variables: 1 for Japanese. */
static int
ctl_report_locale(void)
{
	static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v != NULL && *v)
			return strncmp(v, "ja", 2) == 0;
	}
	return 0;
}

static int
ctl_report_row(int64_t hour, const uint32_t counts[REPORT_CATEGORIES], void *ctx)
{
	report_data_t *d = ctx;

	if (hour >= d->first_hour && hour < d->first_hour + (int64_t) d->nhours)
		memcpy(d->counts[hour - d->first_hour], counts, sizeof(uint32_t) * REPORT_CATEGORIES);
	return 0;
}

/* Keep the top networks of HOUR in D->nets (grown as needed). */
static int
ctl_report_nets(int64_t hour, const topnet_t *nets, size_t n, void *ctx)
{
	report_data_t *d = ctx;
	report_net_row_t *more;

	if (hour < d->first_hour || hour >= d->first_hour + (int64_t) d->nhours)
		return 0;
	if ((more = realloc(d->nets, (d->nnets + n) * sizeof(*more))) == NULL)
		return 1;
	d->nets = more;
	for (size_t i = 0; i < n; i++)
		d->nets[d->nnets++] = (report_net_row_t) {.hour = hour, .net = nets[i]};
	return 0;
}

/* Parse the options into *DAYS, *HTML and D->lang; 0, or -1. */
static int
ctl_report_args(int argc, char **argv, long *days, const char **html, report_data_t *d)
{
	char   *end;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
			*days = strtol(argv[++i], &end, 10);
			if (*end || *days < 1 || *days > 400)
				return -1;
		} else if (strcmp(argv[i], "--html") == 0 && i + 1 < argc) {
			*html = argv[++i];
		} else if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "ja") != 0 && strcmp(argv[i], "en") != 0)
				return -1;
			d->lang = strcmp(argv[i], "ja") == 0;
		} else
			return -1;
	}
	return 0;
}

int
ctl_report(const config_t *cfg, int argc, char **argv)
{
	report_data_t d = {.lang = ctl_report_locale()};
	const char *html = NULL;
	long	days = 1;
	store_t *st;
	FILE   *out = ctl_store_out();
	int	rc = 0;

	if (ctl_report_args(argc, argv, &days, &html, &d) < 0) {
		fprintf(stderr, "usage: targreyctl report [--days N (1..400)] [--html FILE] [--lang ja|en]\n");
		return 2;
	}
	d.nhours = (size_t) days * 24;
	d.first_hour = ctl_store_now() / 3600 - (int64_t) d.nhours + 1;
	if ((d.counts = calloc(d.nhours, sizeof(*d.counts))) == NULL)
		return 1;
	if ((st = ctl_store_open(cfg)) == NULL)
		return free(d.counts), 1;
	rc = store_report_read(st, d.first_hour, d.first_hour + (int64_t) d.nhours - 1,
	    ctl_report_row, &d) < 0
	    || store_report_net_read(st, d.first_hour, d.first_hour + (int64_t) d.nhours - 1,
	    ctl_report_nets, &d) < 0;
	if (rc == 0 && html == NULL)
		report_text(out, &d);
	else if (rc == 0 && strcmp(html, "-") == 0)
		report_html(out, &d);
	else if (rc == 0 && (out = fopen(html, "w")) != NULL) {
		report_html(out, &d);
		rc = fclose(out) != 0;
	} else if (rc == 0) {
		fprintf(stderr, "targreyctl: cannot write %s\n", html);
		rc = 1;
	}
	free(d.counts);
	free(d.nets);
	return ctl_store_done(st, "report", rc);
}
