/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	table - Postfix-style lookup tables: regexp, pcre, cidr, list, builtin
 * SYNOPSIS
 *	#include "table.h"
 *
 *	table_t *table_open(const char *spec, int *nerrors, char *why, size_t whylen);
 *	table_t *table_free(table_t *t);
 *	int table_lookup(const table_t *t, const table_query_t *q, table_answer_t *a);
 *	int table_lookup_key(const table_t *t, const char *key, table_answer_t *a);
 *	const char *table_spec(const table_t *t);
 *
 *	tablelist_t *tablelist_open(const strlist_t *specs, int *nerrors, char *why, size_t whylen);
 *	tablelist_t *tablelist_free(tablelist_t *l);
 *	int tablelist_lookup(const tablelist_t *l, const table_query_t *q, table_answer_t *a);
 *	size_t tablelist_count(const tablelist_t *l);
 * DESCRIPTION
 *	A table spec is "TYPE:PATH" as in Postfix:
 *	regexp:FILE	regexp_table(5): POSIX ERE, flags i x m, !/re/,
 *			/re1/!/re2/, if/endif, $N substitution.
 *	pcre:FILE	pcre_table(5) on PCRE2 (JIT): flags i m s x A E U.
 *	cidr:FILE	cidr_table(5): ADDR[/LEN] result, !, if/endif.
 *	list:FILE	Postgrey whitelist_clients / whitelist_recipients
 *			format: host names (and their subdomains), .domain
 *			(subdomains only), IPv4 prefixes (192.168.1),
 *			addresses and CIDR blocks, IPv6, /regex/, and for
 *			mail addresses user@domain, user@ (any domain,
 *			with +extension) and domain. A hit answers "OK".
 *	builtin:NAME	a list: table compiled into the program
 *			(builtin:s25r_whitelist = conf/s25r_whitelist).
 *	Files are read once; "logical lines" follow Postfix: a line that
 *	starts with white space continues the previous one, keeping its
 *	white space; empty and #-comment lines are ignored.
 *
 *	table_lookup() asks one table about one fact set: pattern tables
 *	(regexp, pcre) get Q->mail when set, else Q->name (the client
 *	name, or "[IP]" when there is no verified name); cidr tables get
 *	only Q->addr; list tables use whichever entries fit the facts. It
 *	returns 1 and fills A (answer text after $N substitution, table
 *	spec and line), 0 when the table has no answer.
 *
 *	table_lookup_key() is postmap -q: KEY is given to pattern and list
 *	tables as is (a list: key that holds '@' is a mail address, one
 *	that parses as an IP address is an address, else a name); cidr
 *	tables parse it exactly as Postfix does (inet_pton, family chosen
 *	by the presence of ':').
 *
 *	A key that is not well-formed UTF-8 gets no answer from any table,
 *	as in Postfix with smtputf8_enable = yes (its default).
 *
 *	A tablelist_t is the value of a list parameter (several specs);
 *	tablelist_lookup() asks them in order and the first answer wins.
 *	An empty or NULL list never answers.
 * THREADS
 *	Tables are immutable after open; lookups may run concurrently
 *	from any number of threads (PCRE2 match data is per thread).
 * DIAGNOSTICS
 *	A bad line is logged as a warning "FILE:LINE: reason", skipped, and
 *	counted in *NERRORS (NERRORS may be NULL). A table that cannot be
 *	opened (unknown type, missing file) makes the open functions return
 *	NULL with the reason in WHY; nothing is logged for it.
 */
#ifndef TG_TABLE_H
#define TG_TABLE_H

#include <stddef.h>
#include "addr.h"
#include "strlist.h"

#define TABLE_ANSWER_MAX	2048	/* longer answers are cut */

typedef struct table table_t;
typedef struct tablelist tablelist_t;

typedef struct {
	const char *name;	/* client name or "[IP]"; NULL: none */
	const addr_t *addr;	/* client address; NULL: none */
	const char *mail;	/* sender or recipient address; NULL: none */
} table_query_t;

typedef struct {
	char	text[TABLE_ANSWER_MAX];	/* the answer, e.g. "OK", "WARN S25R" */
	const char *table;	/* spec of the table that answered (owned by it) */
	int	line;		/* first line of the rule that answered */
} table_answer_t;

table_t *table_open(const char *spec, int *nerrors, char *why, size_t whylen);
table_t *table_free(table_t *t);
int	table_lookup(const table_t *t, const table_query_t *q, table_answer_t *a);
int	table_lookup_key(const table_t *t, const char *key, table_answer_t *a);
const char *table_spec(const table_t *t);

tablelist_t *tablelist_open(const strlist_t *specs, int *nerrors, char *why, size_t whylen);
tablelist_t *tablelist_free(tablelist_t *l);
int	tablelist_lookup(const tablelist_t *l, const table_query_t *q, table_answer_t *a);
size_t	tablelist_count(const tablelist_t *l);

#endif
