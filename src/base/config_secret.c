/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	config_secret - warn about a configuration file that shows a secret
 * DESCRIPTION
 *	See config_secret.h. Called at start and by -t; a warning only,
 *	since the admin may have reasons (an ACL, a private host).
 * DIAGNOSTICS
 *	"FILE sets redis_password but is readable by ...": one line.
 */
#include <grp.h>
#include <stddef.h>
#include <sys/stat.h>
#include "config_secret.h"
#include "log.h"
#include "params.h"

/* The first secret parameter the file itself sets, or NULL. */
static const char *
secret_set_in_file(const config_t *cfg)
{
	for (size_t i = 0; i < params_count; i++) {
		const char *v = cfg->raw[i];

		if (params_table[i].secret && cfg->lines[i] > 0 && v && *v)
			return params_table[i].name;
	}
	return NULL;
}

/* Warn when the file that sets a secret parameter shows it to others. */
int
config_secret_check(const config_t *cfg)
{
	const char *name;
	const struct group *gr;
	struct stat sb;
	int	group_ok;

	if (cfg == NULL || cfg->path == NULL || (name = secret_set_in_file(cfg)) == NULL)
		return 0;
	if (stat(cfg->path, &sb) != 0)
		return 0;
	gr = getgrnam(cfg->group);
	group_ok = sb.st_gid == 0 || (gr != NULL && sb.st_gid == gr->gr_gid);
	if (!(sb.st_mode & S_IROTH) && (!(sb.st_mode & S_IRGRP) || group_ok))
		return 0;
	log_warning("%s sets %s but is readable by %s (mode %04o, group id %u); "
	    "make it mode 0640, group root or %s", cfg->path, name,
	    sb.st_mode & S_IROTH ? "every user" : "another group",
	    (unsigned) (sb.st_mode & 07777), (unsigned) sb.st_gid, cfg->group);
	return 1;
}
