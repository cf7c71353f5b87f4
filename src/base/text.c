/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	text - clean untrusted text for the place it is written to
 * DESCRIPTION
 *	See text.h, which lists the variants and their rules. Each rule
 *	is one row of text_rules[]; text_clean_n() is the only loop.
 * DIAGNOSTICS
 *	None: every input gives a terminated, cleaned output; an unknown
 *	variant gives "".
 */
#include <string.h>
#include "text.h"

/* One variant's rule. */
typedef struct {
	unsigned char lo, hi;	/* the bytes lo..hi pass, ... */
	const char *refused;	/* ... except these */
	const char *doubled;	/* passing bytes written twice */
	char	blank;		/* replaces a refused SP or TAB; 0: as the rest */
	char	other;		/* replaces the rest; 0: "%XX" */
	const char *marker;	/* ends a cut value, or NULL */
} text_rule_t;

static const text_rule_t text_rules[TEXT_VARIANTS] = {
	[TEXT_LOG_VALUE] = {'!', '~', "<>", "", '_', '?', "..."},
	[TEXT_HEADER_COMMENT] = {' ', '~', "\"\\%;()", "", 0, '?', NULL},
	[TEXT_PRINTABLE] = {' ', '~', "", "", 0, '?', NULL},
	[TEXT_SMTP_REPLY] = {' ', '~', "", "%", 0, '?', NULL},
	[TEXT_KEY_ESCAPE] = {'!', '~', "%", "", 0, 0, NULL},
};

/* What byte C becomes under rule R, in U; its length (1 to 3). */
static size_t
text_unit(const text_rule_t *r, unsigned char c, char u[3])
{
	static const char hex[] = "0123456789ABCDEF";

	/* Range first: strchr() would find the NUL of every list. */
	if (c >= r->lo && c <= r->hi && strchr(r->refused, c) == NULL) {
		u[0] = u[1] = (char) c;
		return strchr(r->doubled, c) ? 2 : 1;
	}
	if (r->blank && (c == ' ' || c == '\t')) {
		u[0] = r->blank;
		return 1;
	}
	if (r->other) {
		u[0] = r->other;
		return 1;
	}
	u[0] = '%';
	u[1] = hex[c >> 4];
	u[2] = hex[c & 15];
	return 3;
}

/* Clean the LEN bytes at SRC into DST by variant V (see text.h). */
size_t
text_clean_n(text_variant_t v, char *dst, size_t size, const char *src, size_t len)
{
	const text_rule_t *r;
	size_t	n = 0, i, w, keep = 0, mlen;
	char	u[3];

	if (size == 0)
		return 0;
	if ((unsigned) v >= TEXT_VARIANTS || src == NULL)
		len = 0;
	r = &text_rules[(unsigned) v < TEXT_VARIANTS ? v : TEXT_PRINTABLE];
	mlen = r->marker ? strlen(r->marker) : 0;
	for (i = 0; i < len; i++) {
		w = text_unit(r, (unsigned char) src[i], u);
		if (n + w >= size)
			break;
		memcpy(dst + n, u, w);
		n += w;
		if (n + mlen < size)
			keep = n;	/* the marker still fits after this */
	}
	if (i < len && mlen > 0 && size > mlen + 1) {
		memcpy(dst + keep, r->marker, mlen);
		n = keep + mlen;
	}
	dst[n] = '\0';
	return n;
}

/* Clean the string SRC (NULL is "") into DST by variant V. */
size_t
text_clean(text_variant_t v, char *dst, size_t size, const char *src)
{
	return text_clean_n(v, dst, size, src, src ? strlen(src) : 0);
}

/* The value of hex digit C, or -1. */
static int
text_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undo TEXT_KEY_ESCAPE in place; the length, or -1 when malformed. */
long
text_key_unescape(char *s)
{
	char   *out = s, *p = s;
	int	hi, lo;

	while (*p) {
		if (*p != '%') {
			*out++ = *p++;
			continue;
		}
		/* p[2] is read only when p[1] is a digit, so not past the NUL. */
		if ((hi = text_hex(p[1])) < 0 || (lo = text_hex(p[2])) < 0)
			return -1;
		*out++ = (char) (hi << 4 | lo);
		p += 3;
	}
	*out = '\0';
	return out - s;
}
