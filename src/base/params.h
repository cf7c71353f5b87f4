/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	params - the one table of targrey-milter parameters
 * SYNOPSIS
 *	#include "params.h"
 *
 *	extern const param_t params_table[];
 *	extern const size_t params_count;
 *
 *	const param_t *params_find(const char *name);
 *	const char *params_suggest(const char *name);
 * DESCRIPTION
 *	Every configuration parameter is declared exactly once, in params.c:
 *	its name, type, embedded default, bounds and where its parsed value
 *	lives in config_t. The parser, "targrey-milter -n/-d", the sample
 *	configuration, the man page and the tests all read this table.
 *
 *	A parameter marked start_only is read once when the daemon
 *	starts (the socket, the account, paths, sizes fixed at start): a
 *	reload that changes it logs a warning, and the documentation says so.
 *
 *	params_find() returns the entry for NAME or NULL.
 *	params_suggest() returns the known name closest to NAME (for a
 *	"did you mean" hint) or NULL when nothing is close.
 */
#ifndef TG_PARAMS_H
#define TG_PARAMS_H

#include <stddef.h>

typedef enum {
	PARAM_BOOL,		/* yes/no, true/false, on/off, 1/0 -> int */
	PARAM_INT,		/* decimal integer in [min, max] -> long */
	PARAM_TIME,		/* number + unit ms s m h d w (default s) -> long ms */
	PARAM_SIZE,		/* number + unit k m g (bytes) -> long */
	PARAM_STR,		/* free text -> char * */
	PARAM_LIST,		/* comma and/or white space separated -> strlist_t */
	PARAM_ENUM,		/* one of a fixed set of words -> int index */
} param_type_t;

typedef struct {
	const char *name;
	param_type_t type;
	const char *def;		/* embedded default, as text */
	long	min;			/* INT/TIME/SIZE lower bound */
	long	max;			/* INT/TIME/SIZE upper bound */
	const char *const *words;	/* ENUM: NULL-terminated choices */
	size_t	offset;			/* where the value lives in config_t */
	const char *group;		/* section for the sample config and man page */
	const char *doc;		/* one paragraph of explanation */
	int	start_only;		/* read once at start: a reload warns */
	int	secret;			/* -n prints it masked: PARAM_SECRET_MASK */
} param_t;

/* What -n prints instead of a secret parameter's value that is set. */
#define PARAM_SECRET_MASK	"(hidden)"

extern const param_t params_table[];
extern const size_t params_count;

const param_t *params_find(const char *name);
const char *params_suggest(const char *name);

#endif
