/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	metrics_redis - what the Redis backend's link counts for /metrics
 * DESCRIPTION
 *	See metrics_redis.h. Plain atomics and one histogram: Redis answers
 *	in tens of microseconds on a LAN, so the buckets start at 100 us;
 *	the last bounds cover redis_timeout's range.
 *
 *	The state is the last word of the connections and commands, with one
 *	exception: each thread keeps its own connection, so after Redis came
 *	back, a thread that sat idle still holds a connection from before and
 *	its next command fails once. Each thread remembers the number of its
 *	connection; a failure on one older than the connection that ended the
 *	last outage is counted, but does not turn the state to reconnecting.
 * DIAGNOSTICS
 *	None.
 */
#include <stdatomic.h>
#include "metrics.h"
#include "metrics_hist.h"
#include "metrics_redis.h"

static const double rtt_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
static const char *const state_names[] = {"connecting", "connected", "reconnecting"};

static atomic_int redis_state = METRICS_REDIS_NONE;
static atomic_ulong redis_connect_seq;		/* successful connections so far */
static atomic_ulong redis_recovered;		/* the one that ended the last outage */
static _Thread_local unsigned long redis_conn_seq;	/* this thread's connection's */
static atomic_ullong redis_failed_cmds, redis_connects[2], redis_failovers;
static metrics_hist_t redis_rtt = {.name = "targrey_redis_command_seconds",
	.help = "Round-trip time of the store's commands to Redis (sent to reply, or to the timeout).",
	.bounds = rtt_bounds, .nbounds = sizeof(rtt_bounds) / sizeof(rtt_bounds[0])};

/* Written only when it changes: the hooks run for every command. */
static void
redis_set_state(int state)
{
	if (atomic_load_explicit(&redis_state, memory_order_relaxed) != state)
		atomic_store_explicit(&redis_state, state, memory_order_relaxed);
}

void
metrics_redis_link(metrics_redis_state_t state)
{
	redis_set_state((int) state);
}

void
metrics_redis_command(long long us, int ok)
{
	if (ok)
		redis_set_state(METRICS_REDIS_CONNECTED);
	else if (redis_conn_seq >= atomic_load_explicit(&redis_recovered, memory_order_relaxed))
		redis_set_state(METRICS_REDIS_RECONNECTING);	/* not a stale connection */
	if (!metrics_enabled())
		return;
	metrics_hist_observe_us(&redis_rtt, us);
	if (!ok)
		atomic_fetch_add_explicit(&redis_failed_cmds, 1, memory_order_relaxed);
}

void
metrics_redis_connect(int ok)
{
	if (ok) {
		redis_conn_seq = atomic_fetch_add(&redis_connect_seq, 1) + 1;
		if (atomic_load(&redis_state) != METRICS_REDIS_CONNECTED) {
			atomic_store(&redis_recovered, redis_conn_seq);
			redis_set_state(METRICS_REDIS_CONNECTED);
		}
	} else {
		redis_set_state(METRICS_REDIS_RECONNECTING);
	}
	if (metrics_enabled())
		atomic_fetch_add_explicit(&redis_connects[ok != 0], 1, memory_order_relaxed);
}

void
metrics_redis_failover(void)
{
	if (metrics_enabled())
		atomic_fetch_add_explicit(&redis_failovers, 1, memory_order_relaxed);
}

void
metrics_redis_write(FILE *out)
{
	int	st = atomic_load(&redis_state);

	if (st == METRICS_REDIS_NONE)
		return;
	metrics_help(out, "targrey_redis_link_state", "gauge",
	    "State of the link to Redis: 1 for the current one (connecting: none made yet; "
	    "reconnecting: the last command or connection failed).");
	for (int i = METRICS_REDIS_CONNECTING; i <= METRICS_REDIS_RECONNECTING; i++)
		fprintf(out, "targrey_redis_link_state{state=\"%s\"} %d\n",
		    state_names[i - METRICS_REDIS_CONNECTING], i == st);
	metrics_hist_write(out, &redis_rtt);
	metrics_help(out, "targrey_redis_command_failures_total", "counter",
	    "Store commands that got no usable reply (connection lost, timeout, READONLY, LOADING, ...).");
	fprintf(out, "targrey_redis_command_failures_total %llu\n",
	    (unsigned long long) atomic_load(&redis_failed_cmds));
	metrics_help(out, "targrey_redis_connects_total", "counter",
	    "Connections to Redis opened, by result (one per thread that uses Redis; more are reconnections).");
	fprintf(out, "targrey_redis_connects_total{result=\"ok\"} %llu\n",
	    (unsigned long long) atomic_load(&redis_connects[1]));
	fprintf(out, "targrey_redis_connects_total{result=\"failed\"} %llu\n",
	    (unsigned long long) atomic_load(&redis_connects[0]));
	metrics_help(out, "targrey_redis_failovers_total", "counter",
	    "Times Sentinel named a master other than the one before.");
	fprintf(out, "targrey_redis_failovers_total %llu\n",
	    (unsigned long long) atomic_load(&redis_failovers));
}
