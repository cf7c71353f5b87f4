/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_rebuild - verify a store, set a broken one aside, rebuild
 * DESCRIPTION
 *	See store.h and store_fault.c (the faults that lead here):
 *	store_verify() walks every B-tree of a store, the main tree that
 *	names the others first, and checks that each holds as many records
 *	as its parent counts (store_verify_apart() in a child process,
 *	store_child_run()), store_set_aside() moves a
 *	broken file away and store_rebuild() starts a fresh one in place.
 * DIAGNOSTICS
 *	"store: DIR/data.mdb moved to PATH; starting on a fresh store",
 *	the reasons store_verify() gives in WHY.
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

/* Walk every record of DBI; the number out of bounds (records, or pages
 * they do not tile, in *PAGES), or -1 and RC. ST NULL: only count (the
 * main tree, whose records name the others). A tree that holds another
 * number of records than its parent says it has fails with
 * VERIFY_MISCOUNT: a damaged page that reads as an empty leaf would
 * otherwise pass. */
#define VERIFY_MISCOUNT	(-1)	/* no LMDB code and no errno */
static long
verify_walk(store_t *st, MDB_txn *txn, MDB_dbi dbi, long *pages, int *rc)
{
	static _Thread_local store_page_t pg;
	MDB_cursor *c;
	MDB_val	k, v;
	MDB_stat ms;
	long	bad = 0;
	size_t	seen = 0;

	if ((*rc = mdb_stat(txn, dbi, &ms)) != 0 || (*rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return -1;
	for (*rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); *rc == 0;
	    *rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), seen++)
		if (st == NULL)
			continue;
		else if (!store_node_ok(st, &k, &v))
			bad++;
		else
			*pages += store_page_add(st, &pg, &k, &v) != 0;
	*pages += st != NULL && pg.base != 0 && store_page_end(st, &pg) != 0;
	mdb_cursor_close(c);
	if (*rc != MDB_NOTFOUND)
		return -1;
	*rc = seen == ms.ms_entries ? 0 : VERIFY_MISCOUNT;
	return *rc ? -1 : bad;
}

/* The text of a walk's failure RC. */
static const char *
verify_strerror(int rc)
{
	return rc == VERIFY_MISCOUNT ? "it holds another number of records than its"
	    " parent counts (a damaged page)" : mdb_strerror(rc);
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
	/* the main tree first: its records name the others */
	if ((rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0
	    || verify_walk(NULL, txn, dbi, &pages, &rc) < 0) {
		snprintf(why, size, "%s/data.mdb: cannot walk the main tree: %s", dir,
		    verify_strerror(rc));
		mdb_txn_abort(txn);
		return -1;
	}
	for (int i = 0; i < STORE_DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, store_db_name((store_db_t) i), 0, &dbi);
		if (rc == MDB_NOTFOUND)
			continue;	/* never written */
		if (rc != 0 || (n = verify_walk(st, txn, dbi, &pages, &rc)) < 0) {
			snprintf(why, size, "%s/data.mdb: cannot walk %s: %s", dir,
			    store_db_name((store_db_t) i), verify_strerror(rc));
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
