/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_open - open, check access to and close the store
 * DESCRIPTION
 *	See store.h. The top of the store's files: store_open() sets up
 *	the environment (store.c), store_close() also stops the expiry
 *	thread and syncs (store_expire.c). store_lmdb_backend is the LMDB
 *	backend's table of operations (store_impl.h); the Redis backend
 *	fills its own (store_redis_open.c), and store_open_config() picks
 *	one (docs/architecture.md).
 * DIAGNOSTICS
 *	"store: mkdir DIR: ...", "store: open DIR: LMDB message".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "store_impl.h"

const store_backend_t store_lmdb_backend = STORE_BACKEND_TABLE(store_lmdb);

/* A store of backend OPS with its locks set up and nothing open; NULL
 * without memory. Every backend starts from it; store_close() undoes it. */
store_t *
store_alloc(const store_backend_t *ops)
{
	store_t *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	st->ops = ops;
	pthread_rwlock_init(&st->resize_lock, NULL);
	pthread_rwlock_init(&st->wl_lock, NULL);
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->cond, NULL);
	return st;
}

/* Open (creating) the store under DIR; NULL on failure (logged). */
store_t *
store_open(const char *dir, size_t max_size)
{
	store_t *st;
	int	rc;

	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		log_error("store: mkdir %s: %s", dir, strerror(errno));
		return NULL;
	}
	if ((st = store_alloc(&store_lmdb_backend)) == NULL)
		return NULL;
	st->max_size = max_size;
	if ((st->dir = strdup(dir)) == NULL)
		return store_close(st);
	if ((rc = store_env_open(st, dir, 0)) != 0) {
		log_error("store: open %s: %s", dir, mdb_strerror(rc));
		return store_close(st);
	}
	if (store_txn_run(st, STORE_TXN_FREE, "open databases", store_open_dbs, NULL) != 0)
		return store_close(st);
	return st;
}

/* Could store_open(DIR) work with our credentials? 0, or -1 and WHY. */
int
store_access(const char *dir, char *why, size_t size)
{
	static const char *const files[] = {"data.mdb", "lock.mdb"};
	char	path[4096];
	int	missing = 0;

	if (access(dir, X_OK) != 0) {
		snprintf(why, size, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (access(path, R_OK | W_OK) == 0)
			continue;
		if (errno != ENOENT) {
			snprintf(why, size, "%s: %s", path, strerror(errno));
			return -1;
		}
		missing = 1;
	}
	if (missing && access(dir, W_OK) != 0) {
		snprintf(why, size, "%s: %s (cannot create the database files)", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* The LMDB part of store_close(): flush, sync and close the environment. */
void
store_lmdb_close(store_t *st)
{
	if (st->env) {
		if (st->dbi[STORE_DB_META])
			store_sync(st);
		mdb_env_close(st->env);
		st->env = NULL;
	}
}

/* Stop the thread, let the backend flush and close; returns NULL. */
store_t *
store_close(store_t *st)
{
	if (st == NULL)
		return NULL;
	store_expire_stop(st);	/* on every backend: the thread syncs counters */
	st->ops->close(st);
	pthread_rwlock_destroy(&st->resize_lock);
	pthread_rwlock_destroy(&st->wl_lock);
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->cond);
	free(st->wl);
	free(st->dir);
	free(st);
	return NULL;
}
