/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ml_diag.c - how many unread bytes wait on the milter's socket
 * DESCRIPTION
 *	To tell when the milter takes a command (as opposed to when it
 *	answers), the driver asks the kernel for the receive queue of the
 *	milter's end of the connection: an exact 4-tuple lookup with
 *	NETLINK_SOCK_DIAG (inet_diag_req_v2, no dump). The queue drops to
 *	zero when a libmilter worker has read the command. IPv4 loopback
 *	only; unix sockets are not probed.
 * DIAGNOSTICS
 *	ml_diag_rqueue() returns the byte count, or -1 when the lookup fails.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

#include "ml.h"

/* ml_diag_open - one netlink socket per thread */
int
ml_diag_open(void)
{
	return socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
}

/* ml_diag_rqueue - unread bytes of the socket bound to local, peer to peer */
int
ml_diag_rqueue(int nl, const struct sockaddr_in *local,
    const struct sockaddr_in *peer)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 req;
	} q;
	union {
		struct nlmsghdr nh;
		char buf[1024];
	} a;
	struct inet_diag_msg *m;
	ssize_t n;

	memset(&q, 0, sizeof(q));
	q.nh.nlmsg_len = sizeof(q);
	q.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nh.nlmsg_flags = NLM_F_REQUEST;
	q.req.sdiag_family = AF_INET;
	q.req.sdiag_protocol = IPPROTO_TCP;
	q.req.idiag_states = ~0U;
	q.req.id.idiag_sport = local->sin_port;
	q.req.id.idiag_dport = peer->sin_port;
	memcpy(q.req.id.idiag_src, &local->sin_addr, 4);
	memcpy(q.req.id.idiag_dst, &peer->sin_addr, 4);
	q.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	q.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (send(nl, &q, sizeof(q), 0) < 0)
		return -1;
	do
		n = recv(nl, &a, sizeof(a), 0);
	while (n < 0 && errno == EINTR);
	if (n < (ssize_t)sizeof(struct nlmsghdr) || !NLMSG_OK(&a.nh, (size_t)n)
	    || a.nh.nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return -1;
	m = NLMSG_DATA(&a.nh);
	return (int)m->idiag_rqueue;
}
