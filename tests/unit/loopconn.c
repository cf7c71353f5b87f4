/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	loopconn - a real loopback TCP connection for socket-probe tests
 * DESCRIPTION
 *	See loopconn.h.
 */
#include "autoconfig.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "loopconn.h"

/* loopconn_endpoint - the address and port of a socket as addr_t + port */
static int
loopconn_endpoint(int fd, int peer, addr_t *a, unsigned *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if ((peer ? getpeername(fd, (struct sockaddr *) &ss, &len)
	     : getsockname(fd, (struct sockaddr *) &ss, &len)) < 0)
		return -errno;
	memset(a, 0, sizeof(*a));
	a->family = ss.ss_family;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

		memcpy(a->bytes, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

		memcpy(a->bytes, &sin6->sin6_addr, 16);
		*port = ntohs(sin6->sin6_port);
	}
	return 0;
}

/* loopconn_open - listener, client and accepted socket on loopback */
int
loopconn_open(loopconn_t *lc, int family)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(lc, 0, sizeof(*lc));
	lc->listener = lc->server = lc->client = -1;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = family;
	if (family == AF_INET)
		((struct sockaddr_in *) &ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *) &ss)->sin6_addr = in6addr_loopback;
	len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	if ((lc->listener = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	    || bind(lc->listener, (struct sockaddr *) &ss, len) < 0
	    || listen(lc->listener, 16) < 0
	    || getsockname(lc->listener, (struct sockaddr *) &ss, &len) < 0
	    || (lc->client = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	    || connect(lc->client, (struct sockaddr *) &ss, len) < 0
	    || (lc->server = accept(lc->listener, NULL, NULL)) < 0)
		goto fail;
	if (loopconn_endpoint(lc->server, 0, &lc->tuple.local, &lc->tuple.local_port) < 0
	    || loopconn_endpoint(lc->server, 1, &lc->tuple.remote, &lc->tuple.remote_port) < 0)
		goto fail;
	return 0;
fail:
	len = errno;
	loopconn_close(lc);
	return -(int) len;
}

/* loopconn_reset - close the client with an RST */
void
loopconn_reset(loopconn_t *lc)
{
	struct linger lg = {1, 0};

	(void) setsockopt(lc->client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(lc->client);
	lc->client = -1;
}

/* loopconn_close - close every socket still open */
void
loopconn_close(loopconn_t *lc)
{
	if (lc->client >= 0)
		close(lc->client);
	if (lc->server >= 0)
		close(lc->server);
	if (lc->listener >= 0)
		close(lc->listener);
	lc->listener = lc->server = lc->client = -1;
}
