/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	report_html - the HTML page of targreyctl report --html
 * DESCRIPTION
 *	See report_view.h. One page, inline CSS and SVG only, so that it
 *	opens offline and in a mail client. Chart 1: decisions per hour,
 *	stacked by category. Chart 2: tarpit passed and failed per day.
 *	Then horizontal bars of the greylist return delays and of the S25R
 *	answers by source, and the store's records per hour stacked by
 *	database; each chart with its table of numbers (id total-N, N the
 *	category), gauges by their peak in the window; a table of the top
 *	suspicious networks of each day (network names come from the
 *	daemon's own formatting of addresses, never from a client).
 *	All text on the page comes from this program (no client text).
 * DIAGNOSTICS
 *	None.
 */
#include <inttypes.h>
#include <time.h>
#include "report_view.h"

#define CHART_W		840
#define CHART_H		240
#define CHART_PAD	30

static const char *const colours[REPORT_CATEGORIES] = {
	"#2e7d32", "#90a4ae", "#1565c0", "#ef6c00", "#f9a825",
	"#c62828", "#ad1457", "#6a1b9a", "#5d4037",
	"#00838f", "#9e9d24", "#43a047", "#d84315",
	/* S25R rules 0-6, table, whitelist */
	"#b71c1c", "#e53935", "#f4511e", "#fb8c00", "#fdd835", "#7cb342", "#00897b",
	"#3949ab", "#8e24aa",
	/* return delays */
	"#1b5e20", "#388e3c", "#7cb342", "#c0ca33", "#ffb300", "#e64a19",
	/* store size */
	"#1565c0", "#00838f", "#ef6c00", "#6a1b9a", "#5d4037"};

/* The largest stacked height of categories [FIRST, LAST) in any hour. */
static uint64_t
report_peak(const report_data_t *d, int first, int last)
{
	uint64_t peak = 1, sum;

	for (size_t h = 0; h < d->nhours; h++) {
		sum = 0;
		for (int c = first; c < last; c++)
			sum += d->counts[h][c];
		if (sum > peak)
			peak = sum;
	}
	return peak;
}

/* One stacked bar per hour of categories [FIRST, LAST): chart 1
 * (decisions), and the store's records over time. */
static void
report_html_hours(FILE *out, const report_data_t *d, const char *id, int first, int last)
{
	double	bw = (double) CHART_W / (double) (d->nhours ? d->nhours : 1);
	double	scale = (double) CHART_H / (double) report_peak(d, first, last);

	fprintf(out, "<svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
	    " role=\"img\" aria-label=\"%s per hour\">\n", id, CHART_W + CHART_PAD, CHART_H + CHART_PAD, id);
	fprintf(out, "<rect x=\"%d\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n",
	    CHART_PAD, CHART_W, CHART_H);
	fprintf(out, "<text x=\"0\" y=\"12\" font-size=\"10\">%" PRIu64 "</text>\n",
	    report_peak(d, first, last));
	for (size_t h = 0; h < d->nhours; h++) {
		double	y = CHART_H;

		for (int c = first; c < last; c++) {
			double	ht = d->counts[h][c] * scale;

			if (d->counts[h][c] == 0)
				continue;
			y -= ht;
			fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\""
			    " fill=\"%s\"><title>%s %u</title></rect>\n", CHART_PAD + h * bw, y,
			    bw > 1.5 ? bw - 0.5 : bw, ht, colours[c], report_label(d, c), d->counts[h][c]);
		}
	}
	fprintf(out, "</svg>\n");
}

/* Chart 2: tarpit passed and failed per day, side by side. */
static void
report_html_tarpit(FILE *out, const report_data_t *d)
{
	size_t	days = (d->nhours + 23) / 24;
	double	bw = (double) CHART_W / (double) (days ? days : 1) / 2.0;
	uint64_t peak = 1;

	for (size_t i = 0; i < days; i++)
		for (int c = REPORT_TARPIT_PASSED; c <= REPORT_TARPIT_FAILED; c++)
			if (report_total(d, c, i * 24, i * 24 + 24) > peak)
				peak = report_total(d, c, i * 24, i * 24 + 24);
	fprintf(out, "<svg id=\"tarpit\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
	    " role=\"img\" aria-label=\"tarpit outcomes per day\">\n", CHART_W + CHART_PAD, CHART_H / 2 + 4);
	for (size_t i = 0; i < days; i++)
		for (int c = REPORT_TARPIT_PASSED; c <= REPORT_TARPIT_FAILED; c++) {
			uint64_t n = report_total(d, c, i * 24, i * 24 + 24);
			double	ht = (double) n * (CHART_H / 2) / (double) peak;

			fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\">"
			    "<title>%s %" PRIu64 "</title></rect>\n", CHART_PAD + (2 * i + (size_t) (c - REPORT_TARPIT_PASSED)) * bw,
			    CHART_H / 2 - ht, bw * 0.9, ht, colours[c], report_label(d, c), n);
		}
	fprintf(out, "</svg>\n");
}

/* The total of CATEGORY over the window; for a gauge its peak. */
static uint64_t
report_value(const report_data_t *d, int category)
{
	return category < REPORT_GAUGES ? report_total(d, category, 0, d->nhours)
	    : report_peak_of(d, category, 0, d->nhours);
}

