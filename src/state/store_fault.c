/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_fault - what a corrupt, full or read-only store does
 * DESCRIPTION
 *	See store.h: store_health(), store_fault() for the other store
 *	files, and the rate limit of their problem lines
 *	(store_log_mdb()). Verifying, setting aside and rebuilding a
 *	broken store are in store_rebuild.c.
 *
 *	Every LMDB failure is sorted into one of three faults. Corruption
 *	(MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_BAD_TXN, MDB_PANIC,
 *	MDB_INVALID, ...) marks the store broken: no transaction touches
 *	it again (LMDB may read wild pointers from a bad page) until
 *	store_rebuild() moves the file aside and starts a fresh one. A
 *	file system that refuses writes (ENOSPC, EDQUOT, EROFS, EACCES,
 *	EIO, EFBIG) makes it unavailable for writes; the next write that
 *	succeeds clears it. A map at state_max_size is the third
 *	(store.c logs it). Each kind is logged at most once a minute.
 *	A store that breaks leaves DIR/data.mdb.broken with the cause:
 *	store_verify() refuses a store so marked (targreyctl, -t, the
 *	next start: damage a walk cannot see, such as a bogus full map,
 *	still counts), and store_set_aside() removes it.
 *
 *	Bounds: an empty key, a key longer than STORE_KEY_MAX, a value
 *	longer than STORE_VAL_MAX, a record that does not end on its page,
 *	or the records of a leaf page not tiling it exactly as LMDB packs
 *	them (checked in read transactions, whose pages are the map's) can
 *	only come from a damaged file. Such a record is never copied
 *	or decoded: walks skip it and count it (store_bad_records()), and
 *	store_verify() calls the file corrupt.
 * DIAGNOSTICS
 *	"store: corrupt state: WHAT: LMDB message; ...", "store: cannot
 *	write the state: WHAT: message; ...", "store: writing again",
 *	"store: DIR/data.mdb moved to PATH; starting on a fresh store".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "store_impl.h"
#include "words.h"

#define FAULT_LOG_EVERY	60	/* seconds between lines of one kind */
#define STORE_LOG_BURST	10	/* problem lines a second */

/* Does RC say the file is damaged? */
static int
fault_corrupt(int rc)
{
	switch (rc) {
	case STORE_EFULL_BOGUS:
	case MDB_CORRUPTED: case MDB_PAGE_NOTFOUND: case MDB_BAD_TXN:
	case MDB_PANIC: case MDB_INVALID: case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE: case MDB_BAD_DBI:
		return 1;
	}
	return 0;
}

/* Does RC say the file system refuses writes? */
static int
fault_nospace(int rc)
{
	return rc == ENOSPC || rc == EDQUOT || rc == EROFS || rc == EACCES
	    || rc == EPERM || rc == EIO || rc == EFBIG;
}

/* 1 when a line of KIND may be logged now (once a minute each). */
static int
fault_log_due(store_t *st, int kind)
{
	int64_t	now = (int64_t) time(NULL), then = atomic_load(&st->fault_logged[kind]);

	return (then == 0 || now - then >= FAULT_LOG_EVERY)
	    && atomic_compare_exchange_strong(&st->fault_logged[kind], &then, now);
}

/* Leave DIR/data.mdb.broken with WHY: the store is known corrupt even
 * where a walk finds nothing (store_verify() reads it). Best effort. */
static void
fault_mark(const char *dir, const char *why)
{
	char	path[4096];
	int	fd;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/" STORE_MARK, dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640)) < 0)
		return;
	if (write(fd, why, strlen(why)) < 0)
		log_warning("store: cannot write %s: %s", path, strerror(errno));
	close(fd);
}

/* Sort a failure, mark the store, log once a minute; see DESCRIPTION. */
int
store_fault(store_t *st, const char *what, int rc, int write)
{
	char	why[256];

	if (fault_corrupt(rc)) {
		snprintf(why, sizeof(why), "%s: %s", what, rc == STORE_EFULL_BOGUS
		    ? "MDB_MAP_FULL at state_max_size, but the records use less than half of it"
		    : mdb_strerror(rc));
		if (atomic_exchange(&st->health, STORE_BROKEN) != STORE_BROKEN)
			fault_mark(st->dir, why);
		if (fault_log_due(st, STORE_BROKEN))
			log_error("store: corrupt state: %s; mail passes without greylisting"
			    " (store_unavailable) until SIGHUP rebuilds the store in %s", why,
			    st->dir ? st->dir : "?");
	} else if (fault_nospace(rc) && (write || rc == EIO)) {
		atomic_store(&st->health, STORE_NOSPACE);
		if (fault_log_due(st, STORE_NOSPACE))
			log_error("store: cannot write the state: %s: %s; mail passes without"
			    " greylisting (store_unavailable) until writes succeed again",
			    what, mdb_strerror(rc));
	} else if (rc == MDB_MAP_FULL)
		atomic_store(&st->health, STORE_FULL);	/* store_grow() logged it */
	else
		store_log_mdb(what, rc);
	return STORE_ERROR;
}

/* WHAT was not tried: the store is broken. Reminds once a minute. */
int
store_fault_broken(store_t *st, const char *what)
{
	if (fault_log_due(st, STORE_BROKEN))
		log_error("store: corrupt state: %s not done, the store is still broken;"
		    " mail passes without greylisting (store_unavailable) until SIGHUP rebuilds"
		    " the store in %s", what, st->dir ? st->dir : "?");
	return STORE_ERROR;
}

/* Health of the store. */
store_health_t
store_health(store_t *st)
{
	return st == NULL ? STORE_BROKEN : (store_health_t) atomic_load(&st->health);
}

/* Name of a health state (decision lines, targreyctl stats). */
const char *
store_health_name(store_health_t h)
{
	static const char *const names[] = {W_HEALTHY, W_FULL, W_WRITE_ERROR, W_BROKEN};

	return (unsigned) h < sizeof(names) / sizeof(names[0]) ? names[h] : W_UNKNOWN;
}

/* Records skipped as out of bounds so far. */
uint64_t
store_bad_records(store_t *st)
{
	return atomic_load(&st->bad_records);
}

_Thread_local int store_in_read;

/* Does [P, P + SIZE) end within the page P is on? Only for pointers into
 * the map (read transactions): the map and its pages are page-aligned. */
static int
fault_in_page(store_t *st, const void *p, size_t size)
{
	uintptr_t a = (uintptr_t) p, end;

	if (!store_in_read || st->psize == 0)
		return 1;
	end = (a | (st->psize - 1)) + 1;
	return size <= end - a;
}

/* A value within bounds? Counts a bad one. */
int
store_val_ok(store_t *st, const MDB_val *v)
{
	if (v->mv_size <= STORE_VAL_MAX && fault_in_page(st, v->mv_data, v->mv_size))
		return 1;
	atomic_fetch_add(&st->bad_records, 1);
	return 0;
}

/* Key and value of one record within bounds? Counts the bad ones. Our
 * records are small: LMDB keeps the value right after the key, on the
 * key's page; a damaged size field breaks that. */
int
store_node_ok(store_t *st, const MDB_val *k, const MDB_val *v)
{
	if (k->mv_size > 0 && k->mv_size <= STORE_KEY_MAX && v->mv_size <= STORE_VAL_MAX
	    && (!store_in_read || (v->mv_data == (char *) k->mv_data + k->mv_size
	    && fault_in_page(st, k->mv_data, k->mv_size + v->mv_size))))
		return 1;
	atomic_fetch_add(&st->bad_records, 1);
	return 0;
}

/* Do the collected records tile their page? LMDB keeps a leaf page's
 * nodes (8-byte header, key, value, padded to even) packed from its
 * upper bound to its end; a damaged size breaks that, and LMDB's own
 * deletes then move bytes by the wrong amount. 0, or -1. */
int
store_page_end(store_t *st, store_page_t *pg)
{
	size_t	n = pg->n;
	int	ok = !pg->overflow;

	for (size_t i = 1; i < n; i++)		/* insertion sort by start */
		for (size_t j = i; j > 0 && pg->start[j] < pg->start[j - 1]; j--) {
			uintptr_t s = pg->start[j], e = pg->end[j];

			pg->start[j] = pg->start[j - 1], pg->end[j] = pg->end[j - 1];
			pg->start[j - 1] = s, pg->end[j - 1] = e;
		}
	if (n > 0 && ok)
		ok = pg->start[0] >= pg->base + 16 + 2 * n && pg->end[n - 1] == pg->base + st->psize;
	for (size_t i = 1; i < n && ok; i++)
		ok = pg->start[i] == pg->end[i - 1];
	pg->base = 0;
	pg->n = 0;
	pg->overflow = 0;
	return ok ? 0 : -1;
}

/* Collect the record K, V of a read transaction; when it is on another
 * page, check the page collected so far first. 0, or -1. */
int
store_page_add(store_t *st, store_page_t *pg, const MDB_val *k, const MDB_val *v)
{
	uintptr_t node = (uintptr_t) k->mv_data - 8, base = node & ~(uintptr_t) (st->psize - 1);
	int	rc = 0;

	if (pg->base != 0 && pg->base != base)
		rc = store_page_end(st, pg);
	pg->base = base;
	if (pg->n == STORE_PAGE_NODES) {
		pg->overflow = 1;
		return rc;
	}
	pg->start[pg->n] = node;
	pg->end[pg->n++] = node + ((8 + k->mv_size + v->mv_size + 1) & ~(size_t) 1);
	return rc;
}

/* Rate limit for problem lines: STORE_LOG_BURST a second, then a note. */
int
store_log_allowed(long *dropped)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static int64_t second;
	static long lines, suppressed;
	int64_t	now = (int64_t) time(NULL);
	int	ok;

	pthread_mutex_lock(&lock);
	if (now != second) {
		second = now;
		lines = 0;
	}
	ok = lines++ < STORE_LOG_BURST;
	*dropped = ok ? suppressed : 0;
	suppressed = ok ? 0 : suppressed + 1;
	pthread_mutex_unlock(&lock);
	return ok;
}

/* Log an LMDB (or errno) failure, at most once a second. */
void
store_log_mdb(const char *what, int rc)
{
	long	dropped;

	if (store_log_allowed(&dropped))
		log_error("store: %s: %s%s", what, mdb_strerror(rc),
		    dropped ? " (and earlier lines not logged)" : "");
}
