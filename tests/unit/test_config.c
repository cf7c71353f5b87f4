/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_config - unit tests for config.c, config_value.c and params.c
 * DESCRIPTION
 *	Writes configuration files to a temp dir and checks the typed values
 *	and the exact "FILE:LINE: parameter NAME: reason" errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "config.h"
#include "config_value.h"
#include "params.h"

static char tmpdir[] = "/tmp/test_config.XXXXXX";

/* Load TEXT as a file; ERRBUF gets the diagnostics. */
static config_t *
load_text(const char *text, char *errbuf, size_t errlen)
{
	char	path[128];
	FILE   *fp, *err;
	config_t *cfg;

	snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	err = fmemopen(errbuf, errlen, "w");
	assert_non_null(err);
	cfg = config_load(path, 0, err);
	fclose(err);
	return cfg;
}

static void
test_defaults(void **state)
{
	config_t *cfg;

	(void) state;
	cfg = config_load("/nonexistent/targrey.conf", 1, stderr);
	assert_non_null(cfg);
	assert_int_equal(cfg->tarpit_delay, 125000);
	assert_int_equal(cfg->tarpit_poll_interval, 250);
	assert_int_equal(cfg->greylist_max_age, 30L * 86400 * 1000);
	assert_int_equal(cfg->greylist_retry_count, 2);
	assert_int_equal(cfg->thread_stack_size, 256 * 1024);
	assert_int_equal(cfg->skip_authenticated, 1);
	assert_int_equal(cfg->spf_helo_reject, SPF_HELO_REJECT_FAIL);
	assert_string_equal(cfg->milter_socket, "inet:8891@localhost");
	assert_int_equal(cfg->trusted_networks.n, 2);
	assert_string_equal(cfg->trusted_networks.items[1], "[::1]/128");
	assert_int_equal(cfg->spf_skip_addresses.n, 3);
	config_free(cfg);
}

static void
test_every_default_converts(void **state)
{
	char	why[256];
	config_t *cfg = config_load(NULL, 1, stderr);

	(void) state;
	assert_non_null(cfg);
	for (size_t i = 0; i < params_count; i++) {
		if (config_value_set(cfg, &params_table[i], params_table[i].def, why, sizeof(why)) < 0)
			fail_msg("default of %s: %s", params_table[i].name, why);
		if (params_table[i].doc == NULL || strlen(params_table[i].doc) < 20)
			fail_msg("parameter %s has no explanation", params_table[i].name);
	}
	config_free(cfg);
}

static void
test_syntax(void **state)
{
	char	err[1024] = "";
	config_t *cfg;

	(void) state;
	cfg = load_text("# comment\n"
	    "\n"
	    "   # indented comment\n"
	    "tarpit_delay = 6s\n"
	    "greylist_delay=2m\n"
	    "client_whitelist = cidr:/a,\n"
	    "    list:/b\n"
	    "\tlist:/c\n"
	    "state_directory = /tmp/x\n"
	    "pid_file = ${state_directory}/pid\n"
	    "authserv_id = $state_directory/$(tarpit_delay)\n"
	    "dry_run = YES\n"
	    "tarpit_poll_interval = 100ms\n"
	    "state_max_size = 64m\n"
	    "spf_header = both\n"
	    "tarpit_delay = 7s\n", err, sizeof(err));
	if (cfg == NULL)
		fail_msg("load failed: %s", err);
	assert_int_equal(cfg->tarpit_delay, 7000);	/* last setting wins */
	assert_int_equal(cfg->greylist_delay, 120000);
	assert_int_equal(cfg->client_whitelist.n, 3);
	assert_string_equal(cfg->client_whitelist.items[2], "list:/c");
	assert_string_equal(cfg->pid_file, "/tmp/x/pid");
	assert_string_equal(cfg->authserv_id, "/tmp/x/7s");
	assert_int_equal(cfg->dry_run, 1);
	assert_int_equal(cfg->tarpit_poll_interval, 100);
	assert_int_equal(cfg->state_max_size, 64L * 1024 * 1024);
	assert_int_equal(cfg->spf_header, SPF_HEADER_BOTH);
	config_free(cfg);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;	/* after "DIR/t.conf:" */
	} cases[] = {
		{"tarpit_delay = soon\n", "1: parameter tarpit_delay: bad value \"soon\""},
		{"tarpit_delay = 5x\n", "1: parameter tarpit_delay: bad value \"5x\""},
		{"\n\ntarpit_dealy = 5s\n", "3: parameter tarpit_dealy: unknown parameter (did you mean tarpit_delay?)"},
		{"frobnicate = 1\n", "1: parameter frobnicate: unknown parameter\n"},
		{"dry_run = maybe\n", "1: parameter dry_run: bad value \"maybe\": want yes or no"},
		{"greylist_retry_count = 0\n", "1: parameter greylist_retry_count: value \"0\" out of range"},
		{"greylist_ipv4_prefix = 33\n", "1: parameter greylist_ipv4_prefix: value \"33\" out of range"},
		{"spf_header = all\n", "1: parameter spf_header: bad value \"all\": want one of received_spf"},
		{"just some words\n", "1: missing '=' after parameter name"},
		{"  indented = 1\n", "1: continuation line without a parameter before it"},
		{"pid_file = $nosuch/x\n", "1: parameter pid_file: reference to unknown parameter $nosuch"},
		{"pid_file = ${state_directory\n", "1: parameter pid_file: bad $name reference"},
		{"user = $group\ngroup = $user\n", "parameter user: $name references nest too deeply"},
		{"log_level = 99999999999999999999999\n", "1: parameter log_level: bad value"},
		{"tarpit_delay = 99999999999999999w\n", "1: parameter tarpit_delay: bad value"},
	};
	char	err[1024], want[512];
	config_t *cfg;

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(err, 0, sizeof(err));
		cfg = load_text(cases[i].text, err, sizeof(err));
		if (cfg != NULL)
			fail_msg("case %zu: loaded, want error %s", i, cases[i].want);
		snprintf(want, sizeof(want), "%s/t.conf:%s", tmpdir, cases[i].want);
		if (strstr(err, cases[i].want) == NULL || strncmp(err, tmpdir, strlen(tmpdir)) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, want);
	}
}

