/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_header - Received-SPF and Authentication-Results header values
 * SYNOPSIS
 *	#include "spf_header.h"
 *
 *	size_t spf_header_received(const spf_check_t *c, const char *receiver,
 *	    char *buf, size_t size);
 *	size_t spf_header_authres(const char *authserv_id,
 *	    const spf_check_t *mail, const spf_check_t *helo, char *buf,
 *	    size_t size);
 *	size_t spf_headers(const spf_t *spf, const spf_outcome_t *o,
 *	    spf_header_t out[SPF_HEADERS_MAX]);
 * DESCRIPTION
 *	spf_header_received() writes the value of a Received-SPF header
 *	(RFC 7208 9.1) for check C: result, a comment, then client-ip,
 *	envelope-from, helo, receiver and identity (mailfrom or helo).
 *	spf_header_authres() writes an Authentication-Results value
 *	(RFC 8601): "ID; spf=RESULT smtp.mailfrom=DOMAIN" for MAIL (or
 *	smtp.helo when MAIL is the HELO identity of a null sender), then
 *	"; spf=RESULT smtp.helo=NAME" for HELO when given; a HELO pass
 *	can never read as a MAIL FROM pass.
 *	Every value is written as a dot-atom/token when it is one, else as
 *	a quoted-string; control bytes, quotes, backslashes, parentheses
 *	and semicolons never get through (they are replaced by '?'), and
 *	the result is always one line. Both return the length written
 *	(cut at SIZE - 1).
 *
 *	spf_headers() gives the milter the headers to insert at end of
 *	message for outcome O, per spf_header (received_spf,
 *	authentication_results, both, none): name and value pairs, none
 *	for a skipped or whitelisted client. Returns how many.
 * THREADS
 *	Pure functions.
 */
#ifndef TG_SPF_HEADER_H
#define TG_SPF_HEADER_H

#include "spf.h"
#include "spf_policy.h"

#define SPF_HEADER_MAX	900
#define SPF_HEADERS_MAX	3

typedef struct {
	const char *name;		/* "Received-SPF", "Authentication-Results" */
	char	value[SPF_HEADER_MAX];
} spf_header_t;

size_t	spf_header_received(const spf_check_t *c, const char *receiver,
	    char *buf, size_t size);
size_t	spf_header_authres(const char *authserv_id, const spf_check_t *mail,
	    const spf_check_t *helo, char *buf, size_t size);
size_t	spf_headers(const spf_t *spf, const spf_outcome_t *o,
	    spf_header_t out[SPF_HEADERS_MAX]);

#endif
