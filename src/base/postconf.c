/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	postconf - learn smtpd's process limit from Postfix's configuration
 * DESCRIPTION
 *	See postconf.h. postconf runs as a child with posix_spawn() (safe in
 *	a threaded process), its standard output on a pipe read with poll()
 *	against a deadline; standard input and error are /dev/null. A child
 *	that overstays is killed.
 * DIAGNOSTICS
 *	See postconf.h.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "monotime.h"
#include "postconf.h"

#define POSTCONF_PATH	"/usr/sbin/postconf"
#define POSTCONF_OUT_MAX 65536
#define POSTCONF_WAIT_MS 5000

extern char **environ;

/* Start ARGV with stdout on *FD; the pid, or -1. */
static pid_t
postconf_spawn(char *const argv[], int *fd)
{
	posix_spawn_file_actions_t fa;
	int	p[2];
	pid_t	pid = -1;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, POSTCONF_PATH, &fa, NULL, argv, environ) != 0
	    && posix_spawnp(&pid, "postconf", &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (pid < 0)
		close(p[0]);
	else
		*fd = p[0];
	return pid;
}

/* Read FD until EOF or the deadline into OUT[SIZE]; 0, or -1. */
static int
postconf_read(int fd, char *out, size_t size)
{
	long long deadline = monotime_ms() + POSTCONF_WAIT_MS, left;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t	len = 0;
	ssize_t	n;

	while ((left = deadline - monotime_ms()) > 0) {
		if (poll(&pfd, 1, (int) left) <= 0)
			continue;
		n = read(fd, out + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (len += (size_t) n) >= size - 1)
			break;
	}
	out[len] = '\0';
	return left > 0 ? 0 : -1;
}

/* Run postconf [-c DIR] ARGS...; its output in OUT, 0 or -1. */
static int
postconf_run(const char *dir, const char *a1, const char *a2, char *out, size_t size)
{
	char   *argv[6];
	int	n = 0, fd = -1, status = 0, rc;
	pid_t	pid;

	argv[n++] = (char *) "postconf";
	if (dir != NULL && *dir != '\0') {
		argv[n++] = (char *) "-c";
		argv[n++] = (char *) dir;
	}
	argv[n++] = (char *) a1;
	argv[n++] = (char *) a2;	/* may be NULL: the end */
	argv[n] = NULL;
	if ((pid = postconf_spawn(argv, &fd)) < 0)
		return -1;
	rc = postconf_read(fd, out, size);
	close(fd);
	if (rc < 0)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) == pid && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		rc = -1;
	return rc;
}

/* The maxproc of the line's service, or 0 when it is not a smtpd to use. */
static long
postconf_line_limit(const char *line, long def, int *rank)
{
	char	name[128], type[16], maxproc[16], command[64];

	if (sscanf(line, "%127s %15s %*s %*s %*s %*s %15s %63s", name, type, maxproc, command) != 4
	    || strcmp(command, "smtpd") != 0)
		return 0;
	if (strcmp(type, "pass") == 0)
		*rank = 3;			/* behind postscreen */
	else if (strcmp(type, "inet") == 0)
		*rank = strcmp(name, "smtp") == 0 || strstr(name, ":25") || strstr(name, ":smtp") ? 2 : 1;
	else
		return 0;
	return strcmp(maxproc, "-") == 0 ? def : strtol(maxproc, NULL, 10);
}

/* Choose the smtpd service from "postconf -M" output. */
long
postconf_parse_master(const char *master, long default_limit)
{
	long	best = -1, limit;
	int	best_rank = 0, rank = 0;
	const char *line = master;

	while (line != NULL && *line != '\0') {
		limit = postconf_line_limit(line, default_limit, &rank);
		if (limit > 0 && rank > best_rank) {
			best = limit;
			best_rank = rank;
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return best;
}

/* smtpd's process limit per postconf; -1 with WHY on failure. */
long
postconf_smtpd_limit(const char *config_dir, char *why, size_t size)
{
	char   *out = malloc(POSTCONF_OUT_MAX);
	long	def, limit = -1;

	if (out == NULL) {
		snprintf(why, size, "out of memory");
		return -1;
	}
	if (postconf_run(config_dir, "-h", "default_process_limit", out, POSTCONF_OUT_MAX) < 0
	    || (def = strtol(out, NULL, 10)) <= 0)
		snprintf(why, size, "postconf -h default_process_limit failed");
	else if (postconf_run(config_dir, "-M", NULL, out, POSTCONF_OUT_MAX) < 0)
		snprintf(why, size, "postconf -M failed");
	else if ((limit = postconf_parse_master(out, def)) < 0) {
		snprintf(why, size, "no smtpd service in postconf -M; default_process_limit %ld", def);
		limit = def;
	} else
		snprintf(why, size, "postconf: smtpd maxproc %ld (default_process_limit %ld)", limit, def);
	free(out);
	return limit;
}
