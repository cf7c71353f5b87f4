/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ctl_explain - targreyctl stats and explain
 * DESCRIPTION
 *	See ctl_store.h. explain gathers the facts the milter would
 *	(trusted_networks, client_whitelist, S25R classification of NAME
 *	as given: no DNS lookup, recipient_whitelist, sender_whitelist)
 *	and hands them to policy_decide() (policy.c), the milter's own
 *	decision; when it asks for the store step, explain reads the
 *	records the milter would read (store_lookup()) and runs the same
 *	step on them at the current time (store_decide()); it assumes a
 *	free tarpit slot and writes nothing. It prints the decision's
 *	trace, the records and the verdict.
 * DIAGNOSTICS
 *	"targreyctl: COMMAND: problem" on standard error.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "ctl_store.h"
#include "greylist.h"
#include "policy.h"
#include "s25r.h"
#include "whitelist.h"
#include "words.h"

typedef struct {
	store_db_t db;
	size_t	count;
	int64_t	oldest, newest;
} stats_ctx_t;

/* Track the oldest first and newest last time of one record. */
static int
ctl_stats_one(const char *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	stats_ctx_t *sc = ctx;
	grey_record_t g;
	client_record_t c;
	tarpit_record_t t;
	int64_t	first, last;

	(void) key;
	(void) klen;
	if (sc->db == STORE_DB_GREYLIST && record_grey_decode(val, vlen, &g) == RECORD_OK)
		first = g.first, last = g.last;
	else if (sc->db == STORE_DB_CLIENTS && record_client_decode(val, vlen, &c) == RECORD_OK)
		first = c.first, last = c.last_seen;
	else if (sc->db == STORE_DB_TARPIT && record_tarpit_decode(val, vlen, &t) == RECORD_OK)
		first = t.first, last = t.last;
	else
		return 0;
	if (sc->count == 0 || first < sc->oldest)
		sc->oldest = first;
	if (sc->count == 0 || last > sc->newest)
		sc->newest = last;
	sc->count++;
	return 0;
}

/* Print the size of the data file. */
static void
ctl_stats_files(const config_t *cfg, store_t *st)
{
	char	path[4096];
	struct stat sb;

	if (store_is_redis(st)) {
		fprintf(ctl_store_out(), "redis: %s, keys %s*, server-side expiry\n",
		    *cfg->redis_sentinels ? cfg->redis_sentinels : cfg->redis_server,
		    cfg->redis_key_prefix);
		return;
	}
	fprintf(ctl_store_out(), "map: %zu bytes (state_max_size %ld)\n",
	    store_map_size(st), cfg->state_max_size);
	snprintf(path, sizeof(path), "%s/data.mdb", cfg->state_directory);
	if (stat(path, &sb) == 0)
		fprintf(ctl_store_out(), "data.mdb: %lld bytes on disk\n",
		    (long long) sb.st_blocks * 512);
}

/* stats: records per database, verdict counts, oldest/newest. */
int
ctl_stats(const config_t *cfg, int argc, char **argv)
{
	char	a[32], b[32];
	store_t *st;
	size_t	n;
	uint64_t v;
	int	rc = 0;

	(void) argv;
	if ((st = ctl_store_begin(cfg, argc == 1, "stats", &rc)) == NULL)
		return rc;
	for (int db = STORE_DB_GREYLIST; db < STORE_DB_META && rc == 0; db++) {
		stats_ctx_t sc = {.db = (store_db_t) db};

		rc = store_count(st, sc.db, &n) || store_walk(st, sc.db, NULL, ctl_stats_one, &sc);
		fprintf(ctl_store_out(), "%-9s %8zu records", store_db_name(sc.db), n);
		if (sc.count)
			fprintf(ctl_store_out(), ", oldest %s, newest %s",
			    ctl_store_time(sc.oldest, a, sizeof(a)), ctl_store_time(sc.newest, b, sizeof(b)));
		fprintf(ctl_store_out(), "\n");
	}
	fprintf(ctl_store_out(), "decisions:");
	for (int i = GREYLIST_PASS_AWL; i <= GREYLIST_UNAVAILABLE; i++) {
		if (store_counter_get(st, (greylist_verdict_t) i, &v) != 0)
			rc = 1;
		fprintf(ctl_store_out(), " %s=%llu", greylist_verdict_name((greylist_verdict_t) i),
		    (unsigned long long) v);
	}
	fprintf(ctl_store_out(), "\nevents:");
	for (int e = 0; e < STORE_EVENTS; e++) {
		if (store_event_get(st, (store_event_t) e, &v) != 0)
			rc = 1;
		fprintf(ctl_store_out(), " %s=%llu", store_event_name((store_event_t) e),
		    (unsigned long long) v);
	}
	fprintf(ctl_store_out(), "\n");
	ctl_stats_files(cfg, st);
	fprintf(ctl_store_out(), "state: %s, %llu damaged record(s) skipped\n",
	    store_bad_records(st) > 0 ? "corrupt" : rc && store_health(st) == STORE_HEALTHY
	    ? "error" : store_health_name(store_health(st)), (unsigned long long) store_bad_records(st));
	return ctl_store_done(st, "stats", rc);
}

