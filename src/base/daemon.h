/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	daemon - process set-up: socket name, privileges, detach
 * SYNOPSIS
 *	#include "daemon.h"
 *
 *	int daemon_socket_spec(const char *in, char *out, size_t size);
 *	int daemon_prepare_socket(const char *spec, const char *mode);
 *	int daemon_chown_socket(const char *spec, const char *user, const char *group,
 *		const char *sock_group);
 *	int daemon_drop_privileges(const char *user, const char *group);
 *	int daemon_detach(void);
 * DESCRIPTION
 *	daemon_socket_spec() converts a milter_socket value into libmilter's
 *	form: "inet:localhost:8891" (Postfix) becomes "inet:8891@localhost",
 *	"inet6:[::1]:8891" becomes "inet6:8891@[::1]"; libmilter forms and
 *	"unix:/path" pass through. Returns -1 for anything else.
 *
 *	daemon_prepare_socket() runs after smfi_opensocket(): it sets
 *	TCP_NODELAY on the listening TCP socket (accepted connections
 *	inherit it on Linux, so replies written back to back do not wait for
 *	Postfix's delayed ACK) or applies MODE to a unix socket.
 *
 *	daemon_chown_socket() gives a unix socket bound by root to USER and
 *	GROUP (the daemon connects to its own socket, see pool.h), or to
 *	SOCK_GROUP when that is not empty (milter_socket_group: Postfix's
 *	smtpd connects as user postfix without supplementary groups); an
 *	unprivileged daemon can only give it to SOCK_GROUP when its user is
 *	a member of that group.
 *	daemon_drop_privileges() switches to USER and GROUP when running as
 *	root; it is a no-op for an unprivileged process.
 *	daemon_detach() forks into the background with stdio on /dev/null.
 * DIAGNOSTICS
 *	Functions return 0 or -1 after logging why.
 */
#ifndef TG_DAEMON_H
#define TG_DAEMON_H

#include <stddef.h>

int	daemon_socket_spec(const char *in, char *out, size_t size);
int	daemon_prepare_socket(const char *spec, const char *mode);
int	daemon_chown_socket(const char *spec, const char *user, const char *group,
	    const char *sock_group);
int	daemon_drop_privileges(const char *user, const char *group);
int	daemon_detach(void);

#endif
