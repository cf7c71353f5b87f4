/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_record - strict RFC 7208 record checks before libspf2 sees text
 * DESCRIPTION
 *	See spf_record.h. The checks follow the ABNF of RFC 7208 section
 *	12 term by term. libspf2 1.2.10 evaluates records it should reject
 *	and its macro parser has known memory bugs (CVE-2023-42118), so
 *	every record is checked here first and only clean text reaches it.
 * DIAGNOSTICS
 *	The reason written to WHY names the offending term, cleaned.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "spf_record.h"

#define IS_ALPHA(c)	(((c) | 0x20) >= 'a' && ((c) | 0x20) <= 'z')
#define IS_DIGIT(c)	((c) >= '0' && (c) <= '9')
#define IS_ALNUM(c)	(IS_ALPHA(c) || IS_DIGIT(c))
/* C in the set SET; strchr() alone would match a NUL byte (the end of SET). */
#define IN_SET(set, c)	((c) != '\0' && strchr((set), (c)) != NULL)

int
spf_record_is_spf(const char *text, size_t len)
{
	return len >= 6 && strncasecmp(text, "v=spf1", 6) == 0
	    && (len == 6 || text[6] == ' ');
}

/* Check one "%{...}" at S[*i] (just after "%{"); move *I past the brace. */
static int
macro_expand_ok(const char *s, size_t len, size_t *i, int exp)
{
	size_t	j = *i, digits = 0;
	int	val = 0;
	char	l;

	if (j >= len)
		return 0;
	l = (char)(s[j++] | 0x20);
	if (!IN_SET("slodiphv", l) && !(exp && IN_SET("crt", l)))
		return 0;
	while (j < len && IS_DIGIT(s[j])) {
		val = val * 10 + (s[j++] - '0');
		if (++digits > 3)
			return 0;
	}
	if (digits && (val < 1 || val > SPF_MACRO_DIGITS_MAX))
		return 0;
	if (j < len && (s[j] | 0x20) == 'r')
		j++;
	while (j < len && IN_SET(".-+,/_=", s[j]))
		j++;
	if (j >= len || s[j] != '}')
		return 0;
	*i = j + 1;
	return 1;
}

/* Macro-string check; *ENDS_MACRO says whether it ends in a macro-expand. */
static int
macro_scan(const char *s, size_t len, int exp, int *ends_macro)
{
	size_t	i = 0;
	unsigned char c;

	*ends_macro = 0;
	while (i < len) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 1 >= len)
				return 0;
			if (s[i + 1] == '%' || s[i + 1] == '_' || s[i + 1] == '-')
				i += 2;
			else if (s[i + 1] != '{')
				return 0;
			else {
				i += 2;
				if (!macro_expand_ok(s, len, &i, exp))
					return 0;
			}
			*ends_macro = 1;
		} else if ((c > ' ' && c < 0x7f) || (exp && c == ' ')) {
			i++;
			*ends_macro = 0;
		} else
			return 0;
	}
	return 1;
}

int
spf_record_macro_ok(const char *text, size_t len, int exp)
{
	int	ends;

	return macro_scan(text, len, exp, &ends);
}

/* toplabel = alphanumerics and inner hyphens, not all digits. */
static int
toplabel_ok(const char *s, size_t len)
{
	size_t	i;
	int	alpha = 0, hyphen = 0;

	if (len == 0 || !IS_ALNUM(s[0]) || !IS_ALNUM(s[len - 1]))
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '-')
			hyphen = 1;
		else if (IS_ALPHA(s[i]))
			alpha = 1;
		else if (!IS_DIGIT(s[i]))
			return 0;
	}
	return alpha || hyphen;
}

/* domain-spec = macro-string domain-end */
static int
domain_spec_ok(const char *s, size_t len)
{
	const char *dot;
	int	ends_macro;

	if (len == 0 || !macro_scan(s, len, 0, &ends_macro))
		return 0;
	if (ends_macro)
		return 1;
	if (s[len - 1] == '.')
		len--;
	for (dot = s + len; dot > s && dot[-1] != '.'; dot--)
		;
	if (dot == s)
		return 0;	/* needs "." toplabel */
	return toplabel_ok(dot, (size_t)(s + len - dot));
}

