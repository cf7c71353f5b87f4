/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_text - unit tests for text.c, the text cleaning variants
 * DESCRIPTION
 *	One table of got/want rows per cleaning rule: log values, SPF
 *	header comments, printable text, SMTP reply text and the %XX key
 *	escapes, each fed the same hostile inputs (control bytes, DEL,
 *	8-bit and invalid UTF-8 bytes, quotes, backslashes, the bytes
 *	Received-SPF comments and replies treat specially, white space,
 *	empty and NULL input, values cut at the buffer size and values
 *	that just fit). The want column was taken from the five cleaners
 *	as they were before they became one module; it must not change.
 *	Every row also checks that nothing is written past SIZE and that
 *	the length returned is the length written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "text.h"

typedef enum { K_LOG, K_HEADER, K_PRINTABLE, K_REPLY, K_KEY } kind_t;

static const char *const kind_name[] = {"log", "header", "printable", "reply", "key"};

#define REPLY_SIZE	320	/* stage_reply_t's text (stage.h) */
#define OUT_MAX		1600

/* One row: NX 'x' bytes then IN (LEN bytes, 0: strlen) cleaned into SIZE
 * bytes must give WANT_NX 'x' bytes then WANT. */
typedef struct {
	kind_t	kind;
	size_t	size;
	size_t	nx;
	const char *in;
	size_t	len;
	size_t	want_nx;
	const char *want;
} row_t;

