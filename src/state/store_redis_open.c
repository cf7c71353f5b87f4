/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_redis_open - open the store the configuration names (LMDB or Redis)
 * SYNOPSIS
 *	#include "store.h"
 *
 *	store_t *store_open_config(const config_t *cfg);
 * DESCRIPTION
 *	store_open_config() opens the LMDB store of state_directory
 *	(store_open()) or, with state_backend = redis, a store whose every
 *	operation goes to Redis (store_redis.h): its table of operations,
 *	store_redis_backend, is filled here. The store_* functions call
 *	through the table (store_api.c): callers do not know which backend
 *	they talk to. Opening a Redis store does not connect; the first call
 *	does, so a daemon starts while Redis is down and accepts mail until
 *	it is back.
 * DIAGNOSTICS
 *	"store: redis_server SPEC: not HOST:PORT, [V6]:PORT or unix:PATH",
 *	"store: redis_key_prefix is longer than 100 bytes".
 */
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "store_redis_int.h"

/* The server expires records itself (TTL): every pass is complete. */
int
store_redis_expire_step(store_t *st, const greylist_params_t *p, int64_t now,
			size_t batch, store_expire_t *ex)
{
	(void) st, (void) p, (void) now, (void) batch, (void) ex;
	return 1;
}

/* Nothing to force to disk here: the server keeps its own. */
int
store_redis_sync(store_t *st)
{
	(void) st;
	return 0;
}

/* The Redis part of store_close(). */
void
store_redis_close(store_t *st)
{
	st->redis = rs_free(st->redis);
}

const store_backend_t store_redis_backend = STORE_BACKEND_TABLE(store_redis);

/* The Redis store of CFG; NULL (logged) when its parameters are wrong. */
static store_t *
backend_redis(const config_t *cfg)
{
	redis_conf_t rc = {
		.server = cfg->redis_server, .password = cfg->redis_password,
		.username = cfg->redis_username, .database = cfg->redis_database,
		.timeout_ms = cfg->redis_timeout, .sentinels = cfg->redis_sentinels,
		.master = cfg->redis_sentinel_master,
	};
	greylist_params_t p;
	char	host[512];
	int	port;
	store_t *st;

	if (!*cfg->redis_sentinels
	    && redis_parse_server(cfg->redis_server, host, sizeof(host), &port) != 0) {
		log_error("store: redis_server %s: not HOST:PORT, [V6]:PORT or unix:PATH",
		    cfg->redis_server);
		return NULL;
	}
	if (strlen(cfg->redis_key_prefix) > 100) {
		log_error("store: redis_key_prefix is longer than 100 bytes");
		return NULL;
	}
	if ((st = store_alloc(&store_redis_backend)) == NULL)
		return NULL;
	greylist_params_init(&p, cfg);
	if ((st->redis = rs_new(&rc, cfg->redis_key_prefix, &p)) == NULL)
		return store_close(st);
	return st;
}

store_t *
store_open_config(const config_t *cfg)
{
	if (cfg->state_backend == STATE_BACKEND_REDIS)
		return backend_redis(cfg);
	return store_open(cfg->state_directory, (size_t) cfg->state_max_size);
}

int
store_is_redis(const store_t *st)
{
	return st && st->ops == &store_redis_backend;
}
