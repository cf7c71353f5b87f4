/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	table_pattern - rules, if/endif and $N results of regexp and pcre tables
 * DESCRIPTION
 *	See table_pattern.h. The semantics follow Postfix's dict_regexp
 *	and dict_pcre: a rule with a bad pattern, bad flags or a bad
 *	result is skipped with a warning; "if" without "endif" ends the
 *	search when it does not match; "endif" without "if" is skipped;
 *	$N in the result of a negated pattern is an error; a missing
 *	result is the empty string (with a warning).
 * DIAGNOSTICS
 *	"FILE:LINE: reason" through table_warn().
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "table_pattern.h"

#define PATTERN_MAX_SUB	99	/* highest $N accepted in a result */

enum { PATTERN_OP_MATCH, PATTERN_OP_IF, PATTERN_OP_ENDIF };

typedef struct {
	int	op;
	int	line;
	void   *re1;		/* primary pattern (MATCH, IF) */
	int	match1;		/* 1: must match, 0: must not match */
	void   *re2;		/* optional second pattern (regexp only) */
	int	match2;
	char   *result;		/* literal result, or raw text with $N */
	size_t	max_sub;	/* largest $N in the result, 0: literal */
	size_t	endif;		/* IF: index of its ENDIF, SIZE_MAX: none */
} pattern_rule_t;

typedef struct {
	const pattern_engine_t *e;
	pattern_rule_t *rules;
	size_t	n;
	size_t	size;
} pattern_table_t;

typedef struct {
	char   *re;		/* points into the line */
	int	options;
	int	match;
} pattern_text_t;

/* Postfix's ISALNUM: ASCII letters and digits only. */
static int
pattern_isalnum(int c)
{
	return c < 128 && isalnum(c);
}

/* Read the flag letters at *P into *OPTIONS; -1 with a warning when bad. */
static int
pattern_flags(table_t *t, int line, const pattern_engine_t *e, char **p, int *options)
{
	const pattern_flag_t *f;
	char   *s = *p;

	*options = e->options;
	for (; *s && !table_is_space((unsigned char) *s)
	    && !(e->second_pattern && *s == '!'); s++) {
		for (f = e->flags; f->letter != '\0' && f->letter != *s; f++)
			continue;
		if (f->letter == '\0') {
			table_warn(t, line, "unknown regexp option \"%c\": skipping this rule", *s);
			return -1;
		}
		if (f->bit == 0)
			table_warn(t, line, "ignoring obsolete regexp option \"%c\"", *s);
		*options ^= (int) f->bit;
	}
	*p = s;
	return 0;
}

/* Read "[!]DELIM re DELIM flags" at *P; 0 with a warning when bad. */
static int
pattern_get(table_t *t, int line, const pattern_engine_t *e, char **p, pattern_text_t *pat)
{
	char   *s = *p;
	char	delim;

	pat->match = 1;
	for (;; s++) {
		if (*s == '!')
			pat->match = !pat->match;
		else if (!table_is_space((unsigned char) *s))
			break;
	}
	if (*s == '\0') {
		table_warn(t, line, "no %s pattern: skipping this rule", t->ops->type);
		return 0;
	}
	delim = *s++;
	pat->re = s;
	for (; *s && *s != delim; s++)
		if (*s == '\\' && s[1])
			s++;
	if (*s == '\0') {
		table_warn(t, line, "no closing delimiter \"%c\": skipping this rule", delim);
		return 0;
	}
	*s++ = '\0';
	if (pattern_flags(t, line, e, &s, &pat->options) < 0)
		return 0;
	*p = s;
	return 1;
}

/* Parse the $ reference after the '$' at *V: $N, ${N} or $(N); N or -1. */
static long
pattern_ref(const char **v, const char **why)
{
	const char *name, *end, *p = *v;
	size_t	n = 0;

	if (*p == '{' || *p == '(') {
		char	open = *p, close = (*p == '{') ? '}' : ')';
		int	level = 1;

		for (name = end = ++p; level > 0; end++) {
			if (*end == '\0') {
				*why = "truncated $ reference";
				return -1;
			}
			level += (*end == open) - (*end == close);
		}
		*v = end--;
	} else {
		for (name = end = p; pattern_isalnum((unsigned char) *end) || *end == '_'; end++)
			;
		*v = end;
	}
	if (end == name) {
		*why = "empty $ reference";
		return -1;
	}
	for (const char *c = name; c < end && n <= PATTERN_MAX_SUB; c++) {
		if (!isdigit((unsigned char) *c)) {
			*why = "non-numeric replacement index";
			return -1;
		}
		n = n * 10 + (size_t) (*c - '0');
	}
	if (n < 1 || n > PATTERN_MAX_SUB) {
		*why = "out-of-range replacement index";
		return -1;
	}
	return (long) n;
}

/*
 * Walk a result the way Postfix's mac_parse() does. With CAPS NULL,
 * check it and find the largest $N (*MAX_SUB) and the literal text
 * (OUT, $$ made $); with CAPS, write the expansion into OUT.
 */
