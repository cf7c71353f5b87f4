/*
 * NAME
 *	store_fault - what a corrupt, full or read-only store does
 * DESCRIPTION
 *	See store.h: store_health(), store_verify(), store_set_aside(),
 *	store_rebuild(), and store_fault() for the other store files.
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

#define FAULT_LOG_EVERY	60	/* seconds between lines of one kind */

static const char *const store_db_list[STORE_DB_COUNT] =
	{"greylist", "clients", "tarpit", "meta"};

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

/* Did a process mark the store in DIR broken? 1 and the reason in WHY. */
static int
fault_marked(const char *dir, char *why, size_t size)
{
	char	path[4096], text[256];
	ssize_t	n;
	int	fd;

	snprintf(path, sizeof(path), "%s/" STORE_MARK, dir);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	text[strcspn(text, "\r\n")] = '\0';
	snprintf(why, size, "%s: the daemon found it corrupt (%s)", path, text);
	return 1;
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
	static const char *const names[] = {"healthy", "full", "write_error", "broken"};

	return (unsigned) h < sizeof(names) / sizeof(names[0]) ? names[h] : "?";
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

/* Walk every record of DBI; the number out of bounds (records, or pages
 * they do not tile, in *PAGES), or -1 and RC. */
static long
verify_walk(store_t *st, MDB_txn *txn, MDB_dbi dbi, long *pages, int *rc)
{
	static _Thread_local store_page_t pg;
	MDB_cursor *c;
	MDB_val	k, v;
	long	bad = 0;

	if ((*rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return -1;
	for (*rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); *rc == 0;
	    *rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		if (!store_node_ok(st, &k, &v))
			bad++;
		else
			*pages += store_page_add(st, &pg, &k, &v) != 0;
	*pages += pg.base != 0 && store_page_end(st, &pg) != 0;
	mdb_cursor_close(c);
	if (*rc != MDB_NOTFOUND)
		return -1;
	*rc = 0;
	return bad;
}

/* Open read-only and walk every database; see store_verify(). */
static int
verify_env(store_t *st, const char *dir, char *why, size_t size)
{
	MDB_txn *txn;
	MDB_dbi	dbi;
	long	bad = 0, pages = 0, n;
	int	rc;

	store_in_read = 1;
	if ((rc = store_env_open(st, dir, MDB_RDONLY)) != 0
	    || (rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0) {
		snprintf(why, size, "%s/data.mdb: cannot open: %s", dir, mdb_strerror(rc));
		return -1;
	}
	for (int i = 0; i < STORE_DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, store_db_list[i], 0, &dbi);
		if (rc == MDB_NOTFOUND)
			continue;	/* never written */
		if (rc != 0 || (n = verify_walk(st, txn, dbi, &pages, &rc)) < 0) {
			snprintf(why, size, "%s/data.mdb: cannot walk %s: %s", dir,
			    store_db_list[i], mdb_strerror(rc));
			mdb_txn_abort(txn);
			return -1;
		}
		bad += n;
	}
	mdb_txn_abort(txn);
	if (bad > 0 || pages > 0) {
		if (bad > 0)
			snprintf(why, size, "%s/data.mdb: %ld record(s) with a key or value out"
			    " of bounds", dir, bad);
		else
			snprintf(why, size, "%s/data.mdb: %ld page(s) whose records' sizes do not"
			    " fit the page", dir, pages);
		return -1;
	}
	return 0;
}

/* Can the store in DIR be opened and walked? 0 (also when there is no
 * file yet), or -1 with the cause in WHY. Opens read-only. */
int
store_verify(const char *dir, char *why, size_t size)
{
	store_t	st = {0};
	char	path[4096];
	struct stat sb;
	int	rc;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &sb) != 0)
		return 0;		/* store_access() judged a missing file */
	if (fault_marked(dir, why, size))
		return -1;
	if (sb.st_size == 0) {
		snprintf(why, size, "%s: empty file (0 bytes)", path);
		return -1;
	}
	rc = verify_env(&st, dir, why, size);
	store_in_read = 0;
	if (st.env)
		mdb_env_close(st.env);
	return rc;
}

/* Run FN(ARG, FD) in a child process, which writes its reason to FD and
 * exits; the reason in WHY and the child's wait status in *STATUS. 0, or
 * -1 (and errno) when no child could be started. */
int
store_child_run(void (*fn)(const void *arg, int fd), const void *arg,
		char *why, size_t size, int *status)
{
	int	fds[2];
	ssize_t	n;
	pid_t	pid;

	*status = 0;
	why[0] = '\0';
	if (pipe(fds) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		fn(arg, fds[1]);
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], why, size - 1);
	close(fds[0]);
	why[n > 0 ? n : 0] = '\0';
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		continue;
	return 0;
}

