/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf - SPF checks of HELO and MAIL FROM, and the policy on results
 * SYNOPSIS
 *	#include "spf.h"
 *
 *	spf_t *spf_create(const config_t *cfg, char *err, size_t len);
 *	spf_t *spf_create_dns(const config_t *cfg, dns_t *dns, char *err,
 *	    size_t len);
 *	spf_t *spf_free(spf_t *spf);
 *	int spf_set_explanation(spf_t *spf, const char *text);
 *	dns_t *spf_dns(const spf_t *spf);
 *
 *	int spf_skip_client(const spf_t *spf, const addr_t *client);
 *	int spf_check_helo(spf_t *spf, const addr_t *client, const char *helo,
 *	    spf_check_t *out);
 *	int spf_check_mailfrom(spf_t *spf, const addr_t *client,
 *	    const char *helo, const char *sender, spf_check_t *out);
 *	const char *spf_result_name(spf_res_t r);
 * DESCRIPTION
 *	spf_create() builds one configured libspf2 server over our own DNS
 *	layer (dns_servers, dns_cache_*, spf_lookup_time, spf_lookup_limit,
 *	spf_void_limit, authserv_id as the receiver name) and parses the
 *	spf_* policy lists. spf_create_dns() uses DNS instead of building
 *	a resolver (tests, the RFC 7208 suite); DNS is not freed by
 *	spf_free(). There is no default explanation (libspf2's built-in
 *	one is an openspf.org URL): a fail carries only the domain's own
 *	exp= text. spf_set_explanation() sets a default explanation
 *	(before threads start).
 *
 *	spf_skip_client() is 1 when CLIENT is in spf_skip_addresses: no
 *	check, no header.
 *
 *	spf_check_helo() checks the HELO identity; spf_check_mailfrom()
 *	checks MAIL FROM, or "postmaster@HELO" when SENDER is empty (the
 *	null sender). Both fill OUT: the result, a short clean reason, the
 *	explanation of a fail (clean), the number of DNS queries sent and
 *	the facts the header builders need (cleaned as TEXT_HEADER_COMMENT,
 *	text.h). They return 0, or -1
 *	only when memory ran out (OUT then says temperror). An IPv4-mapped
 *	client address is checked as IPv4. A domain that cannot be checked
 *	(RFC 7208 4.3: not fully qualified, bad labels, address literal)
 *	gives "none" without a query.
 * THREADS
 *	After creation an spf_t is used by any number of threads at once;
 *	each check runs entirely on the calling thread.
 * DIAGNOSTICS
 *	spf_create() returns NULL with the reason in ERR. libspf2's error
 *	messages are logged (never abort()).
 */
#ifndef TG_SPF_H
#define TG_SPF_H

#include <stddef.h>
#include "addr.h"
#include "config.h"
#include "dns.h"

typedef enum {
	SPF_RES_NONE = 0,
	SPF_RES_NEUTRAL,
	SPF_RES_PASS,
	SPF_RES_FAIL,
	SPF_RES_SOFTFAIL,
	SPF_RES_TEMPERROR,
	SPF_RES_PERMERROR
} spf_res_t;

typedef enum { SPF_ID_HELO = 0, SPF_ID_MAILFROM } spf_identity_t;

#define SPF_REASON_MAX	128
#define SPF_EXP_MAX	192
#define SPF_SENDER_MAX	256

typedef struct {
	spf_res_t result;
	spf_identity_t identity;	/* mailfrom, or helo (also for <>) */
	int	null_sender;
	char	domain[DNS_NAME_MAX + 1];	/* the checked domain, clean */
	char	reason[SPF_REASON_MAX];		/* short, clean */
	char	explanation[SPF_EXP_MAX];	/* of a fail, clean, or "" */
	char	client_ip[ADDR_TEXT_MAX];
	char	helo[DNS_NAME_MAX + 1];		/* clean */
	char	sender[SPF_SENDER_MAX];		/* clean; "" for <> */
	unsigned queries;		/* DNS queries sent (cache hits not counted) */
	unsigned lookups;		/* DNS answers used, cached or not */
	long	elapsed_ms;
} spf_check_t;

typedef struct spf spf_t;

spf_t  *spf_create(const config_t *cfg, char *err, size_t len);
spf_t  *spf_create_dns(const config_t *cfg, dns_t *dns, char *err, size_t len);
spf_t  *spf_free(spf_t *spf);
int	spf_set_explanation(spf_t *spf, const char *text);
dns_t  *spf_dns(const spf_t *spf);
const config_t *spf_config(const spf_t *spf);
int	spf_skip_client(const spf_t *spf, const addr_t *client);
int	spf_check_helo(spf_t *spf, const addr_t *client, const char *helo,
	    spf_check_t *out);
int	spf_check_mailfrom(spf_t *spf, const addr_t *client, const char *helo,
	    const char *sender, spf_check_t *out);
const char *spf_result_name(spf_res_t r);

#endif
