/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	table_cidr - cidr: tables (Postfix cidr_table(5))
 * DESCRIPTION
 *	Each rule is "[!]ADDR[/LEN] result", "if [!]ADDR[/LEN]" or
 *	"endif"; ADDR may be written in brackets ([ADDR]/LEN, [ADDR/LEN]).
 *	The first rule that matches answers. A rule never matches an
 *	address of the other family, negated or not; an "if" whose family
 *	differs skips its block. Patterns with host bits set after the
 *	prefix are errors, as in Postfix.
 * DIAGNOSTICS
 *	"FILE:LINE: reason: skipping this rule" through table_warn().
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "table_impl.h"

enum { CIDR_OP_MATCH, CIDR_OP_IF, CIDR_OP_ENDIF };

typedef struct {
	int	op;
	int	line;
	int	match;		/* 1 positive, 0 negated */
	addr_t	net;
	unsigned prefix;
	char   *value;
	size_t	endif;		/* IF: index of its ENDIF, SIZE_MAX: none */
} cidr_rule_t;

typedef struct {
	cidr_rule_t *rules;
	size_t	n;
	size_t	size;
} cidr_table_t;

/* Does A fall in NET/PREFIX (same family)? */
static int
cidr_contains(const addr_t *net, unsigned prefix, const addr_t *a)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (net->family != a->family)
		return 0;
	if (memcmp(net->bytes, a->bytes, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((net->bytes[full] ^ a->bytes[full]) & (0xff00 >> rest) & 0xff) == 0;
}

/* Parse the mask digits after '/'; -1 when they are not a number. */
static int
cidr_parse_mask(const char *m, unsigned max, unsigned *prefix, const char **why)
{
	unsigned long v = 0;

	if (*m == '\0') {
		*why = "bad mask value";
		return -1;
	}
	for (; *m; m++) {
		if (!isdigit((unsigned char) *m)) {
			*why = "bad mask value";
			return -1;
		}
		if ((v = v * 10 + (unsigned long) (*m - '0')) > max) {
			*why = "bad mask length";
			return -1;
		}
	}
	*prefix = (unsigned) v;
	return 0;
}

/* Parse "ADDR", "ADDR/LEN", "[ADDR]/LEN" or "[ADDR/LEN]" (destroys PAT). */
static int
cidr_parse_pattern(char *pat, addr_t *net, unsigned *prefix, const char **why)
{
	char   *mask_search = pat, *slash, *end;
	unsigned max;

	if (*pat == '[') {
		if ((end = strchr(++pat, ']')) == NULL) {
			*why = "missing ']' character";
			return -1;
		}
		*end++ = '\0';
		if (*end != '/' && *end != '\0') {
			*why = "garbage after ']'";
			return -1;
		}
		mask_search = (*end == '/') ? end : pat;
	}
	net->family = strchr(pat, ':') ? AF_INET6 : AF_INET;
	max = net->family == AF_INET6 ? 128 : 32;
	memset(net->bytes, 0, sizeof(net->bytes));
	*prefix = max;
	if ((slash = strchr(mask_search, '/')) != NULL) {
		*slash = '\0';
		if (cidr_parse_mask(slash + 1, max, prefix, why) < 0)
			return -1;
	}
	if (inet_pton(net->family, pat, net->bytes) != 1) {
		*why = slash ? "bad network value" : "bad address pattern";
		return -1;
	}
	addr_t	masked = *net;

	addr_mask(&masked, *prefix);
	if (memcmp(masked.bytes, net->bytes, sizeof(net->bytes)) != 0) {
		*why = "non-null host address bits";
		return -1;
	}
	return 0;
}

/* Append a rule; -1 when memory runs out. */
static int
cidr_add(cidr_table_t *ct, const cidr_rule_t *rule)
{
	if (table_reserve(&ct->rules, ct->n, &ct->size, sizeof(*rule)) < 0)
		return -1;
	ct->rules[ct->n++] = *rule;
	return 0;
}

/* Split "[!]PATTERN [VALUE]" into a rule; 0 with a warning when bad. */
static int
cidr_parse_rule(table_t *t, int line, char *p, cidr_rule_t *rule, int want_value)
{
	const char *why = NULL;
	char   *pat, *value = p;
	char	shown[128];

	for (rule->match = 1; *p == '!' || table_is_space((unsigned char) *p); p++)
		if (*p == '!')
			rule->match = !rule->match;
	pat = p;
	if (want_value) {
		while (*p && !table_is_space((unsigned char) *p))
			p++;
		if (*p)
			*p++ = '\0';
		while (table_is_space((unsigned char) *p))
			p++;
		value = p;
	}
	snprintf(shown, sizeof(shown), "%s", pat);
	if (*pat == '\0')
		why = "no address pattern";
	else if (cidr_parse_pattern(pat, &rule->net, &rule->prefix, &why) == 0 && *value == '\0')
		why = "no lookup result";
	if (why == NULL) {
		if (want_value && (rule->value = strdup(value)) == NULL)
			return -1;
		return 1;
	}
	table_warn(t, line, "%s in \"%s\": skipping this rule", why, shown);
	return 0;
}

/* Parse one logical line; IFS holds the open IF indexes. */
static int
cidr_parse_line(table_t *t, cidr_table_t *ct, int line, char *p, size_t *ifs, size_t *nifs)
{
	cidr_rule_t rule = { CIDR_OP_MATCH, line, 1, { 0, { 0 } }, 0, NULL, SIZE_MAX };
	int	ret;

	if (strncasecmp(p, "endif", 5) == 0 && (p[5] == '\0' || table_is_space((unsigned char) p[5]))) {
		if (p[5] != '\0') {
			table_warn(t, line, "garbage after ENDIF: skipping this rule");
			return 0;
		}
		if (*nifs == 0) {
			table_warn(t, line, "ENDIF without IF: skipping this rule");
			return 0;
		}
		rule.op = CIDR_OP_ENDIF;
		if (cidr_add(ct, &rule) < 0)
			return -1;
		ct->rules[ifs[--(*nifs)]].endif = ct->n - 1;
		return 1;
	}
	if (strncasecmp(p, "if", 2) == 0 && table_is_space((unsigned char) p[2])) {
		rule.op = CIDR_OP_IF;
		if ((ret = cidr_parse_rule(t, line, p + 2, &rule, 0)) <= 0)
			return ret;
		if (cidr_add(ct, &rule) < 0)
			return -1;
		ifs[(*nifs)++] = ct->n - 1;
		return 1;
	}
	if ((ret = cidr_parse_rule(t, line, p, &rule, 1)) <= 0)
		return ret;
	if (cidr_add(ct, &rule) < 0) {
		free(rule.value);
		return -1;
	}
	return 1;
}

/* Free a cidr table. */
static void
cidr_free(void *impl)
{
	cidr_table_t *ct = impl;

	for (size_t i = 0; i < ct->n; i++)
		free(ct->rules[i].value);
	free(ct->rules);
	free(ct);
}

/* Load a cidr: table. */
static int
cidr_load(table_t *t, table_reader_t *r)
{
	cidr_table_t *ct;
	size_t *ifs = NULL, nifs = 0, ifsize = 0;
	char   *line;
	int	lineno, ret = 0;

	if ((ct = calloc(1, sizeof(*ct))) == NULL)
		return -1;
	t->impl = ct;
	while (ret >= 0 && (ret = table_reader_next(r, &line, &lineno)) > 0) {
		if (nifs == ifsize) {
			size_t *n = realloc(ifs, (ifsize = ifsize * 2 + 8) * sizeof(*n));

			if (n == NULL) {
				ret = -1;
				break;
			}
			ifs = n;
		}
		ret = cidr_parse_line(t, ct, lineno, line, ifs, &nifs);
	}
	while (ret >= 0 && nifs > 0)
		table_warn(t, ct->rules[ifs[--nifs]].line, "IF has no matching ENDIF");
	free(ifs);
	return ret < 0 ? -1 : 0;
}

/* First rule that answers Q->addr. */
static int
cidr_lookup(const table_t *t, const table_query_t *q, table_answer_t *a)
{
	const cidr_table_t *ct = t->impl;

	if (q->addr == NULL)
		return 0;
	for (size_t i = 0; i < ct->n; i++) {
		const cidr_rule_t *rule = &ct->rules[i];
		int	same = rule->net.family == q->addr->family;
		int	hit = same && cidr_contains(&rule->net, rule->prefix, q->addr) == rule->match;

		if (rule->op == CIDR_OP_MATCH && hit) {
			table_answer_set(a, t, rule->line, rule->value);
			return 1;
		}
		if (rule->op == CIDR_OP_IF && !hit) {
			if (rule->endif == SIZE_MAX)
				return 0;
			i = rule->endif;
		}
	}
	return 0;
}

const table_ops_t table_cidr_ops = {
	"cidr", cidr_load, cidr_lookup, cidr_free, NULL,
};
