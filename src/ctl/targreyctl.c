/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	targreyctl - administer targrey-milter's state and tables
 * SYNOPSIS
 *	targreyctl [-c FILE] [-o NAME=VALUE] COMMAND [ARGS...]
 * DESCRIPTION
 *	Reads the same configuration as the daemon and runs one command.
 *	Each command lives in its own ctl_*.c module; this file only parses
 *	the common options and dispatches. See targreyctl(8).
 * DIAGNOSTICS
 *	Exit status 0 on success, 1 on errors, 2 on bad usage.
 */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "ctl_lookup.h"
#include "ctl_reopen.h"
#include "ctl_report.h"
#include "ctl_store.h"
#include "ctl_spf.h"

#define CTL_DEFAULT_CONFIG	TG_SYSCONFDIR "/targrey-milter.conf"

typedef int (*ctl_fn)(const config_t *cfg, int argc, char **argv);

static int ctl_help(const config_t *cfg, int argc, char **argv);

/* The commands: name, function, arguments and what it does. */
static const struct {
	const char *name;
	ctl_fn	fn;
	const char *usage;
} ctl_commands[] = {
	{"help", ctl_help, "                 list the commands"},
	{"lookup", ctl_lookup, "TYPE:FILE KEY...|-  KEY<TAB>RESULT for keys the table answers (postmap -q)"},
	{"classify", ctl_classify, "NAME...|-  NAME<TAB>clean|suspicious<TAB>REASON (S25R)"},
	/* --- store/greylist */
	{"list", ctl_list, "greylist|clients|tarpit [PREFIX]  list records"},
	{"show", ctl_show, "KEY              show the records under KEY (or of an address)"},
	{"delete", ctl_delete, "KEY            delete KEY from greylist, clients and tarpit"},
	{"whitelist", ctl_whitelist, "[list | add IP-or-NET | remove IP-or-NET]  manual client whitelist"},
	{"expire", ctl_expire, "               delete expired records now"},
	{"stats", ctl_stats, "                records, decisions, oldest/newest, sizes"},
	{"explain", ctl_explain, "IP NAME SENDER RECIPIENT  what taRgrey would decide now, and why"},
	{"dump", ctl_dump, "                 write the state as text"},
	{"load", ctl_load, "FILE|-           read text written by dump"},
	{"import-postgrey", ctl_import_postgrey, "FILE...  import db_dump -p output of Postgrey's databases"},
	{"spf", ctl_spf, "IP HELO SENDER    run one SPF check: result, reason, headers, DNS queries"},
	{"report", ctl_report, "[--days N] [--html FILE] [--lang ja|en]  hourly decision counters: summary or HTML charts"},
	{"reopen", ctl_reopen, "               the daemon opens log_file again (SIGHUP; for logrotate)"},
};

#define CTL_NCOMMANDS	(sizeof(ctl_commands) / sizeof(ctl_commands[0]))

static void
ctl_usage(FILE *fp)
{
	fprintf(fp, "usage: targreyctl [-c FILE] [-o NAME=VALUE] COMMAND [ARGS...]\n"
	    "  -c FILE        configuration file (default %s)\n"
	    "  -o NAME=VALUE  override one parameter\n"
	    "commands:\n", CTL_DEFAULT_CONFIG);
	for (size_t i = 0; i < CTL_NCOMMANDS; i++)
		fprintf(fp, "  %s %s\n", ctl_commands[i].name, ctl_commands[i].usage);
}

static int
ctl_help(const config_t *cfg, int argc, char **argv)
{
	(void) cfg;
	(void) argc;
	(void) argv;
	ctl_usage(stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = CTL_DEFAULT_CONFIG;
	int	explicit_config = 0, c, rc;
	config_t *cfg;
	strlist_t overrides = {0};

	while ((c = getopt(argc, argv, "+c:o:hV")) != -1) {
		switch (c) {
		case 'c': path = optarg; explicit_config = 1; break;
		case 'o':
			if (strchr(optarg, '=') == NULL) {
				fprintf(stderr, "targreyctl: -o wants NAME=VALUE, got \"%s\"\n", optarg);
				return 2;
			}
			strlist_add(&overrides, optarg, strlen(optarg));
			break;
		case 'h': ctl_usage(stdout); return 0;
		case 'V': printf("%s\n", PACKAGE_STRING); return 0;
		default: ctl_usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		ctl_usage(stderr);
		return 2;
	}
	if ((cfg = config_load(path, !explicit_config, stderr)) == NULL)
		return 1;
	if (config_set_items(cfg, &overrides, stderr) < 0)
		return 1;
	strlist_clear(&overrides);
	for (size_t i = 0; i < CTL_NCOMMANDS; i++) {
		if (strcmp(argv[optind], ctl_commands[i].name) == 0) {
			rc = ctl_commands[i].fn(cfg, argc - optind, argv + optind);
			config_free(cfg);
			return rc;
		}
	}
	fprintf(stderr, "targreyctl: unknown command \"%s\" (try targreyctl help)\n", argv[optind]);
	config_free(cfg);
	return 2;
}
