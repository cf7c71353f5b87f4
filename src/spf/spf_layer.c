/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_layer - libspf2 DNS layer on dns.c with a per-check budget
 * DESCRIPTION
 *	See spf_layer.h. libspf2 1.2.10 restarts its lookup count inside
 *	every include and has no void-lookup limit; this layer sees every
 *	question of a check and counts for the whole check. A question is a
 *	term when it is an A/AAAA/MX/PTR question that does not follow an
 *	MX or PTR answer (libspf2 asks the addresses of those names right
 *	after the answer, in order), or an include/redirect record fetch.
 * DIAGNOSTICS
 *	Reasons for a permerror go to ctx->why.
 */
#include <netdb.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "dns_int.h"
#include "spf_layer.h"
#include "spf_record.h"

static __thread spf_ctx_t *layer_ctx;

void
spf_layer_begin(spf_ctx_t *ctx, dns_t *dns, const addr_t *client, long deadline_ms,
    int term_limit, int void_limit)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->dns = dns;
	ctx->client = *client;
	ctx->deadline = deadline_ms;
	ctx->term_limit = term_limit;
	ctx->void_limit = void_limit;
	layer_ctx = ctx;
}

void
spf_layer_end(spf_ctx_t *ctx)
{
	if (layer_ctx == ctx)
		layer_ctx = NULL;
}

/* Remember the first reason for a permerror. */
static void
ctx_why(spf_ctx_t *ctx, const char *why)
{
	if (ctx->why[0] == 0)
		snprintf(ctx->why, sizeof(ctx->why), "%s", why);
}

/* Count one DNS-querying term; -1 when over the limit. */
static int
budget_term(spf_ctx_t *ctx)
{
	if (++ctx->terms > ctx->term_limit) {
		ctx->over_terms = 1;
		ctx_why(ctx, "too many DNS lookups");
	}
	return ctx->over_terms || ctx->over_voids ? -1 : 0;
}

/* Count one void lookup. */
static void
budget_void(spf_ctx_t *ctx)
{
	if (++ctx->voids > ctx->void_limit) {
		ctx->over_voids = 1;
		ctx_why(ctx, "too many void DNS lookups");
	}
}

/* Ask dns.c, within the check's deadline and hard query cap. */
static dns_answer_t *
ctx_query(spf_ctx_t *ctx, const char *name, int type)
{
	dns_answer_t *ans;

	if (ctx->queries >= (unsigned)(ctx->term_limit + 2) * (1 + SPF_FOLLOW_MAX)) {
		ctx->over_terms = 1;
		ctx_why(ctx, "too many DNS lookups");
		return NULL;
	}
	ans = dns_lookup(ctx->dns, name, type, ctx->deadline);
	if (ans == NULL)
		return NULL;
	ctx->lookups++;
	if (!ans->cached)
		ctx->queries++;
	if (ans->status == DNS_TEMPFAIL && dns_now_ms(ctx->dns) >= ctx->deadline)
		ctx->timed_out = 1;
	return ans;
}

/* Fetch, select and validate the SPF record of DOMAIN. */
static int
fetch(spf_ctx_t *ctx, const char *domain, char **record, char *why, size_t whylen,
    int term)
{
	dns_answer_t *ans;
	size_t	i, n = 0, found = 0;
	int	rc = SPF_FETCH_NONE;

	*record = NULL;
	if ((ans = ctx_query(ctx, domain, DNS_T_TXT)) == NULL)
		return ctx->over_terms ? SPF_FETCH_BAD : SPF_FETCH_TEMP;
	if (ans->status == DNS_TEMPFAIL)
		rc = SPF_FETCH_TEMP;
	else if (ans->status != DNS_OK) {
		if (term)
			budget_void(ctx);
	} else {
		for (i = 0; i < ans->count; i++)
			if (spf_record_is_spf(dns_rr_data(ans, i), ans->rr[i].len)) {
				n++;
				found = i;
			}
		if (n > 1)
			rc = SPF_FETCH_MULTI;
		else if (n == 1 && spf_record_validate(dns_rr_data(ans, found),
		    ans->rr[found].len, why, whylen) < 0)
			rc = SPF_FETCH_BAD;
		else if (n == 1)
			rc = (*record = strdup(dns_rr_data(ans, found))) ? SPF_FETCH_OK
			    : SPF_FETCH_TEMP;
	}
	dns_answer_free(ans);
	return rc;
}

int
spf_layer_fetch(spf_ctx_t *ctx, const char *domain, char **record, char *why,
    size_t whylen)
{
	return fetch(ctx, domain, record, why, whylen, 0);
}

