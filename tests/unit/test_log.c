/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_log - unit tests for log.c
 * DESCRIPTION
 *	The decision line format and the cleaning of hostile values, checked
 *	through the log sink exactly as a human would read the line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "log.h"

static char last_line[4096];
static int last_prio;

static void
capture(int prio, const char *line, void *ctx)
{
	(void) ctx;
	last_prio = prio;
	snprintf(last_line, sizeof(last_line), "%s", line);
}

static void
test_decision(void **state)
{
	log_fields_t f = {
		.queue_id = "4XyZ12", .action = "reject", .reason = "spf_fail",
		.client_name = "unknown", .client_addr = "192.0.2.1",
		.helo = "evil\r\nX-Injected: 1", .from = "a@example.org", .to = NULL,
		.stage = "mail", .delay = 0.0125, .extra = "spf=fail",
	};

	(void) state;
	log_set_sink(capture, NULL);
	log_decision(&f);
	assert_int_equal(last_prio, LOG_INFO);
	assert_string_equal(last_line, "4XyZ12: action=reject reason=spf_fail client=unknown[192.0.2.1]"
	    " helo=<evil??X-Injected:_1> from=<a@example.org> to=<> stage=mail delay=0.013 spf=fail");
	f.queue_id = "";
	f.extra = NULL;
	log_decision(&f);
	assert_non_null(strstr(last_line, "NOQUEUE: action=reject"));
	assert_null(strstr(last_line, "delay=0.013 "));
	log_set_level(0);
	last_line[0] = '\0';
	log_debug(2, "hidden %d", 1);
	assert_string_equal(last_line, "");
	log_set_level(2);
	log_debug(2, "shown %d", 2);
	assert_string_equal(last_line, "shown 2");
	log_set_sink(NULL, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decision),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
