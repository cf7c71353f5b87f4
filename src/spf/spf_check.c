/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_check - one SPF check of the HELO or MAIL FROM identity
 * DESCRIPTION
 *	See spf.h. The top-level record is fetched and validated here
 *	(spf_layer_fetch()); libspf2 only evaluates a clean record. Its
 *	result is then corrected with what the layer saw: a broken lookup
 *	budget is a permerror, a deadline a temperror, and INVALID (no
 *	result) never leaves this file.
 * DIAGNOSTICS
 *	With log_level 2 or more, one debug line per check (identity,
 *	domain, result, reason, queries, terms, void lookups, time).
 *	A libspf2 internal error ends the check as a temperror and is
 *	logged by the handler in spf_lib.c (through spf_guarded()); the
 *	request it held is leaked.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spf2/spf.h>
#include "log.h"
#include "spf.h"
#include "spf_int.h"
#include "spf_layer.h"
#include "spf_record.h"
#include "text.h"

/* Set the result and its reason. */
static void
check_set(spf_check_t *out, spf_res_t r, const char *reason)
{
	out->result = r;
	text_clean(TEXT_HEADER_COMMENT, out->reason, sizeof(out->reason), reason);
}

/* Reason text for a result that libspf2 reached by evaluation. */
static void
check_set_eval(spf_check_t *out, spf_res_t r)
{
	char	buf[SPF_REASON_MAX + DNS_NAME_MAX + ADDR_TEXT_MAX];
	const char *ip = out->client_ip, *d = out->domain;

	const char *allowed = r == SPF_RES_PASS ? "" : r == SPF_RES_FAIL ? "not "
	    : r == SPF_RES_SOFTFAIL ? "probably not " : NULL;

	if (allowed)
		snprintf(buf, sizeof(buf), "%s is %sallowed to send for %s", ip, allowed, d);
	else if (r == SPF_RES_NEUTRAL)
		snprintf(buf, sizeof(buf), "%s makes no statement about %s", d, ip);
	else
		snprintf(buf, sizeof(buf), "no SPF record");
	check_set(out, r, buf);
}

/* Map libspf2's result, corrected by the layer's observations. */
static void
check_map(spf_check_t *out, const spf_ctx_t *ctx, SPF_result_t lr, SPF_errcode_t e)
{
	char	buf[SPF_REASON_MAX];

	if (ctx->over_terms || ctx->over_voids) {
		check_set(out, SPF_RES_PERMERROR, ctx->why);
		return;
	}
	switch (lr) {
	case SPF_RESULT_PASS:	  check_set_eval(out, SPF_RES_PASS); return;
	case SPF_RESULT_FAIL:	  check_set_eval(out, SPF_RES_FAIL); return;
	case SPF_RESULT_SOFTFAIL: check_set_eval(out, SPF_RES_SOFTFAIL); return;
	case SPF_RESULT_NEUTRAL:  check_set_eval(out, SPF_RES_NEUTRAL); return;
	case SPF_RESULT_NONE:	  check_set_eval(out, SPF_RES_NONE); return;
	case SPF_RESULT_TEMPERROR:
		check_set(out, SPF_RES_TEMPERROR, ctx->timed_out
		    ? "DNS lookups took too long" : "DNS error");
		return;
	default:
		if (ctx->timed_out || e == SPF_E_DNS_ERROR) {
			check_set(out, SPF_RES_TEMPERROR, "DNS error");
			return;
		}
		snprintf(buf, sizeof(buf), "%s", ctx->why[0] ? ctx->why
		    : SPF_strerror(e));
		check_set(out, SPF_RES_PERMERROR, buf);
	}
}

/* Give the request the client address. */
static void
check_set_client(SPF_request_t *req, const addr_t *client)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (client->family == AF_INET) {
		memcpy(&v4, client->bytes, 4);
		SPF_request_set_ipv4(req, v4);
	} else {
		memcpy(&v6, client->bytes, 16);
		SPF_request_set_ipv6(req, v6);
	}
}

/* One evaluation: what check_eval_guarded() reads and leaves behind. */
typedef struct {
	spf_t  *spf;
	const spf_ctx_t *ctx;
	const addr_t *client;
	const char *helo, *env_from, *record;
	spf_check_t *out;
	SPF_request_t *req;
} check_eval_t;

/* Make the request and evaluate; -1: out of memory. */
static int
check_eval_query(check_eval_t *ev)
{
	SPF_response_t *resp = NULL;
	const char *exp;

	if ((ev->req = SPF_request_new(ev->spf->server)) == NULL)
		return -1;
	check_set_client(ev->req, ev->client);
	SPF_request_set_helo_dom(ev->req, ev->helo);
	if (SPF_request_set_env_from(ev->req, ev->env_from) != 0)
		return -1;
	SPF_request_query_fallback(ev->req, &resp, ev->record);
	if (resp == NULL)
		return -1;
	check_map(ev->out, ev->ctx, SPF_response_result(resp), SPF_response_errcode(resp));
	if (ev->out->result == SPF_RES_FAIL && (exp = SPF_response_get_explanation(resp)))
		text_clean(TEXT_PRINTABLE, ev->out->explanation, sizeof(ev->out->explanation), exp);
	SPF_response_free(resp);
	return 0;
}

