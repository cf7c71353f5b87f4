/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	report_text - the plain-text summary of targreyctl report
 * DESCRIPTION
 *	See report_view.h. Numbers are the stored hourly counters, summed;
 *	days are UTC days.
 * DIAGNOSTICS
 *	None: an empty window prints zeros.
 */
#include <inttypes.h>
#include <time.h>
#include "report_view.h"

static const char *const labels[2][REPORT_CATEGORIES] = {
	{"accepted", "skipped", "tarpit passed", "tarpit failed", "greylisted",
	 "SPF rejected", "SPF deferred", "unchecked", "other",
	 "suspicious clients", "greylist returned", "SPF pass", "SPF fail",
	 "S25R rule 0", "S25R rule 1", "S25R rule 2", "S25R rule 3", "S25R rule 4",
	 "S25R rule 5", "S25R rule 6", "client_access table", "S25R whitelist",
	 "under 5 min", "under 15 min", "under 1 h", "under 4 h", "under 1 day",
	 "1 day or more",
	 "greylist", "clients", "tarpit", "meta", "map KiB"},
	{"受理", "検査省略", "tarpit 通過", "tarpit 脱落", "グレイリスト",
	 "SPF 拒否", "SPF 保留", "未検査受理", "その他",
	 "S25R 該当", "グレイリスト再送", "SPF pass", "SPF fail",
	 "S25R 規則 0", "S25R 規則 1", "S25R 規則 2", "S25R 規則 3", "S25R 規則 4",
	 "S25R 規則 5", "S25R 規則 6", "client_access 表", "S25R 除外表",
	 "5 分未満", "15 分未満", "1 時間未満", "4 時間未満", "1 日未満",
	 "1 日以上",
	 "greylist", "clients", "tarpit", "meta", "マップ KiB"},
};

const char *
report_label(const report_data_t *d, int category)
{
	return labels[d->lang ? 1 : 0][category];
}

/* Sum of CATEGORY over rows [FROM, TO). */
uint64_t
report_total(const report_data_t *d, int category, size_t from, size_t to)
{
	uint64_t n = 0;

	for (size_t h = from; h < to && h < d->nhours; h++)
		n += d->counts[h][category];
	return n;
}

/* The largest value of gauge CATEGORY over rows [FROM, TO). */
uint64_t
report_peak_of(const report_data_t *d, int category, size_t from, size_t to)
{
	uint64_t n = 0;

	for (size_t h = from; h < to && h < d->nhours; h++)
		if (d->counts[h][category] > n)
			n = d->counts[h][category];
	return n;
}

/* The row after the UTC day of row START. */
size_t
report_day_end(const report_data_t *d, size_t start)
{
	size_t	end = start + 1;

	while (end < d->nhours && (d->first_hour + (int64_t) end) % 24 != 0)
		end++;
	return end;
}

size_t
report_day_nets(const report_data_t *d, size_t from, size_t to,
		topnet_t out[REPORT_DAY_NETS_MAX])
{
	size_t	n = 0;

	for (size_t i = 0; i < d->nnets; i++) {
		int64_t	h = d->nets[i].hour - d->first_hour;

		if (h >= (int64_t) from && h < (int64_t) to)
			n = topnet_merge(out, n, REPORT_DAY_NETS_MAX, d->nets[i].net.net,
			    d->nets[i].net.count);
	}
	topnet_sort(out, n);
	return n;
}

/* The top suspicious networks of each UTC day that has some. */
static void
report_text_nets(FILE *out, const report_data_t *d)
{
	static topnet_t nets[REPORT_DAY_NETS_MAX];
	char	day[16];
	size_t	start = 0, n;

	fprintf(out, "\n%s\n", d->lang ? "S25R 該当の多いネットワーク (日ごと)"
	    : "Top suspicious networks (per day)");
	while (start < d->nhours) {
		size_t	end = report_day_end(d, start);

		report_day(day, sizeof(day), d->first_hour + (int64_t) start);
		n = report_day_nets(d, start, end, nets);
		for (size_t i = 0; i < n && i < REPORT_DAY_NETS; i++)
			fprintf(out, "%-10s  %-28s %" PRIu32 "\n", i ? "" : day, nets[i].net,
			    nets[i].count);
		start = end;
	}
}

