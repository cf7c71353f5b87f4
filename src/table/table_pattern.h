/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	table_pattern - the rule language regexp: and pcre: tables share
 * SYNOPSIS
 *	#include "table_pattern.h"
 *
 *	int pattern_load(table_t *t, table_reader_t *r);
 *	int pattern_lookup(const table_t *t, const char *key, table_answer_t *a);
 *	int pattern_query_lookup(const table_t *t, const table_query_t *q,
 *	    table_answer_t *a);
 *	void pattern_free(void *impl);
 * DESCRIPTION
 *	Both table types read "[!]/re/flags result", "if [!]/re/flags",
 *	"endif"; any non-alphanumeric delimiter may replace '/', a
 *	backslash escapes the delimiter. The result may hold $N, ${N},
 *	$(N) (matched group N, empty when unset) and $$ (a dollar).
 *	This file defines table_regexp_ops and table_pcre_ops:
 *	pattern_load() is the load() of both table types; the table's
 *	ops->engine, a pattern_engine_t, supplies the regular expression library:
 *	options and flags[] say what the flag letters after the closing
 *	delimiter toggle (they end at white space, or '!' when a second
 *	pattern is allowed; an unknown letter skips the rule),
 *	compile() builds a matcher (NCAPT receives its group count),
 *	match() runs it (1 match, 0 no match, -1 error) and fills CAPS
 *	with NCAPS start/end pairs (-1 when unset).
 *	pattern_query_lookup() is the lookup of both table types: the
 *	mail address when the query has one, else the name.
 */
#ifndef TG_TABLE_PATTERN_H
#define TG_TABLE_PATTERN_H

#include "table_impl.h"

typedef struct {
	long	so;
	long	eo;
} pattern_cap_t;

typedef struct {
	char	letter;		/* a flag after the closing delimiter */
	unsigned bit;		/* the option it toggles; 0: obsolete, ignored */
} pattern_flag_t;

typedef struct {
	int	second_pattern;	/* accepts /re1/!/re2/ (flags end at '!') */
	int	options;	/* before the flag letters */
	const pattern_flag_t *flags;	/* the flag letters, ends with letter 0 */
	void   *(*compile)(table_t *t, int line, const char *re, int options,
		    int nosub, size_t *ncapt);
	int	(*match)(const void *re, const char *key, size_t len,
		    pattern_cap_t *caps, size_t ncaps);
	void	(*free)(void *re);
} pattern_engine_t;

extern const pattern_engine_t pattern_regexp_engine;	/* table_regexp.c */
extern const pattern_engine_t pattern_pcre_engine;	/* table_pcre.c */

int	pattern_load(table_t *t, table_reader_t *r);
int	pattern_lookup(const table_t *t, const char *key, table_answer_t *a);
int	pattern_query_lookup(const table_t *t, const table_query_t *q, table_answer_t *a);
void	pattern_free(void *impl);

#endif