/*
 * Strip a trailing "/N" (or "//N" when DBL) with N <= MAX from S, *LEN bytes.
 * Returns 1 stripped, 0 none there, -1 malformed length.
 */
static int
cidr_strip(const char *s, size_t *len, int max, int dbl)
{
	size_t	e = *len, b = e, i;
	int	val = 0;

	while (b > 0 && IS_DIGIT(s[b - 1]))
		b--;
	if (b == 0 || s[b - 1] != '/')
		return 0;
	if (dbl && (b < 2 || s[b - 2] != '/'))
		return 0;
	if (b == e || e - b > 3 || (s[b] == '0' && e - b > 1))
		return -1;
	for (i = b; i < e; i++)
		val = val * 10 + (s[i] - '0');
	if (val > max)
		return -1;
	*len = b - 1 - (dbl ? 1 : 0);
	return 1;
}

/* qnum "." qnum "." qnum "." qnum, no leading zeros. */
static int
ip4_ok(const char *s, size_t len)
{
	size_t	i = 0, d;
	int	part, val;

	for (part = 0; part < 4; part++) {
		if (part && (i >= len || s[i++] != '.'))
			return 0;
		for (d = 0, val = 0; i < len && IS_DIGIT(s[i]); i++, d++)
			if (d < 4)	/* more digits fail below; avoid overflow */
				val = val * 10 + (s[i] - '0');
		if (d == 0 || d > 3 || val > 255 || (d > 1 && s[i - d] == '0'))
			return 0;
	}
	return i == len;
}

static int
ip6_ok(const char *s, size_t len)
{
	char	buf[64];
	unsigned char out[16];

	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = 0;
	return inet_pton(AF_INET6, buf, out) == 1;
}

/* Arguments of a/mx: [":" domain-spec] [dual-cidr-length]. */
static int
a_args_ok(const char *s, size_t len)
{
	if (cidr_strip(s, &len, 128, 1) < 0 || cidr_strip(s, &len, 32, 0) < 0)
		return 0;
	if (len == 0)
		return 1;
	return s[0] == ':' && domain_spec_ok(s + 1, len - 1);
}

/* Arguments of ip4/ip6. */
static int
ip_args_ok(const char *s, size_t len, int v6)
{
	if (len < 2 || s[0] != ':' || cidr_strip(s, &len, v6 ? 128 : 32, 0) < 0)
		return 0;
	return v6 ? ip6_ok(s + 1, len - 1) : ip4_ok(s + 1, len - 1);
}

/* One mechanism NAME (NLEN bytes) with arguments ARGS. */
static int
mechanism_ok(const char *name, size_t nlen, const char *args, size_t alen)
{
#define IS(w)	(nlen == sizeof(w) - 1 && strncasecmp(name, w, nlen) == 0)
	if (IS("all"))
		return alen == 0;
	if (IS("include") || IS("exists"))
		return alen > 1 && args[0] == ':' && domain_spec_ok(args + 1, alen - 1);
	if (IS("a") || IS("mx"))
		return a_args_ok(args, alen);
	if (IS("ptr"))
		return alen == 0 || (args[0] == ':' && domain_spec_ok(args + 1, alen - 1));
	if (IS("ip4"))
		return ip_args_ok(args, alen, 0);
	if (IS("ip6"))
		return ip_args_ok(args, alen, 1);
	return 0;
#undef IS
}

/* One term of LEN bytes; counts redirect/exp in SEEN. */
static int
term_ok(const char *t, size_t len, int seen[2], const char **what)
{
	size_t	n = 0;

	if (IN_SET("+-?~", t[0])) {
		t++;
		len--;
	} else if (IS_ALPHA(t[0])) {
		for (n = 1; n < len && (IS_ALNUM(t[n]) || IN_SET("-_.", t[n])); n++)
			;
		if (n < len && t[n] == '=') {
			*what = "modifier";
			if (n == 8 && strncasecmp(t, "redirect", 8) == 0)
				return !seen[0]++ && domain_spec_ok(t + 9, len - 9);
			if (n == 3 && strncasecmp(t, "exp", 3) == 0)
				return !seen[1]++ && domain_spec_ok(t + 4, len - 4);
			return spf_record_macro_ok(t + n + 1, len - n - 1, 0);
		}
	}
	*what = "mechanism";
	for (n = 0; n < len && IS_ALNUM(t[n]); n++)
		;
	return n > 0 && mechanism_ok(t, n, t + n, len - n);
}