/* "YYYY-MM-DD" of HOUR (UTC). */
void
report_day(char *buf, size_t size, int64_t hour)
{
	time_t	t = (time_t) (hour * 3600);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d", &tm);
}

/* One line per UTC day: the date and each category of [FIRST, LAST),
 * summed, or for gauges their daily peak. */
static void
report_text_days(FILE *out, const report_data_t *d, const char *title, int first, int last)
{
	char	day[16];
	size_t	start = 0;

	fprintf(out, "\n%s\n%-10s", title, d->lang ? "日付" : "date");
	for (int c = first; c < last; c++)
		fprintf(out, " %14s", report_label(d, c));
	fputc('\n', out);
	while (start < d->nhours) {
		size_t	end = report_day_end(d, start);

		report_day(day, sizeof(day), d->first_hour + (int64_t) start);
		fprintf(out, "%-10s", day);
		for (int c = first; c < last; c++)
			fprintf(out, " %14" PRIu64, c < REPORT_GAUGES ? report_total(d, c, start, end)
			    : report_peak_of(d, c, start, end));
		fputc('\n', out);
		start = end;
	}
}

/* PART out of ALL as a percentage, or "-". */
static void
report_rate(FILE *out, const char *what, uint64_t part, uint64_t all)
{
	if (all == 0)
		fprintf(out, "  %-28s -\n", what);
	else
		fprintf(out, "  %-28s %.1f%% (%" PRIu64 "/%" PRIu64 ")\n", what,
		    100.0 * (double) part / (double) all, part, all);
}

void
report_text(FILE *out, const report_data_t *d)
{
	char	from[16], to[16];
	uint64_t all = 0, t[REPORT_CATEGORIES];

	report_day(from, sizeof(from), d->first_hour);
	report_day(to, sizeof(to), d->first_hour + (int64_t) d->nhours - 1);
	fprintf(out, "targrey-milter %s: %s .. %s (UTC)\n\n%s\n", d->lang ? "レポート" : "report",
	    from, to, d->lang ? "合計" : "Totals");
	for (int c = 0; c < REPORT_GAUGES; c++) {
		t[c] = report_total(d, c, 0, d->nhours);
		all += c < REPORT_DECISIONS ? t[c] : 0;
		if (c == REPORT_DECISIONS)
			fprintf(out, "  %-28s %" PRIu64 "\n\n%s\n", d->lang ? "判定の合計" : "decisions",
			    all, d->lang ? "事象" : "Events");
		if (c == REPORT_S25R_RULE0)
			fprintf(out, "\n%s\n", d->lang ? "S25R の判定元" : "S25R answers by source");
		if (c == REPORT_RETURN_5M)
			fprintf(out, "\n%s\n", d->lang ? "グレイリスト後の再送までの時間"
			    : "Greylist return delays");
		fprintf(out, "  %-28s %" PRIu64 "\n", report_label(d, c), t[c]);
	}
	report_text_days(out, d, d->lang ? "日別" : "Per day", 0, REPORT_DECISIONS);
	report_text_nets(out, d);
	report_text_days(out, d, d->lang ? "ストアの大きさ (日ごとの最大; 件数, KiB)"
	    : "Store size (daily peak; records, KiB)", REPORT_GAUGES, REPORT_CATEGORIES);
	fprintf(out, "\n%s\n", d->lang ? "割合" : "Rates");
	report_rate(out, d->lang ? "tarpit を待ち通した" : "tarpit waited out",
	    t[REPORT_TARPIT_PASSED], t[REPORT_TARPIT_PASSED] + t[REPORT_TARPIT_FAILED]);
	report_rate(out, d->lang ? "SPF で拒否/保留" : "SPF rejected or deferred",
	    t[REPORT_SPF_REJECTED] + t[REPORT_SPF_DEFERRED], all);
	report_rate(out, d->lang ? "グレイリスト後の再送" : "greylist return rate",
	    t[REPORT_GREY_RETURNED], t[REPORT_GREYLISTED]);
	report_rate(out, d->lang ? "SPF fail (MAIL FROM)" : "SPF fail (MAIL FROM)",
	    t[REPORT_SPF_FAIL], t[REPORT_SPF_PASS] + t[REPORT_SPF_FAIL]);
}
