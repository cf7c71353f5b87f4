/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	s25r - S25R classification: built-in rules, whitelist and access tables
 * DESCRIPTION
 *	See s25r.h. The rules are those of the S25R method (Selective
 *	SMTP Rejection); each is compiled once, caseless, with the PCRE2
 *	JIT when the library has one.
 * DIAGNOSTICS
 *	s25r_create() fails (NULL, WHY) when a rule does not compile or a
 *	table cannot be opened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "s25r.h"
#include "table_pcre.h"
#include "words.h"

static const char *const s25r_rules[S25R_RULES] = {
	NULL,			/* rule 0: no verified name, see s25r_name_unknown() */
	"^[^.]*[0-9][^0-9.]+[0-9].*\\.",
	"^[^.]*[0-9]{5}",
	"^([^.]+\\.)?[0-9][^.]*\\.[^.]+\\..+\\.[a-z]",
	"^[^.]*[0-9]\\.[^.]*[0-9]-[0-9]",
	"^[^.]*[0-9]\\.[^.]*[0-9]\\.[^.]+\\..+\\.",
	"^(dhcp|dialup|ppp|[achrsvx]?dsl)[^.]*[0-9]",
};

struct s25r {
	int	builtin;			/* s25r_builtin_rules */
	pcre2_code *rules[S25R_RULES];		/* [0] unused */
	tablelist_t *whitelist;			/* s25r_whitelist */
	tablelist_t *access;			/* s25r_client_access */
};

/* Compile the built-in rules. */
static int
s25r_compile(s25r_t *s, char *why, size_t whylen)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int	err;

	for (int i = 1; i < S25R_RULES; i++) {
		s->rules[i] = pcre2_compile((PCRE2_SPTR) s25r_rules[i], PCRE2_ZERO_TERMINATED,
		    PCRE2_CASELESS, &err, &off, NULL);
		if (s->rules[i] == NULL) {
			pcre2_get_error_message(err, msg, sizeof(msg));
			snprintf(why, whylen, "s25r rule %d: %s", i, (char *) msg);
			return -1;
		}
		(void) pcre2_jit_compile(s->rules[i], PCRE2_JIT_COMPLETE);
	}
	return 0;
}

/* Build a classifier from the configuration. */
s25r_t *
s25r_create(const config_t *cfg, int *nerrors, char *why, size_t whylen)
{
	s25r_t *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	s->builtin = cfg->s25r_builtin_rules;
	if (s25r_compile(s, why, whylen) < 0
	    || (s->whitelist = tablelist_open(&cfg->s25r_whitelist, nerrors, why, whylen)) == NULL
	    || (s->access = tablelist_open(&cfg->s25r_client_access, nerrors, why, whylen)) == NULL)
		return s25r_free(s);
	return s;
}

/* Free a classifier; returns NULL. */
s25r_t *
s25r_free(s25r_t *s)
{
	if (s == NULL)
		return NULL;
	for (int i = 1; i < S25R_RULES; i++)
		pcre2_code_free(s->rules[i]);
	tablelist_free(s->whitelist);
	tablelist_free(s->access);
	free(s);
	return NULL;
}

/* No verified name: NULL, "", "unknown" or "[ADDR]" (rule 0). */
int
s25r_name_unknown(const char *name)
{
	size_t	len;

	if (name == NULL || *name == '\0' || strcasecmp(name, "unknown") == 0)
		return 1;
	len = strlen(name);
	return name[0] == '[' && name[len - 1] == ']';
}

/* Is a table answer OK or PERMIT (first word, any case)? */
int
s25r_answer_is_ok(const char *answer)
{
	size_t	len = strcspn(answer, " \t");

	return (len == 2 && strncasecmp(answer, "ok", 2) == 0)
	    || (len == 6 && strncasecmp(answer, "permit", 6) == 0);
}

/* First built-in rule (1..6) that NAME matches, or 0. */
static int
s25r_match_rules(const s25r_t *s, const char *name)
{
	pcre2_match_data *md = table_pcre_match_data(1);
	size_t	len = strlen(name);

	if (md == NULL)
		return 0;
	for (int i = 1; i < S25R_RULES; i++)
		if (pcre2_match(s->rules[i], (PCRE2_SPTR) name, len, 0, 0, md, NULL) >= 0)
			return i;
	return 0;
}

/* Fill a verdict. */
static int
s25r_verdict(s25r_verdict_t *out, int suspicious, int rule, const char *prefix,
	     const table_answer_t *a)
{
	out->suspicious = suspicious;
	out->rule = rule;
	out->answer[0] = '\0';
	if (a) {
		snprintf(out->reason, sizeof(out->reason), "%s%s:%d", prefix, a->table, a->line);
		snprintf(out->answer, sizeof(out->answer), "%s", a->text);
	} else if (rule >= 0) {
		snprintf(out->reason, sizeof(out->reason), "%s%d", W_S25R_RULE_, rule);
	} else {
		snprintf(out->reason, sizeof(out->reason), "%s", W_NO_MATCH);
	}
	return suspicious;
}

/* The name tables' key: NAME without a trailing dot, or "[ADDR]" without a name. */
const char *
s25r_client_key(const char *name, const addr_t *addr, char *buf, size_t size)
{
	size_t	len = name ? strlen(name) : 0;

	if (s25r_name_unknown(name)) {
		if (addr == NULL || size < ADDR_TEXT_MAX + 2)
			return len ? name : NULL;
		buf[0] = '[';
		addr_format(addr, buf + 1, size - 2);
		strcat(buf, "]");
		return buf;
	}
	/* Postfix never shows the root dot; one would add a label to rule 5. */
	if (len > 1 && name[len - 1] == '.' && len <= size) {
		memcpy(buf, name, len - 1);
		buf[len - 1] = '\0';
		return buf;
	}
	return name;
}

/* Classify one client; returns 1 suspicious, 0 clean. */
int
s25r_classify(const s25r_t *s, const char *name, const addr_t *addr, s25r_verdict_t *out)
{
	char	key[S25R_KEY_MAX];
	table_query_t q = { NULL, addr, NULL };
	table_answer_t a;
	int	unknown = s25r_name_unknown(name);
	int	rule;

	q.name = s25r_client_key(name, addr, key, sizeof(key));
	if (tablelist_lookup(s->whitelist, &q, &a) && s25r_answer_is_ok(a.text))
		return s25r_verdict(out, 0, -1, W_WHITELIST_, &a);
	if (unknown && s->builtin)
		return s25r_verdict(out, 1, 0, NULL, NULL);
	if (tablelist_lookup(s->access, &q, &a))
		return s25r_verdict(out, !s25r_answer_is_ok(a.text), -1, "", &a);
	if (!unknown && s->builtin && (rule = s25r_match_rules(s, q.name)) > 0)
		return s25r_verdict(out, 1, rule, NULL, NULL);
	return s25r_verdict(out, 0, -1, NULL, NULL);
}
