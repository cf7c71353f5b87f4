/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_addr - unit tests for addr.c
 * DESCRIPTION
 *	Table-driven: parsing (Postfix macro forms, v4-mapped), formatting,
 *	networks (Postfix bracket form, bits after the prefix), matching.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "addr.h"

static void
test_addr_parse(void **state)
{
	static const struct {
		const char *in;
		int	rc;
		const char *want;	/* formatted back */
	} cases[] = {
		{"192.0.2.1", 0, "192.0.2.1"},
		{"[192.0.2.1]", 0, "192.0.2.1"},
		{"2001:db8::1", 0, "2001:db8::1"},
		{"IPv6:2001:db8::1", 0, "2001:db8::1"},
		{"ipv6:2001:DB8::1", 0, "2001:db8::1"},
		{"[2001:db8::1]", 0, "2001:db8::1"},
		{"::ffff:192.0.2.7", 0, "192.0.2.7"},
		{"::1", 0, "::1"},
		{"", -1, NULL},
		{"[]", -1, NULL},
		{"192.0.2", -1, NULL},
		{"192.0.2.1.5", -1, NULL},
		{"unknown", -1, NULL},
		{"[192.0.2.1", -1, NULL},
		{"2001:db8::1%eth0", -1, NULL},
	};
	char	buf[ADDR_TEXT_MAX];
	addr_t	a;

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int	rc = addr_parse(cases[i].in, &a);

		if (rc != cases[i].rc)
			fail_msg("addr_parse(\"%s\"): got %d, want %d", cases[i].in, rc, cases[i].rc);
		if (rc == 0) {
			addr_format(&a, buf, sizeof(buf));
			if (strcmp(buf, cases[i].want) != 0)
				fail_msg("addr_parse(\"%s\"): got %s, want %s", cases[i].in, buf, cases[i].want);
		}
	}
	assert_int_equal(addr_parse(NULL, &a), -1);
}

static void
test_net_match(void **state)
{
	static const struct {
		const char *net;
		int	parse_rc;
		const char *addr;
		int	inside;
	} cases[] = {
		{"127.0.0.0/8", 0, "127.1.2.3", 1},
		{"127.0.0.0/8", 0, "128.0.0.1", 0},
		{"127.0.0.0/8", 0, "::1", 0},
		{"[::1]/128", 0, "::1", 1},
		{"::1", 0, "::1", 1},
		{"::1", 0, "::2", 0},
		{"2001:db8::/32", 0, "IPv6:2001:db8:ffff::1", 1},
		{"2001:db8::/32", 0, "2001:db9::1", 0},
		{"::ffff:127.0.0.0/104", 0, "127.0.0.1", 1},
		{"::ffff:127.0.0.0/104", 0, "::ffff:127.9.9.9", 1},
		{"::ffff:127.0.0.0/104", 0, "126.0.0.1", 0},
		{"192.0.2.1", 0, "192.0.2.1", 1},
		{"0.0.0.0/0", 0, "203.0.113.9", 1},
		{"192.0.2.1/24", -1, NULL, 0},
		{"192.0.2.0/33", -1, NULL, 0},
		{"192.0.2.0/", -1, NULL, 0},
		{"192.0.2.0/-1", -1, NULL, 0},
		{"192.0.2.0/24x", -1, NULL, 0},
		{"::ffff:127.0.0.0/8", -1, NULL, 0},
		{"garbage/8", -1, NULL, 0},
	};
	net_t	n;
	addr_t	a;

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int	rc = net_parse(cases[i].net, &n);

		if (rc != cases[i].parse_rc)
			fail_msg("net_parse(\"%s\"): got %d, want %d", cases[i].net, rc, cases[i].parse_rc);
		if (rc != 0)
			continue;
		assert_int_equal(addr_parse(cases[i].addr, &a), 0);
		if (net_contains(&n, &a) != cases[i].inside)
			fail_msg("%s in %s: got %d, want %d", cases[i].addr, cases[i].net,
			    !cases[i].inside, cases[i].inside);
	}
}

static void
test_netlist(void **state)
{
	strlist_t l = {0};
	net_t  *nets;
	size_t	n;
	char	err[256];
	addr_t	a;

	(void) state;
	assert_int_equal(strlist_split(&l, "127.0.0.0/8, [::1]/128 10.0.0.0/8"), 0);
	assert_int_equal(netlist_parse(&l, &nets, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(addr_parse("10.9.8.7", &a), 0);
	assert_true(netlist_contains(nets, n, &a));
	assert_int_equal(addr_parse("192.0.2.1", &a), 0);
	assert_false(netlist_contains(nets, n, &a));
	free(nets);
	strlist_clear(&l);

	assert_int_equal(strlist_split(&l, "127.0.0.0/8 10.0.0.1/8"), 0);
	assert_int_equal(netlist_parse(&l, &nets, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "10.0.0.1/8"));
	strlist_clear(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_net_match),
		cmocka_unit_test(test_netlist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
