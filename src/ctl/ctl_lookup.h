/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ctl_lookup - targreyctl lookup and targreyctl classify
 * SYNOPSIS
 *	#include "ctl_lookup.h"
 *
 *	int ctl_lookup(const config_t *cfg, int argc, char **argv);
 *	int ctl_classify(const config_t *cfg, int argc, char **argv);
 * DESCRIPTION
 *	targreyctl lookup TYPE:FILE KEY...
 *	targreyctl lookup TYPE:FILE -
 *		Looks each KEY (or each line of standard input) up in one
 *		table and prints "KEY<TAB>RESULT" for those the table
 *		answers, nothing for the others: the output of
 *		"postmap -q - TYPE:FILE", so the two can be diffed.
 *
 *	targreyctl classify NAME...
 *	targreyctl classify -
 *		Classifies each client NAME with the configuration's S25R
 *		rules and tables and prints
 *		"NAME<TAB>clean|suspicious<TAB>REASON". A name written
 *		"[ADDR]" is a client without a verified name at ADDR.
 *
 *	argv[0] is the subcommand name.
 * DIAGNOSTICS
 *	Exit status (as postmap): 0 when some key was found (lookup) or on
 *	success (classify), 1 when no key was found or a table cannot be
 *	opened, 2 for usage errors. Bad table lines are reported on stderr.
 */
#ifndef TG_CTL_LOOKUP_H
#define TG_CTL_LOOKUP_H

#include "config.h"

int	ctl_lookup(const config_t *cfg, int argc, char **argv);
int	ctl_classify(const config_t *cfg, int argc, char **argv);

#endif
