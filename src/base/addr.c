/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	addr - IP addresses and networks: parse, format, mask, match
 * DESCRIPTION
 *	See addr.h. Addresses are kept as raw network-order bytes so that
 *	masking and matching are byte operations, the same for both families.
 * DIAGNOSTICS
 *	Functions return -1 for malformed text; netlist_parse() names the
 *	item in its error buffer.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "addr.h"

static const unsigned char addr_v4mapped[12] =
	{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Turn ::ffff:a.b.c.d into a.b.c.d; other addresses are left alone. */
static void
addr_unmap(addr_t *a)
{
	if (a->family == AF_INET6 && memcmp(a->bytes, addr_v4mapped, 12) == 0) {
		memmove(a->bytes, a->bytes + 12, 4);
		memset(a->bytes + 4, 0, 12);
		a->family = AF_INET;
	}
}

/* Parse an address in any of the forms Postfix and people write. */
int
addr_parse(const char *text, addr_t *a)
{
	char	buf[ADDR_TEXT_MAX + 8];
	size_t	len;

	if (text == NULL)
		return -1;
	if (strncasecmp(text, "IPv6:", 5) == 0)
		text += 5;
	len = strlen(text);
	if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
		text++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, a->bytes) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, a->bytes) == 1) {
		a->family = AF_INET6;
		addr_unmap(a);
		return 0;
	}
	return -1;
}

/* Text form of A in BUF; returns its length, 0 if it did not fit. */
size_t
addr_format(const addr_t *a, char *buf, size_t size)
{
	if (inet_ntop(a->family, a->bytes, buf, (socklen_t) size) == NULL) {
		if (size > 0)
			buf[0] = '\0';
		return 0;
	}
	return strlen(buf);
}

/* Clear all bits after the first PREFIX. */
void
addr_mask(addr_t *a, unsigned prefix)
{
	unsigned bits = a->family == AF_INET ? 32 : 128;

	for (unsigned i = prefix; i < bits; i++)
		a->bytes[i / 8] &= (unsigned char) ~(0x80u >> (i % 8));
}

/* Parse ADDR, ADDR/LEN or [ADDR]/LEN. */
int
net_parse(const char *text, net_t *n)
{
	char	buf[ADDR_TEXT_MAX + 16], *slash, *end;
	unsigned long len;
	addr_t	masked;
	int	mapped;

	if (text == NULL || strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (addr_parse(buf, &n->addr) < 0)
		return -1;
	/* An IPv4-mapped network was unmapped by addr_parse: shift its length. */
	mapped = n->addr.family == AF_INET && strchr(buf, ':') != NULL;
	if (slash == NULL) {
		n->prefix = n->addr.family == AF_INET ? 32 : 128;
		return 0;
	}
	if (*slash < '0' || *slash > '9')
		return -1;
	len = strtoul(slash, &end, 10);
	if (*end != '\0')
		return -1;
	if (mapped) {
		if (len < 96 || len > 128)
			return -1;
		len -= 96;
	}
	if (len > (n->addr.family == AF_INET ? 32UL : 128UL))
		return -1;
	n->prefix = (unsigned) len;
	masked = n->addr;
	addr_mask(&masked, n->prefix);
	return memcmp(&masked, &n->addr, sizeof(masked)) == 0 ? 0 : -1;
}

/* Is A inside network N? */
int
net_contains(const net_t *n, const addr_t *a)
{
	addr_t	masked;

	if (n->addr.family != a->family)
		return 0;
	masked = *a;
	addr_mask(&masked, n->prefix);
	return memcmp(masked.bytes, n->addr.bytes, 16) == 0;
}

/* Convert a parameter list into networks. */
int
netlist_parse(const strlist_t *l, net_t **nets, size_t *count, char *err, size_t errlen)
{
	net_t  *out;

	*nets = NULL;
	*count = 0;
	if (l->n == 0)
		return 0;
	if ((out = calloc(l->n, sizeof(*out))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (net_parse(l->items[i], &out[i]) < 0) {
			snprintf(err, errlen, "bad network \"%s\" (want ADDR, ADDR/LEN or [ADDR]/LEN"
			    " with no bits set after LEN)", l->items[i]);
			free(out);
			return -1;
		}
	}
	*nets = out;
	*count = l->n;
	return 0;
}

/* Is A inside any of the networks? */
int
netlist_contains(const net_t *nets, size_t count, const addr_t *a)
{
	for (size_t i = 0; i < count; i++)
		if (net_contains(&nets[i], a))
			return 1;
	return 0;
}
