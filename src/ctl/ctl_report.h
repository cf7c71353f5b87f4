/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ctl_report - targreyctl report
 * SYNOPSIS
 *	#include "ctl_report.h"
 *
 *	int ctl_report(const config_t *cfg, int argc, char **argv);
 * DESCRIPTION
 *	See ctl_report.c and targreyctl(8).
 */
#ifndef TG_CTL_REPORT_H
#define TG_CTL_REPORT_H

#include "config.h"

int	ctl_report(const config_t *cfg, int argc, char **argv);

#endif
