/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	table_regexp - regexp: tables (POSIX regular expressions, regcomp(3))
 * DESCRIPTION
 *	Postfix regexp_table(5): patterns are compiled with
 *	REG_EXTENDED | REG_ICASE; the flags after the closing delimiter
 *	toggle REG_ICASE (i), REG_EXTENDED (x) and REG_NEWLINE (m).
 *	/re1/!/re2/ (second pattern must not match) is accepted.
 *	regexec(3) is safe to call from several threads on one regex_t.
 * DIAGNOSTICS
 *	Compile errors are reported with regerror(3)'s text.
 */
#include <regex.h>
#include <stdlib.h>
#include "table_pattern.h"

/* The flag letters (Postfix regexp_table(5)). */
static const pattern_flag_t regexp_flags[] = {
	{'i', REG_ICASE}, {'m', REG_NEWLINE}, {'x', REG_EXTENDED}, {'\0', 0},
};

/* Compile one POSIX pattern; NULL with a warning when it is bad. */
static void *
regexp_compile(table_t *t, int line, const char *re, int options, int nosub, size_t *ncapt)
{
	regex_t *rx;
	char	buf[256];
	int	err;

	if ((rx = malloc(sizeof(*rx))) == NULL)
		return NULL;
	if ((err = regcomp(rx, re, options | (nosub ? REG_NOSUB : 0))) != 0) {
		regerror(err, rx, buf, sizeof(buf));
		table_warn(t, line, "%s: skipping this rule", buf);
		free(rx);
		return NULL;
	}
	*ncapt = rx->re_nsub;
	return rx;
}

/* Match KEY; fill NCAPS capture pairs. */
static int
regexp_match(const void *re, const char *key, size_t len, pattern_cap_t *caps, size_t ncaps)
{
	regmatch_t pm[ncaps ? ncaps : 1];
	int	rc;

	(void) len;
	rc = regexec(re, key, ncaps, ncaps ? pm : NULL, 0);
	if (rc == REG_NOMATCH)
		return 0;
	if (rc != 0)
		return -1;
	for (size_t i = 0; i < ncaps; i++) {
		caps[i].so = pm[i].rm_so;
		caps[i].eo = pm[i].rm_eo;
	}
	return 1;
}

/* Free one compiled pattern. */
static void
regexp_free(void *re)
{
	regfree(re);
	free(re);
}

/* The regexp: table is table_pattern.c's rule language over this engine. */
const pattern_engine_t pattern_regexp_engine = {
	1, REG_EXTENDED | REG_ICASE, regexp_flags,
	regexp_compile, regexp_match, regexp_free,
};
