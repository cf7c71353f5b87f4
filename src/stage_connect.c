/*
 * NAME
 *	stage_connect - client whitelist, reverse lookup and S25R at connect
 * DESCRIPTION
 *	See stage.h. Postfix gives the milter the verified name or "[ADDR]".
 *	With smtpd_peername_lookup = no it looks nothing up but still says
 *	{client_resolve} = FAIL, the same as for a client without a PTR, so
 *	"auto" asks DNS itself whenever there is no verified name and
 *	Postfix's lookup did not fail temporarily (TEMP); the answers are
 *	cached, so a client Postfix did look up costs little.
 * DIAGNOSTICS
 *	A temporary DNS failure of the reverse lookup is logged; it counts
 *	as rule 0 only with s25r_tempfail_is_unknown = yes.
 */
#include <string.h>
#include "dns.h"
#include "log.h"
#include "metrics.h"
#include "stage.h"
#include "whitelist.h"

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
	dns_t  *dns = spf_dns(s->rt->spf);
	char	name[SESSION_NAME_MAX];
	int	rc;

	rc = dns_fcrdns(dns, &s->client, dns_now_ms(dns) + s->rt->cfg->spf_lookup_time,
	    name, sizeof(name));
	if (rc == DNS_FCRDNS_FOUND)
		memcpy(s->client_name, name, sizeof(s->client_name));
	return rc == DNS_FCRDNS_TEMPFAIL ? -1 : 0;
}

/* Whitelist, reverse lookup, S25R. */
void
stage_connect(session_t *s, const char *client_resolve)
{
	const runtime_t *rt = s->rt;
	table_answer_t a;
	s25r_verdict_t v;
	int	tempfail = 0;

	if (stage_wants_lookup(s, client_resolve))
		tempfail = stage_reverse_lookup(s) < 0;
	if (whitelist_client(rt->whitelist, s->client_name, &s->client, &a)) {
		s->tg_skip = "client_whitelist";
		snprintf(s->s25r_reason, sizeof(s->s25r_reason), "whitelist_%s:%d", a.table, a.line);
		if (log_get_level() >= 1)
			session_log(s, "connect", "skip", s->s25r_reason, NULL);
		return;
	}
	if (tempfail && !rt->cfg->s25r_tempfail_is_unknown) {
		snprintf(s->s25r_reason, sizeof(s->s25r_reason), "reverse_lookup_tempfail");
		session_log(s, "connect", "clean", s->s25r_reason, "(temporary DNS failure, not rule 0)");
		return;
	}
	s25r_classify(rt->s25r, s->client_name[0] ? s->client_name : NULL, &s->client, &v);
	s->suspicious = v.suspicious;
	metrics_count_s25r(v.suspicious, v.reason);
	memcpy(s->s25r_reason, v.reason, sizeof(s->s25r_reason));
	if (log_get_level() >= 1)
		session_log(s, "connect", s->suspicious ? "suspicious" : "clean", s->s25r_reason, NULL);
}
