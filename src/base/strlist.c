/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	strlist - growable list of owned strings
 * DESCRIPTION
 *	See strlist.h.
 */
#include <stdlib.h>
#include <string.h>
#include "strlist.h"

/* Append a copy of the LEN bytes at S. */
int
strlist_add(strlist_t *l, const char *s, size_t len)
{
	char  **items;
	char   *copy;

	if ((copy = strndup(s, len)) == NULL)
		return -1;
	if ((items = realloc(l->items, (l->n + 2) * sizeof(*items))) == NULL) {
		free(copy);
		return -1;
	}
	items[l->n++] = copy;
	items[l->n] = NULL;
	l->items = items;
	return 0;
}

/* Append the comma and/or white space separated words of TEXT. */
int
strlist_split(strlist_t *l, const char *text)
{
	static const char sep[] = ", \t\r\n";
	size_t	len;

	while (*(text += strspn(text, sep)) != '\0') {
		len = strcspn(text, sep);
		if (strlist_add(l, text, len) < 0)
			return -1;
		text += len;
	}
	return 0;
}

/* Free every item; the list becomes empty. */
void
strlist_clear(strlist_t *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}
