/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	table_impl - what the table types share (private to table*.c)
 * SYNOPSIS
 *	#include "table_impl.h"
 *
 *	int table_reader_next(table_reader_t *r, char **line, int *lineno);
 *	void table_warn(table_t *t, int line, const char *fmt, ...);
 *	void table_answer_set(table_answer_t *a, const table_t *t, int line, const char *text);
 *	int table_is_space(int c);
 *	int table_reserve(void *arrp, size_t n, size_t *size, size_t esize);
 * DESCRIPTION
 *	Each table type provides a table_ops_t: load() parses every logical
 *	line from the reader into t->impl, lookup() answers a query, and
 *	free() releases t->impl. engine is what a shared loader needs to
 *	know of the type (the regular expression library of regexp: and
 *	pcre:, see table_pattern.h), NULL for the others.
 *
 *	table_reader_next() returns the next logical line (Postfix
 *	readlline(3) rules) in a buffer owned by the reader, with trailing
 *	white space removed, and the number of its first physical line.
 *	It returns 0 at the end of the text.
 *
 *	table_reserve() makes room for one more element in the array
 *	whose pointer is at ARRP (N used, *SIZE allocated, ESIZE bytes
 *	each), doubling it; 0, or -1 when memory runs out (the array is
 *	then unchanged). The rule and entry lists of every type grow by it.
 *
 *	table_warn() logs "FILE:LINE: reason" and counts one error.
 */
#ifndef TG_TABLE_IMPL_H
#define TG_TABLE_IMPL_H

#include "table.h"

typedef struct {
	const char *pos;	/* next unread byte */
	const char *end;	/* end of the text */
	int	lineno;		/* physical lines read so far */
	char   *buf;		/* the current logical line */
	size_t	len;
	size_t	size;
	table_t *table;		/* for warnings */
} table_reader_t;

typedef struct table_ops {
	const char *type;
	int	(*load)(table_t *t, table_reader_t *r);	/* 0 or -1 (memory) */
	int	(*lookup)(const table_t *t, const table_query_t *q, table_answer_t *a);
	void	(*free)(void *impl);
	const void *engine;	/* type data for a shared loader, or NULL */
} table_ops_t;

struct table {
	char   *spec;		/* "type:path" as given */
	const char *path;	/* points into spec, after the colon */
	const table_ops_t *ops;
	void   *impl;
	int	errors;		/* bad lines seen while loading */
};

extern const table_ops_t table_regexp_ops;
extern const table_ops_t table_pcre_ops;
extern const table_ops_t table_cidr_ops;
extern const table_ops_t table_list_ops;

/* builtin tables: NAME and text, ends with a NULL name */
typedef struct {
	const char *name;
	const char *text;
} table_builtin_t;
extern const table_builtin_t table_builtins[];

int	table_reader_next(table_reader_t *r, char **line, int *lineno);
int	table_reserve(void *arrp, size_t n, size_t *size, size_t esize);
void	table_warn(table_t *t, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	table_answer_set(table_answer_t *a, const table_t *t, int line, const char *text);
int	table_is_space(int c);
int	table_cidr_parse_key(const char *key, addr_t *a);
int	table_utf8_valid(const char *s);

#endif
