/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_redis - the taRgrey state in Redis (state_backend = redis)
 * SYNOPSIS
 *	#include "store_redis.h"
 *
 *	int64_t store_redis_ttl_ms(const greylist_params_t *p, int64_t now,
 *		store_db_t db, const void *val, size_t vlen);
 * DESCRIPTION
 *	The operations of store.h on a Redis server shared by several MX
 *	hosts: store_open_config() with state_backend = redis opens a store
 *	whose table of operations is store_redis_backend (store_impl.h,
 *	store_redis_open.c), so decision code never knows which backend it
 *	talks to. The functions of that table are declared in
 *	store_redis_int.h.
 *
 *	Keys are PREFIX, the database name, ':' and the LMDB key (e.g.
 *	"tg:greylist:192.0.2.0/a@example.org/b@example.net"), sent as
 *	binary-safe arguments, never spliced into script text. Values are
 *	the versioned records of record.c, byte for byte as in LMDB, so a
 *	dump of one backend loads into the other. Each record carries a TTL
 *	(PX) computed from the max-age parameters of P (store_redis_ttl_ms():
 *	the milliseconds to live of VAL in DB at NOW, 0 for none): the server
 *	expires records, no scan is needed, and store_expire_step() reports
 *	a complete pass at once.
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
 *	makes store_check() answer GREYLIST_UNAVAILABLE with the
 *	reason "store=redis": the milter accepts. See store_redis_conn.h for the
 *	bounded waits and the back-off.
 *
 *	The manual whitelist is kept as in LMDB (meta "whitelist/NET"
 *	entries); every change INCRs meta "whitelist_rev". A process keeps
 *	the list cached with its revision; the script compares that with
 *	meta "whitelist_rev" and, when it moved, answers with the new one
 *	instead of deciding: the process reloads the list and calls again.
 *	store_sync() (store_redis_counters_add()) adds the verdict and event
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

int64_t	store_redis_ttl_ms(const greylist_params_t *p, int64_t now, store_db_t db,
	    const void *val, size_t vlen);

#endif
