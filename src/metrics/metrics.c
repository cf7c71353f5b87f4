/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	metrics - lock-free counters and histograms for the Prometheus endpoint
 * DESCRIPTION
 *	See metrics.h. A family of labelled counters is a fixed open-address
 *	table: the label set, rendered once ("stage=\"rcpt\",..."), is
 *	hashed to a slot; a free slot is claimed by a compare-and-swap from
 *	FREE to BUSY, filled, then published as READY, so that a reader
 *	never sees half a label set. A hook does not render or hash its
 *	labels each time: a call cache (metrics_call.c) found from the
 *	addresses of the words it passes, or from their lengths and a few
 *	bytes, checked against copies of those words, leads straight to the
 *	series, so a decision costs a few loads, short compares and one
 *	atomic add. A histogram keeps one
 *	atomic count per bucket (not cumulative; the writer sums them).
 * DIAGNOSTICS
 *	A full table counts the event in targrey_metrics_dropped_total.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include "autoconfig.h"
#include "metrics.h"
#include "metrics_call.h"
#include "metrics_hist.h"
#include "metrics_hourly.h"
#include "words.h"
#include "metrics_redis.h"

enum { SLOT_FREE, SLOT_BUSY, SLOT_READY };

typedef struct {
	atomic_int state;
	atomic_ullong value;
	char	labels[METRICS_LABELS_MAX];
} metrics_series_t;

typedef struct {
	const char *name;
	const char *help;
	metrics_series_t series[METRICS_SERIES];
} metrics_vec_t;

static const double tarpit_bounds[] = {1, 5, 10, 30, 60, 120, 180, 300, 600};
static const double grey_bounds[] = {60, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400};
static const double dns_bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

static metrics_collect_fn metrics_collector;
static atomic_ullong metrics_dropped;
static metrics_vec_t decisions = {.name = "targrey_decisions_total",
	.help = "Decisions logged, by stage, action and reason (one per decision line)."};
static metrics_vec_t tarpits = {.name = "targrey_tarpit_outcomes_total",
	.help = "Tarpit waits ended, by outcome."};
static metrics_vec_t dns_lookups = {.name = "targrey_dns_lookups_total",
	.help = "DNS lookups that went to the network, by result (ok, failed)."};
static metrics_vec_t reloads = {.name = "targrey_reloads_total",
	.help = "Configuration reloads (SIGHUP), by result (ok, failed)."};
static metrics_vec_t greylist = {.name = "targrey_greylist_outcomes_total",
	.help = "Greylist outcomes at RCPT, by verdict and reason (new, retry counted, passed, ...)."};
static metrics_vec_t spf = {.name = "targrey_spf_results_total",
	.help = "SPF results, by identity (helo, mailfrom; any: not checked) and result."};
static metrics_vec_t s25r = {.name = "targrey_s25r_results_total",
	.help = "S25R classifications at connect, by result and the rule or table that decided."};
static metrics_hist_t grey_pass = {.name = "targrey_greylist_pass_delay_seconds",
	.help = "Time from a triplet's first attempt to its counted retry (greylisting passed).",
	.bounds = grey_bounds, .nbounds = sizeof(grey_bounds) / sizeof(grey_bounds[0])};
static metrics_hist_t tarpit_wait = {.name = "targrey_tarpit_wait_seconds",
	.help = "Time clients spent in the tarpit.", .bounds = tarpit_bounds,
	.nbounds = sizeof(tarpit_bounds) / sizeof(tarpit_bounds[0])};
static metrics_hist_t dns_time = {.name = "targrey_dns_lookup_seconds",
	.help = "Time of DNS lookups that went to the network.", .bounds = dns_bounds,
	.nbounds = sizeof(dns_bounds) / sizeof(dns_bounds[0])};

void
metrics_set_collector(metrics_collect_fn fn)
{
	metrics_collector = fn;
}

