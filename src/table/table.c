/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	table - open, look up and free Postfix-style tables; table lists
 * DESCRIPTION
 *	See table.h. This file picks a table's type from its spec and
 *	holds the first-answer-wins list; the line reader, warnings and
 *	answers every type uses are in table_read.c.
 * DIAGNOSTICS
 *	"FILE:LINE: reason" warnings for bad lines; open errors in WHY.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "table_impl.h"

struct tablelist {
	table_t **tables;
	size_t	n;
};

static const table_ops_t *const table_types[] = {
	&table_regexp_ops, &table_pcre_ops, &table_cidr_ops, &table_list_ops, NULL,
};

/* Read a whole file into memory; NULL with errno set on failure. */
static char *
table_slurp(const char *path, size_t *len)
{
	FILE   *fp;
	char   *buf = NULL;
	size_t	size = 0;
	size_t	n;
	int	saved;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	*len = 0;
	do {
		if (*len + 4096 > size) {
			char   *nbuf = realloc(buf, size = (size + 4096) * 2);

			if (nbuf == NULL)
				goto fail;
			buf = nbuf;
		}
		n = fread(buf + *len, 1, size - *len - 1, fp);
		*len += n;
	} while (n > 0);
	if (ferror(fp))
		goto fail;
	buf[*len] = '\0';
	fclose(fp);
	return buf;
fail:
	saved = errno ? errno : EIO;
	free(buf);
	fclose(fp);
	errno = saved;
	return NULL;
}

/* Find the text of builtin:NAME, or NULL. */
static const char *
table_builtin_text(const char *name)
{
	for (const table_builtin_t *b = table_builtins; b->name; b++)
		if (strcmp(b->name, name) == 0)
			return b->text;
	return NULL;
}

/* Parse every logical line of TEXT with the table's type. */
static int
table_load_text(table_t *t, const char *text, size_t len)
{
	table_reader_t r = { text, text + len, 0, NULL, 0, 0, t };
	int	ret;

	ret = t->ops->load(t, &r);
	free(r.buf);
	return ret;
}

/* Choose the type of SPEC and read its file or builtin text. */
static int
table_load_spec(table_t *t, const char *type, size_t tlen, char *why, size_t whylen)
{
	const char *text;
	char   *file = NULL;
	size_t	len;
	int	ret;

	if (tlen == 7 && strncmp(type, "builtin", 7) == 0) {
		t->ops = &table_list_ops;
		if ((text = table_builtin_text(t->path)) == NULL) {
			snprintf(why, whylen, "%s: unknown builtin table", t->spec);
			return -1;
		}
		return table_load_text(t, text, strlen(text));
	}
	for (size_t i = 0; table_types[i]; i++)
		if (strlen(table_types[i]->type) == tlen
		    && strncmp(table_types[i]->type, type, tlen) == 0)
			t->ops = table_types[i];
	if (t->ops == NULL) {
		snprintf(why, whylen, "%s: unsupported table type \"%.*s\" "
		    "(use regexp, pcre, cidr, list or builtin)", t->spec, (int) tlen, type);
		return -1;
	}
	if ((file = table_slurp(t->path, &len)) == NULL) {
		snprintf(why, whylen, "open %s: %s", t->path, strerror(errno));
		return -1;
	}
	ret = table_load_text(t, file, len);
	free(file);
	if (ret < 0)
		snprintf(why, whylen, "%s: out of memory", t->spec);
	return ret;
}

/* Open one table from its "type:path" spec. */
table_t *
table_open(const char *spec, int *nerrors, char *why, size_t whylen)
{
	table_t *t;
	const char *colon;

	if ((colon = strchr(spec, ':')) == NULL || colon == spec || colon[1] == '\0') {
		snprintf(why, whylen, "%s: table must be given as type:name", spec);
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL || (t->spec = strdup(spec)) == NULL) {
		snprintf(why, whylen, "%s: out of memory", spec);
		free(t);
		return NULL;
	}
	t->path = t->spec + (colon - spec) + 1;
	if (table_load_spec(t, spec, (size_t) (colon - spec), why, whylen) < 0)
		return table_free(t);
	if (nerrors)
		*nerrors += t->errors;
	return t;
}