/* Print one record line: "  NAME KEY: TEXT EXTRA", or "none" when LEN is 0. */
static void
ctl_explain_record(FILE *out, const char *name, store_db_t db, const char *key,
		   const unsigned char *buf, size_t len, const char *extra)
{
	char	text[256];

	if (len == 0) {
		fprintf(out, "  %s %s: none\n", name, key);
		return;
	}
	ctl_store_format(db, buf, len, 1, text, sizeof(text));
	fprintf(out, "  %s %s: %s%s\n", name, key, text, extra);
}

/* Print the facts explain found. */
static void
ctl_explain_facts(const greylist_params_t *p, const store_facts_t *f)
{
	FILE   *out = ctl_store_out();
	unsigned char buf[RECORD_MAX_SIZE];
	char	awl[64];
	size_t	len;

	fprintf(out, "  manual whitelist: %s\n", f->whitelisted ? "yes" : "no");
	snprintf(awl, sizeof(awl), " (auto-whitelisted at %ld)", p->awl_clients);
	len = f->has_client ? record_client_encode(&f->client, buf, sizeof(buf)) : 0;
	ctl_explain_record(out, "clients", STORE_DB_CLIENTS, f->net_key, buf, len, awl);
	len = f->has_tarpit ? record_tarpit_encode(&f->tarpit, buf, sizeof(buf)) : 0;
	ctl_explain_record(out, "tarpit", STORE_DB_TARPIT, f->addr_key, buf, len, "");
	len = f->has_triplet ? record_grey_encode(&f->triplet, buf, sizeof(buf)) : 0;
	ctl_explain_record(out, "greylist", STORE_DB_GREYLIST, f->triplet_key, buf, len, "");
}

/* Print what the verdict means for the SMTP session. */
static void
ctl_explain_verdict(const config_t *cfg, const greylist_result_t *r)
{
	FILE   *out = ctl_store_out();

	fprintf(out, "verdict: %s (%s)", greylist_verdict_name(r->verdict), r->reason);
	switch (r->verdict) {
	case GREYLIST_GREYLIST:
		fprintf(out, ": 450 4.7.1 %s; ", cfg->greylist_text);
		if (r->remaining_delay > 0)
			fprintf(out, "a retry counts after %lld s, ", (long long) r->remaining_delay);
		fprintf(out, "%ld counted retr%s needed\n", r->remaining_retries,
		    r->remaining_retries == 1 ? "y" : "ies");
		break;
	case GREYLIST_TARPIT:
		fprintf(out, ": the first RCPT reply waits %ld s; reaching DATA passes, "
		    "a disconnect or pipelining lists the client as tarpit-failed\n",
		    cfg->tarpit_delay / 1000);
		break;
	default:
		fprintf(out, ": accepted without delay\n");
	}
	if (cfg->dry_run)
		fprintf(out, "dry_run = yes: the milter would only log this and accept\n");
}

/* The store step as the milter runs it, on the records as they are. */
static int
ctl_explain_store(const config_t *cfg, const addr_t *a, char **argv, int flags,
		  store_facts_t *sf, greylist_result_t *g)
{
	greylist_params_t p;
	store_t *st;
	int	rc;

	if ((st = ctl_store_open(cfg)) == NULL)
		return -1;
	greylist_params_init(&p, cfg);
	rc = store_lookup(st, &p, a, argv[3], argv[4], sf);
	store_close(st);
	if (rc != 0)
		return -1;
	store_decide(&p, ctl_store_now(), sf, flags, g);
	return 0;
}

