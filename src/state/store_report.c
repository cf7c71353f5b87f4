/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_report - hourly decision counters kept in the store
 * DESCRIPTION
 *	See store_report.h. Only the daemon writes these records (one
 *	writer thread), so the read-add-write of a record needs no wider
 *	transaction; readers (targreyctl report) see whole records. On a
 *	Redis backend both calls go to store_redis_report.c.
 * DIAGNOSTICS
 *	See store_report.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_impl.h"
#include "store_report.h"

#define REPORT_VERSION	1
#define REPORT_VAL_MAX	(2 + 4 * 64)

/* The key of HOUR into KEY[32]; its length. */
static size_t
report_key(char *key, int64_t hour)
{
	return (size_t) snprintf(key, 32, STORE_REPORT_PREFIX "%010" PRId64, hour);
}

/* Decode VAL[LEN] into COUNTS; 0, or -1 for an unknown version. */
static int
report_decode(const unsigned char *val, size_t len, uint32_t counts[REPORT_CATEGORIES])
{
	memset(counts, 0, sizeof(uint32_t) * REPORT_CATEGORIES);
	if (len < 2 || val[0] != REPORT_VERSION)
		return -1;
	for (size_t i = 0; i < val[1] && i < REPORT_CATEGORIES && 2 + 4 * i + 4 <= len; i++) {
		const unsigned char *p = val + 2 + 4 * i;

		counts[i] = (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
	}
	return 0;
}

/* Delete the records older than CUTOFF (hours). */
typedef struct {
	store_t *st;
	int64_t	cutoff;
	char	old[64][32];
	size_t	n;
} report_prune_t;

static int
report_prune_one(const char *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	report_prune_t *p = ctx;

	(void) val, (void) vlen;
	if (klen >= 32 || strtoll(key + strlen(STORE_REPORT_PREFIX), NULL, 10) >= p->cutoff)
		return 1;
	memcpy(p->old[p->n], key, klen);
	p->old[p->n][klen] = 0;
	return ++p->n == sizeof(p->old) / sizeof(p->old[0]);
}

static void
report_prune(store_t *st, int64_t cutoff)
{
	report_prune_t p = {.st = st, .cutoff = cutoff};

	if (store_walk(st, STORE_DB_META, STORE_REPORT_PREFIX, report_prune_one, &p) < 0)
		return;
	for (size_t i = 0; i < p.n; i++)
		(void) store_delete(st, STORE_DB_META, p.old[i], strlen(p.old[i]));
}

int
store_report_add(store_t *st, int64_t hour, const uint32_t counts[REPORT_CATEGORIES],
		 int64_t keep_hours)
{
	unsigned char val[REPORT_VAL_MAX];
	uint32_t have[REPORT_CATEGORIES];
	size_t	vlen = sizeof(val), klen;
	char	key[32];
	int	rc;

	if (st->redis)
		return store_redis_report_add(st->redis, hour, counts, REPORT_CATEGORIES, keep_hours);
	klen = report_key(key, hour);
	rc = store_get(st, STORE_DB_META, key, klen, val, &vlen);
	if (rc == STORE_ERROR)
		return STORE_ERROR;
	if (rc != 0 || report_decode(val, vlen, have) < 0)
		memset(have, 0, sizeof(have));
	val[0] = REPORT_VERSION;
	val[1] = REPORT_CATEGORIES;
	for (size_t i = 0; i < REPORT_CATEGORIES; i++) {
		/* counts add up; a gauge keeps the largest sample of the hour */
		uint32_t v = i < REPORT_GAUGES ? have[i] + counts[i]
		    : have[i] > counts[i] ? have[i] : counts[i];
		unsigned char *p = val + 2 + 4 * i;

		p[0] = (unsigned char) (v >> 24), p[1] = (unsigned char) (v >> 16);
		p[2] = (unsigned char) (v >> 8), p[3] = (unsigned char) v;
	}
	if (store_put(st, STORE_DB_META, key, klen, val, 2 + 4 * REPORT_CATEGORIES) != 0)
		return STORE_ERROR;
	if (keep_hours > 0)
		report_prune(st, hour - keep_hours);
	return 0;
}

typedef struct {
	int64_t	from, to;
	store_report_fn fn;
	void   *ctx;
} report_read_t;

static int
report_read_one(const char *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	report_read_t *r = ctx;
	uint32_t counts[REPORT_CATEGORIES];
	int64_t	hour;

	if (klen >= 32)
		return 0;
	hour = strtoll(key + strlen(STORE_REPORT_PREFIX), NULL, 10);
	if (hour > r->to)
		return 1;
	if (hour < r->from || report_decode(val, vlen, counts) < 0)
		return 0;
	return r->fn(hour, counts, r->ctx);
}

int
store_report_read(store_t *st, int64_t from_hour, int64_t to_hour,
		  store_report_fn fn, void *ctx)
{
	report_read_t r = {.from = from_hour, .to = to_hour, .fn = fn, .ctx = ctx};

	if (st->redis)
		return store_redis_report_read(st->redis, from_hour, to_hour, fn, ctx);
	return store_walk(st, STORE_DB_META, STORE_REPORT_PREFIX, report_read_one, &r) < 0
	    ? STORE_ERROR : 0;
}
