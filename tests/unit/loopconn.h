/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	loopconn - a real loopback TCP connection for socket-probe tests
 * SYNOPSIS
 *	#include "loopconn.h"
 *
 *	int loopconn_open(loopconn_t *lc, int family);
 *	void loopconn_reset(loopconn_t *lc);
 *	void loopconn_close(loopconn_t *lc);
 * DESCRIPTION
 *	loopconn_open() makes a listener on 127.0.0.1 or ::1 (port 0: the
 *	kernel picks a free one), connects a client to it and accepts: the
 *	accepted socket plays smtpd's socket, the client plays the SMTP
 *	client. LC->tuple is the 4-tuple seen from the accepted socket.
 *	loopconn_reset() closes the client with an RST (SO_LINGER 0).
 *	loopconn_close() closes whatever is still open. Returns 0 or -errno.
 */
#ifndef TG_LOOPCONN_H
#define TG_LOOPCONN_H

#include "sockdiag.h"

typedef struct {
	int	listener;
	int	server;		/* the accepted socket: "smtpd" */
	int	client;
	sockdiag_tuple_t tuple;
} loopconn_t;

int	loopconn_open(loopconn_t *lc, int family);
void	loopconn_reset(loopconn_t *lc);
void	loopconn_close(loopconn_t *lc);

#endif
