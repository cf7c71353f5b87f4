/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ctl_reopen - "targreyctl reopen": the running daemon opens its log
 *	file again (for logrotate)
 * SYNOPSIS
 *	#include "ctl_reopen.h"
 *
 *	int ctl_reopen(const config_t *cfg, int argc, char **argv);
 * DESCRIPTION
 *	Reads the daemon's pid from CFG's pid_file and sends it SIGHUP,
 *	after checking that the process is targrey-milter (on Linux, by
 *	/proc/PID/comm). SIGHUP makes the daemon open log_file again and
 *	reload its configuration (a broken configuration is logged and the
 *	running one stays). ARGV[0] is the command name.
 * DIAGNOSTICS
 *	Returns 0 after sending the signal, 1 when there is no pid file, no
 *	such process or it is not targrey-milter, 2 on bad usage.
 */
#ifndef TG_CTL_REOPEN_H
#define TG_CTL_REOPEN_H

#include "config.h"

int	ctl_reopen(const config_t *cfg, int argc, char **argv);

#endif