/* Answer what policy_decide() asks for until it decides; -1 on error. */
static int
ctl_explain_decide(const config_t *cfg, const addr_t *a, char **argv, policy_facts_t *f,
		   policy_result_t *r, store_facts_t *sf, greylist_result_t *g)
{
	for (int asked = 0; asked <= 2; asked++) {
		policy_decide(f, r);
		if (r->verdict == POLICY_ASK_SLOT)
			f->slot = POLICY_SLOT_ASSUMED;
		else if (r->verdict == POLICY_ASK_STORE) {
			if (ctl_explain_store(cfg, a, argv, r->grey_flags, sf, g) != 0)
				return -1;
			f->grey = g;
		} else
			return 0;
	}
	return -1;
}

/* Gather the facts (no DNS: NAME as given), decide, print the trace. */
static int
ctl_explain_run(const config_t *cfg, const addr_t *a, char **argv, whitelist_t *w,
		s25r_t *s, const net_t *trusted, size_t ntrusted)
{
	greylist_params_t p;
	table_answer_t ca, ra, sa;
	s25r_verdict_t v;
	policy_facts_t f = {.client_known = 1, .rcpt = argv[4], .dry_run = cfg->dry_run};
	policy_result_t r;
	store_facts_t sf;
	greylist_result_t g;

	f.trusted = netlist_contains(trusted, ntrusted, a);
	f.client_wl = whitelist_client(w, argv[2], a, &ca) ? &ca : NULL;
	s25r_classify(s, argv[2], a, &v);
	f.s25r = &v;
	f.rcpt_wl = whitelist_recipient(w, argv[4], &ra) ? &ra : NULL;
	f.sender_wl = whitelist_sender(w, argv[3], &sa) ? &sa : NULL;
	f.grey_replies_left = cfg->greylist_rcpt_replies;
	if (ctl_explain_decide(cfg, a, argv, &f, &r, &sf, &g) != 0)
		return 1;
	for (size_t i = 0; i < r.ntrace; i++)
		fprintf(ctl_store_out(), "  %s: %s\n", r.trace[i].step, r.trace[i].text);
	if (f.grey == NULL) {
		fprintf(ctl_store_out(), "verdict: %s (%s%s%s): accepted without delay\n", W_PASS,
		    r.step, r.verdict == POLICY_CLEAN ? " " : "", r.verdict == POLICY_CLEAN ? W_CLEAN : "");
		return 0;
	}
	greylist_params_init(&p, cfg);
	ctl_explain_facts(&p, &sf);
	ctl_explain_verdict(cfg, &g);
	return 0;
}

/* Build the tables explain needs, run it, free them. */
static int
ctl_explain_tables(const config_t *cfg, const addr_t *a, char **argv)
{
	char	why[256];
	whitelist_t *w = NULL;
	s25r_t *s = NULL;
	net_t  *trusted = NULL;
	size_t	ntrusted;
	int	nerr = 0, rc = 1;

	if (netlist_parse(&cfg->trusted_networks, &trusted, &ntrusted, why, sizeof(why)) != 0
	    || (w = whitelist_create(cfg, &nerr, why, sizeof(why))) == NULL
	    || (s = s25r_create(cfg, &nerr, why, sizeof(why))) == NULL)
		fprintf(stderr, "targreyctl: explain: %s\n", why);
	else
		rc = ctl_explain_run(cfg, a, argv, w, s, trusted, ntrusted);
	free(trusted);
	whitelist_free(w);
	s25r_free(s);
	return rc;
}

/* explain IP NAME SENDER RECIPIENT */
int
ctl_explain(const config_t *cfg, int argc, char **argv)
{
	char	net[ADDR_TEXT_MAX];
	greylist_params_t p;
	addr_t	a;

	if (argc != 5) {
		fprintf(stderr, "usage: targreyctl explain IP NAME SENDER RECIPIENT\n");
		return 2;
	}
	if (addr_parse(argv[1], &a) != 0) {
		fprintf(stderr, "targreyctl: explain: bad address \"%s\"\n", argv[1]);
		return 2;
	}
	greylist_params_init(&p, cfg);
	greylist_net_key(&p, &a, net, sizeof(net));
	fprintf(ctl_store_out(), "client %s (%s), network %s, first RCPT from <%s> to <%s>:\n",
	    argv[1], argv[2], net, argv[3], argv[4]);
	return ctl_explain_tables(cfg, &a, argv);
}