static const row_t rows[] = {
	/* plain text passes everywhere */
	{K_LOG, 64, 0, "mail.example.org", 0, 0, "mail.example.org"},
	{K_HEADER, 64, 0, "mail.example.org", 0, 0, "mail.example.org"},
	{K_PRINTABLE, 64, 0, "mail.example.org", 0, 0, "mail.example.org"},
	{K_REPLY, REPLY_SIZE, 0, "mail.example.org", 0, 0, "mail.example.org"},
	{K_KEY, 64, 0, "mail.example.org", 0, 0, "mail.example.org"},
	/* control bytes, CR LF */
	{K_LOG, 64, 0, "a\x01" "b\x1f" "c\r\n", 0, 0, "a?b?c??"},
	{K_HEADER, 64, 0, "a\x01" "b\x1f" "c\r\n", 0, 0, "a?b?c??"},
	{K_PRINTABLE, 64, 0, "a\x01" "b\x1f" "c\r\n", 0, 0, "a?b?c??"},
	{K_REPLY, REPLY_SIZE, 0, "a\x01" "b\x1f" "c\r\n", 0, 0, "a?b?c??"},
	{K_KEY, 64, 0, "a\x01" "b\x1f" "c\r\n", 0, 0, "a%01b%1Fc%0D%0A"},
	/* DEL */
	{K_LOG, 64, 0, "x\x7fy", 0, 0, "x?y"},
	{K_HEADER, 64, 0, "x\x7fy", 0, 0, "x?y"},
	{K_PRINTABLE, 64, 0, "x\x7fy", 0, 0, "x?y"},
	{K_REPLY, REPLY_SIZE, 0, "x\x7fy", 0, 0, "x?y"},
	{K_KEY, 64, 0, "x\x7fy", 0, 0, "x%7Fy"},
	/* 8-bit bytes (UTF-8 e-acute, 0xff, 0x80) and a space */
	{K_LOG, 64, 0, "caf\xc3\xa9 \xff\x80", 0, 0, "caf??_??"},
	{K_HEADER, 64, 0, "caf\xc3\xa9 \xff\x80", 0, 0, "caf?? ??"},
	{K_PRINTABLE, 64, 0, "caf\xc3\xa9 \xff\x80", 0, 0, "caf?? ??"},
	{K_REPLY, REPLY_SIZE, 0, "caf\xc3\xa9 \xff\x80", 0, 0, "caf?? ??"},
	{K_KEY, 64, 0, "caf\xc3\xa9 \xff\x80", 0, 0, "caf%C3%A9%20%FF%80"},
	/* invalid UTF-8: a cut sequence, lone continuation bytes */
	{K_LOG, 64, 0, "\xc3(\xa0\xa1\xe2(\xa1", 0, 0, "?(??" "?(?"},
	{K_HEADER, 64, 0, "\xc3(\xa0\xa1\xe2(\xa1", 0, 0, "???????"},
	{K_PRINTABLE, 64, 0, "\xc3(\xa0\xa1\xe2(\xa1", 0, 0, "?(??" "?(?"},
	{K_REPLY, REPLY_SIZE, 0, "\xc3(\xa0\xa1\xe2(\xa1", 0, 0, "?(??" "?(?"},
	{K_KEY, 64, 0, "\xc3(\xa0\xa1\xe2(\xa1", 0, 0, "%C3(%A0%A1%E2(%A1"},
	/* quotes and backslashes */
	{K_LOG, 64, 0, "say \"hi\" \\ back", 0, 0, "say_\"hi\"_\\_back"},
	{K_HEADER, 64, 0, "say \"hi\" \\ back", 0, 0, "say ?hi? ? back"},
	{K_PRINTABLE, 64, 0, "say \"hi\" \\ back", 0, 0, "say \"hi\" \\ back"},
	{K_REPLY, REPLY_SIZE, 0, "say \"hi\" \\ back", 0, 0, "say \"hi\" \\ back"},
	{K_KEY, 64, 0, "say \"hi\" \\ back", 0, 0, "say%20\"hi\"%20\\%20back"},
	/* ; ( ) % < > */
	{K_LOG, 64, 0, "a;b(c)d%e<f>g", 0, 0, "a;b(c)d%e?f?g"},
	{K_HEADER, 64, 0, "a;b(c)d%e<f>g", 0, 0, "a?b?c?d?e<f>g"},
	{K_PRINTABLE, 64, 0, "a;b(c)d%e<f>g", 0, 0, "a;b(c)d%e<f>g"},
	{K_REPLY, REPLY_SIZE, 0, "a;b(c)d%e<f>g", 0, 0, "a;b(c)d%%e<f>g"},
	{K_KEY, 64, 0, "a;b(c)d%e<f>g", 0, 0, "a;b(c)d%25e<f>g"},
	/* spaces and a TAB */
	{K_LOG, 64, 0, " a\tb  ", 0, 0, "_a_b__"},
	{K_HEADER, 64, 0, " a\tb  ", 0, 0, " a?b  "},
	{K_PRINTABLE, 64, 0, " a\tb  ", 0, 0, " a?b  "},
	{K_REPLY, REPLY_SIZE, 0, " a\tb  ", 0, 0, " a?b  "},
	{K_KEY, 64, 0, " a\tb  ", 0, 0, "%20a%09b%20%20"},
	/* empty; NULL where the cleaner takes it */
	{K_LOG, 64, 0, "", 0, 0, ""},
	{K_HEADER, 64, 0, "", 0, 0, ""},
	{K_PRINTABLE, 64, 0, "", 0, 0, ""},
	{K_REPLY, REPLY_SIZE, 0, "", 0, 0, ""},
	{K_KEY, 64, 0, "", 0, 0, ""},
	{K_LOG, 64, 0, NULL, 0, 0, ""},
	{K_HEADER, 64, 0, NULL, 0, 0, ""},
	/* a forged line, a forged field (the rows test_log.c had) */
	{K_LOG, 64, 0, "x\r\ny: forged", 0, 0, "x??y:_forged"},
	{K_LOG, 64, 0, "<evil>", 0, 0, "?evil?"},
	{K_LOG, 8, 0, "0123456789", 0, 0, "0123..."},
	/* a NUL inside a key */
	{K_KEY, 64, 0, "a\0b", 3, 0, "a%00b"},
	/* over-long: cut at SIZE, the log value ends in "..." */
	{K_LOG, 16, 0, "0123456789abcdefghij", 0, 0, "0123456789ab..."},
	{K_HEADER, 16, 0, "0123456789abcdefghij", 0, 0, "0123456789abcde"},
	{K_PRINTABLE, 16, 0, "0123456789abcdefghij", 0, 0, "0123456789abcde"},
	{K_REPLY, REPLY_SIZE, 400, "", 0, REPLY_SIZE - 1, ""},
	/* longest value that fits, NUL-free: kept whole */
	{K_LOG, 16, 0, "0123456789abcde", 0, 0, "0123456789abcde"},
	{K_HEADER, 16, 0, "0123456789abcde", 0, 0, "0123456789abcde"},
	{K_PRINTABLE, 16, 0, "0123456789abcde", 0, 0, "0123456789abcde"},
	{K_REPLY, REPLY_SIZE, REPLY_SIZE - 1, "", 0, REPLY_SIZE - 1, ""},
	/* one byte more than fits */
	{K_LOG, 16, 0, "0123456789abcdef", 0, 0, "0123456789ab..."},
	{K_HEADER, 16, 0, "0123456789abcdef", 0, 0, "0123456789abcde"},
	{K_PRINTABLE, 16, 0, "0123456789abcdef", 0, 0, "0123456789abcde"},
	/* a cut in the middle of cleaned bytes */
	{K_LOG, 8, 0, "\r\n\r\n\r\n\r\n\r\n", 0, 0, "????..."},
	{K_HEADER, 8, 0, "((((((((((", 0, 0, "???????"},
	/* small buffers: the log marker needs room for one byte before it */
	{K_LOG, 1, 0, "abc", 0, 0, ""},
	{K_LOG, 4, 0, "abcdef", 0, 0, "abc"},
	{K_LOG, 5, 0, "abcdef", 0, 0, "a..."},
	{K_LOG, 5, 0, "abcd", 0, 0, "abcd"},
	{K_HEADER, 1, 0, "abc", 0, 0, ""},
	{K_PRINTABLE, 1, 0, "abc", 0, 0, ""},
	/* a reply's "%%" is never cut in half */
	{K_REPLY, REPLY_SIZE, REPLY_SIZE - 3, "%", 0, REPLY_SIZE - 3, "%%"},
	{K_REPLY, REPLY_SIZE, REPLY_SIZE - 2, "%", 0, REPLY_SIZE - 2, ""},
	{K_REPLY, REPLY_SIZE, REPLY_SIZE - 4, "%%", 0, REPLY_SIZE - 4, "%%"},
};

