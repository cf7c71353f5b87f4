/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	strlist - growable list of owned strings
 * SYNOPSIS
 *	#include "strlist.h"
 *
 *	int strlist_add(strlist_t *l, const char *s, size_t len);
 *	int strlist_split(strlist_t *l, const char *text);
 *	void strlist_clear(strlist_t *l);
 * DESCRIPTION
 *	A strlist_t holds N NUL-terminated copies; items[N] is NULL.
 *	strlist_split() appends the words of TEXT, separated by commas
 *	and/or white space (Postfix list syntax). A zeroed strlist_t is an
 *	empty list. Functions return 0, or -1 when memory runs out.
 */
#ifndef TG_STRLIST_H
#define TG_STRLIST_H

#include <stddef.h>

typedef struct {
	char  **items;
	size_t	n;
} strlist_t;

int	strlist_add(strlist_t *l, const char *s, size_t len);
int	strlist_split(strlist_t *l, const char *text);
void	strlist_clear(strlist_t *l);

#endif
