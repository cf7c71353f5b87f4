/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_redis_report - the hourly report counters in Redis
 * DESCRIPTION
 *	store_report_add() and store_report_read() on state_backend = redis
 *	(the report entries of store_redis_backend). One hash per hour: key PREFIX
 *	"report:" and the hour in ten decimal digits (e.g.
 *	"tg:report:0000493712"); field "v" holds the format version (1),
 *	fields "0", "1", ... the counts of the categories by their number
 *	(metrics_hourly.h; new categories are only ever appended). An add is
 *	one script: HINCRBY of each nonzero count (a gauge from REPORT_GAUGES
 *	on keeps the largest sample instead) and PEXPIREAT at the end
 *	of the kept history, so several MX hosts sharing one Redis add into
 *	the same hours, atomically, and the server drops old hours itself.
 *	A read fetches each hour of the window with HGETALL, a day at a
 *	time in one script, oldest first; a hash whose version is not 1,
 *	and a field that is not a known category, are skipped.
 *	The top suspicious networks of an hour are a second hash, PREFIX
 *	"report-net:" HOUR, field the network ("192.0.2.0/24"), value its
 *	count: an add HINCRBYs the networks flushed and deletes all but the
 *	TOPNET_KEEP largest, in the same script.
 * DIAGNOSTICS
 *	store_redis_conn.h; both return STORE_ERROR on a failed round trip.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_redis_int.h"
#include "store_report.h"

#define RS_REPORT_VERSION	"1"
#define RS_REPORT_BATCH		24	/* hours per read script */
#define RS_NUM			24	/* a decimal number and its NUL */

static const char ADD_SCRIPT[] =
    "redis.call('HSETNX', KEYS[1], 'v', ARGV[1])\n"
    "local gauge = tonumber(ARGV[3])\n"
    "for i = 4, #ARGV, 2 do\n"
    "  if tonumber(ARGV[i]) < gauge then\n"
    "    redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])\n"
    "  elseif tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0') < tonumber(ARGV[i + 1]) then\n"
    "    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])\n"
    "  end\n"
    "end\n"
    "if tonumber(ARGV[2]) > 0 then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end\n"
    "return 1\n";

static const char READ_SCRIPT[] =
    "local out = {}\n"
    "for i = 1, #KEYS do out[i] = redis.call('HGETALL', KEYS[i]) end\n"
    "return out\n";

/* SHA1s of the scripts: the same on every server (NOSCRIPT reloads). */
static char add_sha[REDIS_SHA_SIZE], read_sha[REDIS_SHA_SIZE];

/* The hash of HOUR of KIND ("report", "report-net") into KEY[RS_KEY_MAX]. */
static size_t
rs_report_key(const store_redis_t *rs, const char *kind, int64_t hour, char *key)
{
	return (size_t) snprintf(key, RS_KEY_MAX, "%s%s:%010" PRId64, rs->prefix, kind, hour);
}

/* Run an adding SCRIPT (SHA) with ARGC arguments; STORE_OK when it
 * answered with an integer. */
static int
rs_report_eval(store_redis_t *rs, const char *script, char *sha, size_t argc,
	       const char **av, const size_t *lv)
{
	redisReply *r = redis_link_eval(rs->link, "report add", script, sha, (int) argc, av, lv);
	int	rc = r != NULL && r->type == REDIS_REPLY_INTEGER ? STORE_OK : STORE_ERROR;

	if (r)
		freeReplyObject(r);
	return rc;
}

