/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_spf_header - unit tests for the SPF header builders
 * DESCRIPTION
 *	Exact Received-SPF and Authentication-Results values for ordinary
 *	checks, then injection attempts through HELO, sender and receiver:
 *	no CR/LF, no second header, no forged key=value pair, no escape
 *	from a quoted-string or comment. spf_headers() per spf_header.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "config.h"
#include "dns.h"
#include "spf.h"
#include "spf_header.h"
#include "text.h"

/* A check result as spf_check_*() fills it (facts cleaned as TEXT_HEADER_COMMENT). */
static void
check_make(spf_check_t *c, spf_identity_t id, spf_res_t r, const char *helo,
    const char *sender)
{
	const char *at = strrchr(sender, '@');

	memset(c, 0, sizeof(*c));
	c->identity = id;
	c->result = r;
	c->null_sender = *sender == 0;
	strcpy(c->client_ip, "192.0.2.1");
	text_clean(TEXT_HEADER_COMMENT, c->helo, sizeof(c->helo), helo);
	text_clean(TEXT_HEADER_COMMENT, c->sender, sizeof(c->sender), sender);
	text_clean(TEXT_HEADER_COMMENT, c->domain, sizeof(c->domain), id == SPF_ID_HELO ? helo : at ? at + 1 : sender);
	strcpy(c->reason, "reason");
}

static void
test_received(void **state)
{
	static const struct {
		spf_identity_t id;
		spf_res_t r;
		const char *helo, *sender, *want;
	} cases[] = {
		{SPF_ID_MAILFROM, SPF_RES_PASS, "mail.example.com", "user@example.com",
		 "pass (mx.example.net: domain of user@example.com designates 192.0.2.1 as "
		 "permitted sender) client-ip=192.0.2.1; envelope-from=\"user@example.com\"; "
		 "helo=mail.example.com; receiver=mx.example.net; identity=mailfrom;"},
		{SPF_ID_HELO, SPF_RES_NONE, "mail.example.com", "",
		 "none (mx.example.net: mail.example.com does not provide an SPF record) "
		 "client-ip=192.0.2.1; envelope-from=\"\"; helo=mail.example.com; "
		 "receiver=mx.example.net; identity=helo;"},
		{SPF_ID_MAILFROM, SPF_RES_FAIL, "[192.0.2.1]", "a b@example.com",
		 "fail (mx.example.net: domain of a b@example.com does not designate "
		 "192.0.2.1 as permitted sender) client-ip=192.0.2.1; "
		 "envelope-from=\"a b@example.com\"; helo=\"[192.0.2.1]\"; "
		 "receiver=mx.example.net; identity=mailfrom;"},
	};
	spf_check_t c;
	char	buf[SPF_HEADER_MAX];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_make(&c, cases[i].id, cases[i].r, cases[i].helo, cases[i].sender);
		spf_header_received(&c, "mx.example.net", buf, sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, buf, cases[i].want);
	}
}

/* How often KEY starts outside quoted-strings and comments of V. */
static int
count_outside(const char *v, const char *key)
{
	size_t	kl = strlen(key);
	int	quoted = 0, depth = 0, n = 0;

	for (; *v; v++) {
		if (*v == '"' && depth == 0)
			quoted = !quoted;
		else if (!quoted && *v == '(')
			depth++;
		else if (!quoted && *v == ')' && depth > 0)
			depth--;
		else if (!quoted && depth == 0 && strncmp(v, key, kl) == 0)
			n++;
	}
	if (quoted || depth)
		fail_msg("unbalanced quote or comment in \"%s\"", v);
	return n;
}

/* The value must be one line with exactly one of each key. */
static void
assert_one_line(const char *v, const char *const *keys)
{
	int	n;

	if (strpbrk(v, "\r\n") != NULL)
		fail_msg("CR/LF in \"%s\"", v);
	for (; *keys; keys++)
		if ((n = count_outside(v, *keys)) != 1)
			fail_msg("\"%s\" %d times in \"%s\"", *keys, n, v);
}

