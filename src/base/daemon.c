/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	daemon - process set-up: socket name, privileges, detach
 * DESCRIPTION
 *	See daemon.h. libmilter does not hand out its listening socket, so
 *	daemon_prepare_socket() finds it among the open descriptors: the one
 *	that listens on the configured port.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "daemon.h"
#include "log.h"

/* Convert a Postfix-form socket name to libmilter's form. */
int
daemon_socket_spec(const char *in, char *out, size_t size)
{
	const char *colon, *rest, *last;
	size_t	plen;

	if ((colon = strchr(in, ':')) == NULL)
		return -1;
	plen = (size_t) (colon - in);
	rest = colon + 1;
	if (strncmp(in, "unix:", 5) == 0 || strncmp(in, "local:", 6) == 0
	    || strchr(rest, '@') != NULL)
		return snprintf(out, size, "%s", in) < (int) size && *rest ? 0 : -1;
	if (!((plen == 4 && strncmp(in, "inet", 4) == 0) || (plen == 5 && strncmp(in, "inet6", 5) == 0)))
		return -1;
	/* inet:HOST:PORT -> inet:PORT@HOST (HOST may be [v6]) */
	if ((last = strrchr(rest, ':')) == NULL || last == rest || last[1] == '\0')
		return -1;
	if (strspn(last + 1, "0123456789") != strlen(last + 1))
		return -1;
	return snprintf(out, size, "%.*s:%s@%.*s", (int) plen, in, last + 1,
	    (int) (last - rest), rest) < (int) size ? 0 : -1;
}

/* The port of an inet socket spec in libmilter form, 0 if none. */
static int
daemon_spec_port(const char *spec)
{
	const char *colon = strchr(spec, ':');

	if (strncmp(spec, "inet", 4) != 0 || colon == NULL)
		return 0;
	return atoi(colon + 1);
}

/* Set TCP_NODELAY on our listener, or the mode of a unix socket. */
int
daemon_prepare_socket(const char *spec, const char *mode)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int	port = daemon_spec_port(spec), on = 1, listening, found = 0;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		long	m = strtol(mode, NULL, 8);

		if (chmod(strchr(spec, ':') + 1, (mode_t) m) < 0) {
			log_error("cannot set mode %s on %s: %s", mode, spec, strerror(errno));
			return -1;
		}
		return 0;
	}
	for (int fd = 0; fd < 1024 && port > 0; fd++) {
		len = sizeof(listening);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
			continue;
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
			continue;
		if ((ss.ss_family == AF_INET && ntohs(((struct sockaddr_in *) &ss)->sin_port) == port)
		    || (ss.ss_family == AF_INET6 && ntohs(((struct sockaddr_in6 *) &ss)->sin6_port) == port))
			found += setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0;
	}
	if (port > 0 && found == 0)
		log_warning("could not set TCP_NODELAY on the milter socket %s", spec);
	return 0;
}

/* Give a unix socket bound by root to USER:GROUP, so that the daemon can
 * still reach itself (pool handoffs) after dropping privileges; its group
 * is SOCK_GROUP instead when set (Postfix's smtpd has no other groups). */
int
daemon_chown_socket(const char *spec, const char *user, const char *group,
    const char *sock_group)
{
	const char *gname = sock_group && *sock_group ? sock_group : group;
	struct passwd *pw = NULL;
	struct group *gr;

	if (strncmp(spec, "unix:", 5) != 0 && strncmp(spec, "local:", 6) != 0)
		return 0;
	if (geteuid() != 0 && gname == group)
		return 0;	/* an unprivileged daemon keeps its own group */
	if ((geteuid() == 0 && (pw = getpwnam(user)) == NULL) || (gr = getgrnam(gname)) == NULL) {
		if (gname == group)
			return 0;	/* daemon_drop_privileges() reports it */
		log_error("milter_socket_group: no group \"%s\"", gname);
		return -1;
	}
	if (chown(strchr(spec, ':') + 1, pw ? pw->pw_uid : (uid_t) -1, gr->gr_gid) < 0) {
		log_error("cannot give %s to %s:%s: %s%s", spec, pw ? user : "(owner)", gname,
		    strerror(errno), pw ? "" : " (the daemon's user must be a member of that group)");
		return -1;
	}
	return 0;
}

/* Become USER:GROUP when root. */
int
daemon_drop_privileges(const char *user, const char *group)
{
	struct passwd *pw;
	struct group *gr;

	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		log_error("user \"%s\" does not exist: create it (useradd --system %s)"
		    " or set the user parameter", user, user);
		return -1;
	}
	if ((gr = getgrnam(group)) == NULL) {
		log_error("group \"%s\" does not exist: create it or set the group parameter", group);
		return -1;
	}
	if (setgroups(1, &gr->gr_gid) < 0 || setgid(gr->gr_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_error("cannot switch to user %s group %s: %s", user, group, strerror(errno));
		return -1;
	}
	if (pw->pw_uid == 0)
		log_warning("running as root: set user and group to an unprivileged account");
	return 0;
}

/* Fork into the background. */
int
daemon_detach(void)
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) < 0) {
		log_error("cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(0);
	setsid();
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}
