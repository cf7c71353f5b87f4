/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	config_secret - warn about a configuration file that shows a secret
 * SYNOPSIS
 *	#include "config_secret.h"
 *
 *	int config_secret_check(const config_t *cfg);
 * DESCRIPTION
 *	config_secret_check() looks at the file CFG was read from when it
 *	sets a secret parameter (params.h: secret, e.g. redis_password).
 *	Such a file must not be readable by others, nor by a group other
 *	than root's (gid 0) and the daemon's (the group parameter).
 * DIAGNOSTICS
 *	Returns 1 after logging one warning line that names the file, its
 *	mode and group; 0 when there is nothing to say (no secret set in a
 *	file, a safe mode, or the file cannot be examined).
 */
#ifndef TG_CONFIG_SECRET_H
#define TG_CONFIG_SECRET_H

#include "config.h"

int	config_secret_check(const config_t *cfg);

#endif
