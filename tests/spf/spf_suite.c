/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_suite - run the RFC 7208 test suite through our SPF code path
 * SYNOPSIS
 *	spf_suite [-v] [FIXTURE]
 * DESCRIPTION
 *	Reads the fixture made by mkfixture.py (default:
 *	$TG_SRCDIR/tests/spf/rfc7208-tests.txt), serves each scenario's
 *	zone from memory through dns.c (zone mode) and runs every test
 *	through spf_check_mailfrom() - the same path the milter uses, our
 *	DNS layer, validator and result mapping included. A test passes
 *	when the result is one of the acceptable ones and, when the test
 *	names an explanation and the result is fail, the explanation is
 *	equal. Prints each failure with got/want, then "N passed, N failed".
 * DIAGNOSTICS
 *	Exit status 1 when fewer than SPF_SUITE_FLOOR tests pass (a
 *	regression floor: raise it when the count goes up), 2 when the
 *	fixture cannot be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "config.h"
#include "dns.h"
#include "spf.h"

#define SPF_SUITE_FLOOR	201
#define MAX_FIELDS	8
#define MAX_LINES	256

typedef struct {
	char   *f[MAX_FIELDS];
	int	n;
} row_t;

static int verbose;

/* Decode %XX escapes in place; returns the decoded length. */
static size_t
pct_decode(char *s)
{
	char   *r = s, *w = s;
	unsigned v;

	while (*r) {
		if (r[0] == '%' && sscanf(r + 1, "%2x", &v) == 1) {
			*w++ = (char)v;
			r += 3;
		} else
			*w++ = *r++;
	}
	*w = 0;
	return (size_t)(w - s);
}

/* Split LINE at tabs into R (fields keep pointing into LINE). */
static void
row_split(char *line, row_t *r)
{
	char   *p = line, *tab;

	line[strcspn(line, "\n")] = 0;
	for (r->n = 0; r->n < MAX_FIELDS && p; r->n++) {
		r->f[r->n] = p;
		if ((tab = strchr(p, '\t')) != NULL)
			*tab++ = 0;
		p = tab;
	}
}

/* Type name to number. */
static int
zone_type(const char *t)
{
	static const struct { const char *n; int t; } map[] = {
	    {"A", DNS_T_A}, {"AAAA", DNS_T_AAAA}, {"PTR", DNS_T_PTR},
	    {"CNAME", DNS_T_CNAME}, {"MX", DNS_T_MX}, {"TXT", DNS_T_TXT}, {"", 0}};
	size_t	i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].n, t) == 0)
			return map[i].t;
	return -1;
}

/* Add one Z row to DNS. */
static int
zone_add(dns_t *dns, row_t *r)
{
	char   *name = r->f[1], *type = r->f[2], *val = r->f[3];
	size_t	len;
	addr_t	a;
	unsigned pref;
	char	host[300];

	pct_decode(name);
	pct_decode(type);
	len = pct_decode(val);
	if (strcmp(type, "TIMEOUT") == 0)
		return dns_zone_add_timeout(dns, name, zone_type(val));
	switch (zone_type(type)) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (addr_parse(val, &a) < 0)
			return -1;
		return dns_zone_add(dns, name, zone_type(type), 300, a.bytes,
		    a.family == AF_INET ? 4 : 16, 0);
	case DNS_T_MX:
		host[0] = 0;	/* a null MX has the root as its name */
		if (sscanf(val, "%u %299s", &pref, host) < 1)
			return -1;
		return dns_zone_add(dns, name, DNS_T_MX, 300, host, strlen(host), pref);
	case -1:
		return -1;
	default:
		return dns_zone_add(dns, name, zone_type(type), 300, val, len, 0);
	}
}

/* Is GOT one of the comma separated WANT results? */
static int
result_ok(const char *got, const char *want)
{
	size_t	gl = strlen(got);
	const char *p = want;

	while (*p) {
		size_t	l = strcspn(p, ",");
		if (l == gl && strncmp(p, got, l) == 0)
			return 1;
		p += l + (p[l] == ',');
	}
	return 0;
}

