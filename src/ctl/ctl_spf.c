/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ctl_spf - "targreyctl spf IP HELO SENDER": one SPF check, explained
 * DESCRIPTION
 *	See ctl_spf.h. Output is "key: value" lines, one per fact, so that
 *	scripts can grep it.
 */
#include <stdio.h>
#include <string.h>
#include "ctl_spf.h"
#include "spf.h"
#include "spf_header.h"
#include "spf_policy.h"

/* Print one check. */
static void
ctl_spf_print_check(const char *what, const spf_check_t *c)
{
	printf("%s: %s\n", what, spf_result_name(c->result));
	printf("%s domain: %s\n", what, c->domain);
	printf("%s reason: %s\n", what, c->reason);
	if (c->explanation[0])
		printf("%s explanation: %s\n", what, c->explanation);
	printf("%s dns queries: %u (answers used: %u, %ld ms)\n", what, c->queries,
	    c->lookups, c->elapsed_ms);
}

/* Print the outcome of spf_evaluate(). */
static void
ctl_spf_print(const spf_t *spf, const spf_outcome_t *o)
{
	spf_header_t h[SPF_HEADERS_MAX];
	size_t	i, n;

	if (o->skipped)
		printf("skipped: client in spf_skip_addresses\n");
	if (o->whitelisted)
		printf("skipped: whitelisted (spf_whitelist, spf_helo_whitelist or "
		    "spf_domain_whitelist)\n");
	if (o->helo_done)
		ctl_spf_print_check("helo", &o->helo);
	if (o->mail_done && !(o->helo_done && o->mail.identity == SPF_ID_HELO))
		ctl_spf_print_check("mailfrom", &o->mail);
	if (o->verdict.action == SPF_ACT_CONTINUE)
		printf("verdict: continue\n");
	else
		printf("verdict: %s %s %s\n", o->verdict.rcode, o->verdict.xcode,
		    o->verdict.text);
	n = spf_headers(spf, o, h);
	for (i = 0; i < n; i++)
		printf("%s: %s\n", h[i].name, h[i].value);
}

int
ctl_spf(const config_t *cfg, int argc, char **argv)
{
	spf_outcome_t o;
	char	err[256];
	const char *sender;
	spf_t  *spf;
	addr_t	client;

	if (argc != 4 || addr_parse(argv[1], &client) < 0) {
		fprintf(stderr, "usage: targreyctl spf IP HELO SENDER  (SENDER \"\" or <> "
		    "for the null sender)\n");
		return 2;
	}
	sender = strcmp(argv[3], "<>") == 0 ? "" : argv[3];
	if ((spf = spf_create(cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "targreyctl: spf: %s\n", err);
		return 1;
	}
	spf_evaluate(spf, &client, argv[2], sender, &o);
	ctl_spf_print(spf, &o);
	spf_free(spf);
	return 0;
}
