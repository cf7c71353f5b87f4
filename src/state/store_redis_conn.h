/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_redis_conn - connections to Redis: one per thread, back-off, Sentinel
 * SYNOPSIS
 *	#include "store_redis_conn.h"
 *
 *	redis_link_t *redis_link_new(const redis_conf_t *conf);
 *	redis_link_t *redis_link_free(redis_link_t *l);
 *	redisReply *redis_link_cmd(redis_link_t *l, const char *what, int argc,
 *		const char **argv, const size_t *lens);
 *	redisReply *redis_link_eval(redis_link_t *l, const char *what,
 *		const char *body, char *sha, int argc, const char **argv,
 *		const size_t *lens);
 *	int redis_parse_server(const char *spec, char *host, size_t size, int *port);
 * DESCRIPTION
 *	redis_link_new() copies CONF; it does not connect. Each thread that
 *	sends a command gets its own connection (thread-specific data, freed
 *	when the thread exits), made on first use: AUTH (with the user name
 *	when set), SELECT, every time it (re)connects. When redis_sentinels
 *	is set, the master is asked from the sentinels in turn (SENTINEL
 *	get-master-addr-by-name) on every connect, and a server that does not
 *	say ROLE master is refused, so a failover is followed by the next
 *	reconnect. No lock is held across a round trip.
 *
 *	redis_link_cmd() sends one command whose arguments are binary-safe
 *	(ARGV[i] of LENS[i] bytes) and returns the reply (freeReplyObject()),
 *	or NULL: no connection, I/O error, timeout, or an error reply that
 *	means the server cannot take writes (READONLY, LOADING, MASTERDOWN).
 *	Every send and receive is bounded by redis_timeout. After a failure
 *	the thread's connection is dropped, and no thread connects again
 *	before a back-off (100 ms doubling to 2 s, reset by the first
 *	success) has passed: calls in between fail at once.
 *
 *	redis_link_eval() runs script BODY by its SHA (40 hex digits and a
 *	NUL, computed by SCRIPT LOAD the first time), sending the body again
 *	with EVAL when the server answers NOSCRIPT. ARGV starts with the
 *	number of keys, as for EVALSHA.
 *
 *	redis_parse_server() splits HOST:PORT, [V6]:PORT or unix:PATH (PORT
 *	is then 0 and HOST the path); 0, or -1 when SPEC is malformed.
 * DIAGNOSTICS
 *	"redis: WHAT: REASON", at most once a minute for each of: connect
 *	failures, command failures (with the count not logged).
 */
#ifndef TG_STORE_REDIS_CONN_H
#define TG_STORE_REDIS_CONN_H

#include <stddef.h>
#include <hiredis/hiredis.h>

typedef struct {
	const char *server;		/* HOST:PORT | [V6]:PORT | unix:PATH */
	const char *password;		/* "" : no AUTH */
	const char *username;		/* "" : AUTH with the password only */
	long	database;
	long	timeout_ms;
	const char *sentinels;		/* "HOST:PORT, ..." or "" */
	const char *master;		/* sentinel master name */
} redis_conf_t;

typedef struct redis_link redis_link_t;

#define REDIS_SHA_SIZE	41

redis_link_t *redis_link_new(const redis_conf_t *conf);
redis_link_t *redis_link_free(redis_link_t *l);
redisReply *redis_link_cmd(redis_link_t *l, const char *what, int argc,
	    const char **argv, const size_t *lens);
redisReply *redis_link_eval(redis_link_t *l, const char *what, const char *body,
	    char *sha, int argc, const char **argv, const size_t *lens);
int	redis_parse_server(const char *spec, char *host, size_t size, int *port);

#endif
