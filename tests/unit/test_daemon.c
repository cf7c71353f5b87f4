/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_daemon - unit tests for daemon.c and session.c helpers
 * DESCRIPTION
 *	Socket name conversion (Postfix and libmilter forms) and the client
 *	facts a session keeps from the connect packet.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include "daemon.h"
#include "session.h"

static void
test_socket_spec(void **state)
{
	static const struct {
		const char *in;
		const char *want;	/* NULL = error */
	} cases[] = {
		{"inet:8891@localhost", "inet:8891@localhost"},
		{"inet:localhost:8891", "inet:8891@localhost"},
		{"inet:127.0.0.1:8891", "inet:8891@127.0.0.1"},
		{"inet6:8891@[::1]", "inet6:8891@[::1]"},
		{"inet6:[::1]:8891", "inet6:8891@[::1]"},
		{"unix:/run/targrey/milter.sock", "unix:/run/targrey/milter.sock"},
		{"local:/run/x", "local:/run/x"},
		{"inet:localhost", NULL},
		{"inet:localhost:", NULL},
		{"inet::8891", NULL},
		{"inet:host:88x", NULL},
		{"tcp:localhost:8891", NULL},
		{"localhost:8891", NULL},
		{"unix:", NULL},
		{"nonsense", NULL},
	};
	char	out[256];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int	rc = daemon_socket_spec(cases[i].in, out, sizeof(out));

		if (cases[i].want == NULL && rc != -1)
			fail_msg("%s: got \"%s\", want an error", cases[i].in, out);
		if (cases[i].want != NULL && (rc != 0 || strcmp(out, cases[i].want) != 0))
			fail_msg("%s: got rc %d \"%s\", want \"%s\"", cases[i].in, rc, out, cases[i].want);
	}
}

static void
test_session_client(void **state)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(40001)};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(40002)};
	session_t *s;

	(void) state;
	inet_pton(AF_INET, "192.0.2.9", &in.sin_addr);
	s = session_new(NULL);
	assert_int_equal(session_set_client(s, (struct sockaddr *) &in, "[192.0.2.9]"), 0);
	assert_string_equal(s->client_addr, "192.0.2.9");
	assert_int_equal(s->client_port, 40001);
	assert_string_equal(s->client_name, "");	/* [ADDR] = no verified name */
	assert_int_equal(session_active(), 1);
	s = session_free(s);
	assert_null(s);
	assert_int_equal(session_active(), 0);

	inet_pton(AF_INET6, "::ffff:198.51.100.4", &in6.sin6_addr);
	s = session_new(NULL);
	assert_int_equal(session_set_client(s, (struct sockaddr *) &in6, "mail.example.org"), 0);
	assert_string_equal(s->client_addr, "198.51.100.4");	/* v4-mapped = IPv4 */
	assert_int_equal(s->client.family, AF_INET);
	assert_string_equal(s->client_name, "mail.example.org");
	session_free(s);

	s = session_new(NULL);
	assert_int_equal(session_set_client(s, NULL, NULL), -1);
	assert_int_equal(s->has_addr, 0);
	session_free(s);
}

static void
test_session_text(void **state)
{
	char	big[SESSION_TEXT_MAX * 3];
	char   *field = NULL;

	(void) state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(session_set_text(&field, big), 0);
	assert_int_equal(strlen(field), SESSION_TEXT_MAX);
	assert_int_equal(session_set_text(&field, NULL), 0);
	assert_string_equal(field, "");
	free(field);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_spec),
		cmocka_unit_test(test_session_client),
		cmocka_unit_test(test_session_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
