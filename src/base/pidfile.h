/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	pidfile - the daemon's pid file, safe against links, removed at exit
 * SYNOPSIS
 *	#include "pidfile.h"
 *
 *	int pidfile_write(const char *path);
 *	void pidfile_remove(void);
 * DESCRIPTION
 *	pidfile_write() writes the process id to PATH (an empty PATH writes
 *	nothing). Missing directories on the way are created mode 0755
 *	(owned by root when run as root: the daemon's user cannot write
 *	them, so it cannot plant a link for root to follow at the next
 *	start). The file is created with O_CREAT|O_EXCL|O_NOFOLLOW, never
 *	through a symbolic link: a stale regular file is removed first, a
 *	symbolic link or anything but a regular file is refused.
 *
 *	Run as root, pidfile_write() also forks a small remover that keeps
 *	root's rights and nothing else (no descriptor but a pipe): when the
 *	daemon exits, however it exits, the pipe closes and the remover
 *	unlinks the pid file if it still holds the daemon's pid, then exits.
 *	After the privilege drop the daemon could not remove a file from a
 *	directory only root can write.
 *
 *	pidfile_remove() removes the pid file at a clean stop when no
 *	remover runs (the daemon was not root); with a remover it leaves
 *	the work to it.
 * DIAGNOSTICS
 *	pidfile_write() returns 0, or -1 after logging why (the link it
 *	refused, the directory it could not create).
 */
#ifndef TG_PIDFILE_H
#define TG_PIDFILE_H

int	pidfile_write(const char *path);
void	pidfile_remove(void);

#endif