static void
test_set_and_print(void **state)
{
	char	out[8192] = "";
	FILE   *fp;
	config_t *cfg = config_load(NULL, 1, stderr);

	(void) state;
	assert_int_equal(config_set(cfg, "milter_socket", "inet:9999@127.0.0.1", stderr), 0);
	assert_string_equal(cfg->milter_socket, "inet:9999@127.0.0.1");
	assert_int_equal(config_set(cfg, "tarpit_delay", "bad", fopen("/dev/null", "w")), -1);
	fp = fmemopen(out, sizeof(out), "w");
	config_print(cfg, fp, 1);
	fclose(fp);
	assert_string_equal(out, "milter_socket = inet:9999@127.0.0.1\n");
	memset(out, 0, sizeof(out));
	fp = fmemopen(out, sizeof(out), "w");
	config_print(cfg, fp, 0);
	fclose(fp);
	assert_non_null(strstr(out, "milter_socket = inet:8891@localhost\n"));
	assert_non_null(strstr(out, "tarpit_delay = 125s\n"));
	config_free(cfg);
}

/* The -p/-o items of both programs, at start-up and reload. */
static void
test_set_items(void **state)
{
	static const struct {
		const char *items[2];
		int	want;
		long	delay;		/* tarpit_delay after, ms */
	} cases[] = {
		{{"tarpit_delay=5s", "milter_socket=inet:1@127.0.0.1"}, 0, 5000},
		{{"tarpit_delay=7s", "nonsense"}, -1, 7000},	/* no '=': stops there */
		{{"tarpit_delay=bad", "tarpit_delay=9s"}, -1, 125000},
		{{"no_such_parameter=1", NULL}, -1, 125000},
	};
	FILE   *devnull = fopen("/dev/null", "w");

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_t *cfg = config_load(NULL, 1, stderr);
		strlist_t items = {0};
		int	rc;

		for (size_t j = 0; j < 2 && cases[i].items[j]; j++)
			strlist_add(&items, cases[i].items[j], strlen(cases[i].items[j]));
		rc = config_set_items(cfg, &items, devnull);
		if (rc != cases[i].want || cfg->tarpit_delay != cases[i].delay)
			fail_msg("case %zu: got %d delay %ld, want %d delay %ld", i, rc,
			    cfg->tarpit_delay, cases[i].want, cases[i].delay);
		assert_string_equal(items.items[0], cases[i].items[0]);	/* list kept */
		strlist_clear(&items);
		config_free(cfg);
	}
	fclose(devnull);
}

static void
test_suggest(void **state)
{
	(void) state;
	assert_string_equal(params_suggest("greylist_dealy"), "greylist_delay");
	assert_string_equal(params_suggest("tarpitdelay"), "tarpit_delay");
	assert_null(params_suggest("completely_unrelated_words"));
}

static int
setup(void **state)
{
	(void) state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char	path[128];

	(void) state;
	snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
	unlink(path);
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_default_converts),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_set_and_print),
		cmocka_unit_test(test_set_items),
		cmocka_unit_test(test_suggest),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