/* Legend and totals of categories [FIRST, LAST) as a table. */
static void
report_html_totals(FILE *out, const report_data_t *d, const char *what, int first, int last)
{
	fprintf(out, "<table>\n<tr><th></th><th>%s</th><th>%s</th></tr>\n",
	    what, d->lang ? "件数" : "count");
	for (int c = first; c < last; c++)
		fprintf(out, "<tr><td><span class=\"key\" style=\"background:%s\"></span></td>"
		    "<td>%s</td><td class=\"n\" id=\"total-%d\">%" PRIu64 "</td></tr>\n", colours[c],
		    report_label(d, c), c, report_value(d, c));
	fprintf(out, "</table>\n");
}

/* One horizontal bar per category of [FIRST, LAST), as long as its total. */
static void
report_html_bars(FILE *out, const report_data_t *d, const char *id, int first, int last)
{
	uint64_t peak = 1;
	int	row = 22;

	for (int c = first; c < last; c++)
		if (report_value(d, c) > peak)
			peak = report_value(d, c);
	fprintf(out, "<svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
	    " role=\"img\" aria-label=\"%s\">\n", id, CHART_W + CHART_PAD, row * (last - first) + 4, id);
	for (int c = first; c < last; c++) {
		uint64_t n = report_value(d, c);
		double	w = (double) n * (CHART_W - 220) / (double) peak;
		int	y = row * (c - first);

		fprintf(out, "<text x=\"0\" y=\"%d\" font-size=\"12\">%s</text>\n", y + 15,
		    report_label(d, c));
		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\">"
		    "<title>%s %" PRIu64 "</title></rect>\n", 160 + CHART_PAD, y + 2, w, row - 6,
		    colours[c], report_label(d, c), n);
		fprintf(out, "<text x=\"%.0f\" y=\"%d\" font-size=\"12\">%" PRIu64 "</text>\n",
		    160 + CHART_PAD + w + 4, y + 15, n);
	}
	fprintf(out, "</svg>\n");
}

/* The top suspicious networks of the window's days, as a table. */
static void
report_html_nets(FILE *out, const report_data_t *d)
{
	static topnet_t nets[REPORT_DAY_NETS_MAX];
	char	day[16];

	fprintf(out, "<table id=\"nets\">\n<tr><th>%s</th><th>%s</th><th>%s</th></tr>\n",
	    d->lang ? "日付" : "date", d->lang ? "ネットワーク" : "network",
	    d->lang ? "S25R 該当" : "suspicious clients");
	for (size_t start = 0, end; start < d->nhours; start = end) {
		size_t	n = report_day_nets(d, start, end = report_day_end(d, start), nets);

		report_day(day, sizeof(day), d->first_hour + (int64_t) start);
		for (size_t i = 0; i < n && i < REPORT_DAY_NETS; i++)
			fprintf(out, "<tr><td>%s</td><td>%s</td><td class=\"n\">%" PRIu32 "</td></tr>\n",
			    day, nets[i].net, nets[i].count);
	}
	fprintf(out, "</table>\n");
}

void
report_html(FILE *out, const report_data_t *d)
{
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<title>targrey-milter %s</title>\n<style>\n"
	    "body{font-family:sans-serif;margin:1em;color:#222}\n"
	    "td.n{text-align:right;padding-left:1em}\n"
	    ".key{display:inline-block;width:1em;height:1em}\n</style>\n</head>\n<body>\n",
	    d->lang ? "ja" : "en", d->lang ? "レポート" : "report");
	fprintf(out, "<h1>targrey-milter %s</h1>\n", d->lang ? "レポート" : "report");
	fprintf(out, "<h2>%s</h2>\n", d->lang ? "1時間ごとの判定" : "Decisions per hour");
	report_html_hours(out, d, "hours", 0, REPORT_DECISIONS);
	report_html_totals(out, d, d->lang ? "判定" : "decision", 0, REPORT_S25R_RULE0);
	fprintf(out, "<h2>%s</h2>\n", d->lang ? "日ごとの tarpit 結果" : "Tarpit outcomes per day");
	report_html_tarpit(out, d);
	fprintf(out, "<h2>%s</h2>\n", d->lang ? "グレイリスト後の再送までの時間" : "Greylist return delays");
	report_html_bars(out, d, "returns", REPORT_RETURN_5M, REPORT_RETURN_LATER + 1);
	report_html_totals(out, d, d->lang ? "再送まで" : "returned", REPORT_RETURN_5M,
	    REPORT_RETURN_LATER + 1);
	fprintf(out, "<h2>%s</h2>\n", d->lang ? "S25R の判定元" : "S25R answers by source");
	report_html_bars(out, d, "s25r", REPORT_S25R_RULE0, REPORT_S25R_WHITELIST + 1);
	report_html_totals(out, d, d->lang ? "判定元" : "source", REPORT_S25R_RULE0,
	    REPORT_S25R_WHITELIST + 1);
	fprintf(out, "<h2>%s</h2>\n", d->lang ? "S25R 該当の多いネットワーク (日ごと)"
	    : "Top suspicious networks per day");
	report_html_nets(out, d);
	fprintf(out, "<h2>%s</h2>\n", d->lang ? "ストアの件数 (1時間ごと)" : "Store records per hour");
	report_html_hours(out, d, "store", REPORT_STORE_GREYLIST, REPORT_STORE_META + 1);
	report_html_totals(out, d, d->lang ? "最大" : "peak", REPORT_GAUGES, REPORT_CATEGORIES);
	fprintf(out, "</body>\n</html>\n");
}
