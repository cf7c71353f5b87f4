/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	postconf - learn smtpd's process limit from Postfix's configuration
 * SYNOPSIS
 *	#include "postconf.h"
 *
 *	long postconf_smtpd_limit(const char *config_dir, char *why, size_t size);
 *	long postconf_parse_master(const char *master, long default_limit);
 * DESCRIPTION
 *	postconf_smtpd_limit() runs Postfix's postconf(1) (/usr/sbin/postconf,
 *	else "postconf" on PATH) with "-c CONFIG_DIR" when CONFIG_DIR is not
 *	empty: "postconf -h default_process_limit" and "postconf -M", and
 *	returns the maxproc of the smtpd that takes mail from the Internet:
 *	the "smtpd pass" service when postscreen is in front, else the
 *	"smtp inet" service, else the first inet service running smtpd; "-"
 *	there means default_process_limit. Each run is bounded (5 s).
 *	WHY[SIZE] gets a short account for the log ("postconf -M: smtpd
 *	pass maxproc 20").
 *
 *	postconf_parse_master() does the choosing on the text of
 *	"postconf -M" (one service per line: name type private unpriv
 *	chroot wakeup maxproc command [args]); DEFAULT_LIMIT stands for "-".
 * DIAGNOSTICS
 *	postconf_smtpd_limit() returns the limit, or -1 when postconf could
 *	not be run or said nothing usable (WHY says why; the caller falls
 *	back to Postfix's default, 100). postconf_parse_master() returns -1
 *	when no smtpd service is listed. Nothing here logs.
 */
#ifndef TG_POSTCONF_H
#define TG_POSTCONF_H

#include <stddef.h>

#define POSTCONF_DEFAULT_LIMIT	100	/* Postfix's default_process_limit */

long	postconf_smtpd_limit(const char *config_dir, char *why, size_t size);
long	postconf_parse_master(const char *master, long default_limit);

#endif