/* Does TEXT (LEN bytes, no NUL) contain NEEDLE, ignoring case? */
static int
strcasestr_n(const char *text, size_t len, const char *needle)
{
	size_t	nl = strlen(needle), i;

	for (i = 0; i + nl <= len; i++)
		if (strncasecmp(text + i, needle, nl) == 0)
			return 1;
	return 0;
}

int
spf_record_validate(const char *text, size_t len, char *why, size_t whylen)
{
	size_t	i, start, tl;
	int	seen[2] = {0, 0};
	const char *what = "term";

	if (len > SPF_RECORD_MAX) {
		snprintf(why, whylen, "record longer than %d bytes", SPF_RECORD_MAX);
		return -1;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)text[i] < ' ' || (unsigned char)text[i] > 0x7e) {
			snprintf(why, whylen, "byte 0x%02x in record",
			    (unsigned char)text[i]);
			return -1;
		}
	if (!spf_record_is_spf(text, len)) {
		snprintf(why, whylen, "not an SPF record");
		return -1;
	}
	if (strcasestr_n(text, len, SPF_CIDR0_MARK)) {
		snprintf(why, whylen, "reserved name in record");
		return -1;
	}
	for (i = 6; i < len; i += tl) {
		while (i < len && text[i] == ' ')
			i++;
		start = i;
		for (tl = 0; i + tl < len && text[i + tl] != ' '; tl++)
			;
		if (tl && !term_ok(text + start, tl, seen, &what)) {
			snprintf(why, whylen, "bad %s \"%.*s\"%s", what,
			    tl > 48 ? 48 : (int)tl, text + start, tl > 48 ? "..." : "");
			return -1;
		}
	}
	return 0;
}