/* Copy SRC to DST with the exposition format's escapes; returns the length. */
size_t
metrics_escape(char *dst, size_t size, const char *src)
{
	size_t	n = 0;

	for (src = src ? src : ""; *src && n + 3 < size; src++) {
		if (*src == '\\' || *src == '"')
			dst[n++] = '\\', dst[n++] = *src;
		else if (*src == '\n')
			dst[n++] = '\\', dst[n++] = 'n';
		else
			dst[n++] = *src;
	}
	dst[n] = 0;
	return n;
}

/* FNV-1a of S. */
static uint32_t
metrics_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char) *s++) * 16777619u;
	return h;
}

/* Wait (briefly, bounded) while another thread fills slot SL. */
static int
metrics_slot_ready(metrics_series_t *sl)
{
	for (int i = 0; i < 100000; i++) {
		int	st = atomic_load_explicit(&sl->state, memory_order_acquire);

		if (st == SLOT_READY)
			return 1;
		if (st == SLOT_FREE)
			return 0;
	}
	return -1;
}

/* The series of V labelled LABELS, claiming a slot when new; NULL when full. */
static metrics_series_t *
metrics_vec_find(metrics_vec_t *v, const char *labels)
{
	uint32_t h = metrics_hash(labels);

	for (size_t i = 0; i < METRICS_SERIES; i++) {
		metrics_series_t *sl = &v->series[(h + i) % METRICS_SERIES];
		int	want = SLOT_FREE;

		if (atomic_compare_exchange_strong(&sl->state, &want, SLOT_BUSY)) {
			snprintf(sl->labels, sizeof(sl->labels), "%s", labels);
			atomic_store_explicit(&sl->state, SLOT_READY, memory_order_release);
		} else if (metrics_slot_ready(sl) != 1) {
			continue;
		}
		if (strcmp(sl->labels, labels) == 0)
			return sl;
	}
	return NULL;
}

/*
 * Render KEY="VALUE" pairs (NULL-terminated KEYS/VALUES) into BUF. Each
 * pair gets an equal share of SIZE and a value is cut (between escapes)
 * to fit it, so that the result is always whole, however long a value.
 */
static void
metrics_labels(char *buf, size_t size, const char *const *keys, const char *const *values)
{
	char	esc[METRICS_LABELS_MAX], cut[METRICS_LABELS_MAX];
	size_t	n = 0, nkeys = 0, share, room;

	while (keys[nkeys] != NULL)
		nkeys++;
	share = nkeys ? (size - 1) / nkeys : 0;
	buf[0] = 0;
	for (size_t i = 0; i < nkeys; i++) {
		const char *v = values[i] ? values[i] : "";
		const char *colon = strchr(v, ':');

		room = share > strlen(keys[i]) + 4 ? share - strlen(keys[i]) - 4 : 1;
		if (room + 1 > sizeof(esc))
			room = sizeof(esc) - 1;
		if (colon != NULL) {	/* TABLE:LINE -> TABLE */
			snprintf(cut, sizeof(cut), "%.*s", (int) (colon - v), v);
			v = cut;
		}
		metrics_escape(esc, room + 1, v);
		n += (size_t) snprintf(buf + n, size - n, "%s%s=\"%s\"", i ? "," : "", keys[i], esc);
	}
}

/* Count one event in the series of V labelled KEYS=VALUES: the hooks' one path. */
static void
metrics_vec_count(metrics_vec_t *v, const char *const *keys, const char *const *values)
{
	char	labels[METRICS_LABELS_MAX];
	size_t	n = 0;
	metrics_series_t *sl;

	while (keys[n] != NULL)
		n++;
	if ((sl = metrics_call_find(v, values, n)) == NULL) {
		metrics_labels(labels, sizeof(labels), keys, values);
		if ((sl = metrics_vec_find(v, labels)) != NULL)
			metrics_call_keep(v, values, n, sl);
	}
	if (sl != NULL)
		atomic_fetch_add_explicit(&sl->value, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&metrics_dropped, 1, memory_order_relaxed);
}