/* The variant each kind of row checks. */
static const text_variant_t variant[] = {
	[K_LOG] = TEXT_LOG_VALUE, [K_HEADER] = TEXT_HEADER_COMMENT,
	[K_PRINTABLE] = TEXT_PRINTABLE, [K_REPLY] = TEXT_SMTP_REPLY,
	[K_KEY] = TEXT_KEY_ESCAPE,
};

/* Clean SRC (LEN bytes; NULL) as KIND; the length reported. */
static size_t
clean(kind_t kind, char *dst, size_t size, const char *src, size_t len)
{
	if (src == NULL)
		return text_clean(variant[kind], dst, size, NULL);
	return text_clean_n(variant[kind], dst, size, src, len);
}

/* Build NX 'x' bytes then S (LEN bytes) in BUF; its length. */
static size_t
build(char *buf, size_t nx, const char *s, size_t len)
{
	memset(buf, 'x', nx);
	memcpy(buf + nx, s, len);
	buf[nx + len] = 0;
	return nx + len;
}

static void
test_rows(void **state)
{
	char	in[OUT_MAX], want[OUT_MAX], out[OUT_MAX + 16];
	size_t	inlen, wantlen, got;
	int	bad = 0;

	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const row_t *r = &rows[i];
		size_t	len = r->in && r->len == 0 ? strlen(r->in) : r->len;

		inlen = build(in, r->nx, r->in ? r->in : "", len);
		wantlen = build(want, r->want_nx, r->want, strlen(r->want));
		memset(out, '#', sizeof(out));
		got = clean(r->kind, out, r->size, r->in || r->nx ? in : NULL, inlen);
		if (got != wantlen || memcmp(out, want, wantlen + 1) != 0) {
			print_error("row %zu (%s, size %zu): got \"%.*s\" (%zu), want \"%s\" (%zu)\n",
			    i, kind_name[r->kind], r->size, (int) strnlen(out, r->size), out, got,
			    want, wantlen);
			bad++;
		}
		for (size_t j = r->size; j < sizeof(out); j++)
			if (out[j] != '#') {
				print_error("row %zu (%s): byte %zu written past size %zu\n", i,
				    kind_name[r->kind], j, r->size);
				bad++;
				break;
			}
	}
	assert_int_equal(bad, 0);
}

/* The %XX form of a key read back: got/want bytes and length. */
static void
test_key_unescape(void **state)
{
	static const struct {
		const char *in;
		long	want_len;
		const char *want;
	} cases[] = {
		{"plain", 5, "plain"},
		{"%41b", 2, "Ab"},
		{"a%20b", 3, "a b"},
		{"%2f%2F", 2, "//"},
		{"100%25", 4, "100%"},
		{"%00x", 2, "\0x"},
		{"", 0, ""},
		{"a%2", -1, NULL},
		{"%", -1, NULL},
		{"%%", -1, NULL},
		{"%zz", -1, NULL},
		{"%4g", -1, NULL},
		{"% 1", -1, NULL},
	};
	char	buf[64];
	long	got;

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		got = text_key_unescape(buf);
		if (got != cases[i].want_len)
			fail_msg("unescape(\"%s\"): got %ld, want %ld", cases[i].in, got,
			    cases[i].want_len);
		if (got >= 0 && memcmp(buf, cases[i].want, (size_t) got + 1) != 0)
			fail_msg("unescape(\"%s\"): got \"%s\", want \"%s\"", cases[i].in, buf,
			    cases[i].want);
	}
}

/* A cut key keeps whole escapes; SIZE 0 writes nothing; an unknown
 * variant gives "". */
static void
test_edges(void **state)
{
	char	out[8] = "#######";

	(void) state;
	assert_int_equal(text_clean_n(TEXT_KEY_ESCAPE, out, 6, "a\001\002", 3), 4);
	assert_string_equal(out, "a%01");
	assert_int_equal(text_clean_n(TEXT_KEY_ESCAPE, out, 4, "\001\002", 2), 3);
	assert_string_equal(out, "%01");
	assert_int_equal(text_clean_n(TEXT_KEY_ESCAPE, out, 3, "\001", 1), 0);
	assert_string_equal(out, "");
	memcpy(out, "#######", 8);
	assert_int_equal(text_clean(TEXT_PRINTABLE, out, 0, "abc"), 0);
	assert_string_equal(out, "#######");
	assert_int_equal(text_clean(TEXT_VARIANTS, out, sizeof(out), "abc"), 0);
	assert_string_equal(out, "");
}

/* Every byte value survives escape then unescape. */
static void
test_key_round_trip(void **state)
{
	char	key[256], esc[3 * 256 + 1];
	long	n;

	(void) state;
	for (int i = 0; i < 256; i++)
		key[i] = (char) (255 - i);
	clean(K_KEY, esc, sizeof(esc), key, sizeof(key));
	n = text_key_unescape(esc);
	assert_int_equal(n, sizeof(key));
	assert_memory_equal(esc, key, sizeof(key));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_key_unescape),
		cmocka_unit_test(test_key_round_trip),
		cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
