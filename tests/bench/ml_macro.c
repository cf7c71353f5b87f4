/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ml_macro.c - SMFIC_MACRO packets with Postfix 3.7's lists and rules
 * DESCRIPTION
 *	Before every event Postfix sends one SMFIC_MACRO packet: the event's
 *	command byte, then name and value pairs, each NUL-terminated. It is
 *	sent even when it is empty and even when the milter asked not to
 *	receive the event itself (milter8_event()).
 *
 *	The names come from the milter's setsymlist reply for that class if
 *	that list is not empty, otherwise from Postfix's default
 *	milter_*_macros (MILTER_MACRO_EVAL() in milter.c). A name is sent
 *	as written in the list; it is looked up with braces ("j" is "{j}").
 *	A macro without a value (no TLS, no AUTH here) is left out.
 *	{client_addr} of an IPv6 client is written IPv6:ADDR, as Postfix
 *	does; {daemon_addr} and the CONNECT packet carry the bare address.
 */
#include <stdio.h>
#include <string.h>

#include "ml.h"

/* Postfix 3.7 defaults, indexed by SMFIM_* class. */
static const char *ml_default_macros[ML_M_COUNT] = {
	[ML_M_CONNECT] = "j {daemon_name} {daemon_addr} v _",
	[ML_M_HELO] = "{tls_version} {cipher} {cipher_bits} {cert_subject} "
	    "{cert_issuer}",
	[ML_M_MAIL] = "i {auth_type} {auth_authen} {auth_author} {mail_addr} "
	    "{mail_host} {mail_mailer}",
	[ML_M_RCPT] = "i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
	[ML_M_DATA] = "i",
	[ML_M_EOM] = "i",
	[ML_M_EOH] = "i",
};

#define ML_MYHOSTNAME	"mx.example.test"

/* ml_domain - the part after the last '@', or the whole string */
static const char *
ml_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : addr;
}

/* ml_macro_value - the value Postfix's smtpd would give a macro, or NULL */
static const char *
ml_macro_value(const char *name, const ml_vars_t *v, char *buf, size_t len)
{
	static const struct { const char *name; size_t off; } direct[] = {
		{ "client_port", offsetof(ml_vars_t, client_port) },
		{ "daemon_addr", offsetof(ml_vars_t, daemon_addr) },
		{ "daemon_port", offsetof(ml_vars_t, daemon_port) },
		{ "client_ptr", offsetof(ml_vars_t, client_name) },
		{ "helo_name", offsetof(ml_vars_t, helo) },
		{ "mail_addr", offsetof(ml_vars_t, from) },
		{ "rcpt_addr", offsetof(ml_vars_t, rcpt) },
	};
	int unknown = v->client_name[0] == '[';
	size_t i;

	for (i = 0; i < sizeof(direct) / sizeof(direct[0]); i++)
		if (strcmp(name, direct[i].name) == 0)
			return (const char *)v + direct[i].off;
	if (strcmp(name, "j") == 0 || strcmp(name, "daemon_name") == 0)
		return ML_MYHOSTNAME;
	if (strcmp(name, "v") == 0)
		return "Postfix 3.7.11";
	if (strcmp(name, "client_name") == 0)
		return unknown ? "unknown" : v->client_name;
	if (strcmp(name, "client_resolve") == 0)
		return unknown ? "FAIL" : "OK";
	if (strcmp(name, "client_connections") == 0)
		return "0";
	if (strcmp(name, "client_addr") == 0) {	/* IPv6 as IPv6:addr */
		snprintf(buf, len, "%s%s", v->v6 ? "IPv6:" : "", v->client_addr);
		return buf;
	}
	if (strcmp(name, "_") == 0) {	/* reverse name [bare address] */
		snprintf(buf, len, "%.255s [%.63s]", unknown ? "unknown" :
		    v->client_name, v->client_addr);
		return buf;
	}
	if (strcmp(name, "i") == 0)
		return v->have_qid ? v->queue_id : NULL;
	if (strcmp(name, "mail_host") == 0)
		return ml_domain(v->from);
	if (strcmp(name, "rcpt_host") == 0)
		return ml_domain(v->rcpt);
	if (strcmp(name, "mail_mailer") == 0 || strcmp(name, "rcpt_mailer") == 0)
		return "smtp";
	return NULL;			/* TLS, AUTH: not in this session */
}

/* ml_put_macros - append the SMFIC_MACRO packet of class cls for cmd */
void
ml_put_macros(ml_conn_t *c, int cls, int cmd, const ml_vars_t *v)
{
	const char *list = c->macros[cls] && c->macros[cls][0] ?
	    c->macros[cls] : ml_default_macros[cls];
	char pkt[4096], name[128], vbuf[400];
	const char *p = list, *val, *bare;
	size_t n, used = 0, nl, vl;

	pkt[used++] = (char)cmd;
	while (*p) {
		n = strcspn(p, " ,\t");
		if (n > 0 && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = 0;
			bare = name;
			if (name[0] == '{' && name[n - 1] == '}') {
				name[n - 1] = 0;
				bare = name + 1;
			}
			val = ml_macro_value(bare, v, vbuf, sizeof(vbuf));
			if (bare != name)
				name[n - 1] = '}';
			nl = n + 1;
			vl = val ? strlen(val) + 1 : 0;
			if (val && used + nl + vl <= sizeof(pkt)) {
				memcpy(pkt + used, name, nl);
				memcpy(pkt + used + nl, val, vl);
				used += nl + vl;
			}
		}
		p += n;
		p += strspn(p, " ,\t");
	}
	ml_put_cmd(c, 'D', pkt, used);
}
