/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_redis - the taRgrey state in Redis (state_backend = redis)
 * SYNOPSIS
 *	#include "store_redis.h"
 *
 *	store_redis_t *store_redis_open(const redis_conf_t *conf,
 *		const char *prefix, const greylist_params_t *p);
 *	store_redis_t *store_redis_close(store_redis_t *rs);
 * DESCRIPTION
 *	The same operations as store.h, on a Redis server shared by several
 *	MX hosts; store.c calls them when the store was opened by
 *	store_open_config() with state_backend = redis, so decision code
 *	never knows which backend it talks to.
 *
 *	Keys are PREFIX, the database name, ':' and the LMDB key (e.g.
 *	"tg:greylist:192.0.2.0/a@example.org/b@example.net"), sent as
 *	binary-safe arguments, never spliced into script text. Values are
 *	the versioned records of record.c, byte for byte as in LMDB, so a
 *	dump of one backend loads into the other. Each record carries a TTL
 *	(PX) computed from the max-age parameters of P: the server expires
 *	records, no scan is needed, and store_redis_expire() does nothing.
 *
 *	A decision is one call of STORE_REDIS_SCRIPT (store_redis_lua.c)
 *	by EVALSHA: on the server, atomically, it reads the client, tarpit
 *	and triplet records, decides as greylist_decide() does (the two
 *	are kept equal by one table of cases, tests/unit/greylist_cases.h,
 *	run against both), writes, and returns the verdict, the reason,
 *	the delay and retries still missing and the records it wrote. A
 *	tarpit failure and a tarpit pass are one call each too. No other
 *	host can write in between, so two hosts deciding for one triplet at
 *	once leave what one host would leave, and nothing is retried.
 *
 *	Any failure (no connection, timeout, an error reply)
 *	makes store_redis_check() answer GREYLIST_UNAVAILABLE with the
 *	reason "store=redis": the milter accepts. See store_redis_conn.h for the
 *	bounded waits and the back-off.
 *
 *	The manual whitelist is kept as in LMDB (meta "whitelist/NET"
 *	entries); every change INCRs meta "whitelist_rev". A process keeps
 *	the list cached with its revision; the script compares that with
 *	meta "whitelist_rev" and, when it moved, answers with the new one
 *	instead of deciding: the process reloads the list and calls again. store_redis_counters_add() adds the verdict and event
 *	counts of this process (DELTA[i] to meta "count/NAMES[i]", 8 bytes
 *	big-endian as in LMDB) in one script, so targreyctl stats shows the
 *	sum over all hosts.
 * DIAGNOSTICS
 *	store_redis_conn.h; records of unknown versions are treated as absent.
 */
#ifndef TG_STORE_REDIS_H
#define TG_STORE_REDIS_H

#include "greylist.h"
#include "store_redis_conn.h"
#include "store.h"

typedef struct store_redis store_redis_t;

store_redis_t *store_redis_open(const redis_conf_t *conf, const char *prefix,
	    const greylist_params_t *p);
store_redis_t *store_redis_close(store_redis_t *rs);
greylist_verdict_t store_redis_check(store_redis_t *rs, const greylist_params_t *p,
	    int64_t now, const addr_t *client, const char *sender,
	    const char *recipient, int flags, greylist_result_t *r);
int	store_redis_tarpit_failed(store_redis_t *rs, const greylist_params_t *p,
	    int64_t now, const addr_t *client);
int	store_redis_tarpit_passed(store_redis_t *rs, const greylist_params_t *p,
	    int64_t now, const addr_t *client, const char *sender,
	    const char *const *recipients, size_t count);
int	store_redis_lookup(store_redis_t *rs, const greylist_params_t *p,
	    const addr_t *client, const char *sender, const char *recipient,
	    store_facts_t *out);
int	store_redis_get(store_redis_t *rs, store_db_t db, const char *key,
	    size_t klen, void *val, size_t *vlen);
int	store_redis_put(store_redis_t *rs, store_db_t db, const char *key,
	    size_t klen, const void *val, size_t vlen);
int	store_redis_delete(store_redis_t *rs, store_db_t db, const char *key,
	    size_t klen);
int	store_redis_walk(store_redis_t *rs, store_db_t db, const char *prefix,
	    store_walk_fn fn, void *ctx);
int	store_redis_count(store_redis_t *rs, store_db_t db, size_t *count);
int	store_redis_whitelist(store_redis_t *rs, const net_t *net, int64_t now, int add);
int	store_redis_counters_add(store_redis_t *rs, const char *const *names,
	    const uint64_t *delta, size_t n);
int64_t	store_redis_ttl_ms(const greylist_params_t *p, int64_t now, store_db_t db,
	    const void *val, size_t vlen);

#endif
