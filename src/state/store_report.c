/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_report - hourly decision counters kept in the store
 * DESCRIPTION
 *	See store_report.h. Only the daemon writes these records (one
 *	writer thread), so the read-add-write of a record needs no wider
 *	transaction; readers (targreyctl report) see whole records. These
 *	are the LMDB backend's (store_lmdb_report_*, called through
 *	store_api.c); Redis has its own in store_redis_report.c.
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
#define REPORT_NET_VAL_MAX (2 + TOPNET_KEEP * (1 + TOPNET_NET_MAX + 4))

/* The key of HOUR under PREFIX into KEY[32]; its length. */
static size_t
report_key(char *key, const char *prefix, int64_t hour)
{
	return (size_t) snprintf(key, 32, "%s%010" PRId64, prefix, hour);
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
	const char *prefix;
	int64_t	cutoff;
	char	old[64][32];
	size_t	n;
} report_prune_t;

static int
report_prune_one(const char *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	report_prune_t *p = ctx;

	(void) val, (void) vlen;
	if (klen >= 32 || strtoll(key + strlen(p->prefix), NULL, 10) >= p->cutoff)
		return 1;
	memcpy(p->old[p->n], key, klen);
	p->old[p->n][klen] = 0;
	return ++p->n == sizeof(p->old) / sizeof(p->old[0]);
}

static void
report_prune(store_t *st, const char *prefix, int64_t cutoff)
{
	report_prune_t p = {.st = st, .prefix = prefix, .cutoff = cutoff};

	if (store_walk(st, STORE_DB_META, prefix, report_prune_one, &p) < 0)
		return;
	for (size_t i = 0; i < p.n; i++)
		(void) store_delete(st, STORE_DB_META, p.old[i], strlen(p.old[i]));
}

int
store_lmdb_report_add(store_t *st, int64_t hour, const uint32_t counts[REPORT_CATEGORIES],
		      int64_t keep_hours)
{
	unsigned char val[REPORT_VAL_MAX];
	uint32_t have[REPORT_CATEGORIES];
	size_t	vlen = sizeof(val), klen;
	char	key[32];
	int	rc;

	klen = report_key(key, STORE_REPORT_PREFIX, hour);
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
		report_prune(st, STORE_REPORT_PREFIX, hour - keep_hours);
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
store_lmdb_report_read(store_t *st, int64_t from_hour, int64_t to_hour,
		       store_report_fn fn, void *ctx)
{
	report_read_t r = {.from = from_hour, .to = to_hour, .fn = fn, .ctx = ctx};

	return store_walk(st, STORE_DB_META, STORE_REPORT_PREFIX, report_read_one, &r) < 0
	    ? STORE_ERROR : 0;
}

/* Decode a top-networks record VAL[LEN] into NETS; their number, or 0. */
static size_t
report_net_decode(const unsigned char *val, size_t len, topnet_t nets[TOPNET_KEEP])
{
	size_t	n = 0, o = 2;

	if (len < 2 || val[0] != REPORT_VERSION)
		return 0;
	for (size_t i = 0; i < val[1] && n < TOPNET_KEEP; i++) {
		size_t	l = o < len ? val[o] : 0;

		if (l == 0 || l >= TOPNET_NET_MAX || o + 1 + l + 4 > len)
			break;
		memcpy(nets[n].net, val + o + 1, l);
		nets[n].net[l] = '\0';
		o += 1 + l;
		nets[n++].count = (uint32_t) val[o] << 24 | (uint32_t) val[o + 1] << 16
		    | (uint32_t) val[o + 2] << 8 | val[o + 3];
		o += 4;
	}
	return n;
}

/* Encode NETS[N] into VAL; its length. */
static size_t
report_net_encode(const topnet_t *nets, size_t n, unsigned char *val)
{
	size_t	o = 2;

	val[0] = REPORT_VERSION;
	val[1] = (unsigned char) n;
	for (size_t i = 0; i < n; i++) {
		size_t	l = strlen(nets[i].net);

		val[o] = (unsigned char) l;
		memcpy(val + o + 1, nets[i].net, l);
		o += 1 + l;
		val[o] = (unsigned char) (nets[i].count >> 24), val[o + 1] = (unsigned char) (nets[i].count >> 16);
		val[o + 2] = (unsigned char) (nets[i].count >> 8), val[o + 3] = (unsigned char) nets[i].count;
		o += 4;
	}
	return o;
}

int
store_lmdb_report_net_add(store_t *st, int64_t hour, const topnet_t *nets, size_t n,
		          int64_t keep_hours)
{
	unsigned char val[REPORT_NET_VAL_MAX];
	topnet_t have[TOPNET_KEEP + TOPNET_KEEP];
	size_t	vlen = sizeof(val), klen, m = 0;
	char	key[32];
	int	rc;

	klen = report_key(key, STORE_REPORT_NET_PREFIX, hour);
	rc = store_get(st, STORE_DB_META, key, klen, val, &vlen);
	if (rc == STORE_ERROR)
		return STORE_ERROR;
	if (rc == 0 && vlen <= sizeof(val))
		m = report_net_decode(val, vlen, have);
	for (size_t i = 0; i < n; i++)
		m = topnet_merge(have, m, sizeof(have) / sizeof(have[0]), nets[i].net, nets[i].count);
	topnet_sort(have, m);
	vlen = report_net_encode(have, m < TOPNET_KEEP ? m : TOPNET_KEEP, val);
	if (store_put(st, STORE_DB_META, key, klen, val, vlen) != 0)
		return STORE_ERROR;
	if (keep_hours > 0)
		report_prune(st, STORE_REPORT_NET_PREFIX, hour - keep_hours);
	return 0;
}

typedef struct {
	int64_t	from, to;
	store_report_net_fn fn;
	void   *ctx;
} report_net_read_t;

static int
report_net_read_one(const char *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	report_net_read_t *r = ctx;
	topnet_t nets[TOPNET_KEEP];
	int64_t	hour;
	size_t	n;

	if (klen >= 32)
		return 0;
	hour = strtoll(key + strlen(STORE_REPORT_NET_PREFIX), NULL, 10);
	if (hour > r->to)
		return 1;
	if (hour < r->from || (n = report_net_decode(val, vlen, nets)) == 0)
		return 0;
	return r->fn(hour, nets, n, r->ctx);
}

int
store_lmdb_report_net_read(store_t *st, int64_t from_hour, int64_t to_hour,
		           store_report_net_fn fn, void *ctx)
{
	report_net_read_t r = {.from = from_hour, .to = to_hour, .fn = fn, .ctx = ctx};

	return store_walk(st, STORE_DB_META, STORE_REPORT_NET_PREFIX, report_net_read_one, &r) < 0
	    ? STORE_ERROR : 0;
}
