/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_header - Received-SPF and Authentication-Results header values
 * DESCRIPTION
 *	See spf_header.h. Everything that came from the client (HELO,
 *	sender) or from DNS (the explanation is never used here) goes
 *	through hdr_value(), which decides between a bare word and a
 *	quoted-string after removing anything that could end the header,
 *	start another one or break out of a quoted-string or comment.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "spf_header.h"
#include "spf_int.h"
#include "text.h"

typedef struct {
	char   *buf;
	size_t	size, len;
} hdr_t;

/* Append formatted text, cut at the end of the buffer. */
__attribute__((format(printf, 2, 3))) static void
hdr_put(hdr_t *h, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (h->len + 1 >= h->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(h->buf + h->len, h->size - h->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		h->len += (size_t)n < h->size - h->len ? (size_t)n : h->size - h->len - 1;
}

/* A character that may stand in a bare value (dot-atom / token). */
static int
hdr_bare(unsigned char c, int token)
{
	if (c >= '0' && c <= '9')
		return 1;
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return 1;
	return strchr(token ? "-._+!#$%&'*^`{|}~" : "-._+!#$%&'*/=?^`{|}~", c) != NULL;
}

/* Append VALUE as a bare word when possible, else as a quoted-string. */
static void
hdr_value(hdr_t *h, const char *value, int token)
{
	char	clean[SPF_SENDER_MAX + 8];
	const char *p;
	int	bare;

	text_clean(TEXT_HEADER_COMMENT, clean, sizeof(clean), value);
	bare = clean[0] != 0 && clean[0] != '.';
	for (p = clean; *p && bare; p++)
		bare = hdr_bare((unsigned char)*p, token) && !(p[0] == '.' && p[1] == '.');
	if (bare && clean[strlen(clean) - 1] == '.' && !token)
		bare = 0;
	if (bare)
		hdr_put(h, "%s", clean);
	else
		hdr_put(h, "\"%s\"", clean);
}

/* The comment of a Received-SPF header (RFC 7208 9.1 examples). */
static void
hdr_comment(hdr_t *h, const spf_check_t *c, const char *receiver)
{
	char	who[SPF_SENDER_MAX + 16], dom[DNS_NAME_MAX + 1], why[SPF_REASON_MAX];

	text_clean(TEXT_HEADER_COMMENT, who, sizeof(who), c->identity == SPF_ID_MAILFROM ? c->sender : c->helo);
	text_clean(TEXT_HEADER_COMMENT, dom, sizeof(dom), c->domain);
	text_clean(TEXT_HEADER_COMMENT, why, sizeof(why), c->reason);
	hdr_put(h, "(%s: ", receiver);
	switch (c->result) {
	case SPF_RES_PASS:
		hdr_put(h, "domain of %s designates %s as permitted sender", who, c->client_ip);
		break;
	case SPF_RES_FAIL:
		hdr_put(h, "domain of %s does not designate %s as permitted sender",
		    who, c->client_ip);
		break;
	case SPF_RES_SOFTFAIL:
		hdr_put(h, "domain of transitioning %s does not designate %s as "
		    "permitted sender", who, c->client_ip);
		break;
	case SPF_RES_NEUTRAL:
		hdr_put(h, "%s is neither permitted nor denied by domain of %s",
		    c->client_ip, who);
		break;
	case SPF_RES_NONE:
		hdr_put(h, "%s does not provide an SPF record", dom[0] ? dom : "sender");
		break;
	default:
		hdr_put(h, "error checking %s: %s", dom[0] ? dom : "sender", why);
	}
	hdr_put(h, ")");
}

size_t
spf_header_received(const spf_check_t *c, const char *receiver, char *buf, size_t size)
{
	hdr_t	h = {buf, size, 0};
	char	rcv[DNS_NAME_MAX + 1];

	if (size == 0)
		return 0;
	buf[0] = 0;
	text_clean(TEXT_HEADER_COMMENT, rcv, sizeof(rcv), receiver ? receiver : "");
	hdr_put(&h, "%s ", spf_result_name(c->result));
	hdr_comment(&h, c, rcv);
	hdr_put(&h, " client-ip=");
	hdr_value(&h, c->client_ip, 0);
	hdr_put(&h, "; envelope-from=");
	hdr_value(&h, c->null_sender ? "" : c->sender, 0);
	hdr_put(&h, "; helo=");
	hdr_value(&h, c->helo, 0);
	hdr_put(&h, "; receiver=");
	hdr_value(&h, rcv, 0);
	hdr_put(&h, "; identity=%s;", c->identity == SPF_ID_MAILFROM ? "mailfrom" : "helo");
	return h.len;
}

size_t
spf_header_authres(const char *authserv_id, const spf_check_t *mail,
    const spf_check_t *helo, char *buf, size_t size)
{
	hdr_t	h = {buf, size, 0};

	if (size == 0)
		return 0;
	buf[0] = 0;
	hdr_value(&h, authserv_id ? authserv_id : "", 1);
	if (mail) {
		hdr_put(&h, "; spf=%s smtp.%s=", spf_result_name(mail->result),
		    mail->identity == SPF_ID_MAILFROM ? "mailfrom" : "helo");
		hdr_value(&h, mail->identity == SPF_ID_MAILFROM ? mail->domain
		    : mail->helo, 1);
	}
	if (helo && helo != mail) {
		hdr_put(&h, "; spf=%s smtp.helo=", spf_result_name(helo->result));
		hdr_value(&h, helo->helo, 1);
	}
	if (!mail && !helo)
		hdr_put(&h, "; spf=none");
	return h.len;
}

size_t
spf_headers(const spf_t *spf, const spf_outcome_t *o, spf_header_t out[SPF_HEADERS_MAX])
{
	int	mode = spf->cfg->spf_header, want_mail, want_helo;
	const spf_check_t *mail, *helo;
	spf_facts_t f = {.skipped = o->skipped, .whitelisted = o->whitelisted,
	    .helo = o->helo_done ? &o->helo : NULL, .mail = o->mail_done ? &o->mail : NULL};
	size_t	n = 0;

	spf_verdict_headers(&f, &want_mail, &want_helo);
	mail = want_mail ? f.mail : NULL;
	helo = want_helo ? f.helo : NULL;
	if (!mail && !helo)
		return 0;
	if (mode == SPF_HEADER_RECEIVED_SPF || mode == SPF_HEADER_BOTH) {
		if (mail) {
			out[n].name = "Received-SPF";
			spf_header_received(mail, spf->receiver, out[n++].value, SPF_HEADER_MAX);
		}
		if (helo) {
			out[n].name = "Received-SPF";
			spf_header_received(helo, spf->receiver, out[n++].value, SPF_HEADER_MAX);
		}
	}
	if (mode == SPF_HEADER_AUTH_RESULTS || mode == SPF_HEADER_BOTH) {
		out[n].name = "Authentication-Results";
		spf_header_authres(spf->receiver, mail, helo, out[n++].value, SPF_HEADER_MAX);
	}
	return n;
}
