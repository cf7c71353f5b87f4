/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_record - unit tests for record.c
 * DESCRIPTION
 *	Exact bytes of each version-1 layout (big-endian, documented at the
 *	top of record.c), round trips at the extremes, unknown versions,
 *	short values, longer values, small output buffers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "record.h"

/* Compare LEN bytes, printing both in hex on mismatch. */
static void
expect_bytes(const char *what, const unsigned char *got, const unsigned char *want, size_t len)
{
	char	g[3 * RECORD_MAX_SIZE + 1] = "", w[3 * RECORD_MAX_SIZE + 1] = "";

	if (memcmp(got, want, len) == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		sprintf(g + 3 * i, "%02x ", got[i]);
		sprintf(w + 3 * i, "%02x ", want[i]);
	}
	fail_msg("%s: got %s, want %s", what, g, w);
}

static void
test_grey_layout(void **state)
{
	grey_record_t r = {.first = 0x0102030405060708LL, .last = 0x1112131415161718LL,
			   .retries = 0x2122, .flags = GREY_FLAG_PASSED};
	static const unsigned char want[RECORD_GREY_SIZE] = {
		1, 0x01, 0x21, 0x22,
		1, 2, 3, 4, 5, 6, 7, 8,
		0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
	unsigned char buf[RECORD_MAX_SIZE];
	grey_record_t back;

	(void) state;
	assert_int_equal(record_grey_encode(&r, buf, sizeof(buf)), RECORD_GREY_SIZE);
	expect_bytes("grey v1", buf, want, RECORD_GREY_SIZE);
	assert_int_equal(record_grey_decode(buf, RECORD_GREY_SIZE, &back), RECORD_OK);
	assert_memory_equal(&back.first, &r.first, sizeof(r.first));
	assert_true(back.last == r.last && back.retries == r.retries && back.flags == r.flags);
}

static void
test_client_layout(void **state)
{
	client_record_t r = {.passes = 0x01020304, .first = 5, .last_pass = 6, .last_seen = -1};
	static const unsigned char want[RECORD_CLIENT_SIZE] = {
		1, 0, 1, 2, 3, 4,
		0, 0, 0, 0, 0, 0, 0, 5,
		0, 0, 0, 0, 0, 0, 0, 6,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	unsigned char buf[RECORD_MAX_SIZE];
	client_record_t back;

	(void) state;
	assert_int_equal(record_client_encode(&r, buf, sizeof(buf)), RECORD_CLIENT_SIZE);
	expect_bytes("client v1", buf, want, RECORD_CLIENT_SIZE);
	assert_int_equal(record_client_decode(buf, RECORD_CLIENT_SIZE, &back), RECORD_OK);
	assert_true(back.passes == r.passes && back.first == 5 && back.last_pass == 6);
	assert_true(back.last_seen == -1);
}

static void
test_tarpit_layout(void **state)
{
	tarpit_record_t r = {.count = 7, .first = 1700000000, .last = 1700000125};
	static const unsigned char want[RECORD_TARPIT_SIZE] = {
		1, 0, 0, 0, 0, 7,
		0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00,
		0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x7d};
	unsigned char buf[RECORD_MAX_SIZE];
	tarpit_record_t back;

	(void) state;
	assert_int_equal(record_tarpit_encode(&r, buf, sizeof(buf)), RECORD_TARPIT_SIZE);
	expect_bytes("tarpit v1", buf, want, RECORD_TARPIT_SIZE);
	assert_int_equal(record_tarpit_decode(buf, RECORD_TARPIT_SIZE, &back), RECORD_OK);
	assert_true(back.count == 7 && back.first == r.first && back.last == r.last);
}

static void
test_round_trip_extremes(void **state)
{
	static const int64_t times[] = {0, 1, -1, INT64_MAX, INT64_MIN, 4102444800LL};
	unsigned char buf[RECORD_MAX_SIZE];

	(void) state;
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		grey_record_t g = {times[i], times[i] ^ 0x55, UINT16_MAX, 0xff}, g2;
		client_record_t c = {times[i], times[i], times[i], UINT32_MAX}, c2;
		tarpit_record_t t = {times[i], times[i], UINT32_MAX}, t2;

		record_grey_encode(&g, buf, sizeof(buf));
		assert_int_equal(record_grey_decode(buf, RECORD_GREY_SIZE, &g2), RECORD_OK);
		if (g2.first != g.first || g2.last != g.last || g2.retries != g.retries || g2.flags != g.flags)
			fail_msg("grey round trip of %lld: got first %lld, want %lld",
			    (long long) times[i], (long long) g2.first, (long long) g.first);
		record_client_encode(&c, buf, sizeof(buf));
		assert_int_equal(record_client_decode(buf, RECORD_CLIENT_SIZE, &c2), RECORD_OK);
		assert_true(c2.first == c.first && c2.last_seen == c.last_seen && c2.passes == c.passes);
		record_tarpit_encode(&t, buf, sizeof(buf));
		assert_int_equal(record_tarpit_decode(buf, RECORD_TARPIT_SIZE, &t2), RECORD_OK);
		assert_true(t2.first == t.first && t2.count == t.count);
	}
}

static void
test_versions_and_lengths(void **state)
{
	static const struct {
		unsigned char version;
		size_t	len;
		int	want;
	} cases[] = {
		{1, RECORD_GREY_SIZE, RECORD_OK},
		{1, RECORD_GREY_SIZE + 8, RECORD_OK},	/* appended bytes ignored */
		{1, RECORD_GREY_SIZE - 1, RECORD_ESHORT},
		{1, 1, RECORD_ESHORT},
		{0, RECORD_GREY_SIZE, RECORD_EVERSION},
		{2, RECORD_GREY_SIZE, RECORD_EVERSION},
		{2, 3, RECORD_EVERSION},		/* unknown version wins over length */
		{255, RECORD_GREY_SIZE, RECORD_EVERSION},
		{1, 0, RECORD_ESHORT},
	};
	unsigned char buf[64] = {0};
	grey_record_t g;
	client_record_t c;
	tarpit_record_t t;

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int	rc;

		buf[0] = cases[i].version;
		rc = record_grey_decode(buf, cases[i].len, &g);
		if (rc != cases[i].want)
			fail_msg("grey v%d len %zu: got %d, want %d", cases[i].version,
			    cases[i].len, rc, cases[i].want);
	}
	buf[0] = 9;
	assert_int_equal(record_client_decode(buf, RECORD_CLIENT_SIZE, &c), RECORD_EVERSION);
	assert_int_equal(record_tarpit_decode(buf, RECORD_TARPIT_SIZE, &t), RECORD_EVERSION);
	buf[0] = 1;
	assert_int_equal(record_client_decode(buf, RECORD_CLIENT_SIZE - 1, &c), RECORD_ESHORT);
	assert_int_equal(record_tarpit_decode(buf, RECORD_TARPIT_SIZE - 1, &t), RECORD_ESHORT);
}

static void
test_small_buffer(void **state)
{
	unsigned char buf[RECORD_MAX_SIZE];
	grey_record_t g = {0};
	client_record_t c = {0};
	tarpit_record_t t = {0};

	(void) state;
	assert_int_equal(record_grey_encode(&g, buf, RECORD_GREY_SIZE - 1), 0);
	assert_int_equal(record_client_encode(&c, buf, RECORD_CLIENT_SIZE - 1), 0);
	assert_int_equal(record_tarpit_encode(&t, buf, RECORD_TARPIT_SIZE - 1), 0);
	assert_true(RECORD_CLIENT_SIZE <= RECORD_MAX_SIZE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grey_layout),
		cmocka_unit_test(test_client_layout),
		cmocka_unit_test(test_tarpit_layout),
		cmocka_unit_test(test_round_trip_extremes),
		cmocka_unit_test(test_versions_and_lengths),
		cmocka_unit_test(test_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
