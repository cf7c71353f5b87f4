/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	metrics_redis - what the Redis backend's link counts for /metrics
 * SYNOPSIS
 *	#include "metrics_redis.h"
 *
 *	void metrics_redis_link(metrics_redis_state_t state);
 *	void metrics_redis_command(long long us, int ok);
 *	void metrics_redis_connect(int ok);
 *	void metrics_redis_failover(void);
 *
 *	void metrics_redis_write(FILE *out);
 * DESCRIPTION
 *	The hooks store_redis_conn.c calls: metrics_redis_link() sets the
 *	link's state (CONNECTING when a link is made); metrics_redis_command()
 *	observes the round trip of one store command (US microseconds, sent
 *	to reply or timeout) and counts it failed unless OK;
 *	metrics_redis_connect() counts a connection attempt by the calling
 *	thread. A success of either makes the state connected; a failed
 *	connection, or a failed command on a connection made since the last
 *	outage ended, makes it reconnecting (a connection left from before
 *	an outage fails once, which says nothing about the link now). Each
 *	thread has its own connection, so a steady state shows one success
 *	per thread that used Redis, and growth means reconnections.
 *	metrics_redis_failover() counts a new master named by Sentinel. Each
 *	is a few atomic operations; counting does nothing while the metrics
 *	are off (metrics_set_enabled()), the state is kept all the same.
 *
 *	metrics_redis_write() writes the families targrey_redis_link_state,
 *	targrey_redis_command_seconds, targrey_redis_command_failures_total,
 *	targrey_redis_connects_total and targrey_redis_failovers_total, or
 *	nothing when no Redis link was ever made (the LMDB backend).
 * THREADS
 *	Every function may be called from any thread at any time.
 */
#ifndef TG_METRICS_REDIS_H
#define TG_METRICS_REDIS_H

#include <stdio.h>

typedef enum {
	METRICS_REDIS_NONE,		/* no Redis link: the families are not written */
	METRICS_REDIS_CONNECTING,
	METRICS_REDIS_CONNECTED,
	METRICS_REDIS_RECONNECTING,
} metrics_redis_state_t;

void	metrics_redis_link(metrics_redis_state_t state);
void	metrics_redis_command(long long us, int ok);
void	metrics_redis_connect(int ok);
void	metrics_redis_failover(void);
void	metrics_redis_write(FILE *out);

#endif