int
store_redis_report_add(store_t *st, int64_t hour, const uint32_t counts[REPORT_CATEGORIES],
		       int64_t keep_hours)
{
	store_redis_t *rs = st->redis;
	/* argv: 1, key, version, expiry, first gauge, then field and count pairs */
	char	buf[(2 + 2 * REPORT_CATEGORIES) * RS_NUM + RS_KEY_MAX], gauge[RS_NUM];
	const char *av[5 + 2 * REPORT_CATEGORIES];
	size_t	lv[5 + 2 * REPORT_CATEGORIES], argc = 5, o = RS_KEY_MAX;

	av[0] = "1", lv[0] = 1;
	av[1] = buf, lv[1] = rs_report_key(rs, "report", hour, buf);
	av[2] = RS_REPORT_VERSION, lv[2] = strlen(RS_REPORT_VERSION);
	av[3] = buf + o;
	lv[3] = (size_t) snprintf(buf + o, RS_NUM, "%" PRId64,
	    keep_hours > 0 ? (hour + keep_hours + 1) * 3600 * 1000 : 0);
	av[4] = gauge, lv[4] = (size_t) snprintf(gauge, sizeof(gauge), "%d", REPORT_GAUGES);
	for (size_t i = 0; i < REPORT_CATEGORIES; i++) {
		if (counts[i] == 0)
			continue;
		o += RS_NUM;
		av[argc] = buf + o, lv[argc++] = (size_t) snprintf(buf + o, RS_NUM, "%zu", i);
		o += RS_NUM;
		av[argc] = buf + o, lv[argc++] = (size_t) snprintf(buf + o, RS_NUM, "%" PRIu32,
		    counts[i]);
	}
	return rs_report_eval(rs, ADD_SCRIPT, add_sha, argc, av, lv);
}

/* The counts of one HGETALL reply H into COUNTS; 0, or -1 to skip it. */
static int
rs_report_decode(const redisReply *h, uint32_t counts[REPORT_CATEGORIES])
{
	int	version = 0;

	memset(counts, 0, sizeof(uint32_t) * REPORT_CATEGORIES);
	if (h->type != REDIS_REPLY_ARRAY || h->elements == 0)
		return -1;
	for (size_t i = 0; i + 1 < h->elements; i += 2) {
		const redisReply *f = h->element[i], *v = h->element[i + 1];
		char   *end;
		unsigned long c;

		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(f->str, "v") == 0) {
			version = strcmp(v->str, RS_REPORT_VERSION) == 0 ? 1 : -1;
			continue;
		}
		c = strtoul(f->str, &end, 10);
		if (*end == '\0' && end != f->str && c < REPORT_CATEGORIES)
			counts[c] = (uint32_t) strtoul(v->str, NULL, 10);
	}
	return version == 1 ? 0 : -1;
}

/* The callback of one hour's HGETALL reply H: 1 to stop. */
typedef int (*rs_hour_fn)(int64_t hour, const redisReply *h, void *ctx);

/* Read the KIND hashes of hours [FROM, FROM + N) in one script and call
 * EACH for each; 1 when it stopped, 0, or STORE_ERROR. */
static int
rs_report_batch(store_redis_t *rs, const char *kind, int64_t from, size_t n,
		rs_hour_fn each, void *ctx)
{
	char	keys[RS_REPORT_BATCH][RS_KEY_MAX], num[RS_NUM];
	const char *av[1 + RS_REPORT_BATCH];
	size_t	lv[1 + RS_REPORT_BATCH];
	redisReply *r;
	int	rc = 0;

	av[0] = num, lv[0] = (size_t) snprintf(num, sizeof(num), "%zu", n);
	for (size_t i = 0; i < n; i++)
		av[1 + i] = keys[i], lv[1 + i] = rs_report_key(rs, kind, from + (int64_t) i, keys[i]);
	r = redis_link_eval(rs->link, "report read", READ_SCRIPT, read_sha, (int) n + 1, av, lv);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != n)
		rc = STORE_ERROR;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (each(from + (int64_t) i, r->element[i], ctx))
			rc = 1;
	if (r)
		freeReplyObject(r);
	return rc;
}

/* Every hour of [FROM, TO], a day at a time. */
static int
rs_report_walk(store_redis_t *rs, const char *kind, int64_t from_hour, int64_t to_hour,
	       rs_hour_fn each, void *ctx)
{
	for (int64_t h = from_hour; h <= to_hour; h += RS_REPORT_BATCH) {
		size_t	n = to_hour - h + 1 < RS_REPORT_BATCH ? (size_t) (to_hour - h + 1)
		    : RS_REPORT_BATCH;
		int	rc = rs_report_batch(rs, kind, h, n, each, ctx);

		if (rc != 0)
			return rc < 0 ? STORE_ERROR : STORE_OK;
	}
	return STORE_OK;
}

typedef struct {
	store_report_fn fn;
	store_report_net_fn net_fn;
	void   *ctx;
} rs_read_t;

