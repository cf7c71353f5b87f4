/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ctl_spf - "targreyctl spf IP HELO SENDER": one SPF check, explained
 * SYNOPSIS
 *	#include "ctl_spf.h"
 *
 *	int ctl_spf(const config_t *cfg, int argc, char **argv);
 * DESCRIPTION
 *	Runs what the milter runs at MAIL FROM (spf_evaluate()) for client
 *	IP, HELO name HELO and sender SENDER ("" or "<>" for the null
 *	sender) with the configuration CFG, and prints each check's result,
 *	reason and DNS queries, the verdict and the headers that would be
 *	added. ARGV[0] is the command name.
 * DIAGNOSTICS
 *	Returns 0 after a check, 1 when the checker cannot start, 2 on bad
 *	usage (with a usage line on stderr).
 */
#ifndef TG_CTL_SPF_H
#define TG_CTL_SPF_H

#include "config.h"

int	ctl_spf(const config_t *cfg, int argc, char **argv);

#endif
