/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ctl_reopen - "targreyctl reopen": SIGHUP to the running daemon
 * DESCRIPTION
 *	See ctl_reopen.h.
 * DIAGNOSTICS
 *	"targreyctl: ..." lines on stderr naming the pid file or process.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include "ctl_reopen.h"

/* The pid in PATH, or -1 after saying why. */
static long
ctl_reopen_pid(const char *path)
{
	FILE   *fp;
	long	pid = -1;

	if (path == NULL || *path == '\0') {
		fprintf(stderr, "targreyctl: pid_file is empty: cannot find the daemon\n");
		return -1;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "targreyctl: cannot read %s: %s (is targrey-milter running?)\n",
		    path, strerror(errno));
		return -1;
	}
	if (fscanf(fp, "%ld", &pid) != 1 || pid <= 1) {
		fprintf(stderr, "targreyctl: %s holds no pid\n", path);
		pid = -1;
	}
	fclose(fp);
	return pid;
}

/* Is process PID targrey-milter? 1 yes, 0 no; 1 when it cannot be told. */
static int
ctl_reopen_is_daemon(long pid)
{
	char	path[64], comm[64] = "";
	FILE   *fp;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return errno == ENOENT ? 0 : 1;
	if (fgets(comm, sizeof(comm), fp) == NULL)
		comm[0] = '\0';
	fclose(fp);
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, "targrey-milter") == 0;
}

int
ctl_reopen(const config_t *cfg, int argc, char **argv)
{
	long	pid;

	(void) argv;
	if (argc != 1) {
		fprintf(stderr, "usage: targreyctl reopen\n");
		return 2;
	}
	if ((pid = ctl_reopen_pid(cfg->pid_file)) < 0)
		return 1;
	if (!ctl_reopen_is_daemon(pid)) {
		fprintf(stderr, "targreyctl: process %ld of %s is not targrey-milter (a stale pid file?)\n",
		    pid, cfg->pid_file);
		return 1;
	}
	if (kill((pid_t) pid, SIGHUP) < 0) {
		fprintf(stderr, "targreyctl: cannot signal targrey-milter[%ld]: %s\n", pid,
		    strerror(errno));
		return 1;
	}
	printf("targrey-milter[%ld]: SIGHUP sent (log file opened again, configuration reloaded)\n",
	    pid);
	return 0;
}