/* Free a table; returns NULL. */
table_t *
table_free(table_t *t)
{
	if (t == NULL)
		return NULL;
	if (t->ops && t->impl)
		t->ops->free(t->impl);
	free(t->spec);
	free(t);
	return NULL;
}

/* The "type:name" the table was opened with. */
const char *
table_spec(const table_t *t)
{
	return t->spec;
}

/* Is S well-formed UTF-8 (RFC 3629: no overlongs, surrogates, > U+10FFFF)? */
int
table_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p) {
		unsigned char c = *p++;
		int	more;
		unsigned char lo = 0x80, hi = 0xbf;

		if (c < 0x80)
			continue;
		if (c < 0xc2 || c > 0xf4)
			return 0;
		more = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (*p < lo || *p > hi)
			return 0;
		for (p++; --more > 0; p++)
			if (*p < 0x80 || *p > 0xbf)
				return 0;
	}
	return 1;
}

/* Ask one table; 1 with an answer, 0 without (or for a key that is not UTF-8). */
int
table_lookup(const table_t *t, const table_query_t *q, table_answer_t *a)
{
	if ((q->name && !table_utf8_valid(q->name)) || (q->mail && !table_utf8_valid(q->mail)))
		return 0;
	return t->ops->lookup(t, q, a);
}

/* Parse a cidr: lookup key the way Postfix does; 0 or -1. */
int
table_cidr_parse_key(const char *key, addr_t *a)
{
	a->family = strchr(key, ':') ? AF_INET6 : AF_INET;
	memset(a->bytes, 0, sizeof(a->bytes));
	return inet_pton(a->family, key, a->bytes) == 1 ? 0 : -1;
}

/* postmap -q: look up one text KEY as Postfix would. */
int
table_lookup_key(const table_t *t, const char *key, table_answer_t *a)
{
	table_query_t q = { NULL, NULL, NULL };
	addr_t	addr;

	if (!table_utf8_valid(key))
		return 0;
	if (t->ops == &table_cidr_ops) {
		if (table_cidr_parse_key(key, &addr) < 0)
			return 0;
		q.addr = &addr;
	} else if (t->ops == &table_list_ops && strchr(key, '@')) {
		q.mail = key;
	} else if (t->ops == &table_list_ops && addr_parse(key, &addr) == 0) {
		q.addr = &addr;
	} else {
		q.name = key;
	}
	return t->ops->lookup(t, &q, a);
}

/* Open every table of a list parameter. */
tablelist_t *
tablelist_open(const strlist_t *specs, int *nerrors, char *why, size_t whylen)
{
	tablelist_t *l;
	size_t	n = specs ? specs->n : 0;

	if ((l = calloc(1, sizeof(*l))) == NULL
	    || (n > 0 && (l->tables = calloc(n, sizeof(*l->tables))) == NULL)) {
		snprintf(why, whylen, "out of memory");
		free(l);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if ((l->tables[i] = table_open(specs->items[i], nerrors, why, whylen)) == NULL)
			return tablelist_free(l);
		l->n++;
	}
	return l;
}

/* Free a table list; returns NULL. */
tablelist_t *
tablelist_free(tablelist_t *l)
{
	if (l == NULL)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		table_free(l->tables[i]);
	free(l->tables);
	free(l);
	return NULL;
}

/* Ask each table in order; the first answer wins. */
int
tablelist_lookup(const tablelist_t *l, const table_query_t *q, table_answer_t *a)
{
	if (l == NULL)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (table_lookup(l->tables[i], q, a) > 0)
			return 1;
	return 0;
}

/* How many tables the list holds. */
size_t
tablelist_count(const tablelist_t *l)
{
	return l ? l->n : 0;
}
