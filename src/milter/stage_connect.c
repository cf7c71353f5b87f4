/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	stage_connect - trusted network, client whitelist, reverse lookup
 *	and S25R at connect
 * DESCRIPTION
 *	See stage.h. The stage gathers the facts policy_decide() (policy.c)
 *	asks for, in its order, and logs the decision. Postfix gives the milter the verified name or "[ADDR]".
 *	With smtpd_peername_lookup = no it looks nothing up but still says
 *	{client_resolve} = FAIL, the same as for a client without a PTR, so
 *	"auto" asks DNS itself whenever there is no verified name and
 *	Postfix's lookup did not fail temporarily (TEMP); the answers are
 *	cached, so a client Postfix did look up costs little. The lookup
 *	uses the daemon's resolver (runtime.h: rt->dns, shared with SPF
 *	for its cache) and, as its time limit, spf_lookup_time: the one
 *	DNS time limit the configuration has (a limit of its own would be
 *	a new parameter, and a change of behaviour).
 * DIAGNOSTICS
 *	A temporary DNS failure of the reverse lookup is logged; it counts
 *	as rule 0 only with s25r_tempfail_is_unknown = yes.
 */
#include <string.h>
#include "dns.h"
#include "log.h"
#include "metrics.h"
#include "metrics_hourly.h"
#include "metrics_topnet.h"
#include "policy.h"
#include "stage.h"
#include "whitelist.h"
#include "words.h"

/* Should the milter look the client's name up itself? */
static int
stage_wants_lookup(const session_t *s, const char *client_resolve)
{
	switch (s->rt->cfg->s25r_reverse_lookup) {
	case S25R_REVERSE_YES:
		return s->client_name[0] == '\0';
	case S25R_REVERSE_AUTO:
		return s->client_name[0] == '\0' && strcmp(client_resolve, "TEMP") != 0;
	default:
		return 0;
	}
}

/* Forward-confirmed reverse lookup; 0, or -1 on a temporary failure. */
static int
stage_reverse_lookup(session_t *s)
{
	dns_t  *dns = s->rt->dns;
	char	name[SESSION_NAME_MAX];
	int	rc;

	rc = dns_fcrdns(dns, &s->client, dns_now_ms(dns) + s->rt->cfg->spf_lookup_time,
	    name, sizeof(name));
	if (rc == DNS_FCRDNS_FOUND)
		memcpy(s->client_name, name, sizeof(s->client_name));
	return rc == DNS_FCRDNS_TEMPFAIL ? -1 : 0;
}

/* Act on the connect decision R; 1 when the client skips everything. */
static int
stage_connect_apply(session_t *s, const policy_result_t *r)
{
	if (r->step == NULL) {		/* cannot happen: policy_decide() asks at most twice */
		log_error("connect: no decision (%s)", policy_verdict_name(r->verdict));
		return 0;
	}
	if (r->verdict == POLICY_SKIP && strcmp(r->step, W_TRUSTED_NETWORKS) == 0) {
		s->skip_reason = W_TRUSTED_NETWORK;
		session_log(s, W_CONNECT, W_SKIP, s->skip_reason, NULL);
		return 1;
	}
	snprintf(s->s25r_reason, sizeof(s->s25r_reason), "%s", r->reason);
	if (r->verdict == POLICY_SKIP) {
		s->tg_skip = W_CLIENT_WHITELIST;
		if (log_get_level() >= 1)
			session_log(s, W_CONNECT, W_SKIP, s->s25r_reason, NULL);
	} else if (strcmp(r->step, W_REVERSE_LOOKUP) == 0)
		session_log(s, W_CONNECT, W_CLEAN, s->s25r_reason, "(temporary DNS failure, not rule 0)");
	else {
		s->suspicious = r->verdict == POLICY_SUSPICIOUS;
		if (log_get_level() >= 1)
			session_log(s, W_CONNECT, r->action, s->s25r_reason, NULL);
	}
	return 0;
}

/* Trusted network, reverse lookup, whitelist, S25R (policy_decide() asks
 * for each fact when it needs it); 1 when the client skips everything. */
int
stage_connect(session_t *s, const char *client_resolve)
{
	const runtime_t *rt = s->rt;
	policy_facts_t f = {.tempfail_is_unknown = rt->cfg->s25r_tempfail_is_unknown};
	policy_result_t r;
	table_answer_t a;
	s25r_verdict_t v;

	f.trusted = netlist_contains(rt->trusted, rt->trusted_count, &s->client);
	for (int asked = 0; asked <= 2; asked++) {
		policy_decide(&f, &r);
		if (r.verdict == POLICY_ASK_CLIENT) {
			if (stage_wants_lookup(s, client_resolve))
				f.reverse_tempfail = stage_reverse_lookup(s) < 0;
			f.client_wl = whitelist_client(rt->whitelist, s->client_name, &s->client, &a)
			    ? &a : NULL;
			f.client_known = 1;
		} else if (r.verdict == POLICY_ASK_S25R) {
			s25r_classify(rt->s25r, s->client_name[0] ? s->client_name : NULL,
			    &s->client, &v);
			metrics_count_s25r(v.suspicious, v.reason);
			metrics_hour_s25r(v.reason);
			if (v.suspicious)
				metrics_topnet_add(&s->client);
			f.s25r = &v;
		} else
			break;
	}
	return stage_connect_apply(s, &r);
}
