/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_layer - libspf2 DNS layer on dns.c with a per-check budget
 * SYNOPSIS
 *	#include "spf_layer.h"
 *
 *	SPF_dns_server_t *spf_layer_create(void);
 *	void spf_layer_begin(spf_ctx_t *ctx, dns_t *dns, const addr_t *client,
 *	    long deadline_ms, int term_limit, int void_limit);
 *	void spf_layer_end(spf_ctx_t *ctx);
 *	int spf_layer_fetch(spf_ctx_t *ctx, const char *domain, char **record,
 *	    char *why, size_t whylen);
 * DESCRIPTION
 *	spf_layer_create() returns the SPF_dns_server_t handed to
 *	SPF_server_new_dns(). It answers libspf2's lookups through dns.c
 *	for the check that the calling thread began with
 *	spf_layer_begin(), and enforces RFC 7208 4.6.4 across the whole
 *	check, nested includes and redirects counted together:
 *	- DNS-querying terms (include, redirect, a, mx, ptr, exists) beyond
 *	  TERM_LIMIT: the lookup is not sent, ctx->over_terms is set and
 *	  the check must end in permerror;
 *	- void lookups (NXDOMAIN or no records) of terms beyond VOID_LIMIT:
 *	  ctx->over_voids, same handling;
 *	- the address lookups that follow an MX or PTR answer are not terms
 *	  (at most 10 per answer), so a check sends at most
 *	  (TERM_LIMIT + 2) * 11 queries, whatever the records say;
 *	- nothing is sent after DEADLINE_MS: the lookup is a temporary
 *	  error (ctx->timed_out).
 *	Every SPF record fetched for include/redirect goes through
 *	spf_record_validate() first: a bad one is a permerror and is never
 *	compiled by libspf2, and a valid one is passed through
 *	spf_record_rewrite() for CLIENT's address family. Explanation
 *	TXT answers that are not exactly one valid macro-string are
 *	dropped; spaces in them are handed to libspf2 as "%_" (it turns a
 *	literal space into '%'). Names longer than 253 bytes lose labels on
 *	the left (RFC 7208 7.1); names ending in spf_record_cidr0_suffix() are asked
 *	without it and answered with CLIENT's address when they have any.
 *
 *	spf_layer_fetch() looks up the SPF record of DOMAIN (not a term)
 *	and returns SPF_FETCH_OK with a malloc'd copy in *RECORD,
 *	SPF_FETCH_NONE, SPF_FETCH_TEMP, SPF_FETCH_MULTI or SPF_FETCH_BAD
 *	(reason in WHY).
 * THREADS
 *	The per-check state lives in a thread-local pointer set by
 *	spf_layer_begin(): one check at a time per thread. The layer
 *	itself is shared by all threads.
 */
#ifndef TG_SPF_LAYER_H
#define TG_SPF_LAYER_H

#include <netinet/in.h>
#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include "dns.h"

#define SPF_FOLLOW_MAX	10

enum { SPF_FETCH_OK, SPF_FETCH_NONE, SPF_FETCH_TEMP, SPF_FETCH_MULTI, SPF_FETCH_BAD };

typedef struct {
	dns_t  *dns;
	addr_t	client;
	long	deadline;
	int	term_limit, void_limit;
	int	terms, voids, records;
	unsigned queries;		/* sent, cache hits not counted */
	unsigned lookups;		/* answered, from cache or not */
	int	over_terms, over_voids, timed_out, bad_include;
	char	why[128];		/* first reason for a permerror */
	int	nfollow, nextfollow, follow_zero;
	char	follow[SPF_FOLLOW_MAX][DNS_NAME_MAX + 1];
} spf_ctx_t;

SPF_dns_server_t *spf_layer_create(void);
void	spf_layer_begin(spf_ctx_t *ctx, dns_t *dns, const addr_t *client,
	    long deadline_ms, int term_limit, int void_limit);
void	spf_layer_end(spf_ctx_t *ctx);
int	spf_layer_fetch(spf_ctx_t *ctx, const char *domain, char **record,
	    char *why, size_t whylen);

#endif
