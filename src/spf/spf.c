/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf - SPF checks of HELO and MAIL FROM through libspf2
 * DESCRIPTION
 *	See spf.h. One SPF_server_t, configured once, over our DNS layer
 *	(spf_layer.c). A check fetches and validates the top-level record
 *	itself, so that "none", temperror and permerror of the top level
 *	never come back from libspf2 as its result-less INVALID, then lets
 *	libspf2 evaluate the clean record (SPF_request_query_fallback()).
 *	Includes and redirects come back through the layer. libspf2's
 *	SPF_error() handler ends in abort(); ours (spf_lib.c) jumps back
 *	to the check that called libspf2, which becomes a temperror.
 * DIAGNOSTICS
 *	libspf2 errors and warnings are logged with the prefix "libspf2:".
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <spf2/spf.h>
#include "log.h"
#include "spf.h"
#include "spf_int.h"
#include "spf_layer.h"
#include "spf_record.h"
#include "text.h"

spf_t *
spf_create(const config_t *cfg, char *err, size_t len)
{
	dns_t  *dns;
	spf_t  *spf;

	if ((dns = dns_create_config(cfg, err, len)) == NULL)
		return NULL;
	if ((spf = spf_create_dns(cfg, dns, err, len)) == NULL) {
		dns_free(dns);
		return NULL;
	}
	spf->own_dns = 1;
	return spf;
}

/* Configure the shared libspf2 server of SPF. */
static int
spf_server_setup(spf_t *spf, char *err, size_t len)
{
	char	host[256];
	const char *rec = spf->cfg->authserv_id;
	SPF_response_t *resp = NULL;
	volatile SPF_errcode_t e = SPF_E_SUCCESS;
	sigjmp_buf jb;

	if (rec == NULL || *rec == 0) {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = 0;
		rec = host;
	}
	text_clean(TEXT_HEADER_COMMENT, spf->receiver, sizeof(spf->receiver), rec);
	spf_jump = &jb;
	if (sigsetjmp(jb, 0)) {
		spf_jump = NULL;
		snprintf(err, len, "libspf2 failed to start");
		return -1;
	}
	spf->server = SPF_server_new_dns(spf->layer, 0);
	if (spf->server) {
		SPF_server_set_rec_dom(spf->server, spf->receiver);
		SPF_server_set_max_dns_mech(spf->server, (int)spf->cfg->spf_lookup_limit);
		SPF_server_set_max_dns_mx(spf->server, SPF_FOLLOW_MAX);
		SPF_server_set_max_dns_ptr(spf->server, SPF_FOLLOW_MAX);
		/* No built-in explanation: libspf2's points at the defunct
		 * openspf.org with a URL-encoded sender that a reply cannot
		 * carry; only a domain's own exp= text is used. */
		e = SPF_server_set_explanation(spf->server, "", &resp);
	}
	spf_jump = NULL;
	if (resp)
		SPF_response_free(resp);
	if (spf->server == NULL || e != SPF_E_SUCCESS) {
		snprintf(err, len, "libspf2: cannot create a server");
		return -1;
	}
	return 0;
}

spf_t *
spf_create_dns(const config_t *cfg, dns_t *dns, char *err, size_t len)
{
	spf_t  *spf;

	spf_lib_handlers();
	if ((spf = calloc(1, sizeof(*spf))) == NULL) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	spf->cfg = cfg;
	spf->dns = dns;
	if ((spf->layer = spf_layer_create()) == NULL) {
		snprintf(err, len, "out of memory");
		return spf_free(spf);
	}
	if (spf_server_setup(spf, err, len) < 0 || spf_policy_setup(spf, err, len) < 0)
		return spf_free(spf);
	return spf;
}

spf_t *
spf_free(spf_t *spf)
{
	if (spf == NULL)
		return NULL;
	if (spf->server) {
		sigjmp_buf jb;

		spf_jump = &jb;
		if (sigsetjmp(jb, 0) == 0)
			SPF_server_free(spf->server);
		spf_jump = NULL;
	}
	free(spf->layer);
	if (spf->own_dns)
		dns_free(spf->dns);
	free(spf->skip);
	free(spf->whitelist);
	free(spf);
	return NULL;
}

int
spf_set_explanation(spf_t *spf, const char *text)
{
	SPF_response_t *resp = NULL;
	SPF_errcode_t e;
	sigjmp_buf jb;

	if (!spf_record_macro_ok(text, strlen(text), 1))
		return -1;
	spf_jump = &jb;
	if (sigsetjmp(jb, 0)) {
		spf_jump = NULL;
		return -1;
	}
	e = SPF_server_set_explanation(spf->server, text, &resp);
	spf_jump = NULL;
	if (resp)
		SPF_response_free(resp);
	return e == SPF_E_SUCCESS ? 0 : -1;
}

dns_t *
spf_dns(const spf_t *spf)
{
	return spf->dns;
}

const config_t *
spf_config(const spf_t *spf)
{
	return spf->cfg;
}
