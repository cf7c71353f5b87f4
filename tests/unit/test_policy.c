/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_policy - unit test for policy.c, one row per branch
 * DESCRIPTION
 *	Each row gives the facts (a few switches that build a
 *	policy_facts_t) and the result wanted: verdict, deciding step, log
 *	action, reason, reply code, store flags, effects and the last trace
 *	line. Failures print "row N: got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "policy.h"

enum { NONE = 0, CLEAN_NAME, SUSPICIOUS_NAME };		/* S25R fact */
enum { G_NONE = -1 };					/* store step not run */

typedef struct {
	/* facts */
	int	trusted, client_known, client_wl, tempfail, tempfail_unknown, s25r;
	int	rcpt, rcpt_wl, sender_wl, dry_run, tarpit_done;
	policy_slot_t slot;
	long	replies_left;
	int	grey;			/* greylist_verdict_t, or G_NONE */
	/* want */
	policy_verdict_t verdict;
	const char *step, *action, *reason, *rcode;
	int	flags, start_tarpit, defer;
	const char *last_trace;		/* "step: text" of the last line, NULL: none */
} row_t;

#define ASK(v)		.verdict = v
static const row_t rows[] = {
	/* connect */
	{.trusted = 1, .verdict = POLICY_SKIP, .step = "trusted_networks", .action = "skip",
	 .reason = "trusted_network", .last_trace = "trusted_networks: yes", .grey = G_NONE},
	{ASK(POLICY_ASK_CLIENT), .reason = "", .last_trace = "trusted_networks: no", .grey = G_NONE},
	{.client_known = 1, .client_wl = 1, .verdict = POLICY_SKIP, .step = "client_whitelist",
	 .action = "skip", .reason = "whitelist_list:/etc/wl:7",
	 .last_trace = "client_whitelist: list:/etc/wl:7 answers OK", .grey = G_NONE},
	{.client_known = 1, .tempfail = 1, .verdict = POLICY_CLEAN, .step = "reverse_lookup",
	 .action = "clean", .reason = "reverse_lookup_tempfail",
	 .last_trace = "reverse_lookup: temporary failure", .grey = G_NONE},
	{.client_known = 1, .tempfail = 1, .tempfail_unknown = 1, ASK(POLICY_ASK_S25R),
	 .reason = "", .last_trace = "client_whitelist: no", .grey = G_NONE},
	{.client_known = 1, .s25r = CLEAN_NAME, .verdict = POLICY_CLEAN, .step = "s25r",
	 .action = "clean", .reason = "no_match", .last_trace = "s25r: clean (no_match)",
	 .grey = G_NONE},
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .verdict = POLICY_SUSPICIOUS, .step = "s25r",
	 .action = "suspicious", .reason = "s25r_rule_0",
	 .last_trace = "s25r: suspicious (s25r_rule_0)", .grey = G_NONE},
	/* RCPT: whitelists */
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, .rcpt_wl = 1,
	 .verdict = POLICY_PASS, .step = "recipient_whitelist", .reason = "recipient_whitelist",
	 .last_trace = "recipient_whitelist: list:/etc/wl:7 answers OK", .grey = G_NONE},
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, .sender_wl = 1,
	 .verdict = POLICY_PASS, .step = "sender_whitelist", .reason = "sender_whitelist",
	 .last_trace = "sender_whitelist: list:/etc/wl:7 answers OK", .grey = G_NONE},
	/* RCPT: the tarpit slot */
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, ASK(POLICY_ASK_SLOT), .reason = "",
	 .last_trace = "sender_whitelist: no", .grey = G_NONE},
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, .tarpit_done = 1,
	 ASK(POLICY_ASK_STORE), .reason = "", .flags = GREYLIST_NO_TARPIT,
	 .last_trace = "tarpit_slot: done in this session", .grey = G_NONE},
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, .dry_run = 1,
	 ASK(POLICY_ASK_STORE), .reason = "", .last_trace = "tarpit_slot: dry_run: no slot taken",
	 .grey = G_NONE},
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, .slot = POLICY_SLOT_DENIED,
	 ASK(POLICY_ASK_STORE), .reason = "", .flags = GREYLIST_NO_TARPIT,
	 .last_trace = "tarpit_slot: no slot: tarpit=full", .grey = G_NONE},
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, .slot = POLICY_SLOT_TAKEN,
	 ASK(POLICY_ASK_STORE), .reason = "", .last_trace = "tarpit_slot: taken", .grey = G_NONE},
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, .slot = POLICY_SLOT_ASSUMED,
	 ASK(POLICY_ASK_STORE), .reason = "", .last_trace = "tarpit_slot: assumed free (none taken)",
	 .grey = G_NONE},
	/* RCPT: the store step */
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, .slot = POLICY_SLOT_TAKEN,
	 .grey = GREYLIST_GREYLIST, .replies_left = 1, .verdict = POLICY_GREYLIST, .step = "store",
	 .action = "greylist", .reason = "why", .rcode = "450",
	 .last_trace = "store: greylist (why)"},
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, .slot = POLICY_SLOT_TAKEN,
	 .grey = GREYLIST_GREYLIST, .replies_left = 0, .verdict = POLICY_GREYLIST, .step = "store",
	 .action = "greylist", .reason = "why", .defer = 1, .last_trace = "store: greylist (why)"},
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, .dry_run = 1,
	 .grey = GREYLIST_GREYLIST, .replies_left = 1, .verdict = POLICY_GREYLIST, .step = "store",
	 .action = "would_greylist", .reason = "why", .last_trace = "store: greylist (why)"},
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, .slot = POLICY_SLOT_TAKEN,
	 .grey = GREYLIST_TARPIT, .verdict = POLICY_TARPIT, .step = "store", .reason = "why",
	 .start_tarpit = 1, .last_trace = "store: tarpit (why)"},
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, .dry_run = 1,
	 .grey = GREYLIST_TARPIT, .verdict = POLICY_TARPIT, .step = "store",
	 .action = "would_tarpit", .reason = "why", .last_trace = "store: tarpit (why)"},
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, .slot = POLICY_SLOT_TAKEN,
	 .grey = GREYLIST_UNAVAILABLE, .verdict = POLICY_UNAVAILABLE, .step = "store",
	 .action = "accept", .reason = "store_unavailable",
	 .last_trace = "store: store_unavailable (why)"},
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, .slot = POLICY_SLOT_TAKEN,
	 .grey = GREYLIST_PASS_AWL, .verdict = POLICY_ACCEPT, .step = "store", .reason = "why",
	 .last_trace = "store: pass_awl (why)"},
	{.client_known = 1, .s25r = SUSPICIOUS_NAME, .rcpt = 1, .slot = POLICY_SLOT_TAKEN,
	 .grey = GREYLIST_PASS_TRIPLET, .verdict = POLICY_ACCEPT, .step = "store", .reason = "why",
	 .last_trace = "store: pass_triplet (why)"},
};

