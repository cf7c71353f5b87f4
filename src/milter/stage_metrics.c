/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	stage_metrics - the milter's side of the metrics: its types into
 *	counter labels, and the gauges read when Prometheus scrapes
 * DESCRIPTION
 *	See stage_metrics.h. stage_metrics_collect() writes what is a state
 *	rather than an event:
 *	sessions and tarpits in flight and their caps, the greylist and
 *	event counters the store keeps (the same as targreyctl stats), the
 *	records per database, the map size, the store's health (one series
 *	per state, 1 for the current one). It runs on the
 *	endpoint's thread; the store reads are short LMDB read transactions,
 *	which never block a writer.
 * DIAGNOSTICS
 *	A store that cannot be read leaves its series out; the health series
 *	says why.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include "fdlimit.h"
#include "greylist.h"
#include "metrics.h"
#include "metrics_hourly.h"
#include "runtime.h"
#include "session.h"
#include "spf.h"
#include "stage_metrics.h"
#include "store.h"
#include "tarpit.h"
#include "words.h"

/* Sessions and tarpits in flight, and the caps that bound them. */
static void
metrics_write_flight(FILE *out)
{
	runtime_t *rt = runtime_acquire();
	long	fd = fdlimit_tarpit_cap();

	metrics_help(out, "targrey_sessions_active", "gauge", "SMTP sessions the milter is handling now.");
	fprintf(out, "targrey_sessions_active %u\n", session_active());
	metrics_help(out, "targrey_tarpits_active", "gauge", "Clients in the tarpit now.");
	fprintf(out, "targrey_tarpits_active %ld\n", tarpit_active());
	metrics_help(out, "targrey_tarpit_cap", "gauge",
	    "Caps on tarpits in flight, by the limit that sets them (the smallest binds).");
	if (rt != NULL) {
		fprintf(out, "targrey_tarpit_cap{limit=\"tarpit_max_sessions\"} %ld\n",
		    rt->cfg->tarpit_max_sessions);
		fprintf(out, "targrey_tarpit_cap{limit=\"tarpit_max_share\"} %ld\n",
		    rt->smtpd_limit * rt->cfg->tarpit_max_share / 100);
		metrics_help(out, "targrey_smtpd_process_limit", "gauge",
		    "Postfix's smtpd_process_limit as the milter knows it (the cap on sessions).");
		fprintf(out, "targrey_smtpd_process_limit %ld\n", rt->smtpd_limit);
		runtime_release(rt);
	}
	if (fd != LONG_MAX)
		fprintf(out, "targrey_tarpit_cap{limit=\"descriptor_limit\"} %ld\n", fd);
}

/* Greylist verdicts and events, as counted by the store. */
static void
metrics_write_verdicts(FILE *out, store_t *st)
{
	static const greylist_verdict_t v[] = {GREYLIST_PASS_AWL, GREYLIST_PASS_TRIPLET,
	    GREYLIST_GREYLIST, GREYLIST_TARPIT, GREYLIST_UNAVAILABLE};
	uint64_t n;

	metrics_help(out, "targrey_greylist_verdicts_total", "counter",
	    "Greylist verdicts at RCPT for suspicious clients, by verdict (kept in the store).");
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (store_counter_get(st, v[i], &n) == 0)
			fprintf(out, "targrey_greylist_verdicts_total{verdict=\"%s\"} %llu\n",
			    greylist_verdict_name(v[i]), (unsigned long long) n);
	metrics_help(out, "targrey_events_total", "counter",
	    "Events counted by the store, by event (tarpit_full: greylisted because the tarpit was full).");
	for (int e = 0; e < STORE_EVENTS; e++)
		if (store_event_get(st, (store_event_t) e, &n) == 0)
			fprintf(out, "targrey_events_total{event=\"%s\"} %llu\n",
			    store_event_name((store_event_t) e), (unsigned long long) n);
}

/* Records per database, map size, bad records and health. */
static void
metrics_write_store(FILE *out, store_t *st)
{
	store_health_t h = store_health(st);
	size_t	count;

	metrics_help(out, "targrey_store_records", "gauge", "Records in the store, by database.");
	for (int db = 0; db < STORE_DB_COUNT; db++)
		if (store_count(st, (store_db_t) db, &count) == 0)
			fprintf(out, "targrey_store_records{db=\"%s\"} %zu\n",
			    store_db_name((store_db_t) db), count);
	metrics_help(out, "targrey_store_map_bytes", "gauge", "Size of the store's LMDB map.");
	fprintf(out, "targrey_store_map_bytes %zu\n", store_map_size(st));
	metrics_help(out, "targrey_store_bad_records_total", "counter",
	    "Records skipped as out of bounds (a sign of corruption).");
	fprintf(out, "targrey_store_bad_records_total %llu\n",
	    (unsigned long long) store_bad_records(st));
	metrics_help(out, "targrey_store_state", "gauge",
	    "Health of the store: 1 for the current state (healthy; full and write_error: unavailable, mail is accepted unchecked; broken).");
	for (int i = STORE_HEALTHY; i <= STORE_BROKEN; i++)
		fprintf(out, "targrey_store_state{state=\"%s\"} %d\n",
		    store_health_name((store_health_t) i), i == (int) h);
}

void
stage_metrics_greylist(greylist_verdict_t v, const greylist_result_t *g, int64_t now)
{
	long	delay = -1;		/* passed by its counted retry: how long it took */

	if (v == GREYLIST_PASS_TRIPLET && g->write_triplet && g->reason != NULL
	    && strcmp(g->reason, W_RETRIED) == 0 && now >= g->triplet.first)
		delay = (long) (now - g->triplet.first);
	metrics_count_greylist(greylist_verdict_name(v), g->reason, delay);
	if (delay >= 0) {
		metrics_hour_event(REPORT_GREY_RETURNED);
		metrics_hour_return_delay(delay);
	}
}

void
stage_metrics_spf(const spf_outcome_t *o)
{
	if (o->mail_done && o->mail.identity == SPF_ID_MAILFROM) {
		if (o->mail.result == SPF_RES_PASS)
			metrics_hour_event(REPORT_SPF_PASS);
		else if (o->mail.result == SPF_RES_FAIL || o->mail.result == SPF_RES_SOFTFAIL)
			metrics_hour_event(REPORT_SPF_FAIL);
	}
	if (!metrics_enabled())
		return;
	if (o->skipped || o->whitelisted)
		metrics_count_spf("any", o->skipped ? W_SKIPPED : W_WHITELISTED);
	if (o->helo_done)
		metrics_count_spf("helo", spf_result_name(o->helo.result));
	if (o->mail_done)
		metrics_count_spf(o->mail.identity == SPF_ID_HELO ? "helo_for_null" : "mailfrom",
		    spf_result_name(o->mail.result));
}

void
stage_metrics_collect(FILE *out)
{
	store_t *st = runtime_store();

	metrics_write_flight(out);
	if (st != NULL) {
		metrics_write_verdicts(out, st);
		metrics_write_store(out, st);
	}
}