/* check_eval_query() and the request's release, under the guard. */
static int
check_eval_guarded(void *arg)
{
	check_eval_t *ev = arg;
	int	rc = check_eval_query(ev);

	if (ev->req)
		SPF_request_free(ev->req);
	return rc;
}

/* Let libspf2 evaluate RECORD (already validated) for ENV_FROM. */
static void
check_eval(spf_t *spf, spf_ctx_t *ctx, const addr_t *client, const char *helo,
    const char *env_from, const char *record, spf_check_t *out)
{
	check_eval_t ev = {spf, ctx, client, helo, env_from, record, out, NULL};
	int	rc = spf_guarded(check_eval_guarded, &ev);

	/* A caught error leaves the request behind (leaked, see above). */
	if (rc == SPF_GUARD_CAUGHT)
		check_set(out, SPF_RES_TEMPERROR, "internal error in libspf2");
	else if (rc < 0)
		check_set(out, SPF_RES_TEMPERROR, "out of memory");
}

/* Check DOMAIN's record for CLIENT; ENV_FROM is the sender for macros. */
static void
check_run(spf_t *spf, const addr_t *client, const char *helo, const char *env_from,
    const char *domain, spf_check_t *out)
{
	const config_t *cfg = spf->cfg;
	spf_ctx_t ctx;
	char   *record = NULL, why[128] = "", clean[2 * SPF_RECORD_MAX];
	long	start = dns_now_ms(spf->dns);

	if (!spf_record_domain_ok(domain)) {
		check_set(out, SPF_RES_NONE, "no valid domain to check");
		return;
	}
	spf_layer_begin(&ctx, spf->dns, client, start + cfg->spf_lookup_time,
	    (int)cfg->spf_lookup_limit, (int)cfg->spf_void_limit);
	switch (spf_layer_fetch(&ctx, domain, &record, why, sizeof(why))) {
	case SPF_FETCH_OK:
		if (spf_record_rewrite(record, client->family, clean, sizeof(clean)) < 0)
			check_set(out, SPF_RES_PERMERROR, "record too long");
		else
			check_eval(spf, &ctx, client, helo, env_from, clean, out);
		free(record);
		break;
	case SPF_FETCH_TEMP:
		check_set(out, SPF_RES_TEMPERROR, ctx.timed_out
		    ? "DNS lookups took too long" : "DNS error fetching the SPF record");
		break;
	case SPF_FETCH_MULTI:
		check_set(out, SPF_RES_PERMERROR, "more than one SPF record");
		break;
	case SPF_FETCH_BAD:
		check_set(out, SPF_RES_PERMERROR, why);
		break;
	default:
		check_set(out, SPF_RES_NONE, "no SPF record");
	}
	spf_layer_end(&ctx);
	out->queries = ctx.queries;
	out->lookups = ctx.lookups;
	out->elapsed_ms = dns_now_ms(spf->dns) - start;
	log_debug(2, "spf: identity=%s domain=%s client=%s result=%s reason=\"%s\" "
	    "queries=%u terms=%d voids=%d elapsed=%ldms",
	    out->identity == SPF_ID_HELO ? "helo" : "mailfrom", out->domain,
	    out->client_ip, spf_result_name(out->result), out->reason, ctx.queries,
	    ctx.terms, ctx.voids, out->elapsed_ms);
}

/* Fill the facts of OUT. */
static void
check_init(spf_check_t *out, const addr_t *client, const char *helo,
    const char *sender, spf_identity_t id)
{
	memset(out, 0, sizeof(*out));
	out->identity = id;
	out->null_sender = sender == NULL || *sender == 0;
	addr_format(client, out->client_ip, sizeof(out->client_ip));
	text_clean(TEXT_HEADER_COMMENT, out->helo, sizeof(out->helo), helo ? helo : "");
	text_clean(TEXT_HEADER_COMMENT, out->sender, sizeof(out->sender), sender ? sender : "");
}

int
spf_check_helo(spf_t *spf, const addr_t *client, const char *helo, spf_check_t *out)
{
	char	env[DNS_NAME_MAX + 16];

	helo = helo ? helo : "";
	check_init(out, client, helo, NULL, SPF_ID_HELO);
	text_clean(TEXT_HEADER_COMMENT, out->domain, sizeof(out->domain), helo);
	snprintf(env, sizeof(env), "postmaster@%s", helo);
	check_run(spf, client, helo, env, helo, out);
	return 0;
}

int
spf_check_mailfrom(spf_t *spf, const addr_t *client, const char *helo,
    const char *sender, spf_check_t *out)
{
	const char *at, *domain;
	char	env[DNS_NAME_MAX + 16];

	helo = helo ? helo : "";
	if (sender == NULL || *sender == 0) {
		spf_check_helo(spf, client, helo, out);
		out->null_sender = 1;
		return 0;
	}
	check_init(out, client, helo, sender, SPF_ID_MAILFROM);
	at = strrchr(sender, '@');
	domain = at ? at + 1 : sender;
	text_clean(TEXT_HEADER_COMMENT, out->domain, sizeof(out->domain), domain);
	if (at == NULL) {
		snprintf(env, sizeof(env), "postmaster@%s", sender);
		sender = env;
	}
	check_run(spf, client, *helo ? helo : domain, sender, domain, out);
	return 0;
}
