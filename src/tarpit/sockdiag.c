/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	sockdiag - ask the Linux kernel about one TCP socket by its 4-tuple
 * DESCRIPTION
 *	See sockdiag.h. One request, one answer: the kernel handles a
 *	SOCK_DIAG_BY_FAMILY request synchronously inside sendto(), so the
 *	answer is already queued when recv() is called. Answers are matched
 *	by sequence number, so a late answer to an earlier request that timed
 *	out is skipped rather than taken for this one.
 * DIAGNOSTICS
 *	Negative errno values, see sockdiag.h.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include "sockdiag.h"

#define SOCKDIAG_TIMEOUT_MS	1000	/* the kernel answers in microseconds */
#define SOCKDIAG_BUF		8192

static pthread_key_t sockdiag_key;
static pthread_once_t sockdiag_once = PTHREAD_ONCE_INIT;
static __thread int sockdiag_fd = -1;
static __thread uint32_t sockdiag_seq;

/* sockdiag_fd_free - close a thread's netlink socket when the thread exits */
static void
sockdiag_fd_free(void *arg)
{
	close((int) (intptr_t) arg - 1);
}

/* sockdiag_key_init - create the key whose destructor closes the socket */
static void
sockdiag_key_init(void)
{
	(void) pthread_key_create(&sockdiag_key, sockdiag_fd_free);
}

/* sockdiag_fd_get - this thread's netlink socket, opened on first use */
static int
sockdiag_fd_get(void)
{
	struct timeval tv = {SOCKDIAG_TIMEOUT_MS / 1000,
	    (SOCKDIAG_TIMEOUT_MS % 1000) * 1000};
	int	fd;

	if (sockdiag_fd >= 0)
		return sockdiag_fd;
	(void) pthread_once(&sockdiag_once, sockdiag_key_init);
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	(void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* store fd + 1: a zero value means "nothing to close" to pthreads */
	if (pthread_setspecific(sockdiag_key, (void *) (intptr_t) (fd + 1)) != 0) {
		close(fd);
		return -ENOMEM;
	}
	sockdiag_fd = fd;
	return fd;
}

/* sockdiag_unmap - an IPv4-mapped IPv6 address becomes the IPv4 address */
static void
sockdiag_unmap(addr_t *a)
{
	static const unsigned char prefix[12] =
	    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (a->family == AF_INET6 && memcmp(a->bytes, prefix, 12) == 0) {
		memmove(a->bytes, a->bytes + 12, 4);
		memset(a->bytes + 4, 0, 12);
		a->family = AF_INET;
	}
}

/* sockdiag_request_fill - build the exact-lookup request for T */
static int
sockdiag_request_fill(const sockdiag_tuple_t *t, struct inet_diag_req_v2 *req)
{
	addr_t	local = t->local, remote = t->remote;
	size_t	len;

	sockdiag_unmap(&local);
	sockdiag_unmap(&remote);
	if (local.family != remote.family
	    || (local.family != AF_INET && local.family != AF_INET6))
		return -EAFNOSUPPORT;
	if (t->local_port > 65535 || t->remote_port > 65535)
		return -EINVAL;
	len = local.family == AF_INET ? 4 : 16;
	memset(req, 0, sizeof(*req));
	req->sdiag_family = local.family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = ~0U;
	req->id.idiag_sport = htons(t->local_port);
	req->id.idiag_dport = htons(t->remote_port);
	memcpy(req->id.idiag_src, local.bytes, len);
	memcpy(req->id.idiag_dst, remote.bytes, len);
	req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	return 0;
}

/* sockdiag_answer_parse - 1 and INFO filled, 0 to read on, or -errno */
static int
sockdiag_answer_parse(const char *buf, ssize_t n, uint32_t seq,
		      sockdiag_info_t *info)
{
	const struct nlmsghdr *h;
	const struct inet_diag_msg *m;

	for (h = (const struct nlmsghdr *) buf; NLMSG_OK(h, n);
	     h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_seq != seq)
			continue;			/* stale answer */
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			return e->error < 0 ? e->error : -EPROTO;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY
		    || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
			return -EPROTO;
		m = NLMSG_DATA(h);
		info->state = m->idiag_state;
		info->inode = m->idiag_inode;
		info->rqueue = m->idiag_rqueue;
		info->wqueue = m->idiag_wqueue;
		return 1;
	}
	return 0;
}

/* sockdiag_tuple_set - the 4-tuple from hostaddr and the daemon macros */
int
sockdiag_tuple_set(sockdiag_tuple_t *t, const struct sockaddr *client,
		   const char *daemon_addr, const char *daemon_port)
{
	char   *end;
	long	port;

	if (t == NULL || client == NULL || daemon_addr == NULL
	    || daemon_port == NULL || *daemon_port == 0)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	port = strtol(daemon_port, &end, 10);
	if (*end != 0 || port < 1 || port > 65535 || addr_parse(daemon_addr, &t->local) < 0)
		return -EINVAL;
	t->local_port = (unsigned) port;
	t->remote.family = client->sa_family;
	if (client->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *) client;

		memcpy(t->remote.bytes, &sin->sin_addr, 4);
		t->remote_port = ntohs(sin->sin_port);
	} else if (client->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) client;

		memcpy(t->remote.bytes, &sin6->sin6_addr, 16);
		t->remote_port = ntohs(sin6->sin6_port);
		sockdiag_unmap(&t->remote);
	} else
		return -EINVAL;
	return 0;
}

/* sockdiag_probe - look up one TCP socket by its exact 4-tuple */
int
sockdiag_probe(const sockdiag_tuple_t *t, sockdiag_info_t *info)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
	char	buf[SOCKDIAG_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t	n;
	int	fd, ret;

	if (t == NULL || info == NULL)
		return -EINVAL;
	if ((ret = sockdiag_request_fill(t, &msg.req)) < 0)
		return ret;
	if ((fd = sockdiag_fd_get()) < 0)
		return fd;
	memset(&msg.nlh, 0, sizeof(msg.nlh));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST;
	msg.nlh.nlmsg_seq = ++sockdiag_seq;
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *) &nl,
		   sizeof(nl)) < 0)
		return -errno;
	do {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		ret = sockdiag_answer_parse(buf, n, msg.nlh.nlmsg_seq, info);
	} while (ret == 0);
	return ret < 0 ? ret : 0;
}

/* sockdiag_alive - the socket of the first probe, still ESTABLISHED */
int
sockdiag_alive(const sockdiag_info_t *info, unsigned long inode)
{
	return info->state == SOCKDIAG_ESTABLISHED && info->inode == inode;
}

/* sockdiag_state_name - the kernel's name of a TCP state */
const char *
sockdiag_state_name(int state)
{
	static const char *const names[] = {
		"UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
		"FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
		"LISTEN", "CLOSING",
	};

	if (state < 0 || state >= (int) (sizeof(names) / sizeof(names[0])))
		return names[0];
	return names[state];
}
