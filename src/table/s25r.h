/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	s25r - classify SMTP clients as S25R-suspicious or clean
 * SYNOPSIS
 *	#include "s25r.h"
 *
 *	s25r_t *s25r_create(const config_t *cfg, int *nerrors, char *why, size_t whylen);
 *	s25r_t *s25r_free(s25r_t *s);
 *	int s25r_classify(const s25r_t *s, const char *name, const addr_t *addr,
 *	    s25r_verdict_t *out);
 *	int s25r_name_unknown(const char *name);
 *	int s25r_answer_is_ok(const char *answer);
 *	const char *s25r_client_key(const char *name, const addr_t *addr,
 *	    char *buf, size_t size);
 * DESCRIPTION
 *	s25r_create() compiles the built-in rules (PCRE2, caseless, JIT)
 *	and opens the tables of s25r_whitelist and s25r_client_access.
 *	Bad table lines are logged and counted in *NERRORS; a table that
 *	cannot be opened makes it return NULL with the reason in WHY.
 *
 *	s25r_classify() takes the client's verified NAME (NULL, "",
 *	"unknown" or "[ADDR]" when there is none) and its address ADDR
 *	(may be NULL) and decides, in this order:
 *	1. s25r_whitelist answers OK or PERMIT: clean,
 *	   reason "whitelist_TABLE:LINE" (another answer: go on).
 *	2. no verified name and s25r_builtin_rules: suspicious, s25r_rule_0.
 *	   This comes before step 3 because the taRgrey table idiom
 *	   "!/rule1|...|rule6/ OK" answers OK for any text that is not an
 *	   S25R name, "[ADDR]" included.
 *	3. the first table of s25r_client_access that answers decides:
 *	   OK or PERMIT clean, anything else suspicious; reason TABLE:LINE.
 *	4. built-in rules 1 to 6 (when s25r_builtin_rules): suspicious,
 *	   reason s25r_rule_N.
 *	5. otherwise clean, reason "no_match".
 *	One trailing dot is removed from NAME first (Postfix never shows
 *	it). Name tables get NAME, or "[ADDR]" when there is no name; cidr
 *	tables get only ADDR (no second lookup by address as Postfix's
 *	check_client_access does). Returns out->suspicious (1 or 0).
 *
 *	s25r_name_unknown() says whether NAME counts as "no verified name".
 *	s25r_answer_is_ok() says whether a table answer means OK/PERMIT.
 *	s25r_client_key() returns what name tables are given for a client:
 *	NAME without one trailing dot, or "[ADDR]" (written into BUF, of
 *	S25R_KEY_MAX bytes) when there is no verified name; NULL when
 *	there is neither.
 * THREADS
 *	An s25r_t is immutable; s25r_classify() may run in any number of
 *	threads at once (match data is per thread).
 */
#ifndef TG_S25R_H
#define TG_S25R_H

#include <stddef.h>
#include "addr.h"
#include "config.h"
#include "table.h"

#define S25R_RULES	7	/* rule 0 (no name) and rules 1 to 6 */
#define S25R_REASON_MAX	(TABLE_ANSWER_MAX + 64)
#define S25R_KEY_MAX	1025	/* longer names keep their trailing dot */

typedef struct s25r s25r_t;

typedef struct {
	int	suspicious;		/* 1: S25R suspicious, 0: clean */
	int	rule;			/* built-in rule 0..6 that matched, else -1 */
	char	reason[S25R_REASON_MAX];	/* s25r_rule_N, TABLE:LINE, whitelist_TABLE:LINE, no_match */
	char	answer[TABLE_ANSWER_MAX];	/* the deciding table's answer, else "" */
} s25r_verdict_t;

s25r_t *s25r_create(const config_t *cfg, int *nerrors, char *why, size_t whylen);
s25r_t *s25r_free(s25r_t *s);
int	s25r_classify(const s25r_t *s, const char *name, const addr_t *addr, s25r_verdict_t *out);
int	s25r_name_unknown(const char *name);
int	s25r_answer_is_ok(const char *answer);
const char *s25r_client_key(const char *name, const addr_t *addr, char *buf, size_t size);

#endif
