/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_postconf - unit tests for postconf.c
 * DESCRIPTION
 *	Table-driven: which smtpd service of "postconf -M" output counts,
 *	and "-" standing for default_process_limit. Then the real postconf
 *	(Debian's, a test dependency) on a private configuration directory
 *	in a temp dir: postscreen in front with default_process_limit 37
 *	gives 37; a directory without main.cf makes postconf fail (-1 and a
 *	reason).
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
#include "postconf.h"

static void
test_parse_master(void **state)
{
	static const struct {
		const char *name;
		const char *master;
		long	want;
	} cases[] = {
		{"smtp inet, default", "smtp inet n - y - - smtpd\n", 50},
		{"smtp inet, maxproc 20", "smtp inet n - y - 20 smtpd\n", 20},
		{"postscreen: smtpd pass counts",
		 "smtp inet n - y - 1 postscreen\nsmtpd pass - - y - 30 smtpd\n"
		 "dnsblog unix - - y - 0 dnsblog\n", 30},
		{"smtp before submission",
		 "submission inet n - y - 5 smtpd -o smtpd_tls_security_level=encrypt\n"
		 "smtp inet n - y - 40 smtpd\n", 40},
		{"address:25", "127.0.0.1:25 inet n - n - 12 smtpd\n", 12},
		{"only another inet smtpd", "2525 inet n - n - 7 smtpd", 7},
		{"no smtpd", "pickup unix n - y 60 1 pickup\n", -1},
		{"empty", "", -1},
		{"short line", "smtp inet n\n", -1},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long	got = postconf_parse_master(cases[i].master, 50);

		if (got != cases[i].want)
			fail_msg("%s: got %ld, want %ld", cases[i].name, got, cases[i].want);
	}
}

/* Write TEXT to DIR/NAME. */
static void
write_file(const char *dir, const char *name, const char *text)
{
	char	path[512];
	FILE   *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void
test_real_postconf(void **state)
{
	char	dir[] = "/tmp/tg-postconf.XXXXXX", path[512], why[160];
	long	got;

	(void) state;
	assert_non_null(mkdtemp(dir));
	got = postconf_smtpd_limit(dir, why, sizeof(why));
	if (got != -1)
		fail_msg("no main.cf: got %ld, want -1 (%s)", got, why);
	write_file(dir, "main.cf", "default_process_limit = 37\n");
	write_file(dir, "master.cf", "smtp inet n - n - 1 postscreen\n"
	    "smtpd pass - - n - - smtpd\n");
	got = postconf_smtpd_limit(dir, why, sizeof(why));
	if (got != 37)
		fail_msg("postscreen + smtpd pass: got %ld, want 37 (%s)", got, why);
	assert_non_null(strstr(why, "37"));
	snprintf(path, sizeof(path), "%s/main.cf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/master.cf", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_master),
		cmocka_unit_test(test_real_postconf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