static int
rs_counts_one(int64_t hour, const redisReply *h, void *ctx)
{
	rs_read_t *r = ctx;
	uint32_t counts[REPORT_CATEGORIES];

	return rs_report_decode(h, counts) == 0 && r->fn(hour, counts, r->ctx);
}

int
store_redis_report_read(store_t *st, int64_t from_hour, int64_t to_hour,
			store_report_fn fn, void *ctx)
{
	store_redis_t *rs = st->redis;
	rs_read_t r = {.fn = fn, .ctx = ctx};

	return rs_report_walk(rs, "report", from_hour, to_hour, rs_counts_one, &r);
}

/* Top networks: one hash per hour, field the network, value its count;
 * an add keeps the KEEP largest (ARGV[2]) and deletes the rest. */
static const char NET_SCRIPT[] =
    "for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end\n"
    "local all = redis.call('HGETALL', KEYS[1])\n"
    "local keep = tonumber(ARGV[2])\n"
    "if #all / 2 > keep then\n"
    "  local l = {}\n"
    "  for i = 1, #all, 2 do l[#l + 1] = {all[i], tonumber(all[i + 1])} end\n"
    "  table.sort(l, function(a, b) if a[2] ~= b[2] then return a[2] > b[2] end return a[1] < b[1] end)\n"
    "  for i = keep + 1, #l do redis.call('HDEL', KEYS[1], l[i][1]) end\n"
    "end\n"
    "if tonumber(ARGV[1]) > 0 then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end\n"
    "return 1\n";
static char net_sha[REDIS_SHA_SIZE];

int
store_redis_report_net_add(store_t *st, int64_t hour, const topnet_t *nets,
			   size_t n, int64_t keep_hours)
{
	store_redis_t *rs = st->redis;
	char	key[RS_KEY_MAX], num[2 + TOPNET_KEEP][RS_NUM];
	const char *av[4 + 2 * TOPNET_KEEP];
	size_t	lv[4 + 2 * TOPNET_KEEP], argc = 4;

	av[0] = "1", lv[0] = 1;
	av[1] = key, lv[1] = rs_report_key(rs, "report-net", hour, key);
	av[2] = num[0], lv[2] = (size_t) snprintf(num[0], RS_NUM, "%" PRId64,
	    keep_hours > 0 ? (hour + keep_hours + 1) * 3600 * 1000 : 0);
	av[3] = num[1], lv[3] = (size_t) snprintf(num[1], RS_NUM, "%d", TOPNET_KEEP);
	for (size_t i = 0; i < n && i < TOPNET_KEEP; i++) {
		av[argc] = nets[i].net, lv[argc++] = strlen(nets[i].net);
		av[argc] = num[2 + i], lv[argc++] = (size_t) snprintf(num[2 + i], RS_NUM,
		    "%" PRIu32, nets[i].count);
	}
	return rs_report_eval(rs, NET_SCRIPT, net_sha, argc, av, lv);
}

static int
rs_nets_one(int64_t hour, const redisReply *h, void *ctx)
{
	rs_read_t *r = ctx;
	topnet_t nets[TOPNET_KEEP];
	size_t	n = 0;

	if (h->type != REDIS_REPLY_ARRAY)
		return 0;
	for (size_t i = 0; i + 1 < h->elements && n < TOPNET_KEEP; i += 2) {
		const redisReply *f = h->element[i], *v = h->element[i + 1];

		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING
		    || f->len == 0 || f->len >= TOPNET_NET_MAX)
			continue;
		memcpy(nets[n].net, f->str, f->len);
		nets[n].net[f->len] = '\0';
		nets[n++].count = (uint32_t) strtoul(v->str, NULL, 10);
	}
	topnet_sort(nets, n);
	return n > 0 && r->net_fn(hour, nets, n, r->ctx);
}

int
store_redis_report_net_read(store_t *st, int64_t from_hour, int64_t to_hour,
			    store_report_net_fn fn, void *ctx)
{
	store_redis_t *rs = st->redis;
	rs_read_t r = {.net_fn = fn, .ctx = ctx};

	return rs_report_walk(rs, "report-net", from_hour, to_hour, rs_nets_one, &r);
}
