/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	paramdoc - write the sample configuration and the man page's
 *	parameter list from the parameter table
 * SYNOPSIS
 *	paramdoc conf
 *	paramdoc man
 * DESCRIPTION
 *	The build runs this program to produce conf/targrey-milter.conf and
 *	the PARAMETERS section of targrey-milter.conf(5) from params_table,
 *	so that neither can drift from what the daemon really accepts.
 *
 *	"conf" writes every parameter, grouped, each as an explanation
 *	wrapped at 78 columns followed by a commented-out "#name = default"
 *	line. "man" writes mdoc(7) text: one .Ss per group, one tagged list
 *	entry per parameter with its type, range and default.
 * DIAGNOSTICS
 *	Exit status 2 on bad usage, 1 when writing fails, else 0.
 */
#include "autoconfig.h"
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "params.h"

#define PARAMDOC_WIDTH	78
#define PARAMDOC_START_ONLY	"Read at start: a reload that changes it logs a warning, and the change takes effect at the next restart."

/* The groups in the order they appear, with their headings. */
static const struct {
	const char *group;
	const char *title;
} paramdoc_groups[] = {
	{"milter", "Milter, process and general policy"},
	{"logging", "Logging"},
	{"dns", "DNS resolver"},
	{"spf", "SPF"},
	{"s25r", "S25R classification and whitelists"},
	{"tarpit", "Tarpit"},
	{"greylist", "Greylisting"},
	{"state", "State (LMDB)"},
};

#define PARAMDOC_NGROUPS (sizeof(paramdoc_groups) / sizeof(paramdoc_groups[0]))

/* Deployment notes added to a parameter's paragraph (documentation only). */
static const struct {
	const char *name;
	const char *note;
} paramdoc_notes[] = {
	{"pid_file", "The systemd units and the init script set it with -o."},
	{"s25r_client_access", "taRgrey users can name the permit_client_nots25r "
	    "table they already have, e.g. regexp:/etc/postfix/permit_client_nots25r; "
	    "$config_directory/permit_client_nots25r is an example."},
	{"s25r_whitelist", "The built-in list is also installed as "
	    "$config_directory/s25r_whitelist; to edit it, set s25r_whitelist = "
	    "list:$config_directory/s25r_whitelist."},
	{"recipient_whitelist", "$config_directory/recipient_whitelist lists "
	    "postmaster@ and abuse@: recipient_whitelist = "
	    "list:$config_directory/recipient_whitelist."},
};

/* The deployment note for parameter NAME, or NULL. */
static const char *
paramdoc_note(const char *name)
{
	for (size_t i = 0; i < sizeof(paramdoc_notes) / sizeof(paramdoc_notes[0]); i++)
		if (strcmp(paramdoc_notes[i].name, name) == 0)
			return paramdoc_notes[i].note;
	return NULL;
}

/* Format a millisecond count with the largest unit that divides it. */
static void
paramdoc_time(long ms, char *buf, size_t size)
{
	static const struct {
		const char *unit;
		long	ms;
	} units[] = {
		{"w", 7L * 86400000}, {"d", 86400000}, {"h", 3600000},
		{"m", 60000}, {"s", 1000}, {"ms", 1},
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms != 0 && ms % units[i].ms == 0) {
			snprintf(buf, size, "%ld%s", ms / units[i].ms, units[i].unit);
			return;
		}
	}
	snprintf(buf, size, "0");
}

/* Format a byte count with k, m or g when it divides exactly. */
static void
paramdoc_size(long n, char *buf, size_t size)
{
	if (n == LONG_MAX)
		snprintf(buf, size, "no limit");
	else if (n != 0 && n % (1L << 30) == 0)
		snprintf(buf, size, "%ldg", n >> 30);
	else if (n != 0 && n % (1L << 20) == 0)
		snprintf(buf, size, "%ldm", n >> 20);
	else if (n != 0 && n % 1024 == 0)
		snprintf(buf, size, "%ldk", n >> 10);
	else
		snprintf(buf, size, "%ld", n);
}

/* One sentence describing the values P accepts. */
static void
paramdoc_type(const param_t *p, char *buf, size_t size)
{
	char	lo[32], hi[32];
	size_t	used;

	switch (p->type) {
	case PARAM_BOOL:
		snprintf(buf, size, "Value: yes or no.");
		break;
	case PARAM_INT:
		snprintf(buf, size, "Value: a number from %ld to %ld.", p->min, p->max);
		break;
	case PARAM_TIME:
		paramdoc_time(p->min, lo, sizeof(lo));
		paramdoc_time(p->max, hi, sizeof(hi));
		snprintf(buf, size, "Value: a time (units ms, s, m, h, d, w; default s)"
		    " from %s to %s.", lo, hi);
		break;
	case PARAM_SIZE:
		paramdoc_size(p->min, lo, sizeof(lo));
		paramdoc_size(p->max, hi, sizeof(hi));
		snprintf(buf, size, "Value: a size in bytes (units k, m, g) from %s to %s.", lo, hi);
		break;
	case PARAM_LIST:
		snprintf(buf, size, "Value: a list, separated by commas and/or white space.");
		break;
	case PARAM_ENUM:
		used = (size_t) snprintf(buf, size, "Value: one of");
		for (size_t i = 0; p->words[i] != NULL && used < size; i++)
			used += (size_t) snprintf(buf + used, size - used, "%s %s",
			    i == 0 ? "" : (p->words[i + 1] == NULL ? " or" : ","), p->words[i]);
		if (used < size)
			snprintf(buf + used, size - used, ".");
		break;
	default:
		buf[0] = '\0';
		break;
	}
}