/* Copy record I of ANS into slot N of RR; 0 or -1. */
static int
rr_copy(SPF_dns_rr_t *rr, int n, const dns_answer_t *ans, size_t i, ns_type type)
{
	const char *d = dns_rr_data(ans, i);
	size_t	len = ans->rr[i].len;

	size_t	j, o = 0;

	if (type == ns_t_txt && !spf_record_macro_ok(d, len, 1))
		return -1;	/* explanation text libspf2 must not expand */
	if (SPF_dns_rr_buf_realloc(rr, n, 2 * len + 1) != SPF_E_SUCCESS)
		return -1;
	if (type == ns_t_txt) {
		for (j = 0; j < len; j++)
			if (d[j] == ' ') {
				rr->rr[n]->txt[o++] = '%';
				rr->rr[n]->txt[o++] = '_';
			} else
				rr->rr[n]->txt[o++] = d[j];
		rr->rr[n]->txt[o] = 0;
	} else if (type == ns_t_a && len == 4)
		memcpy(&rr->rr[n]->a, d, 4);
	else if (type == ns_t_aaaa && len == 16)
		memcpy(&rr->rr[n]->aaaa, d, 16);
	else if (type == ns_t_mx || type == ns_t_ptr)
		memcpy(rr->rr[n]->txt, d, len + 1);
	else
		return -1;
	return 0;
}

/* Convert a dns.c answer into libspf2's form. */
static SPF_dns_rr_t *
rr_from_answer(SPF_dns_server_t *srv, const char *domain, ns_type type,
    const dns_answer_t *ans)
{
	SPF_dns_rr_t *rr;
	int	herrno = TRY_AGAIN, n = 0;
	size_t	i, max = ans ? ans->count : 0;

	if (ans && ans->status == DNS_OK)
		herrno = NETDB_SUCCESS;
	else if (ans && ans->status == DNS_NXDOMAIN)
		herrno = HOST_NOT_FOUND;
	else if (ans && ans->status == DNS_NODATA)
		herrno = NO_DATA;
	if (type == ns_t_ptr && max > SPF_FOLLOW_MAX)
		max = SPF_FOLLOW_MAX;	/* RFC 7208 4.6.4: ignore the rest */
	if (type == ns_t_txt && max > 1) {
		max = 0;		/* RFC 7208 6.2: no explanation */
		herrno = NO_DATA;
	}
	rr = SPF_dns_rr_new_init(srv, domain, type, ans ? (int)ans->ttl : 0, herrno);
	if (rr == NULL)
		return NULL;
	for (i = 0; i < max; i++)
		if (rr_copy(rr, n, ans, i, type) == 0)
			n++;
	rr->num_rr = n;
	if (n == 0 && herrno == NETDB_SUCCESS)
		rr->herrno = NO_DATA;
	return rr;
}

/* Remember the names of an MX/PTR answer: their address lookups follow. */
static void
follow_set(spf_ctx_t *ctx, const dns_answer_t *ans, int zero)
{
	size_t	i;

	ctx->nfollow = ctx->nextfollow = 0;
	ctx->follow_zero = zero;
	for (i = 0; ans && ans->status == DNS_OK && i < ans->count
	    && i < SPF_FOLLOW_MAX; i++)
		snprintf(ctx->follow[ctx->nfollow++], DNS_NAME_MAX + 1, "%s",
		    dns_rr_data(ans, i));
}

/* Is this A/AAAA question the next one after an MX/PTR answer? */
static int
follow_next(spf_ctx_t *ctx, const char *domain)
{
	if (ctx->nextfollow < ctx->nfollow
	    && strcasecmp(domain, ctx->follow[ctx->nextfollow]) == 0) {
		ctx->nextfollow++;
		return 1;
	}
	ctx->nfollow = ctx->nextfollow = 0;
	return 0;
}

/*
 * Copy DOMAIN into NAME: without the /0 suffix (*ZERO set) and cut
 * on the left to 253 bytes (RFC 7208 7.1).
 */
static void
lookup_name(const char *domain, char *name, size_t size, int *zero)
{
	const char *suffix = spf_record_cidr0_suffix();
	size_t	len = strlen(domain), sl = strlen(suffix);
	const char *p = domain;

	*zero = len > sl && strcasecmp(domain + len - sl, suffix) == 0;
	if (*zero)
		len -= sl;
	while (len > 253 && (p = memchr(domain, '.', len)) != NULL) {
		len -= (size_t)(p + 1 - domain);
		domain = p + 1;
	}
	snprintf(name, size, "%.*s", (int)len, domain);
}

