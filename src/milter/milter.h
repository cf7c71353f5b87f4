/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	milter - the libmilter callbacks
 * SYNOPSIS
 *	#include "milter.h"
 *
 *	int milter_register(const char *name);
 * DESCRIPTION
 *	milter_register() registers targrey-milter's callbacks with
 *	libmilter (smfi_register). Each callback translates one protocol
 *	event into calls to the policy modules and never blocks the process,
 *	exits it or trusts client data. Returns 0 or -1.
 */
#ifndef TG_MILTER_H
#define TG_MILTER_H

int	milter_register(const char *name);

#endif