/* Write TEXT as "# " comment lines no wider than PARAMDOC_WIDTH. */
static void
paramdoc_wrap(FILE *fp, const char *text)
{
	const char *p = text, *word;
	size_t	col = 0, len;

	while (*p) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		word = p;
		while (*p && *p != ' ')
			p++;
		len = (size_t) (p - word);
		if (col > 0 && col + 1 + len > PARAMDOC_WIDTH) {
			fputc('\n', fp);
			col = 0;
		}
		if (col == 0)
			col = (size_t) fprintf(fp, "#");
		col += (size_t) fprintf(fp, " %.*s", (int) len, word);
	}
	if (col > 0)
		fputc('\n', fp);
}

/* The sample configuration file. */
static void
paramdoc_conf(FILE *fp)
{
	char	type[256];

	fprintf(fp, "# targrey-milter.conf - configuration of targrey-milter(8)\n"
	    "#\n");
	paramdoc_wrap(fp, "Every parameter is listed below, commented out, with its "
	    "built-in default: a parameter that is not set keeps that default. To "
	    "change one, remove the leading # and edit the value. The syntax is "
	    "Postfix main.cf's: \"name = value\", # starts a comment line, a line "
	    "that starts with white space continues the previous one, and $name "
	    "or ${name} expands to another parameter's value. Check the file with "
	    "\"targrey-milter -t\", list what it changes with \"targrey-milter -n\", "
	    "and apply it with SIGHUP (systemctl reload targrey-milter). See "
	    "targrey-milter.conf(5).");
	fprintf(fp, "#\n");
	paramdoc_wrap(fp, "This file is generated from the daemon's parameter table "
	    "(src/params.c) by paramdoc when targrey-milter is built.");
	for (size_t g = 0; g < PARAMDOC_NGROUPS; g++) {
		fprintf(fp, "\n# %.*s\n# %s\n# %.*s\n", PARAMDOC_WIDTH - 2,
		    "==========================================================================",
		    paramdoc_groups[g].title, PARAMDOC_WIDTH - 2,
		    "==========================================================================");
		for (size_t i = 0; i < params_count; i++) {
			const param_t *p = &params_table[i];

			if (strcmp(p->group, paramdoc_groups[g].group) != 0)
				continue;
			paramdoc_type(p, type, sizeof(type));
			fprintf(fp, "\n");
			paramdoc_wrap(fp, p->doc);
			if (paramdoc_note(p->name) != NULL)
				paramdoc_wrap(fp, paramdoc_note(p->name));
			paramdoc_wrap(fp, type);
			if (p->start_only)
				paramdoc_wrap(fp, PARAMDOC_START_ONLY);
			fprintf(fp, "#%s =%s%s\n", p->name, *p->def ? " " : "", p->def);
		}
	}
}

/* Write S escaped for roff text (backslashes; a leading dot or quote). */
static void
paramdoc_roff(FILE *fp, const char *s, int at_line_start)
{
	for (; *s; s++) {
		if (at_line_start && (*s == '.' || *s == '\''))
			fputs("\\&", fp);
		at_line_start = 0;
		if (*s == '\\')
			fputs("\\e", fp);
		else if (*s == '"')
			fputs("\\(dq", fp);
		else
			fputc(*s, fp);
	}
}

/* One mdoc list entry for P. */
static void
paramdoc_man_entry(FILE *fp, const param_t *p)
{
	char	type[256];

	fprintf(fp, ".It Cm %s\n", p->name);
	paramdoc_roff(fp, p->doc, 1);
	fputc('\n', fp);
	if (paramdoc_note(p->name) != NULL) {
		paramdoc_roff(fp, paramdoc_note(p->name), 1);
		fputc('\n', fp);
	}
	paramdoc_type(p, type, sizeof(type));
	if (*type) {
		paramdoc_roff(fp, type, 1);
		fputc('\n', fp);
	}
	if (p->start_only) {
		paramdoc_roff(fp, PARAMDOC_START_ONLY, 1);
		fputc('\n', fp);
	}
	if (*p->def) {
		fputs("Default:\n.Ql \"", fp);
		paramdoc_roff(fp, p->def, 0);
		fputs("\" .\n", fp);
	} else {
		fputs("Default: empty.\n", fp);
	}
}

/* The PARAMETERS section of targrey-milter.conf(5), in mdoc. */
static void
paramdoc_man(FILE *fp)
{
	fprintf(fp, ".\\\" Generated from src/params.c by paramdoc: do not edit.\n"
	    ".Sh PARAMETERS\n");
	for (size_t g = 0; g < PARAMDOC_NGROUPS; g++) {
		fprintf(fp, ".Ss %s\n.Bl -tag -width Ds\n", paramdoc_groups[g].title);
		for (size_t i = 0; i < params_count; i++)
			if (strcmp(params_table[i].group, paramdoc_groups[g].group) == 0)
				paramdoc_man_entry(fp, &params_table[i]);
		fprintf(fp, ".El\n");
	}
}

/* Every parameter must belong to a known group, or it would be left out. */
static int
paramdoc_check_groups(void)
{
	int	bad = 0;

	for (size_t i = 0; i < params_count; i++) {
		size_t	g;

		for (g = 0; g < PARAMDOC_NGROUPS; g++)
			if (strcmp(params_table[i].group, paramdoc_groups[g].group) == 0)
				break;
		if (g == PARAMDOC_NGROUPS) {
			fprintf(stderr, "paramdoc: parameter %s: unknown group \"%s\"\n",
			    params_table[i].name, params_table[i].group);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

int
main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "conf") != 0 && strcmp(argv[1], "man") != 0)) {
		fprintf(stderr, "usage: paramdoc conf|man\n");
		return 2;
	}
	if (paramdoc_check_groups() < 0)
		return 1;
	if (strcmp(argv[1], "conf") == 0)
		paramdoc_conf(stdout);
	else
		paramdoc_man(stdout);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