/* Build the facts of row W. */
static void
facts_of(const row_t *w, policy_facts_t *f, s25r_verdict_t *v, greylist_result_t *g)
{
	static const table_answer_t wl = {.text = "OK", .table = "list:/etc/wl", .line = 7};

	memset(f, 0, sizeof(*f));
	memset(v, 0, sizeof(*v));
	memset(g, 0, sizeof(*g));
	f->trusted = w->trusted;
	f->client_known = w->client_known;
	f->client_wl = w->client_wl ? &wl : NULL;
	f->reverse_tempfail = w->tempfail;
	f->tempfail_is_unknown = w->tempfail_unknown;
	v->suspicious = w->s25r == SUSPICIOUS_NAME;
	snprintf(v->reason, sizeof(v->reason), "%s", v->suspicious ? "s25r_rule_0" : "no_match");
	f->s25r = w->s25r == NONE ? NULL : v;
	f->rcpt = w->rcpt ? "bob@example.net" : NULL;
	f->rcpt_wl = w->rcpt_wl ? &wl : NULL;
	f->sender_wl = w->sender_wl ? &wl : NULL;
	f->dry_run = w->dry_run;
	f->tarpit_done = w->tarpit_done;
	f->slot = w->slot;
	f->slot_denied = "tarpit=full";
	f->grey_replies_left = w->replies_left;
	g->verdict = (greylist_verdict_t) w->grey;
	g->reason = "why";
	f->grey = w->grey == G_NONE ? NULL : g;
}

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Every row: got/want. */
static void
test_rows(void **state)
{
	char	last[512];
	int	bad = 0;

	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const row_t *w = &rows[i];
		policy_facts_t f;
		s25r_verdict_t v;
		greylist_result_t g;
		policy_result_t r;

		facts_of(w, &f, &v, &g);
		policy_decide(&f, &r);
		snprintf(last, sizeof(last), "%s: %s", r.ntrace ? r.trace[r.ntrace - 1].step : "",
		    r.ntrace ? r.trace[r.ntrace - 1].text : "");
		if (r.verdict != w->verdict || !same(r.step, w->step) || !same(r.action, w->action)
		    || strcmp(r.reason, w->reason) != 0 || !same(r.rcode, w->rcode)
		    || (w->rcode && !same(r.xcode, "4.7.1"))
		    || r.grey_flags != w->flags || r.start_tarpit != w->start_tarpit
		    || r.defer_to_eom != w->defer || !same(last, w->last_trace)) {
			print_message("row %zu: got %s step=%s action=%s reason=%s rcode=%s "
			    "flags=%d tarpit=%d defer=%d trace=\"%s\"; want %s step=%s action=%s "
			    "reason=%s rcode=%s flags=%d tarpit=%d defer=%d trace=\"%s\"\n", i,
			    policy_verdict_name(r.verdict), r.step, r.action, r.reason, r.rcode,
			    r.grey_flags, r.start_tarpit, r.defer_to_eom, last,
			    policy_verdict_name(w->verdict), w->step, w->action, w->reason,
			    w->rcode, w->flags, w->start_tarpit, w->defer, w->last_trace);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* A decision walks every step before it, in order. */
static void
test_trace_order(void **state)
{
	static const char *const want[] = {"trusted_networks", "client_whitelist", "s25r",
	    "recipient_whitelist", "sender_whitelist", "tarpit_slot", "store"};
	policy_facts_t f;
	s25r_verdict_t v;
	greylist_result_t g;
	policy_result_t r;

	(void) state;
	facts_of(&rows[sizeof(rows) / sizeof(rows[0]) - 1], &f, &v, &g);
	policy_decide(&f, &r);
	assert_int_equal(r.ntrace, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < r.ntrace; i++)
		assert_string_equal(r.trace[i].step, want[i]);
}

/* Verdict words, and one for a value out of range. */
static void
test_names(void **state)
{
	(void) state;
	assert_string_equal(policy_verdict_name(POLICY_GREYLIST), "greylist");
	assert_string_equal(policy_verdict_name(POLICY_ASK_STORE), "ask_store");
	assert_string_equal(policy_verdict_name((policy_verdict_t) 99), "unknown");
	for (int v = POLICY_ASK_CLIENT; v <= POLICY_UNAVAILABLE; v++)
		assert_string_not_equal(policy_verdict_name((policy_verdict_t) v), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_trace_order),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