void
metrics_count_decision(const char *stage, const char *action, const char *reason)
{
	static const char *const keys[] = {"stage", "action", "reason", NULL};
	const char *values[] = {stage, action, reason};

	if (!metrics_enabled())
		return;
	metrics_vec_count(&decisions, keys, values);
}

void
metrics_count_tarpit(const char *outcome, long elapsed_ms)
{
	static const char *const keys[] = {"outcome", NULL};

	if (!metrics_enabled())
		return;
	metrics_vec_count(&tarpits, keys, &outcome);
	metrics_hist_observe_ms(&tarpit_wait, elapsed_ms);
}

void
metrics_count_dns(int failed, long elapsed_ms)
{
	static const char *const keys[] = {"result", NULL};
	const char *result = failed ? "failed" : "ok";

	if (!metrics_enabled())
		return;
	metrics_vec_count(&dns_lookups, keys, &result);
	metrics_hist_observe_ms(&dns_time, elapsed_ms);
}

void
metrics_count_reload(int ok)
{
	static const char *const keys[] = {"result", NULL};
	const char *result = ok ? "ok" : "failed";

	if (!metrics_enabled())
		return;
	metrics_vec_count(&reloads, keys, &result);
}

void
metrics_count_greylist(const char *verdict, const char *reason, long pass_delay_s)
{
	static const char *const keys[] = {"verdict", "reason", NULL};
	const char *values[] = {verdict, reason};

	if (!metrics_enabled())
		return;
	metrics_vec_count(&greylist, keys, values);
	if (pass_delay_s >= 0)
		metrics_hist_observe_ms(&grey_pass, pass_delay_s * 1000);
}

void
metrics_count_spf(const char *identity, const char *result)
{
	static const char *const keys[] = {"identity", "result", NULL};
	const char *values[] = {identity, result};

	if (!metrics_enabled())
		return;
	metrics_vec_count(&spf, keys, values);
}

void
metrics_count_s25r(int suspicious, const char *reason)
{
	static const char *const keys[] = {"result", "rule", NULL};
	const char *values[] = {suspicious ? W_SUSPICIOUS : W_CLEAN, reason};

	if (suspicious)
		metrics_hour_event(REPORT_SUSPICIOUS);	/* the report, metrics on or off */
	if (!metrics_enabled())
		return;
	metrics_vec_count(&s25r, keys, values);
}

/* Every ready series of V. */
static void
metrics_vec_write(FILE *out, metrics_vec_t *v)
{
	metrics_help(out, v->name, "counter", v->help);
	for (size_t i = 0; i < METRICS_SERIES; i++) {
		metrics_series_t *sl = &v->series[i];

		if (atomic_load_explicit(&sl->state, memory_order_acquire) == SLOT_READY)
			fprintf(out, "%s{%s} %llu\n", v->name, sl->labels,
			    (unsigned long long) atomic_load(&sl->value));
	}
}

int
metrics_write(FILE *out)
{
	metrics_vec_write(out, &decisions);
	metrics_vec_write(out, &greylist);
	metrics_hist_write(out, &grey_pass);
	metrics_vec_write(out, &spf);
	metrics_vec_write(out, &s25r);
	metrics_vec_write(out, &tarpits);
	metrics_hist_write(out, &tarpit_wait);
	metrics_vec_write(out, &dns_lookups);
	metrics_hist_write(out, &dns_time);
	metrics_vec_write(out, &reloads);
	metrics_redis_write(out);
	metrics_help(out, "targrey_metrics_dropped_total", "counter",
	    "Events not counted because a family had no free series.");
	fprintf(out, "targrey_metrics_dropped_total %llu\n",
	    (unsigned long long) atomic_load(&metrics_dropped));
	if (metrics_collector != NULL)
		metrics_collector(out);
	metrics_help(out, "targrey_build_info", "gauge", "The running program's version.");
	fprintf(out, "targrey_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	return ferror(out) ? -1 : 0;
}
