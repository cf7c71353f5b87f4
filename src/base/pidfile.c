/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	pidfile - the daemon's pid file, safe against links, removed at exit
 * DESCRIPTION
 *	See pidfile.h. Why not open the file after the privilege drop: then
 *	the directory must be the daemon user's, and root's init script and
 *	systemd would read a file that user controls. Root writes it here,
 *	in a root-owned directory, without following links.
 * DIAGNOSTICS
 *	"pid file PATH is a symbolic link (or not a regular file): not
 *	following it; not starting" when someone planted one.
 */
#include "autoconfig.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "pidfile.h"

static char pidfile_path[PATH_MAX];
static int pidfile_remover = -1;	/* write end of the remover's pipe */

/* Create the missing directories of PATH's parent, mode 0755. */
static int
pidfile_mkdirs(const char *path)
{
	char	dir[PATH_MAX];
	char   *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -1;
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char	c = *p;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			log_error("cannot create the pid file directory %s: %s", dir,
			    strerror(errno));
			return -1;
		}
		if ((*p = c) == '\0')
			return 0;
	}
}

/* Open PATH for a new pid file, never through a link; -1 logged. */
static int
pidfile_open(const char *path)
{
	struct stat sb;
	int	fd, try;

	for (try = 0; try < 2; try++) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			break;
		if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
			log_error("pid file %s is a symbolic link (or not a regular file):"
			    " not following it; not starting", path);
			return -1;
		}
		if (unlink(path) < 0 && errno != ENOENT)
			break;		/* stale file we cannot replace */
	}
	if (fd < 0)
		log_error("cannot write pid file %s: %s", path,
		    errno == EEXIST ? "created again by someone else" : strerror(errno));
	return fd;
}

/* The remover: wait for the daemon to exit, then unlink its pid file. */
static void
pidfile_remover_main(int rfd, pid_t daemon_pid)
{
	char	buf[32], want[32];
	ssize_t	n;
	int	fd;

	signal(SIGTERM, SIG_IGN);	/* a group kill must not stop it early */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {	/* let go of the caller's stdio */
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	for (fd = STDERR_FILENO + 1; fd < 1024; fd++)
		if (fd != rfd)
			close(fd);
	while ((n = read(rfd, buf, sizeof(buf))) != 0 && !(n < 0 && errno != EINTR))
		continue;
	snprintf(want, sizeof(want), "%ld\n", (long)daemon_pid);
	if ((fd = open(pidfile_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (strcmp(buf, want) == 0)
			(void)unlink(pidfile_path);
	}
	_exit(0);
}

/* Fork the remover (root only); failure only costs the removal. */
static void
pidfile_start_remover(void)
{
	int	p[2];
	pid_t	me = getpid(), pid;

	if (geteuid() != 0 || pipe2(p, O_CLOEXEC) < 0)
		return;
	if ((pid = fork()) == 0)
		pidfile_remover_main(p[0], me);
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		log_warning("cannot fork the pid file remover: %s", strerror(errno));
		return;
	}
	pidfile_remover = p[1];
}

int
pidfile_write(const char *path)
{
	char	buf[32];
	int	fd, len;

	if (path == NULL || *path == '\0')
		return 0;
	if (snprintf(pidfile_path, sizeof(pidfile_path), "%s", path)
	    >= (int)sizeof(pidfile_path)) {
		log_error("pid file name too long: %s", path);
		return -1;
	}
	if (pidfile_mkdirs(path) < 0 || (fd = pidfile_open(path)) < 0)
		return -1;
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)len) != len || close(fd) < 0) {
		close(fd);
		log_error("cannot write pid file %s: %s", path, strerror(errno));
		return -1;
	}
	pidfile_start_remover();
	return 0;
}

void
pidfile_remove(void)
{
	if (pidfile_path[0] == '\0' || pidfile_remover >= 0)
		return;		/* none, or the remover unlinks it when we exit */
	if (unlink(pidfile_path) < 0 && errno != ENOENT)
		log_warning("cannot remove %s: %s", pidfile_path, strerror(errno));
}
