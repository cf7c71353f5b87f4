/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	sockdiag - ask the Linux kernel about one TCP socket by its 4-tuple
 * SYNOPSIS
 *	#include "sockdiag.h"
 *
 *	int sockdiag_tuple_set(sockdiag_tuple_t *t, const struct sockaddr *client,
 *			       const char *daemon_addr, const char *daemon_port);
 *	int sockdiag_probe(const sockdiag_tuple_t *t, sockdiag_info_t *info);
 *	int sockdiag_alive(const sockdiag_info_t *info, unsigned long inode);
 *	const char *sockdiag_state_name(int state);
 * DESCRIPTION
 *	sockdiag_tuple_set() fills T from what the milter knows at connect:
 *	CLIENT is the connect callback's hostaddr (address and port of the
 *	SMTP client), DAEMON_ADDR and DAEMON_PORT the {daemon_addr} and
 *	{daemon_port} macros. It returns 0, or -EINVAL when CLIENT is not
 *	an IPv4/IPv6 address or a macro is missing or malformed (Postfix
 *	before 3.2 sends no {daemon_port}): then there is nothing to probe.
 *
 *	sockdiag_probe() sends one NETLINK_SOCK_DIAG request (an exact
 *	inet_diag_req_v2 lookup: NLM_F_REQUEST without NLM_F_DUMP, cookie
 *	INET_DIAG_NOCOOKIE) for the TCP socket whose local end is T->local
 *	port T->local_port and whose remote end is T->remote port
 *	T->remote_port, and fills INFO with the kernel's answer: TCP state,
 *	inode, unread bytes (rqueue) and unsent bytes (wqueue). No
 *	privileges are needed; the caller must be in the socket's network
 *	namespace.
 *
 *	Seen from smtpd's side of an SMTP connection (local = smtpd's
 *	address and port, remote = the client): ESTABLISHED while the client
 *	is there; CLOSE_WAIT after the client's FIN; after the client's RST
 *	the kernel's exact lookup falls back to the LISTENING socket (another
 *	inode); -ENOENT when nothing at all matches. sockdiag_alive() folds
 *	this into one answer: the socket is the same one (INODE, taken from
 *	the first probe) and still ESTABLISHED.
 *
 *	Each thread keeps one netlink socket, opened on its first probe and
 *	reused (about 5 us per probe instead of 15 us); it is closed when the
 *	thread exits.
 *
 *	sockdiag_state_name() names a TCP state ("ESTABLISHED", ...).
 * DIAGNOSTICS
 *	sockdiag_probe() returns 0, -ENOENT when no socket matches,
 *	-EAFNOSUPPORT when the two ends are not of one family (an IPv4-mapped
 *	IPv6 address counts as IPv4), -EINVAL for a null argument, or the
 *	negative errno of the netlink socket (-EPERM, -EPROTONOSUPPORT on a
 *	kernel or sandbox without AF_NETLINK, -EAGAIN on a timeout).
 * THREADS
 *	Safe to call from any number of threads at once.
 */
#ifndef TG_SOCKDIAG_H
#define TG_SOCKDIAG_H

#include <sys/socket.h>
#include "addr.h"

typedef struct {
	addr_t	local;		/* smtpd's end: {daemon_addr} */
	unsigned local_port;	/* {daemon_port} */
	addr_t	remote;		/* the client */
	unsigned remote_port;	/* the client's port */
} sockdiag_tuple_t;

typedef struct {
	int	state;		/* TCP state: SOCKDIAG_ESTABLISHED, ... */
	unsigned long inode;	/* socket inode, 0 for a socket being torn down */
	unsigned rqueue;	/* bytes received, not yet read by smtpd */
	unsigned wqueue;	/* bytes written by smtpd, not yet acknowledged */
} sockdiag_info_t;

/* TCP states as the kernel numbers them (include/net/tcp_states.h) */
enum {
	SOCKDIAG_ESTABLISHED = 1, SOCKDIAG_SYN_SENT, SOCKDIAG_SYN_RECV,
	SOCKDIAG_FIN_WAIT1, SOCKDIAG_FIN_WAIT2, SOCKDIAG_TIME_WAIT,
	SOCKDIAG_CLOSE, SOCKDIAG_CLOSE_WAIT, SOCKDIAG_LAST_ACK,
	SOCKDIAG_LISTEN, SOCKDIAG_CLOSING
};

int	sockdiag_tuple_set(sockdiag_tuple_t *t, const struct sockaddr *client,
			   const char *daemon_addr, const char *daemon_port);
int	sockdiag_probe(const sockdiag_tuple_t *t, sockdiag_info_t *info);
int	sockdiag_alive(const sockdiag_info_t *info, unsigned long inode);
const char *sockdiag_state_name(int state);

#endif
