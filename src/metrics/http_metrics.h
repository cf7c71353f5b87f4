/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	http_metrics - the Prometheus endpoint (libmicrohttpd)
 * SYNOPSIS
 *	#include "http_metrics.h"
 *
 *	int http_metrics_start(const char *listen, metrics_collect_fn collect);
 *	void http_metrics_stop(void);
 *	int http_metrics_check(const char *listen, char *why, size_t len);
 * DESCRIPTION
 *	http_metrics_start() serves GET /metrics (metrics_write()) on LISTEN,
 *	"ADDRESS:PORT" or "[IPV6]:PORT" (numeric only), from libmicrohttpd's
 *	own polling thread, with COLLECT (may be NULL) adding the gauges
 *	read at scrape time (metrics_set_collector()), and turns the
 *	counters on. An empty LISTEN does
 *	nothing. Other paths get 404, other methods 405. At most a few
 *	connections are served at once, each for at most a few seconds:
 *	the endpoint is for one or two Prometheus servers, not the world.
 *	Returns 0, or -1 (logged) when LISTEN is malformed or cannot be
 *	bound. http_metrics_stop() stops the thread.
 *
 *	http_metrics_check() is for "targrey-milter -t": it parses LISTEN as
 *	http_metrics_start() does (the port must be 1 to 65535) and binds a
 *	socket to it as libmicrohttpd would, then closes it at once. It
 *	returns 0 (an empty LISTEN too), or -1 with the reason in WHY (LEN
 *	bytes): malformed, address in use, or not an address of this host.
 * THREADS
 *	Call both from the main thread, after signals are blocked, so that
 *	the server's thread inherits the mask.
 * DIAGNOSTICS
 *	"metrics: cannot listen on ADDR: WHY".
 */
#ifndef TG_HTTP_METRICS_H
#define TG_HTTP_METRICS_H

#include <stddef.h>
#include "metrics.h"

int	http_metrics_start(const char *listen, metrics_collect_fn collect);
void	http_metrics_stop(void);
int	http_metrics_check(const char *listen, char *why, size_t len);

#endif
