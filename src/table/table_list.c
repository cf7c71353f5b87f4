/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	table_list - list: tables (Postgrey whitelist files) and builtin: tables
 * DESCRIPTION
 *	One entry per line; '#' starts a comment anywhere on the line;
 *	leading and trailing white space is ignored (Postgrey's rules, no
 *	continuation lines). An entry is, in this order of recognition:
 *	/REGEX/		PCRE2, case-insensitive, no white space inside;
 *			matched against the client name or the mail address
 *	1.2.3.4, 1.2.3, 1.2, 1	an IPv4 address or a /32 /24 /16 /8 prefix
 *	ADDR/LEN	an IPv4 or IPv6 CIDR block (host bits are ignored)
 *	IPv6 address	an address, or a textual prefix such as 2001:db8:
 *	user@domain	that mail address, also user+ext@domain
 *	user@		user or user+ext at any domain (postmaster@)
 *	.domain		names or mail domains below domain
 *	domain		the name (mail domain) domain and everything below it
 *	Comparisons ignore case. A matching entry answers "OK".
 * DIAGNOSTICS
 *	"FILE:LINE: reason" for lines with white space or a bad regex.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "table_impl.h"
#include "table_pcre.h"

enum { LIST_REGEX, LIST_NET, LIST_V6TEXT, LIST_MAIL, LIST_USER, LIST_DOMAIN };

typedef struct {
	int	kind;
	int	line;
	char   *text;		/* the entry as written (domain: without a leading dot) */
	size_t	len;		/* strlen(text) */
	int	subdomains_only;	/* DOMAIN written as .domain */
	pcre2_code *re;		/* REGEX */
	net_t	net;		/* NET */
} list_entry_t;

typedef struct {
	list_entry_t *entries;
	size_t	n;
	size_t	size;
} list_table_t;

/* Is TEXT all digits and dots, 1 to 4 groups of 1 to 3 digits? */
static int
list_ipv4_prefix(const char *text, unsigned *groups)
{
	unsigned n = 0, digits = 0;

	for (const char *c = text;; c++) {
		if (isdigit((unsigned char) *c)) {
			if (++digits > 3)
				return 0;
		} else if (*c == '.' || *c == '\0') {
			if (digits == 0 || ++n > 4)
				return 0;
			digits = 0;
			if (*c == '\0')
				break;
		} else {
			return 0;
		}
	}
	*groups = n;
	return 1;
}

/* Turn an IPv4 prefix (1 to 4 groups) or ADDR/LEN into a network. */
static int
list_parse_net(const char *text, list_entry_t *e)
{
	char	buf[64];
	unsigned groups;
	const char *slash = strchr(text, '/');

	if (slash == NULL && list_ipv4_prefix(text, &groups)) {
		snprintf(buf, sizeof(buf), "%s%s", text,
		    groups == 4 ? "" : groups == 3 ? ".0" : groups == 2 ? ".0.0" : ".0.0.0");
		e->net.prefix = groups * 8;
		return addr_parse(buf, &e->net.addr);
	}
	if (slash != NULL && (size_t) (slash - text) < sizeof(buf) && isdigit((unsigned char) slash[1])) {
		char   *end;
		unsigned long len = strtoul(slash + 1, &end, 10);

		memcpy(buf, text, (size_t) (slash - text));
		buf[slash - text] = '\0';
		if (*end != '\0' || addr_parse(buf, &e->net.addr) < 0
		    || len > (e->net.addr.family == AF_INET ? 32UL : 128UL))
			return -1;
		e->net.prefix = (unsigned) len;
		addr_mask(&e->net.addr, e->net.prefix);
		return 0;
	}
	if (slash == NULL && strchr(text, ':') && addr_parse(text, &e->net.addr) == 0) {
		e->net.prefix = e->net.addr.family == AF_INET ? 32 : 128;
		return 0;
	}
	return -1;
}

/* Classify one entry; 1 kept, 0 skipped with a warning, -1 memory. */
static int
list_parse_entry(table_t *t, int line, char *s, list_entry_t *e)
{
	size_t	len = strlen(s);
	char   *at;

	if (strpbrk(s, " \t\r\f\v")) {
		table_warn(t, line, "doesn't look like a host name or address: skipping this line");
		return 0;
	}
	if (len > 2 && s[0] == '/' && s[len - 1] == '/') {
		PCRE2_UCHAR msg[256];
		PCRE2_SIZE off;
		int	err;

		s[len - 1] = '\0';
		e->kind = LIST_REGEX;
		e->re = pcre2_compile((PCRE2_SPTR) s + 1, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS,
		    &err, &off, NULL);
		if (e->re == NULL) {
			pcre2_get_error_message(err, msg, sizeof(msg));
			table_warn(t, line, "error in regex at offset %zu: %s: skipping this line",
			    (size_t) off, (char *) msg);
			return 0;
		}
		(void) pcre2_jit_compile(e->re, PCRE2_JIT_COMPLETE);
	} else if (list_parse_net(s, e) == 0) {
		e->kind = LIST_NET;
	} else if (strchr(s, ':') && strchr(s, ':') != strrchr(s, ':')) {
		e->kind = LIST_V6TEXT;
	} else if ((at = strchr(s, '@')) != NULL) {
		e->kind = at[1] ? LIST_MAIL : LIST_USER;
	} else {
		e->kind = LIST_DOMAIN;
		if ((e->subdomains_only = (s[0] == '.')))
			s++;
	}
	e->len = strlen(s);
	return (e->text = strdup(s)) ? 1 : -1;
}

