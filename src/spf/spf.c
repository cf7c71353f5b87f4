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
 *	to spf_guarded(), which every libspf2 call here goes through: a
 *	server that cannot start is an error, a check a temperror.
 * DIAGNOSTICS
 *	libspf2 errors and warnings are logged with the prefix "libspf2:".
 */
#include <netinet/in.h>
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

/* What the guarded libspf2 calls of this file read and leave behind. */
typedef struct {
	spf_t  *spf;
	SPF_response_t *resp;		/* of SPF_server_set_explanation() */
	const char *text;		/* the explanation to set */
} spf_setup_t;

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

/* The libspf2 calls of spf_server_setup(), under the guard. */
static int
spf_server_new_guarded(void *arg)
{
	spf_setup_t *st = arg;
	spf_t  *spf = st->spf;

	spf->server = SPF_server_new_dns(spf->layer, 0);
	if (spf->server == NULL)
		return -1;
	SPF_server_set_rec_dom(spf->server, spf->receiver);
	SPF_server_set_max_dns_mech(spf->server, (int)spf->cfg->spf_lookup_limit);
	SPF_server_set_max_dns_mx(spf->server, SPF_FOLLOW_MAX);
	SPF_server_set_max_dns_ptr(spf->server, SPF_FOLLOW_MAX);
	/* No built-in explanation: libspf2's points at the defunct
	 * openspf.org with a URL-encoded sender that a reply cannot
	 * carry; only a domain's own exp= text is used. */
	return SPF_server_set_explanation(spf->server, "", &st->resp)
	    == SPF_E_SUCCESS ? 0 : -1;
}

/* Configure the shared libspf2 server of SPF. */
static int
spf_server_setup(spf_t *spf, char *err, size_t len)
{
	char	host[256];
	const char *rec = spf->cfg->authserv_id;
	spf_setup_t st = {spf, NULL, NULL};
	int	rc;

	if (rec == NULL || *rec == 0) {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = 0;
		rec = host;
	}
	text_clean(TEXT_HEADER_COMMENT, spf->receiver, sizeof(spf->receiver), rec);
	if ((rc = spf_guarded(spf_server_new_guarded, &st)) == SPF_GUARD_CAUGHT) {
		snprintf(err, len, "libspf2 failed to start");
		return -1;
	}
	if (st.resp)
		SPF_response_free(st.resp);
	if (rc < 0) {
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

/* SPF_server_free() of ARG, under the guard. */
static int
spf_server_free_guarded(void *arg)
{
	SPF_server_free(arg);
	return 0;
}

spf_t *
spf_free(spf_t *spf)
{
	if (spf == NULL)
		return NULL;
	if (spf->server)
		(void)spf_guarded(spf_server_free_guarded, spf->server);
	free(spf->layer);
	if (spf->own_dns)
		dns_free(spf->dns);
	free(spf->skip);
	free(spf->whitelist);
	free(spf);
	return NULL;
}

/* SPF_server_set_explanation() of ARG's text, under the guard. */
static int
spf_explanation_guarded(void *arg)
{
	spf_setup_t *st = arg;

	return SPF_server_set_explanation(st->spf->server, st->text, &st->resp)
	    == SPF_E_SUCCESS ? 0 : -1;
}

int
spf_set_explanation(spf_t *spf, const char *text)
{
	spf_setup_t st = {spf, NULL, text};
	int	rc;

	if (!spf_record_macro_ok(text, strlen(text), 1))
		return -1;
	if ((rc = spf_guarded(spf_explanation_guarded, &st)) == SPF_GUARD_CAUGHT)
		return -1;
	if (st.resp)
		SPF_response_free(st.resp);
	return rc < 0 ? -1 : 0;
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
