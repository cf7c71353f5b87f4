/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	pool - keep libmilter's worker pool serving while a callback waits
 * DESCRIPTION
 *	See pool.h for the mechanism and why it is safe. This file knows
 *	where the milter socket is and runs handoff sessions; pool_watch.c
 *	decides when. A handoff session speaks one packet of the milter
 *	protocol - length 1, command 'Q' (SMFIC_QUIT) - and is confirmed when
 *	libmilter closes it. It is a small state machine (connecting, then
 *	waiting for the close) so that one thread can run many at once.
 * DIAGNOSTICS
 *	Negative errno values, see pool.h. This module does not log.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "pool.h"
#include "pool_int.h"

static struct sockaddr_storage pool_addr;
static socklen_t pool_addrlen;
static atomic_ulong pool_handoffs, pool_failures;
static atomic_long pool_max_us;
static atomic_llong pool_total_us;


/* pool_now_us - monotonic time in microseconds */
int64_t
pool_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* pool_ready - pool_init() has succeeded */
int
pool_ready(void)
{
	return pool_addrlen != 0;
}

/* pool_init_unix - a unix-domain socket path */
static int
pool_init_unix(const char *path)
{
	struct sockaddr_un *sun = (struct sockaddr_un *) &pool_addr;

	if (*path == 0 || strlen(path) >= sizeof(sun->sun_path))
		return -EINVAL;
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, path);
	pool_addrlen = sizeof(*sun);
	return 0;
}

/* pool_init_inet - PORT and HOST of FAMILY; wildcard or none is loopback */
static int
pool_init_inet(int family, const char *port, const char *host)
{
	struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV}, *res;
	char	*end;
	long	p = strtol(port, &end, 10);

	if (*port == 0 || *end != 0 || p < 1 || p > 65535)
		return -EINVAL;
	if (host == NULL || *host == 0 || strcmp(host, "0.0.0.0") == 0
	    || strcmp(host, "::") == 0 || strcasecmp(host, "INADDR_ANY") == 0)
		host = family == AF_INET ? "127.0.0.1" : "::1";
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -EHOSTUNREACH;
	memcpy(&pool_addr, res->ai_addr, res->ai_addrlen);
	pool_addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* pool_init - remember where the daemon's own milter socket is */
int
pool_init(const char *conn)
{
	char	buf[512], *port, *host, *colon;
	int	family;

	pool_addrlen = 0;
	if (conn == NULL || strlen(conn) >= sizeof(buf))
		return -EINVAL;
	memset(&pool_addr, 0, sizeof(pool_addr));
	if (strncmp(conn, "unix:", 5) == 0 || strncmp(conn, "local:", 6) == 0)
		return pool_init_unix(strchr(conn, ':') + 1);
	if (*conn == '/')
		return pool_init_unix(conn);
	if (strncmp(conn, "inet:", 5) == 0)
		family = AF_INET;
	else if (strncmp(conn, "inet6:", 6) == 0)
		family = AF_INET6;
	else
		return -EINVAL;
	strcpy(buf, strchr(conn, ':') + 1);
	port = buf;
	if ((host = strchr(buf, '@')) != NULL) {
		*host++ = 0;			/* libmilter: PORT@HOST */
		if (*host == '[' && (colon = strchr(host, ']')) != NULL) {
			*colon = 0;
			host++;
		}
	} else if ((colon = strrchr(buf, ':')) != NULL) {
		*colon = 0;			/* Postfix: HOST:PORT */
		host = buf;
		port = colon + 1;
	}
	return pool_init_inet(family, port, host);
}

/* pool_session_open - connect (nonblocking); send QUIT once connected */
int
pool_session_open(pool_session_t *ps)
{
	ps->start_us = pool_now_us();
	ps->deadline_us = ps->start_us + POOL_HANDOFF_TIMEOUT_MS * 1000LL;
	ps->waiting = 0;
	if (pool_addrlen == 0)
		return ps->fd = -1, -ENOTCONN;
	ps->fd = socket(pool_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ps->fd < 0)
		return -errno;
	if (connect(ps->fd, (struct sockaddr *) &pool_addr, pool_addrlen) == 0)
		return pool_session_step(ps) < 0 ? -errno : 0;
	return errno == EINPROGRESS ? 0 : -errno;
}

/* pool_session_events - what to poll for */
short
pool_session_events(const pool_session_t *ps)
{
	return ps->waiting ? POLLIN : POLLOUT;
}

/* pool_session_step - the fd is ready: 1 confirmed, 0 not yet, or -errno */
int
pool_session_step(pool_session_t *ps)
{
	static const char quit[5] = {0, 0, 0, 1, 'Q'};
	socklen_t len = sizeof(int);
	char	buf[64];
	ssize_t	n;
	int	err = 0;

	if (!ps->waiting) {
		if (getsockopt(ps->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			return -errno;
		if (err != 0)
			return -err;
		if (write(ps->fd, quit, sizeof(quit)) != sizeof(quit))
			return errno == EAGAIN ? 0 : -errno;
		ps->waiting = 1;
		return 0;
	}
	while ((n = read(ps->fd, buf, sizeof(buf))) > 0)
		;
	if (n == 0 || errno == ECONNRESET)
		return 1;			/* closed: a worker is free */
	return errno == EAGAIN || errno == EINTR ? 0 : -errno;
}

/* pool_session_close - close and count; returns RC */
int
pool_session_close(pool_session_t *ps, int rc)
{
	int64_t	took = pool_now_us() - ps->start_us;
	long	max;

	if (ps->fd >= 0)
		close(ps->fd);
	ps->fd = -1;
	if (rc < 0) {
		atomic_fetch_add(&pool_failures, 1);
		return rc;
	}
	atomic_fetch_add(&pool_handoffs, 1);
	atomic_fetch_add(&pool_total_us, took);
	max = atomic_load(&pool_max_us);
	while (took > max && !atomic_compare_exchange_weak(&pool_max_us, &max, took))
		;
	return 0;
}

/* pool_session_run - one handoff session from start to end; 0 or -errno */
int
pool_session_run(void)
{
	pool_session_t ps;
	struct pollfd pfd;
	int64_t	left;
	int	rc;

	if ((rc = pool_session_open(&ps)) < 0)
		return pool_session_close(&ps, rc);
	for (;;) {
		if ((left = ps.deadline_us - pool_now_us()) <= 0)
			return pool_session_close(&ps, -ETIMEDOUT);
		pfd.fd = ps.fd;
		pfd.events = pool_session_events(&ps);
		rc = poll(&pfd, 1, (int) ((left + 999) / 1000));
		if (rc < 0 && errno != EINTR)
			return pool_session_close(&ps, -errno);
		if (rc > 0 && (rc = pool_session_step(&ps)) != 0)
			return pool_session_close(&ps, rc > 0 ? 0 : rc);
	}
}

/* pool_stats_get - copy the counters */
void
pool_stats_get(pool_stats_t *st)
{
	st->handoffs = atomic_load(&pool_handoffs);
	st->failures = atomic_load(&pool_failures);
	st->max_us = atomic_load(&pool_max_us);
	st->total_us = atomic_load(&pool_total_us);
}
