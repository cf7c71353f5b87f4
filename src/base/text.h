/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	text - clean untrusted text for the place it is written to
 * SYNOPSIS
 *	#include "text.h"
 *
 *	size_t text_clean(text_variant_t v, char *dst, size_t size,
 *		const char *src);
 *	size_t text_clean_n(text_variant_t v, char *dst, size_t size,
 *		const char *src, size_t len);
 *	long text_key_unescape(char *s);
 * DESCRIPTION
 *	text_clean() copies the string SRC (NULL is "") into DST, SIZE
 *	bytes, always NUL-terminated, by the rule of variant V: each byte
 *	of SRC either passes or is replaced, and a value too long for DST
 *	is cut. text_clean_n() does the same for the LEN bytes at SRC,
 *	which may hold NUL bytes. Both return the length written (0 when
 *	SIZE is 0; then nothing is written).
 *
 *	The variants, each rule written once as data in text.c:
 *
 *	variant              passes                  others become  cut ends in
 *	TEXT_LOG_VALUE       '!'..'~' but < >        '_' (SP, TAB)  "..."
 *	                                             '?' (the rest)
 *	TEXT_HEADER_COMMENT  ' '..'~' but " \ % ; ( ) '?'           -
 *	TEXT_PRINTABLE       ' '..'~'                '?'            -
 *	TEXT_SMTP_REPLY      ' '..'~', % as %%       '?'            -
 *	TEXT_KEY_ESCAPE      '!'..'~' but %          %XX (hex, A-F) -
 *
 *	TEXT_LOG_VALUE: a value on a log line, which can neither split
 *	the line nor forge a "key=<value>" field. TEXT_HEADER_COMMENT: a
 *	fact quoted in a Received-SPF header comment, which can neither
 *	close the comment nor start a key=value pair. TEXT_PRINTABLE: SPF
 *	explanations and reply texts. TEXT_SMTP_REPLY: the milter's reply
 *	text, where libmilter reads '%' as a format character.
 *	TEXT_KEY_ESCAPE: a store key as targreyctl prints it, one word on a
 *	line, read back by text_key_unescape().
 *
 *	A cut never splits a replacement ("%%", "%XX"). A cut log value
 *	ends in "..." when SIZE leaves room for one byte before it.
 *
 *	text_key_unescape() undoes TEXT_KEY_ESCAPE in place ("%XX" in
 *	either case becomes byte XX, every other byte stays) and returns
 *	the length, or -1 when a '%' is not followed by two hex digits (S
 *	is then partly rewritten).
 * THREADS
 *	All functions are safe to call from any thread.
 */
#ifndef TG_TEXT_H
#define TG_TEXT_H

#include <stddef.h>

typedef enum {
	TEXT_LOG_VALUE,
	TEXT_HEADER_COMMENT,
	TEXT_PRINTABLE,
	TEXT_SMTP_REPLY,
	TEXT_KEY_ESCAPE,
	TEXT_VARIANTS
} text_variant_t;

size_t	text_clean(text_variant_t v, char *dst, size_t size, const char *src);
size_t	text_clean_n(text_variant_t v, char *dst, size_t size, const char *src, size_t len);
long	text_key_unescape(char *s);

#endif
