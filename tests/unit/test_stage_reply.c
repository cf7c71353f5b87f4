/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_stage_reply - unit tests for the milter reply text
 * DESCRIPTION
 *	stage_reply_set(): the text reaches Postfix as printable ASCII with
 *	every '%' doubled (Postfix reads "%%" as '%' and drops a single
 *	'%'), and a cut never leaves half of a "%%" pair.
 *	stage_summary(): in a buffer of any size, the length returned is
 *	what was written, never past the buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "stage.h"

/* What Postfix makes of a milter reply text: "%%" -> '%', '%' dropped. */
static void
postfix_view(char *dst, const char *src)
{
	for (; *src; src++)
		if (*src != '%')
			*dst++ = *src;
		else if (src[1] == '%')
			*dst++ = *++src;
	*dst = 0;
}

static void
test_percent_doubled(void **state)
{
	stage_reply_t r;
	char	seen[sizeof(r.text)];

	(void) state;
	stage_reply_set(&r, STAGE_REJECT, "550", "5.7.23", "%s - see http://x.example/?s=%s",
	    "SPF fail: 100% sure", "alice%40example.com");
	assert_int_equal(r.action, STAGE_REJECT);
	assert_string_equal(r.rcode, "550");
	assert_string_equal(r.xcode, "5.7.23");
	assert_string_equal(r.text,
	    "SPF fail: 100%% sure - see http://x.example/?s=alice%%40example.com");
	postfix_view(seen, r.text);
	assert_string_equal(seen, "SPF fail: 100% sure - see http://x.example/?s=alice%40example.com");
}

static void
test_bytes_cleaned(void **state)
{
	stage_reply_t r;

	(void) state;
	stage_reply_set(&r, STAGE_TEMPFAIL, "450", "4.7.1", "%s",
	    "a\r\n250 fake\x1b[31m\xff\tz");
	assert_string_equal(r.text, "a??250 fake?[31m??z");
}

static void
test_cut_keeps_pairs(void **state)
{
	stage_reply_t r;
	char	in[2 * sizeof(r.text)];
	size_t	len, pct;

	(void) state;
	for (size_t shift = 0; shift < 2; shift++) {
		memset(in, 'a', shift);
		memset(in + shift, '%', sizeof(in) - shift - 1);
		in[sizeof(in) - 1] = 0;
		stage_reply_set(&r, STAGE_TEMPFAIL, "450", "4.7.1", "%s", in);
		len = strlen(r.text);
		assert_true(len < sizeof(r.text));
		assert_true(len >= sizeof(r.text) - 3);
		pct = strspn(r.text + shift, "%");
		assert_int_equal(shift + pct, len);
		assert_int_equal(pct % 2, 0);
	}
}

static void
test_summary_bounded(void **state)
{
	static const size_t sizes[] = {1, 2, 5, 10, 20, 40, 60, 80, 200};
	static session_t s;
	char	buf[256];
	size_t	i, len;

	(void) state;
	snprintf(s.s25r_reason, sizeof(s.s25r_reason), "%s",
	    "dynamic_looking_name_with_a_rather_long_rule_label");
	s.tg_verdict = "greylist";
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(buf, 'X', sizeof(buf));
		len = stage_summary(&s, buf, sizes[i]);
		if (len >= sizes[i] || len != strlen(buf) || buf[sizes[i]] != 'X')
			fail_msg("buffer of %zu: got length %zu (strlen %zu), want < %zu"
			    " and equal", sizes[i], len, strnlen(buf, sizeof(buf)), sizes[i]);
	}
	assert_string_equal(buf, "s25r=dynamic_looking_name_with_a_rather_long_rule_label tg=greylist");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percent_doubled),
		cmocka_unit_test(test_bytes_cleaned),
		cmocka_unit_test(test_cut_keeps_pairs),
		cmocka_unit_test(test_summary_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
