/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	greylist_cases - the decision table shared by the C and Lua tests
 * DESCRIPTION
 *	One behaviour, two implementations: test_greylist.c runs these
 *	cases against greylist_decide() and test_greylist_lua.c runs them
 *	against the Redis decision script (store_redis_lua.c) on a real
 *	redis-server, comparing with C. GL_CASES: records at T0, the
 *	verdict, reason and writes wanted. GL_STEPS: one triplet of a
 *	tarpit-failed client attempted at times after T0.
 * DIAGNOSTICS
 *	None (data).
 */
#ifndef TG_GREYLIST_CASES_H
#define TG_GREYLIST_CASES_H

#include "greylist_params.h"

static const client_record_t gl_awl = {T0 - DAY, T0 - 7200, T0 - 7200, 5};
static const client_record_t gl_awl_old = {T0 - 90 * DAY, T0 - 31 * DAY, T0 - 31 * DAY, 9};
static const client_record_t gl_few = {T0 - DAY, T0 - 7200, T0 - 7200, 4};
static const client_record_t gl_awl_seen = {T0 - DAY, T0 - 1800, T0 - 3600, 6};
static const client_record_t gl_awl_fresh = {T0 - DAY, T0 - 1800, T0 - 100, 6};
static const client_record_t gl_cmax = {INT64_MAX, INT64_MAX, INT64_MAX, 9};
static const grey_record_t gl_passed = {T0 - DAY, T0 - 3600, 2, GREY_FLAG_PASSED};
static const grey_record_t gl_passed_59 = {T0 - DAY, T0 - 59, 2, GREY_FLAG_PASSED};
static const grey_record_t gl_passed_60 = {T0 - DAY, T0 - 60, 2, GREY_FLAG_PASSED};
static const grey_record_t gl_pending = {T0 - 100, T0 - 100, 0, 0};
static const grey_record_t gl_pending_due = {T0 - 400, T0 - 400, 0, 0};
static const grey_record_t gl_pending_last = {T0 - 800, T0 - 400, 1, 0};
static const grey_record_t gl_future = {T0 + 1000, T0 + 1000, 0, 0};
static const grey_record_t gl_window_over = {T0 - 2 * DAY - 1, T0 - 500, 1, 0};
static const grey_record_t gl_gmin = {INT64_MIN, INT64_MIN, 0, GREY_FLAG_PASSED};
static const grey_record_t gl_gmax = {INT64_MAX, INT64_MAX, 0, 0};
static const tarpit_record_t gl_failed = {T0 - 600, T0 - 600, 1};
static const tarpit_record_t gl_failed_old = {T0 - 40 * DAY, T0 - 31 * DAY, 3};
static const tarpit_record_t gl_tmin = {INT64_MIN, INT64_MIN, 1};

static const struct gl_case {
	const char *name;
	greylist_facts_t f;
	int	flags;
	greylist_verdict_t want;
	const char *reason;
	int	write_triplet, write_client;
} GL_CASES[] = {
	{"nothing known", {0}, 0, GREYLIST_TARPIT, "new_client", 0, 0},
	{"tarpit full", {0}, GREYLIST_NO_TARPIT, GREYLIST_GREYLIST, "new", 1, 0},
	{"manual whitelist", {.whitelisted = 1, .tarpit = &gl_failed}, 0, GREYLIST_PASS_AWL,
	    "manual_whitelist", 0, 0},
	{"auto-whitelisted", {.client = &gl_awl, .tarpit = &gl_failed}, 0, GREYLIST_PASS_AWL,
	    "client_awl", 0, 1},
	{"awl expired", {.client = &gl_awl_old}, 0, GREYLIST_TARPIT, "new_client", 0, 0},
	{"4 of 5 passes", {.client = &gl_few}, 0, GREYLIST_TARPIT, "new_client", 0, 0},
	{"awl, last seen refreshed", {.client = &gl_awl_seen}, 0, GREYLIST_PASS_AWL, "client_awl", 0, 1},
	{"awl, seen lately", {.client = &gl_awl_fresh}, 0, GREYLIST_PASS_AWL, "client_awl", 0, 0},
	{"triplet_passed", {.client = &gl_few, .triplet = &gl_passed, .tarpit = &gl_failed}, 0,
	    GREYLIST_PASS_TRIPLET, "triplet_passed", 1, 1},
	{"passed, touched 59 s ago", {.triplet = &gl_passed_59}, 0, GREYLIST_PASS_TRIPLET,
	    "triplet_passed", 0, 1},
	{"passed, touched 60 s ago", {.triplet = &gl_passed_60}, 0, GREYLIST_PASS_TRIPLET,
	    "triplet_passed", 1, 1},
	{"tarpit failed", {.tarpit = &gl_failed}, 0, GREYLIST_GREYLIST, "new", 1, 0},
	{"tarpit failed, early retry", {.tarpit = &gl_failed, .triplet = &gl_pending}, 0,
	    GREYLIST_GREYLIST, "early_retry", 1, 0},
	{"retry counted", {.tarpit = &gl_failed, .triplet = &gl_pending_due}, 0,
	    GREYLIST_GREYLIST, "retry_counted", 1, 0},
	{"last retry passes", {.tarpit = &gl_failed, .triplet = &gl_pending_last, .client = &gl_few}, 0,
	    GREYLIST_PASS_TRIPLET, "retried", 1, 1},
	{"first seen in the future", {.tarpit = &gl_failed, .triplet = &gl_future}, 0,
	    GREYLIST_GREYLIST, "new", 1, 0},
	{"retry window over", {.tarpit = &gl_failed, .triplet = &gl_window_over}, 0,
	    GREYLIST_GREYLIST, "new", 1, 0},
	{"tarpit failure expired", {.tarpit = &gl_failed_old, .triplet = &gl_pending}, 0,
	    GREYLIST_TARPIT, "new_client", 0, 0},
	{"pending triplet, not failed", {.triplet = &gl_pending}, 0, GREYLIST_TARPIT, "new_client", 0, 0},
	{"damaged times, awl", {.triplet = &gl_gmin, .client = &gl_cmax, .tarpit = &gl_tmin}, 0,
	    GREYLIST_PASS_AWL, "client_awl", 0, 1},
	{"damaged times, future triplet", {.triplet = &gl_gmax}, GREYLIST_NO_TARPIT,
	    GREYLIST_GREYLIST, "new", 1, 0},
};

static const struct gl_step {
	int64_t	at;		/* seconds after T0 */
	greylist_verdict_t want;
	const char *reason;
	int64_t	remaining_delay;
	long	remaining_retries;
} GL_STEPS[] = {
	{0, GREYLIST_GREYLIST, "new", 300, 2},
	{1, GREYLIST_GREYLIST, "early_retry", 299, 2},
	{299, GREYLIST_GREYLIST, "early_retry", 1, 2},
	{300, GREYLIST_GREYLIST, "retry_counted", 0, 1},	/* exactly the delay counts */
	{301, GREYLIST_PASS_TRIPLET, "retried", 0, 0},
	{302, GREYLIST_PASS_TRIPLET, "triplet_passed", 0, 0},
	{301 + 30 * DAY, GREYLIST_PASS_TRIPLET, "triplet_passed", 0, 0},	/* max age since 301 */
	{301 + 60 * DAY + 1, GREYLIST_GREYLIST, "new", 300, 2},	/* expired: starts over */
};

#define GL_COUNT(a)	(sizeof(a) / sizeof((a)[0]))

#endif