static int
pattern_walk(const char *v, const char *key, const pattern_cap_t *caps,
	     size_t *max_sub, char *out, size_t outsize, const char **why)
{
	size_t	o = 0;
	long	n;

#define PUT(c) do { if (o + 1 < outsize) out[o++] = (c); } while (0)
	while (*v) {
		if (*v != '$' || v[1] == '$') {
			PUT(*v);
			v += (*v == '$') ? 2 : 1;
			continue;
		}
		v++;
		if ((n = pattern_ref(&v, why)) < 0)
			return -1;
		if (caps == NULL) {
			if ((size_t) n > *max_sub)
				*max_sub = (size_t) n;
		} else if (caps[n].so >= 0 && caps[n].eo > caps[n].so) {
			for (long i = caps[n].so; i < caps[n].eo; i++)
				PUT(key[i]);
		}
	}
	if (outsize)
		out[o] = '\0';
	return 0;
#undef PUT
}

/* Append a rule; -1 when memory runs out. */
static int
pattern_add(pattern_table_t *pt, const pattern_rule_t *rule)
{
	if (table_reserve(&pt->rules, pt->n, &pt->size, sizeof(*rule)) < 0)
		return -1;
	pt->rules[pt->n++] = *rule;
	return 0;
}

/* Free what one rule owns. */
static void
pattern_rule_clear(const pattern_engine_t *e, pattern_rule_t *rule)
{
	if (rule->re1)
		e->free(rule->re1);
	if (rule->re2)
		e->free(rule->re2);
	free(rule->result);
}

/* Check the result text and keep a literal copy when it has no $N. */
static int
pattern_result(table_t *t, int line, const char *p, pattern_rule_t *rule)
{
	const char *why = NULL;
	size_t	len = strlen(p) + 1;

	if (*p == '\0')
		table_warn(t, line, "no replacement text: using empty string");
	if ((rule->result = malloc(len)) == NULL)
		return -1;
	if (pattern_walk(p, NULL, NULL, &rule->max_sub, rule->result, len, &why) < 0) {
		table_warn(t, line, "bad replacement syntax (%s): skipping this rule", why);
		return 0;
	}
	if (rule->max_sub > 0)
		memcpy(rule->result, p, len);
	return 1;
}

/* Parse "[!]/re1/[!/re2/] result"; 1 done, 0 skipped, -1 memory. */
static int
pattern_parse_match(table_t *t, pattern_table_t *pt, int line, char *p)
{
	const pattern_engine_t *e = pt->e;
	pattern_text_t first, second = { NULL, 0, 1 };
	pattern_rule_t rule = { PATTERN_OP_MATCH, line, NULL, 1, NULL, 1, NULL, 0, SIZE_MAX };
	size_t	ncapt = 0;
	int	ret;

	if (!pattern_get(t, line, e, &p, &first))
		return 0;
	if (e->second_pattern && *p == '!' && !pattern_get(t, line, e, &p, &second))
		return 0;
	while (table_is_space((unsigned char) *p))
		p++;
	if ((ret = pattern_result(t, line, p, &rule)) <= 0)
		goto skip;
	ret = 0;
	if (rule.max_sub > 0 && first.match == 0) {
		table_warn(t, line, "$number found in negative match replacement text: "
		    "skipping this rule");
		goto skip;
	}
	if ((rule.re1 = e->compile(t, line, first.re, first.options,
	    rule.max_sub == 0, &ncapt)) == NULL)
		goto skip;
	if (rule.max_sub > ncapt) {
		table_warn(t, line, "out of range replacement index \"%zu\": skipping this rule",
		    rule.max_sub);
		goto skip;
	}
	if (second.re && (rule.re2 = e->compile(t, line, second.re, second.options, 1,
	    &ncapt)) == NULL)
		goto skip;
	rule.match1 = first.match;
	rule.match2 = second.match;
	if (pattern_add(pt, &rule) < 0) {
		ret = -1;
		goto skip;
	}
	return 1;
skip:
	pattern_rule_clear(e, &rule);
	return ret;
}

/* Parse "if [!]/re/flags"; 1 done, 0 skipped, -1 memory. */
static int
pattern_parse_if(table_t *t, pattern_table_t *pt, int line, char *p)
{
	pattern_text_t pat;
	pattern_rule_t rule = { PATTERN_OP_IF, line, NULL, 1, NULL, 1, NULL, 0, SIZE_MAX };
	size_t	ncapt;

	while (table_is_space((unsigned char) *p))
		p++;
	if (!pattern_get(t, line, pt->e, &p, &pat))
		return 0;
	while (table_is_space((unsigned char) *p))
		p++;
	if (*p)
		table_warn(t, line, "ignoring extra text after IF statement: \"%s\"", p);
	if ((rule.re1 = pt->e->compile(t, line, pat.re, pat.options, 1, &ncapt)) == NULL)
		return 0;
	rule.match1 = pat.match;
	if (pattern_add(pt, &rule) < 0) {
		pt->e->free(rule.re1);
		return -1;
	}
	return 1;
}