/* Run one T row against SPF; 1 passed, 0 failed. */
static int
test_run(spf_t *spf, const char *scen, row_t *r)
{
	spf_check_t c;
	addr_t	a;
	int	i, ok;

	for (i = 1; i < r->n; i++)
		pct_decode(r->f[i]);
	if (addr_parse(r->f[2], &a) < 0) {
		printf("FAIL %s/%s: bad host %s\n", scen, r->f[1], r->f[2]);
		return 0;
	}
	spf_check_mailfrom(spf, &a, r->f[3], r->f[4], &c);
	ok = result_ok(spf_result_name(c.result), r->f[5]);
	if (ok && c.result == SPF_RES_FAIL && strcmp(r->f[6], "-") != 0
	    && strcmp(c.explanation, r->f[6]) != 0) {
		printf("FAIL %s/%s: explanation got \"%s\", want \"%s\"\n",
		    scen, r->f[1], c.explanation, r->f[6]);
		return 0;
	}
	if (!ok)
		printf("FAIL %s/%s: got %s (%s), want %s\n", scen, r->f[1],
		    spf_result_name(c.result), c.reason, r->f[5]);
	else if (verbose)
		printf("ok   %s/%s: %s (%u queries)\n", scen, r->f[1],
		    spf_result_name(c.result), c.queries);
	return ok;
}

/* Build the zone of one scenario and run its tests; adds to COUNTS. */
static void
scenario_run(const config_t *cfg, const char *scen, row_t *rows, int n, int counts[2])
{
	dns_opts_t opts = {.zone_mode = 1, .cache_size = 0};
	char	err[256];
	dns_t  *dns;
	spf_t  *spf;
	int	i;

	if ((dns = dns_create(&opts, err, sizeof(err))) == NULL) {
		printf("FAIL %s: %s\n", scen, err);
		return;
	}
	for (i = 0; i < n; i++)
		if (rows[i].f[0][0] == 'Z' && zone_add(dns, &rows[i]) < 0)
			printf("warning: %s: bad zone row %s %s\n", scen,
			    rows[i].f[1], rows[i].f[2]);
	if ((spf = spf_create_dns(cfg, dns, err, sizeof(err))) == NULL
	    || spf_set_explanation(spf, "DEFAULT") < 0) {
		printf("FAIL %s: %s\n", scen, err);
		dns_free(dns);
		return;
	}
	for (i = 0; i < n; i++)
		if (rows[i].f[0][0] == 'T')
			counts[!test_run(spf, scen, &rows[i])]++;
	spf_free(spf);
	dns_free(dns);
}

int
main(int argc, char **argv)
{
	static char *lines[MAX_LINES];
	static row_t rows[MAX_LINES];
	char	path[1024], buf[8192], scen[8192] = "";
	const char *src = getenv("TG_SRCDIR");
	int	counts[2] = {0, 0}, n = 0, i;
	config_t *cfg;
	FILE   *fp;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		argv++, argc--;
	}
	snprintf(path, sizeof(path), "%s/tests/spf/rfc7208-tests.txt", src ? src : ".");
	if ((fp = fopen(argc > 1 ? argv[1] : path, "r")) == NULL
	    || (cfg = config_load(NULL, 1, stderr)) == NULL) {
		perror(argc > 1 ? argv[1] : path);
		return 2;
	}
	for (;;) {
		int	eof = fgets(buf, sizeof(buf), fp) == NULL;
		if (eof || buf[0] == 'S') {
			if (n)
				scenario_run(cfg, scen, rows, n, counts);
			for (i = 0; i < n; i++)
				free(lines[i]);
			n = 0;
			if (eof)
				break;
			buf[strcspn(buf, "\n")] = 0;
			snprintf(scen, sizeof(scen), "%s", buf + 2);
			pct_decode(scen);
			continue;
		}
		if (n < MAX_LINES && (lines[n] = strdup(buf)) != NULL)
			row_split(lines[n], &rows[n]), n++;
	}
	fclose(fp);
	config_free(cfg);
	printf("%d passed, %d failed\n", counts[0], counts[1]);
	if (counts[0] < SPF_SUITE_FLOOR) {
		printf("below the regression floor of %d\n", SPF_SUITE_FLOOR);
		return 1;
	}
	return 0;
}
