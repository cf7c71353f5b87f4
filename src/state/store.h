/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store - taRgrey state in LMDB: short transactions, growth, expiry
 * SYNOPSIS
 *	#include "store.h"
 *
 *	store_t *store_open(const char *dir, size_t max_size);
 *	store_t *store_open_config(const config_t *cfg);
 *	store_t *store_close(store_t *st);
 *	int store_access(const char *dir, char *why, size_t size);
 *
 *	greylist_verdict_t store_check(store_t *st, const greylist_params_t *p,
 *		int64_t now, const addr_t *client, const char *sender,
 *		const char *recipient, int flags, greylist_result_t *r);
 *	int store_tarpit_failed(store_t *st, const greylist_params_t *p,
 *		int64_t now, const addr_t *client);
 *	int store_tarpit_passed(store_t *st, const greylist_params_t *p,
 *		int64_t now, const addr_t *client, const char *sender,
 *		const char *const *recipients, size_t count);
 *	int store_lookup(store_t *st, const greylist_params_t *p,
 *		const addr_t *client, const char *sender,
 *		const char *recipient, store_facts_t *out);
 *
 *	int store_expire_start(store_t *st, const greylist_params_t *p,
 *		long interval_ms);
 *	void store_expire_stop(store_t *st);
 *	int store_expire_step(store_t *st, const greylist_params_t *p,
 *		int64_t now, size_t batch, store_expire_t *ex);
 *	int store_sync(store_t *st);
 * DESCRIPTION
 *	store_open() opens (creating DIR, mode 0750, when missing) the LMDB
 *	environment with the named databases greylist, clients, tarpit and
 *	meta, records the schema version, clears reader slots left by dead
 *	processes, and returns the store, or NULL (logged). The map starts
 *	small and grows by doubling up to MAX_SIZE bytes whenever a write
 *	meets MDB_MAP_FULL. Writes that add records stop when the pages in
 *	use would exceed 7/8 of MAX_SIZE (logged as a full map): the last
 *	eighth is kept for deletions, because an LMDB delete needs free
 *	pages too, and without them a full map could never be emptied by
 *	the expiry again. targreyctl opens the same directory while the
 *	daemon runs: LMDB serialises writers across processes and readers
 *	never block. store_close() stops the expiry thread, flushes the
 *	counters, syncs and closes; it returns NULL.
 *
 *	store_open_config() opens the backend CFG names: LMDB as above, or
 *	Redis with state_backend = redis (store_redis_open.c, store_redis.h);
 *	every function below then works on it alike (store_api.c calls the
 *	backend's table of operations, store_impl.h), except those that are
 *	about LMDB files (store_access, store_verify, store_rebuild,
 *	store_map_size: 0) and the manual whitelist, which fail on Redis.
 *	store_expire_step() reports a complete pass at once: Redis expires
 *	records itself. store_is_redis() says which backend ST uses.
 *
 *	store_access() tells, without creating or changing anything,
 *	whether store_open(DIR) could open the store with the calling
 *	process's credentials: DIR searchable, data.mdb and lock.mdb
 *	readable and writable, DIR writable when one of them is missing (a
 *	read-only mount fails here too). It returns 0, or -1 with the path
 *	and the reason in WHY. The daemon runs it as its user before it
 *	starts (targrey-milter -t too).
 *
 *	store_check() is the one call at the first RCPT of a suspicious
 *	client: it reads the client, triplet and tarpit records, applies
 *	greylist_decide() (see greylist.h; FLAGS may hold
 *	GREYLIST_NO_TARPIT when no tarpit slot is free), writes back what
 *	the decision changed (new or retried triplet, counted pass toward
 *	auto-whitelisting) in one short write transaction, and returns the
 *	verdict, also stored in R with the reason and the delay/retries
 *	still missing for the 450 text. Clients in the manual whitelist
 *	(targreyctl whitelist add) get GREYLIST_PASS_AWL. On any store
 *	failure it logs the LMDB error and returns GREYLIST_UNAVAILABLE:
 *	the milter accepts (never a crash, never a 4xx storm).
 *
 *	store_tarpit_failed() records that CLIENT disconnected or
 *	pipelined during its tarpit: its next triplets are greylisted.
 *	store_tarpit_passed() records that the client reached DATA after
 *	its tarpit: removes it from the tarpit-failed list, marks each of
 *	the COUNT triplets (SENDER, RECIPIENTS[i]) passed, and counts one
 *	pass toward auto-whitelisting. Both return 0, or -1 (logged).
 *
 *	store_lookup() reads, without writing, the records store_check()
 *	would use, with their keys (targreyctl explain).
 *
 *	store_expire_start() starts the background thread (called again,
 *	e.g. after a configuration reload, it only replaces P and
 *	INTERVAL_MS): every second
 *	it syncs the map to disk and flushes the verdict counters into
 *	meta; every INTERVAL_MS it walks the databases, deleting expired
 *	records in write transactions of at most STORE_EXPIRE_BATCH
 *	records, pausing between batches. store_expire_stop() stops and
 *	joins it. store_expire_step() does one batch (used by the thread,
 *	targreyctl expire and the tests): it returns 1 when a full pass
 *	over all databases is complete, 0 when more batches remain, -1 on
 *	error. EX holds the position between calls; zero it to start.
 *
 *	store_sync() writes the verdict counters into meta and forces the
 *	map to disk. Writes use MDB_NOSYNC (no MDB_WRITEMAP: a full disk is
 *	an error code, see store.c): a killed process (kill -9 at any
 *	moment) loses at most the transaction in flight; a power failure
 *	loses the last second.
 *
 *	Faults (store_fault.c). store_health() says whether the store is
 *	healthy, full (state_max_size), refused writes by the file system
 *	(ENOSPC, EROFS, EIO, ...; cleared by the next write that works) or
 *	broken (LMDB reported corruption or a record was out of bounds: no
 *	transaction touches it again, every call fails at once, logged at
 *	most once a minute); store_check() then answers
 *	GREYLIST_UNAVAILABLE with the reason "store=HEALTH".
 *	store_rebuild() (SIGHUP) moves a broken store's data.mdb aside and
 *	opens a fresh one in place; it returns 0, or -1 (logged) when the
 *	store stays broken. store_bad_records() counts the records skipped
 *	as out of bounds (key empty or over STORE_KEY_MAX, value over
 *	STORE_VAL_MAX, or not within its page). store_verify() opens DIR
 *	read-only and walks every record: 0 (no data.mdb counts as fine),
 *	or -1 with the cause in WHY (cannot open, cannot walk, records out
 *	of bounds, a 0-byte file, or DIR/data.mdb.broken left by a process
 *	that found the store broken). store_verify_apart() runs it in a child
 *	(store_child_run(): FN writes a reason to its descriptor and exits),
 *	so that a file damaged enough to crash LMDB kills only the child.
 *	store_set_aside() renames DIR/data.mdb to
 *	data.mdb.corrupt-YYYYmmddTHHMMSS (UTC) and gives the new path.
 * THREADS
 *	Every function may be called from any number of threads at once,
 *	except store_close(), which must come after every other call has
 *	returned. Open the store after daemonising and dropping privileges
 *	(the files belong to whoever creates them), never before fork().
 *	No LMDB transaction outlives the call that began it; a read-write
 *	lock keeps transactions out while the map grows.
 * DIAGNOSTICS
 *	Faults: see store_fault.c. Other errors go to log.c as "store: WHAT:
 *	LMDB error"; together with the
 *	unknown-version warnings below, at most ten lines a second (a full
 *	map must not flood the log). A record with an
 *	unknown version is logged and treated as absent; the expiry leaves
 *	it in place (a newer program may own it) but rewrites a record too
 *	short for its version.
 */
#ifndef TG_STORE_H
#define TG_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "greylist.h"

typedef struct store store_t;

/* What store_health() reports; anything but HEALTHY makes store_check()
 * answer GREYLIST_UNAVAILABLE with a reason naming it. */
typedef enum {
	STORE_HEALTHY,
	STORE_FULL,		/* map at state_max_size */
	STORE_NOSPACE,		/* the file system refuses writes */
	STORE_BROKEN		/* corrupt: unused until store_rebuild() */
} store_health_t;

typedef enum {
	STORE_DB_GREYLIST,
	STORE_DB_CLIENTS,
	STORE_DB_TARPIT,
	STORE_DB_META,
	STORE_DB_COUNT
} store_db_t;

#define STORE_SCHEMA		1
#define STORE_KEY_MAX		511	/* LMDB's default key limit */
#define STORE_VAL_MAX		512	/* largest value targreyctl load writes */
#define STORE_EXPIRE_BATCH	500
#define STORE_INITIAL_MAP	(8UL * 1024 * 1024)

#define STORE_OK		0
#define STORE_ERROR		(-1)
#define STORE_NOTFOUND		(-2)

typedef struct {
	char	net_key[STORE_KEY_MAX + 1];	/* clients key */
	char	triplet_key[STORE_KEY_MAX + 1];	/* greylist key */
	char	addr_key[STORE_KEY_MAX + 1];	/* tarpit key */
	int	has_client, has_triplet, has_tarpit;
	int	whitelisted;
	client_record_t client;
	grey_record_t triplet;
	tarpit_record_t tarpit;
} store_facts_t;

/* The store step on records read (store_lookup()): greylist_decide()
 * on them, as store_check() does inside its transaction. */
void	store_decide(const greylist_params_t *p, int64_t now, const store_facts_t *f,
	    int flags, greylist_result_t *r);

typedef struct {
	int	db;			/* database being walked */
	char	key[STORE_KEY_MAX + 1];	/* resume at this key */
	size_t	klen;			/* 0: from the start */
	size_t	seen, deleted;		/* totals of this pass */
} store_expire_t;

/* Generic record access for targreyctl. */
typedef int (*store_walk_fn)(const char *key, size_t klen,
			     const void *val, size_t vlen, void *ctx);

store_t *store_open(const char *dir, size_t max_size);
store_t *store_open_config(const config_t *cfg);	/* store_redis_open.c */
int	store_is_redis(const store_t *st);
store_t *store_close(store_t *st);
int	store_access(const char *dir, char *why, size_t size);

greylist_verdict_t store_check(store_t *st, const greylist_params_t *p,
	    int64_t now, const addr_t *client, const char *sender,
	    const char *recipient, int flags, greylist_result_t *r);
int	store_tarpit_failed(store_t *st, const greylist_params_t *p,
	    int64_t now, const addr_t *client);
int	store_tarpit_passed(store_t *st, const greylist_params_t *p,
	    int64_t now, const addr_t *client, const char *sender,
	    const char *const *recipients, size_t count);
int	store_lookup(store_t *st, const greylist_params_t *p,
	    const addr_t *client, const char *sender, const char *recipient,
	    store_facts_t *out);

int	store_expire_start(store_t *st, const greylist_params_t *p,
	    long interval_ms);
void	store_expire_stop(store_t *st);
int	store_expire_step(store_t *st, const greylist_params_t *p,
	    int64_t now, size_t batch, store_expire_t *ex);
int	store_sync(store_t *st);

/*
 * Raw access (targreyctl, tests). store_get() copies at most *VLEN
 * bytes into VAL and sets *VLEN to the stored length; returns 0,
 * STORE_NOTFOUND or STORE_ERROR. store_walk() calls FN for every record
 * whose key starts with PREFIX (NULL: all), in key order, reading in
 * chunks of short read transactions; FN returns nonzero to stop.
 * store_count() gives the number of records of DB.
 */
int	store_get(store_t *st, store_db_t db, const char *key, size_t klen,
	    void *val, size_t *vlen);
int	store_put(store_t *st, store_db_t db, const char *key, size_t klen,
	    const void *val, size_t vlen);
int	store_delete(store_t *st, store_db_t db, const char *key, size_t klen);
int	store_walk(store_t *st, store_db_t db, const char *prefix,
	    store_walk_fn fn, void *ctx);
int	store_count(store_t *st, store_db_t db, size_t *count);
const char *store_db_name(store_db_t db);
int	store_db_by_name(const char *name);
size_t	store_map_size(store_t *st);

/* Faults (store_fault.c). */
store_health_t store_health(store_t *st);
const char *store_health_name(store_health_t h);
uint64_t store_bad_records(store_t *st);
int	store_verify(const char *dir, char *why, size_t size);
int	store_verify_apart(const char *dir, char *why, size_t size);
int	store_child_run(void (*fn)(const void *arg, int fd), const void *arg,
	    char *why, size_t size, int *status);
int	store_set_aside(const char *dir, char *where, size_t size);
int	store_rebuild(store_t *st);

/* Manual whitelist of client networks, kept in meta. */
int	store_whitelist_add(store_t *st, const net_t *net, int64_t now);
int	store_whitelist_remove(store_t *st, const net_t *net);

/* Verdict counters (in memory, flushed into meta by store_sync()). */
int	store_counter_get(store_t *st, greylist_verdict_t v, uint64_t *value);

/* Event counters, kept like the verdict counters (targreyctl stats). */
typedef enum {
	STORE_EVENT_TARPIT_FULL,	/* greylisted: the tarpit was full */
	STORE_EVENTS
} store_event_t;

void	store_event_count(store_t *st, store_event_t e);
int	store_event_get(store_t *st, store_event_t e, uint64_t *value);
const char *store_event_name(store_event_t e);

#endif