/* Load a list: or builtin: table, one physical line at a time. */
static int
list_load(table_t *t, table_reader_t *r)
{
	list_table_t *lt;

	if ((lt = calloc(1, sizeof(*lt))) == NULL)
		return -1;
	t->impl = lt;
	while (r->pos < r->end) {
		const char *s = r->pos, *e = memchr(s, '\n', (size_t) (r->end - s));
		char	buf[1024];
		char   *p, *hash;
		int	ret;

		e = e ? e : r->end;
		r->pos = e < r->end ? e + 1 : e;
		r->lineno++;
		if (e - s >= (long) sizeof(buf)) {
			table_warn(t, r->lineno, "line longer than %zu bytes: skipping it", sizeof(buf) - 1);
			continue;
		}
		snprintf(buf, sizeof(buf), "%.*s", (int) (e - s), s);
		if ((hash = strchr(buf, '#')) != NULL)
			*hash = '\0';
		for (p = buf; table_is_space((unsigned char) *p); p++)
			;
		for (size_t n = strlen(p); n > 0 && table_is_space((unsigned char) p[n - 1]); n--)
			p[n - 1] = '\0';
		if (*p == '\0')
			continue;
		if (table_reserve(&lt->entries, lt->n, &lt->size, sizeof(lt->entries[0])) < 0)
			return -1;
		memset(&lt->entries[lt->n], 0, sizeof(lt->entries[0]));
		lt->entries[lt->n].line = r->lineno;
		if ((ret = list_parse_entry(t, r->lineno, p, &lt->entries[lt->n])) < 0)
			return -1;
		lt->n += (size_t) ret;
	}
	return 0;
}

/* Free a list table. */
static void
list_free(void *impl)
{
	list_table_t *lt = impl;

	for (size_t i = 0; i < lt->n; i++) {
		pcre2_code_free(lt->entries[i].re);
		free(lt->entries[i].text);
	}
	free(lt->entries);
	free(lt);
}

/* Does S end with ".SUFFIX" (or equal SUFFIX unless ONLY_BELOW), ignoring case? */
static int
list_domain_match(const char *s, size_t slen, const char *suffix, size_t n, int only_below,
		  char sep)
{
	if (slen == n)
		return !only_below && sep != '@' && strcasecmp(s, suffix) == 0;
	if (slen < n + 1 || strcasecmp(s + slen - n, suffix) != 0)
		return 0;
	return s[slen - n - 1] == '.' || (!only_below && sep == '@' && s[slen - n - 1] == '@');
}

/* Postgrey's user@ and user@domain: USER[+ext]@[DOMAIN]. */
static int
list_mail_match(const char *mail, const char *entry, int any_domain)
{
	const char *at = strchr(entry, '@');
	size_t	ulen = (size_t) (at - entry);
	const char *p;

	if (strncasecmp(mail, entry, ulen) != 0)
		return 0;
	p = mail + ulen;
	if (*p == '+') {
		const char *mat = strchr(p, '@');

		if (mat == NULL || mat == p + 1)
			return 0;
		p = mat;
	}
	if (*p != '@')
		return 0;
	return any_domain || strcasecmp(p + 1, at + 1) == 0;
}

/* Postgrey's textual IPv6 prefix: starts with TEXT at a word boundary. */
static int
list_v6text_match(const addr_t *addr, const char *text)
{
	char	buf[ADDR_TEXT_MAX];
	size_t	n = strlen(text);

	if (addr->family != AF_INET6 || addr_format(addr, buf, sizeof(buf)) == 0)
		return 0;
	if (strncasecmp(buf, text, n) != 0)
		return 0;
	return (isalnum((unsigned char) text[n - 1]) != 0) != (isalnum((unsigned char) buf[n]) != 0);
}

/* Does entry E match the facts in Q (KEY: mail or name, KLEN its length)? */
static int
list_entry_match(const list_entry_t *e, const table_query_t *q, const char *key, size_t klen)
{
	switch (e->kind) {
	case LIST_REGEX:{
			pcre2_match_data *md = table_pcre_match_data(1);

			return key && md && pcre2_match(e->re, (PCRE2_SPTR) key, klen, 0, 0,
			    md, NULL) >= 0;
		}
	case LIST_NET:
		return q->mail == NULL && q->addr && net_contains(&e->net, q->addr);
	case LIST_V6TEXT:
		return q->mail == NULL && q->addr && list_v6text_match(q->addr, e->text);
	case LIST_MAIL:
	case LIST_USER:
		return q->mail && list_mail_match(q->mail, e->text, e->kind == LIST_USER);
	default:
		return key && list_domain_match(key, klen, e->text, e->len, e->subdomains_only,
		    q->mail ? '@' : '.');
	}
}

/* First entry that matches answers "OK". */
static int
list_lookup(const table_t *t, const table_query_t *q, table_answer_t *a)
{
	const list_table_t *lt = t->impl;
	const char *key = q->mail ? q->mail : q->name;
	size_t	klen = key ? strlen(key) : 0;

	for (size_t i = 0; i < lt->n; i++) {
		if (list_entry_match(&lt->entries[i], q, key, klen)) {
			table_answer_set(a, t, lt->entries[i].line, "OK");
			return 1;
		}
	}
	return 0;
}

const table_ops_t table_list_ops = {
	"list", list_load, list_lookup, list_free, NULL,
};
