/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_record - strict RFC 7208 record checks before libspf2 sees text
 * SYNOPSIS
 *	#include "spf_record.h"
 *
 *	int spf_record_is_spf(const char *text, size_t len);
 *	int spf_record_validate(const char *text, size_t len, char *why,
 *	    size_t whylen);
 *	int spf_record_macro_ok(const char *text, size_t len, int exp);
 *	int spf_record_domain_ok(const char *domain);
 *	int spf_record_rewrite(const char *text, int family, char *out,
 *	    size_t size);
 *	const char *spf_record_cidr0_suffix(void);
 * DESCRIPTION
 *	spf_record_is_spf() says whether a TXT string is an SPF version 1
 *	record: "v=spf1" alone or followed by a space (RFC 7208 4.5).
 *
 *	spf_record_validate() checks a whole record against the ABNF of
 *	RFC 7208 section 12: known mechanisms with their arguments, CIDR
 *	lengths in range, ip4/ip6 literals, domain-specs ending in a top
 *	label or a macro, modifier names, at most one redirect and one
 *	exp, macros with known letters, at most 3 digits (1..128) and
 *	delimiters only from the list, printable US-ASCII only (no NUL,
 *	no control bytes, nothing above 0x7e), at most SPF_RECORD_MAX
 *	bytes. Returns 0, or -1 with a short reason in WHY: the record is
 *	a permerror and must not reach libspf2.
 *
 *	spf_record_macro_ok() checks a macro-string (explanation text when
 *	EXP is set: letters c, r and t allowed, spaces allowed).
 *
 *	spf_record_domain_ok() says whether DOMAIN can be checked at all
 *	(RFC 7208 4.3): a fully qualified name, labels of 1 to 63 bytes,
 *	at most 253 bytes, no address literal. 0 means result "none".
 *	spf_record_rewrite() turns a validated record into an equivalent
 *	one that libspf2 1.2.10 evaluates as RFC 7208 says, for a client of
 *	address FAMILY (AF_INET or AF_INET6): unknown modifiers are dropped
 *	(they have no effect, and libspf2 rejects some valid names);
 *	redirect is dropped when the record has an "all" mechanism (6.1);
 *	ip4/ip6 with a zero prefix become two /1 terms; a and mx with a
 *	zero prefix for FAMILY get the name suffix spf_record_cidr0_suffix()
 *	(SPF_CIDR0_MARK and a random part chosen once per process), which
 *	the DNS layer strips and answers with the client's own address when
 *	the name has any address record (libspf2 refuses a /0 prefix); the
 *	prefix of the other family is dropped (it cannot matter). Returns
 *	0, or -1 when OUT is too small. A record that contains
 *	SPF_CIDR0_MARK is invalid, and a sender cannot guess the random part
 *	to forge the suffix through a macro.
 * THREADS
 *	Pure functions (the suffix is made once, under pthread_once()).
 */
#ifndef TG_SPF_RECORD_H
#define TG_SPF_RECORD_H

#include <stddef.h>

#define SPF_RECORD_MAX	4096
#define SPF_MACRO_DIGITS_MAX 128
#define SPF_CIDR0_MARK	".tg-cidr-zero"	/* never valid in a published record */

int	spf_record_is_spf(const char *text, size_t len);
int	spf_record_validate(const char *text, size_t len, char *why, size_t whylen);
int	spf_record_macro_ok(const char *text, size_t len, int exp);
int	spf_record_domain_ok(const char *domain);
int	spf_record_rewrite(const char *text, int family, char *out, size_t size);
const char *spf_record_cidr0_suffix(void);

#endif