/* Parse one logical line into PT; IFS holds the open IF indexes. */
static int
pattern_parse_line(table_t *t, pattern_table_t *pt, int line, char *p,
		   size_t *ifs, size_t *nifs)
{
	pattern_rule_t endif = { PATTERN_OP_ENDIF, line, NULL, 1, NULL, 1, NULL, 0, SIZE_MAX };
	int	ret;

	if (!pattern_isalnum((unsigned char) *p))
		return pattern_parse_match(t, pt, line, p);
	if (strncasecmp(p, "if", 2) == 0 && !pattern_isalnum((unsigned char) p[2])) {
		if ((ret = pattern_parse_if(t, pt, line, p + 2)) > 0)
			ifs[(*nifs)++] = pt->n - 1;
		return ret;
	}
	if (strncasecmp(p, "endif", 5) == 0 && !pattern_isalnum((unsigned char) p[5])) {
		if (*nifs == 0) {
			table_warn(t, line, "ignoring ENDIF without matching IF");
			return 0;
		}
		for (p += 5; table_is_space((unsigned char) *p); p++)
			;
		if (*p)
			table_warn(t, line, "ignoring extra text after ENDIF");
		if (pattern_add(pt, &endif) < 0)
			return -1;
		pt->rules[ifs[--(*nifs)]].endif = pt->n - 1;
		return 1;
	}
	table_warn(t, line, "ignoring unrecognized request");
	return 0;
}

/* Load a regexp: or pcre: table with the engine its ops name. */
int
pattern_load(table_t *t, table_reader_t *r)
{
	const pattern_engine_t *e = t->ops->engine;
	pattern_table_t *pt;
	size_t *ifs = NULL, nifs = 0, ifsize = 0;
	char   *line;
	int	lineno, ret = 0;

	if ((pt = calloc(1, sizeof(*pt))) == NULL)
		return -1;
	pt->e = e;
	t->impl = pt;
	while (ret >= 0 && (ret = table_reader_next(r, &line, &lineno)) > 0) {
		if (table_reserve(&ifs, nifs, &ifsize, sizeof(*ifs)) < 0) {	/* one more IF */
			ret = -1;
			break;
		}
		ret = pattern_parse_line(t, pt, lineno, line, ifs, &nifs);
	}
	while (ret >= 0 && nifs > 0)
		table_warn(t, pt->rules[ifs[--nifs]].line, "IF has no matching ENDIF");
	free(ifs);
	return ret < 0 ? -1 : 0;
}

/* Does KEY satisfy one pattern? Errors count as "no". */
static int
pattern_test(const pattern_engine_t *e, const void *re, int match, const char *key,
	     size_t len, pattern_cap_t *caps, size_t ncaps)
{
	int	rc = e->match(re, key, len, caps, ncaps);

	if (rc < 0)
		return 0;
	return rc ? match : !match;
}

/* First rule that answers KEY, with $N substituted. */
int
pattern_lookup(const table_t *t, const char *key, table_answer_t *a)
{
	const pattern_table_t *pt = t->impl;
	const pattern_engine_t *e = pt->e;
	pattern_cap_t caps[PATTERN_MAX_SUB + 1];
	size_t	len = strlen(key);
	const char *why;

	for (size_t i = 0; i < pt->n; i++) {
		const pattern_rule_t *rule = &pt->rules[i];
		size_t	ncaps = rule->max_sub ? rule->max_sub + 1 : 0;

		switch (rule->op) {
		case PATTERN_OP_MATCH:
			if (!pattern_test(e, rule->re1, rule->match1, key, len, caps, ncaps))
				continue;
			if (rule->re2 && !pattern_test(e, rule->re2, rule->match2, key, len, NULL, 0))
				continue;
			a->table = t->spec;
			a->line = rule->line;
			if (rule->max_sub == 0)
				snprintf(a->text, sizeof(a->text), "%s", rule->result);
			else
				pattern_walk(rule->result, key, caps, NULL, a->text,
				    sizeof(a->text), &why);
			return 1;
		case PATTERN_OP_IF:
			if (pattern_test(e, rule->re1, rule->match1, key, len, NULL, 0))
				continue;
			if (rule->endif == SIZE_MAX)
				return 0;
			i = rule->endif;
			continue;
		default:
			continue;
		}
	}
	return 0;
}

/* Pattern tables see the mail address when there is one, else the name. */
int
pattern_query_lookup(const table_t *t, const table_query_t *q, table_answer_t *a)
{
	const char *key = q->mail ? q->mail : q->name;

	return key ? pattern_lookup(t, key, a) : 0;
}

/* Free a pattern table. */
void
pattern_free(void *impl)
{
	pattern_table_t *pt = impl;

	for (size_t i = 0; i < pt->n; i++)
		pattern_rule_clear(pt->e, &pt->rules[i]);
	free(pt->rules);
	free(pt);
}

const table_ops_t table_regexp_ops = {
	"regexp", pattern_load, pattern_query_lookup, pattern_free, &pattern_regexp_engine,
};
const table_ops_t table_pcre_ops = {
	"pcre", pattern_load, pattern_query_lookup, pattern_free, &pattern_pcre_engine,
};
