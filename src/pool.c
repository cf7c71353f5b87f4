/*
 * NAME
 *	pool - keep libmilter's worker pool serving while a callback waits
 * DESCRIPTION
 *	See pool.h for the mechanism and why it is safe. The handoff
 *	session speaks one packet of the milter protocol: length 1,
 *	command 'Q' (SMFIC_QUIT).
 * DIAGNOSTICS
 *	Negative errno values, see pool.h. This module does not log.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
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

static struct sockaddr_storage pool_addr;
static socklen_t pool_addrlen;
static atomic_ulong pool_handoffs, pool_failures;
static atomic_long pool_max_us;

/* pool_now_us - monotonic time in microseconds */
static int64_t
pool_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
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

/* pool_wait_fd - poll FD for EVENTS until DEADLINE (us); 0 or -errno */
static int
pool_wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int64_t	left;
	int	rc;

	for (;;) {
		if ((left = deadline - pool_now_us()) <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int) ((left + 999) / 1000));
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -errno;
	}
}

/* pool_connect - nonblocking connect to the milter socket, bounded */
static int
pool_connect(int64_t deadline)
{
	int	fd, err = 0;
	socklen_t len = sizeof(err);

	fd = socket(pool_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *) &pool_addr, pool_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			err = -errno;
			goto fail;
		}
		if ((err = pool_wait_fd(fd, POLLOUT, deadline)) < 0)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
			err = -(err ? err : errno);
			goto fail;
		}
	}
	return fd;
fail:
	close(fd);
	return err;
}

/* pool_quit_session - send QUIT, wait until libmilter closes; 0 or -errno */
static int
pool_quit_session(int fd, int64_t deadline)
{
	static const char quit[5] = {0, 0, 0, 1, 'Q'};
	char	buf[64];
	ssize_t	n;
	int	rc;

	if (write(fd, quit, sizeof(quit)) != sizeof(quit))
		return errno ? -errno : -EIO;
	for (;;) {
		if ((rc = pool_wait_fd(fd, POLLIN, deadline)) < 0)
			return rc;
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return 0;			/* closed: a worker is free */
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return errno == ECONNRESET ? 0 : -errno;
	}
}

/* pool_handoff - make a free libmilter worker take over the ready queue */
int
pool_handoff(void)
{
	int64_t	start = pool_now_us(), deadline, took;
	long	max;
	int	fd, rc;

	if (pool_addrlen == 0)
		return -ENOTCONN;
	deadline = start + POOL_HANDOFF_TIMEOUT_MS * 1000LL;
	if ((fd = pool_connect(deadline)) < 0) {
		atomic_fetch_add(&pool_failures, 1);
		return fd;
	}
	rc = pool_quit_session(fd, deadline);
	close(fd);
	if (rc < 0) {
		atomic_fetch_add(&pool_failures, 1);
		return rc;
	}
	atomic_fetch_add(&pool_handoffs, 1);
	took = pool_now_us() - start;
	max = atomic_load(&pool_max_us);
	while (took > max && !atomic_compare_exchange_weak(&pool_max_us, &max, took))
		;
	return 0;
}

/* pool_stats_get - copy the counters */
void
pool_stats_get(pool_stats_t *st)
{
	st->handoffs = atomic_load(&pool_handoffs);
	st->failures = atomic_load(&pool_failures);
	st->max_us = atomic_load(&pool_max_us);
}