/* For a zero prefix: any address of the name stands for the client. */
static dns_answer_t *
lookup_zero(spf_ctx_t *ctx, dns_answer_t *ans, int type)
{
	dns_item_t it = {ctx->client.bytes, ctx->client.family == AF_INET ? 4 : 16, 0};
	dns_answer_t *mapped;

	if (ans == NULL || ans->status != DNS_OK || ans->count == 0
	    || type != (ctx->client.family == AF_INET ? DNS_T_A : DNS_T_AAAA))
		return ans;
	if ((mapped = dns_answer_pack(DNS_OK, type, ans->ttl, &it, 1)) == NULL)
		return ans;
	dns_answer_free(ans);
	return mapped;
}

/* SPF_dns_server_t lookup method. */
static SPF_dns_rr_t *
layer_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type, int should_cache)
{
	spf_ctx_t *ctx = layer_ctx;
	dns_answer_t *ans = NULL;
	SPF_dns_rr_t *rr;
	char	name[DNS_NAME_MAX + 1];
	int	term = 0, zero;

	(void)should_cache;
	if (ctx == NULL)
		return SPF_dns_rr_new_init(srv, domain, type, 0, TRY_AGAIN);
	lookup_name(domain, name, sizeof(name), &zero);
	if (type == ns_t_a || type == ns_t_aaaa) {
		term = !follow_next(ctx, name);
		zero |= !term && ctx->follow_zero;
	} else {
		ctx->nfollow = ctx->nextfollow = 0;
		term = type == ns_t_mx || type == ns_t_ptr;
	}
	if ((term && budget_term(ctx) < 0) || ctx->over_terms || ctx->over_voids)
		return SPF_dns_rr_new_init(srv, domain, type, 0, HOST_NOT_FOUND);
	ans = ctx_query(ctx, name, (int)type);
	if (term && ans && (ans->status == DNS_NXDOMAIN || ans->status == DNS_NODATA))
		budget_void(ctx);
	if (type == ns_t_mx || type == ns_t_ptr)
		follow_set(ctx, ans, zero && type == ns_t_mx);
	if (zero)
		ans = lookup_zero(ctx, ans, (int)type);
	rr = rr_from_answer(srv, domain, type, ans);
	dns_answer_free(ans);
	return rr;
}

/* SPF_dns_server_t get_spf method: include and redirect targets. */
static SPF_errcode_t
layer_get_spf(SPF_server_t *server, SPF_request_t *req, SPF_response_t *resp,
    SPF_record_t **recp)
{
	spf_ctx_t *ctx = layer_ctx;
	char   *text = NULL, why[128], clean[2 * SPF_RECORD_MAX];
	SPF_errcode_t err;

	*recp = NULL;
	if (ctx == NULL)
		return SPF_response_add_error(resp, SPF_E_DNS_ERROR, "no check");
	ctx->nfollow = ctx->nextfollow = 0;
	if (budget_term(ctx) < 0)
		return SPF_response_add_error(resp, SPF_E_BIG_DNS, "too many DNS lookups");
	switch (fetch(ctx, req->cur_dom, &text, why, sizeof(why), 1)) {
	case SPF_FETCH_OK:
		if (spf_record_rewrite(text, ctx->client.family, clean, sizeof(clean)) < 0) {
			free(text);
			ctx_why(ctx, "included record too long");
			return SPF_response_add_error(resp, SPF_E_BIG_STRING, "too long");
		}
		free(text);
		err = SPF_record_compile(server, resp, recp, clean);
		if (err != SPF_E_SUCCESS)
			ctx_why(ctx, "included record does not compile");
		return err;
	case SPF_FETCH_TEMP:
		return SPF_response_add_error(resp, SPF_E_DNS_ERROR, "DNS error");
	case SPF_FETCH_MULTI:
		ctx_why(ctx, "multiple SPF records in include");
		return SPF_response_add_error(resp, SPF_E_MULTIPLE_RECORDS, "multiple records");
	case SPF_FETCH_BAD:
		ctx->bad_include = 1;
		ctx_why(ctx, why);
		return SPF_response_add_error(resp, SPF_E_SYNTAX, "invalid record");
	default:
		ctx_why(ctx, "included domain has no SPF record");
		return SPF_response_add_error(resp, SPF_E_NOT_SPF, "no SPF record");
	}
}

SPF_dns_server_t *
spf_layer_create(void)
{
	SPF_dns_server_t *srv;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->destroy = NULL;		/* owned by spf.c, freed there */
	srv->lookup = layer_lookup;
	srv->get_spf = layer_get_spf;
	srv->name = "targrey";
	return srv;
}