/* The child of store_verify_apart(). */
static void
verify_child(const void *dir, int fd)
{
	char	why[1024];

	if (store_verify(dir, why, sizeof(why)) == 0)
		_exit(0);
	_exit(write(fd, why, strlen(why)) < 0 ? 2 : 1);
}

/* store_verify() in a child process: LMDB trusts its pages, so a file
 * damaged enough can crash it; then only the child dies. 0 or -1. */
int
store_verify_apart(const char *dir, char *why, size_t size)
{
	int	status;

	if (store_child_run(verify_child, dir, why, size, &status) < 0) {
		snprintf(why, size, "cannot start the check: %s", strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		snprintf(why, size, "%s/data.mdb: walking it crashed (signal %d)", dir,
		    WTERMSIG(status));
	return -1;
}

/* Rename DIR/data.mdb to DIR/data.mdb.corrupt-YYYYmmddTHHMMSS; 0 and the
 * new path in WHERE, or -1 and the reason in WHERE. */
int
store_set_aside(const char *dir, char *where, size_t size)
{
	char	from[4096], stamp[32];
	time_t	now = time(NULL);
	struct tm tm;

	snprintf(from, sizeof(from), "%s/data.mdb", dir);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	for (int i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(where, size, "%s.corrupt-%s", from, stamp);
		else
			snprintf(where, size, "%s.corrupt-%s.%d", from, stamp, i);
		if (access(where, F_OK) != 0 && errno == ENOENT)
			break;
	}
	if (rename(from, where) != 0) {
		snprintf(where, size, "cannot rename %s: %s", from, strerror(errno));
		return -1;
	}
	snprintf(from, sizeof(from), "%s/" STORE_MARK, dir);
	unlink(from);
	return 0;
}

/* Reopen a fresh environment in st->dir; holds resize_lock exclusive. */
static int
rebuild_open(store_t *st)
{
	MDB_txn *txn;
	int	rc;

	if ((rc = store_env_open(st, st->dir, 0)) != 0)
		return rc;
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return rc;
	if ((rc = store_open_dbs(st, txn, NULL)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

/* A broken store: move its file aside and start a fresh one, without a
 * restart. 0 when the store is usable (or was not broken), -1 if not. */
int
store_rebuild(store_t *st)
{
	char	where[4096];
	int	rc;

	if (st == NULL || store_health(st) != STORE_BROKEN)
		return 0;
	pthread_rwlock_wrlock(&st->resize_lock);
	if (st->env)
		mdb_env_close(st->env);
	st->env = NULL;
	if (store_set_aside(st->dir, where, sizeof(where)) != 0) {
		log_error("store: rebuild: %s; the store stays broken", where);
		rc = -1;
	} else if ((rc = rebuild_open(st)) != 0)
		log_error("store: rebuild: open %s: %s; the store stays broken", st->dir,
		    mdb_strerror(rc));
	else
		log_warning("store: %s/data.mdb moved to %s; starting on a fresh store",
		    st->dir, where);
	pthread_rwlock_wrlock(&st->wl_lock);
	st->wl_loaded = 0;
	pthread_rwlock_unlock(&st->wl_lock);
	if (rc == 0) {
		atomic_store(&st->fault_logged[STORE_BROKEN], 0);
		atomic_store(&st->health, STORE_HEALTHY);
	}
	pthread_rwlock_unlock(&st->resize_lock);
	return rc == 0 ? 0 : -1;
}
