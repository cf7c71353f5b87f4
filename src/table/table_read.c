/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	table_read - what every table type uses: the logical-line reader,
 *	warnings, answers, growing rule arrays
 * DESCRIPTION
 *	See table_impl.h. The reader has Postfix readlline(3) semantics
 *	(a line starting with white space continues the previous one,
 *	comments and empty lines are skipped). Below table.c, which picks
 *	the type, and the type files (table_regexp.c, table_pcre.c,
 *	table_cidr.c, table_list.c), which all call it.
 * DIAGNOSTICS
 *	"FILE:LINE: reason" warnings for bad lines.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "table_impl.h"

/* Postfix's ISSPACE: the C locale white space characters. */
int
table_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Log "FILE:LINE: reason" and count one error. */
void
table_warn(table_t *t, int line, const char *fmt, ...)
{
	char	why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_warning("%s:%d: %s", t->path, line, why);
	t->errors++;
}

/* Fill in an answer; text longer than the buffer is cut. */
void
table_answer_set(table_answer_t *a, const table_t *t, int line, const char *text)
{
	snprintf(a->text, sizeof(a->text), "%s", text);
	a->table = t->spec;
	a->line = line;
}

/* Append LEN bytes to the reader's logical line buffer. */
static int
table_reader_append(table_reader_t *r, const char *s, size_t len)
{
	char   *nbuf;

	if (r->len + len + 1 > r->size) {
		size_t	nsize = (r->len + len + 1) * 2;

		if ((nbuf = realloc(r->buf, nsize)) == NULL)
			return -1;
		r->buf = nbuf;
		r->size = nsize;
	}
	memcpy(r->buf + r->len, s, len);
	r->len += len;
	r->buf[r->len] = '\0';
	return 0;
}

/* Read one physical line into the buffer unless it is blank or a comment. */
static int
table_reader_physical(table_reader_t *r, int *first)
{
	const char *s = r->pos;
	const char *e = memchr(s, '\n', (size_t) (r->end - s));
	const char *cp;

	if (e == NULL)
		e = r->end;
	r->pos = (e < r->end) ? e + 1 : e;
	r->lineno++;
	for (cp = s; cp < e && table_is_space((unsigned char) *cp); cp++)
		;
	if (cp == e || *cp == '#')
		return 0;
	if (r->len == 0)
		*first = r->lineno;
	return table_reader_append(r, s, (size_t) (e - s));
}

/* Next logical line, trailing white space removed; 0 at the end. */
int
table_reader_next(table_reader_t *r, char **line, int *lineno)
{
	int	first = 0;

	for (;;) {
		r->len = 0;
		if (r->buf)
			r->buf[0] = '\0';
		while (r->pos < r->end) {
			if (table_reader_physical(r, &first) < 0)
				return -1;
			/* A line that starts with white space continues this one. */
			if (r->len > 0 && (r->pos >= r->end
			    || (*r->pos != '#' && !table_is_space((unsigned char) *r->pos))))
				break;
		}
		if (r->len == 0)
			return 0;
		while (r->len > 0 && table_is_space((unsigned char) r->buf[r->len - 1]))
			r->buf[--r->len] = '\0';
		if (!table_is_space((unsigned char) r->buf[0]))
			break;
		table_warn(r->table, first, "logical line must not start with white space");
	}
	*line = r->buf;
	*lineno = first;
	return 1;
}

/* Room for element N of the array at *ARRP; 0 or -1 (memory). */
int
table_reserve(void *arrp, size_t n, size_t *size, size_t esize)
{
	char   *arr, *grown;
	size_t	nsize;

	if (n < *size)
		return 0;
	nsize = *size ? *size * 2 : 16;
	memcpy(&arr, arrp, sizeof(arr));	/* ARRP points at some T *: same representation */
	if ((grown = realloc(arr, nsize * esize)) == NULL)
		return -1;
	memcpy(arrp, &grown, sizeof(grown));
	*size = nsize;
	return 0;
}