static void
test_injection(void **state)
{
	static const char *const helos[] = {
		"evil.example\r\nX-Injected: yes",
		"x.example; identity=mailfrom; client-ip=10.0.0.1",
		"x\" identity=\"mailfrom",
		"x.example) pass (",
		"\\\"; receiver=forged",
		"caf\xc3\xa9.example\t\x01",
	};
	static const char *const rkeys[] = {"identity=", "client-ip=", "receiver=",
	    "helo=", "envelope-from=", NULL};
	static const char *const akeys[] = {"spf=", "smtp.", NULL};
	spf_check_t c;
	char	buf[SPF_HEADER_MAX];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(helos) / sizeof(helos[0]); i++) {
		check_make(&c, SPF_ID_HELO, SPF_RES_PASS, helos[i], "");
		spf_header_received(&c, "mx\r\n.example", buf, sizeof(buf));
		assert_one_line(buf, rkeys);
		assert_non_null(strstr(buf, "identity=helo;"));
		assert_null(strstr(buf, "\\"));
		spf_header_authres("mx.example; spf=pass", NULL, &c, buf, sizeof(buf));
		assert_one_line(buf, akeys);
		check_make(&c, SPF_ID_MAILFROM, SPF_RES_FAIL, "h.example", helos[i]);
		spf_header_received(&c, "mx.example", buf, sizeof(buf));
		assert_one_line(buf, rkeys);
		spf_header_authres("mx.example", &c, NULL, buf, sizeof(buf));
		assert_one_line(buf, akeys);
	}
}

static void
test_authres(void **state)
{
	spf_check_t helo, mail;
	char	buf[SPF_HEADER_MAX];

	(void)state;
	check_make(&helo, SPF_ID_HELO, SPF_RES_PASS, "mail.example.com", "");
	check_make(&mail, SPF_ID_MAILFROM, SPF_RES_FAIL, "mail.example.com", "u@example.org");
	spf_header_authres("mx.example.net", &mail, &helo, buf, sizeof(buf));
	assert_string_equal(buf, "mx.example.net; spf=fail smtp.mailfrom=example.org; "
	    "spf=pass smtp.helo=mail.example.com");
	/* A null sender: a HELO pass is never written as smtp.mailfrom. */
	spf_header_authres("mx.example.net", &helo, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "mx.example.net; spf=pass smtp.helo=mail.example.com");
	spf_header_authres("", NULL, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "\"\"; spf=none");
}

static void
test_headers(void **state)
{
	static const struct {
		const char *mode;
		size_t	n;
		const char *first;
	} cases[] = {
		{"received_spf", 2, "Received-SPF"},
		{"authentication_results", 1, "Authentication-Results"},
		{"both", 3, "Received-SPF"},
		{"none", 0, NULL},
	};
	spf_header_t h[SPF_HEADERS_MAX];
	spf_outcome_t o = {0};
	dns_opts_t opts = {.zone_mode = 1};
	char	err[256];
	size_t	i, n;

	(void)state;
	check_make(&o.helo, SPF_ID_HELO, SPF_RES_PASS, "mail.example.com", "");
	check_make(&o.mail, SPF_ID_MAILFROM, SPF_RES_PASS, "mail.example.com", "u@example.org");
	o.helo_done = o.mail_done = 1;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_t *cfg = config_load(NULL, 1, stderr);
		dns_t  *dns = dns_create(&opts, err, sizeof(err));
		spf_t  *spf;

		assert_int_equal(config_set(cfg, "spf_header", cases[i].mode, stderr), 0);
		assert_int_equal(config_set(cfg, "authserv_id", "mx.example.net", stderr), 0);
		assert_non_null(spf = spf_create_dns(cfg, dns, err, sizeof(err)));
		n = spf_headers(spf, &o, h);
		if (n != cases[i].n)
			fail_msg("%s: got %zu headers, want %zu", cases[i].mode, n, cases[i].n);
		if (n)
			assert_string_equal(h[0].name, cases[i].first);
		o.skipped = 1;
		assert_int_equal(spf_headers(spf, &o, h), 0);
		o.skipped = 0;
		spf_free(spf);
		dns_free(dns);
		config_free(cfg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_received),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_authres),
		cmocka_unit_test(test_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