int
spf_record_domain_ok(const char *domain)
{
	size_t	len = strlen(domain), lab = 0, labels = 0, i;

	if (len && domain[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || domain[0] == '[')
		return 0;
	for (i = 0; i <= len; i++) {
		if (i == len || domain[i] == '.') {
			if (lab == 0 || lab > 63)
				return 0;
			labels++;
			lab = 0;
		} else if ((unsigned char)domain[i] <= ' ' || (unsigned char)domain[i] > 0x7e)
			return 0;
		else
			lab++;
	}
	return labels >= 2;
}

static pthread_once_t cidr0_once = PTHREAD_ONCE_INIT;
static char cidr0_suffix[sizeof(SPF_CIDR0_MARK) + 16];

static void
cidr0_init(void)
{
	size_t	i, n = strlen(SPF_CIDR0_MARK);

	/* a last label of letters: libspf2 warns about any other TLD */
	memcpy(cidr0_suffix, SPF_CIDR0_MARK ".", n + 1);
	for (i = n + 1; i < n + 13; i++)
		cidr0_suffix[i] = (char)('a' + arc4random_uniform(26));
	cidr0_suffix[i] = 0;
}

const char *
spf_record_cidr0_suffix(void)
{
	pthread_once(&cidr0_once, cidr0_init);
	return cidr0_suffix;
}

/* Append LEN bytes of S to OUT; -1 when full. */
static int
out_put(char *out, size_t size, size_t *o, const char *s, size_t len)
{
	if (*o + len + 1 > size)
		return -1;
	memcpy(out + *o, s, len);
	*o += len;
	out[*o] = 0;
	return 0;
}

/* The prefix length stripped by cidr_strip(), or -1 when none. */
static int
cidr_take(const char *s, size_t *len, int max, int dbl)
{
	if (cidr_strip(s, len, max, dbl) <= 0)
		return -1;
	return atoi(s + *len + 1 + (dbl ? 1 : 0));
}

/* Rewrite an a/mx term T (name N bytes, qualifier Q) for FAMILY. */
static int
rewrite_a(const char *q, const char *t, size_t n, size_t len, int family,
    char *out, size_t size, size_t *o)
{
	char	buf[32];
	size_t	dl = len - n;
	int	c6 = cidr_take(t + n, &dl, 128, 1), c4 = cidr_take(t + n, &dl, 32, 0);
	int	want = family == AF_INET6 ? c6 : c4;
	const char *dom = t + n + 1;
	size_t	domlen = dl ? dl - 1 : 0;

	if (out_put(out, size, o, q, strlen(q)) < 0 || out_put(out, size, o, t, n) < 0)
		return -1;
	if (want == 0) {
		if (domlen == 0)
			dom = "%{d}", domlen = 4;
		if (dom[domlen - 1] == '.')
			domlen--;
		if (out_put(out, size, o, ":", 1) < 0 || out_put(out, size, o, dom, domlen) < 0)
			return -1;
		return out_put(out, size, o, spf_record_cidr0_suffix(),
		    strlen(spf_record_cidr0_suffix()));
	}
	if (domlen && (out_put(out, size, o, ":", 1) < 0
	    || out_put(out, size, o, dom, domlen) < 0))
		return -1;
	if (want > 0) {
		snprintf(buf, sizeof(buf), "%s%d", family == AF_INET6 ? "//" : "/", want);
		return out_put(out, size, o, buf, strlen(buf));
	}
	return 0;
}

/* Write term T (LEN bytes) as libspf2 should see it. */
static int
rewrite_term(const char *t, size_t len, int family, int has_all, char *out,
    size_t size, size_t *o)
{
	char	q[2] = "", buf[64];
	size_t	n, dl;

	if (IN_SET("+-?~", t[0])) {
		q[0] = t[0];
		t++, len--;
	}
	for (n = 0; n < len && (IS_ALNUM(t[n]) || (q[0] == 0 && IN_SET("-_.", t[n]))); n++)
		;
	if (q[0] == 0 && n < len && t[n] == '=') {
		if ((n == 3 && strncasecmp(t, "exp", 3) == 0)
		    || (n == 8 && strncasecmp(t, "redirect", 8) == 0 && !has_all))
			return out_put(out, size, o, " ", 1) < 0
			    || out_put(out, size, o, t, len) < 0 ? -1 : 0;
		return 0;	/* unknown modifier, or redirect after all */
	}
	if (out_put(out, size, o, " ", 1) < 0)
		return -1;
	if ((n == 1 && (t[0] | 0x20) == 'a') || (n == 2 && strncasecmp(t, "mx", 2) == 0))
		return rewrite_a(q, t, n, len, family, out, size, o);
	dl = len;
	if ((n == 3 && strncasecmp(t, "ip4", 3) == 0 && cidr_take(t, &dl, 32, 0) == 0)
	    || (n == 3 && strncasecmp(t, "ip6", 3) == 0 && cidr_take(t, &dl, 128, 0) == 0)) {
		snprintf(buf, sizeof(buf), t[2] == '4' ? "%sip4:0.0.0.0/1 %sip4:128.0.0.0/1"
		    : "%sip6:::/1 %sip6:8000::/1", q, q);
		return out_put(out, size, o, buf, strlen(buf));
	}
	return out_put(out, size, o, q, strlen(q)) < 0 ? -1 : out_put(out, size, o, t, len);
}

int
spf_record_rewrite(const char *text, int family, char *out, size_t size)
{
	size_t	i, tl, len = strlen(text), o = 0;
	int	has_all = 0;

	for (i = 6; i < len; i += tl) {		/* is there an "all"? */
		while (i < len && text[i] == ' ')
			i++;
		tl = strcspn(text + i, " ");
		if (tl && strncasecmp(text + i + IN_SET("+-?~", text[i]),
		    "all", 3) == 0 && tl == 3u + IN_SET("+-?~", text[i]))
			has_all = 1;
	}
	if (out_put(out, size, &o, "v=spf1", 6) < 0)
		return -1;
	for (i = 6; i < len; i += tl) {
		while (i < len && text[i] == ' ')
			i++;
		tl = strcspn(text + i, " ");
		if (tl && rewrite_term(text + i, tl, family, has_all, out, size, &o) < 0)
			return -1;
	}
	return 0;
}
