/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	dns_wire - decode a DNS reply from the network (untrusted bytes)
 * DESCRIPTION
 *	See dns_int.h (dns_wire_parse). Every offset is checked against the
 *	message length before it is read; compression pointers are followed
 *	at most 64 times (a loop is malformed); an answer count larger than
 *	the packet can hold makes the reply malformed before anything is
 *	allocated for it (65,535 announced records cost 17 MB each). Fuzzed by
 *	tests/fuzz/fuzz_dns_wire.c.
 * DIAGNOSTICS
 *	None: a malformed reply is NULL (not an answer to our question) or
 *	an answer without the records that did not parse.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "dns_int.h"

#define DNS_RR_MIN	11	/* bytes of the smallest record: root name + 10 */

/*
 * Decode the (compressed) name at *OFF into OUT and move *OFF past it.
 * OUT may be NULL to skip. Returns 0, 1 when the name holds bytes we
 * will not pass on (dots or controls inside a label), -1 when malformed.
 */
static int
wire_name(const unsigned char *m, size_t len, size_t *off, char *out, size_t outlen)
{
	size_t	o = *off, w = 0, i;
	int	jumped = 0, hops = 0, odd = 0;
	unsigned c;

	for (;;) {
		if (o >= len)
			return -1;
		c = m[o];
		if ((c & 0xc0) == 0xc0) {
			if (o + 1 >= len || ++hops > 64)
				return -1;
			if (!jumped)
				*off = o + 2;
			jumped = 1;
			o = ((c & 0x3f) << 8) | m[o + 1];
			continue;
		}
		if (c & 0xc0)
			return -1;
		if (c == 0)
			break;
		if (o + 1 + c > len)
			return -1;
		if (out) {
			if (w + c + 2 > outlen)
				return -1;
			if (w)
				out[w++] = '.';
			for (i = 0; i < c; i++) {
				unsigned char b = m[o + 1 + i];
				odd |= (b == '.' || b <= ' ' || b >= 0x7f);
				out[w++] = (char)b;
			}
		}
		o += 1 + c;
	}
	if (!jumped)
		*off = o + 1;
	if (out)
		out[w] = 0;
	return odd;
}

typedef struct {
	dns_item_t *items;
	size_t	n;
	char   *arena;
	size_t	used;
	unsigned ttl;
} parse_t;

/* Decode one answer RR of our TYPE at O (RDLEN bytes) into P. */
static void
wire_rdata(const unsigned char *m, size_t len, size_t o, unsigned rdlen,
    int type, parse_t *p)
{
	dns_item_t *it = &p->items[p->n];
	char   *dst = p->arena + p->used;
	size_t	x = o, end = o + rdlen;

	memset(it, 0, sizeof(*it));
	if (type == DNS_T_A || type == DNS_T_AAAA) {
		if (rdlen != (type == DNS_T_A ? 4u : 16u))
			return;
		memcpy(dst, m + o, rdlen);
		it->len = rdlen;
	} else if (type == DNS_T_TXT || type == DNS_T_SPF) {
		while (x < end) {
			unsigned sl = m[x++];
			if (x + sl > end)
				return;
			memcpy(dst + it->len, m + x, sl);
			it->len += sl;
			x += sl;
		}
	} else {
		if (type == DNS_T_MX) {
			if (rdlen < 3)
				return;
			it->pref = (unsigned)(m[o] << 8 | m[o + 1]);
			x += 2;
		}
		if (wire_name(m, len, &x, dst, DNS_NAME_MAX + 1) != 0)
			return;
		it->len = strlen(dst);
	}
	it->data = dst;
	p->used += it->len + 1;
	dst[it->len] = 0;
	p->n++;
}

/* Walk COUNT RRs from *OFF; collect TYPE answers, or the SOA minimum. */
static int
wire_section(const unsigned char *m, size_t len, size_t *off, unsigned count,
    int type, parse_t *p, int want_soa)
{
	size_t	o = *off, x;
	unsigned i, rt, ttl, rdlen;

	for (i = 0; i < count; i++) {
		if (wire_name(m, len, &o, NULL, 0) < 0 || o + 10 > len)
			return -1;
		rt = (unsigned)(m[o] << 8 | m[o + 1]);
		ttl = (unsigned)m[o + 4] << 24 | (unsigned)m[o + 5] << 16
		    | (unsigned)m[o + 6] << 8 | m[o + 7];
		rdlen = (unsigned)(m[o + 8] << 8 | m[o + 9]);
		o += 10;
		if (o + rdlen > len)
			return -1;
		if (!want_soa && (int)rt == type) {
			wire_rdata(m, len, o, rdlen, type, p);
			p->ttl = ttl < p->ttl ? ttl : p->ttl;
		} else if (want_soa && rt == DNS_T_SOA) {
			x = o;
			if (wire_name(m, len, &x, NULL, 0) < 0
			    || wire_name(m, len, &x, NULL, 0) < 0 || x + 20 > o + rdlen)
				return -1;
			unsigned min = (unsigned)m[x + 16] << 24 | (unsigned)m[x + 17] << 16
			    | (unsigned)m[x + 18] << 8 | m[x + 19];
			p->ttl = min < ttl ? min : ttl;
		}
		o += rdlen;
	}
	*off = o;
	return 0;
}

/* Check that the question section repeats NAME/TYPE; return its end or 0. */
static size_t
wire_question(const unsigned char *m, size_t len, const char *name, int type)
{
	char	qn[DNS_NAME_MAX + 2];
	size_t	o = 12, nl = strlen(name);

	if (nl && name[nl - 1] == '.')
		nl--;
	if (wire_name(m, len, &o, qn, sizeof(qn)) < 0 || o + 4 > len)
		return 0;
	if (strlen(qn) != nl || strncasecmp(qn, name, nl) != 0
	    || (m[o] << 8 | m[o + 1]) != type)
		return 0;
	return o + 4;
}

/*
 * Decode a reply to question ID NAME/TYPE. Returns NULL when it is not
 * a usable reply to that question (or when truncated: *TC set).
 */
dns_answer_t *
dns_wire_parse(const unsigned char *m, size_t len, unsigned id, const char *name,
    int type, int *tc)
{
	parse_t	p = {0};
	dns_answer_t *ans = NULL;
	size_t	o;
	unsigned an, ns, rcode;

	if (len < 12 || (unsigned)(m[0] << 8 | m[1]) != id || !(m[2] & 0x80)
	    || (m[4] << 8 | m[5]) != 1 || (o = wire_question(m, len, name, type)) == 0)
		return NULL;
	if (m[2] & 0x02) {
		*tc = 1;
		return NULL;
	}
	rcode = m[3] & 0x0f;
	if (rcode == 1) {
		*tc = 2;	/* FORMERR: perhaps a server without EDNS */
		return NULL;
	}
	an = (unsigned)(m[6] << 8 | m[7]);
	ns = (unsigned)(m[8] << 8 | m[9]);
	if (rcode == 3 || (rcode == 0 && an == 0))
		an = 0;
	else if (rcode != 0)
		return dns_answer_pack(DNS_TEMPFAIL, type, DNS_TTL_UNKNOWN, NULL, 0);
	if (an > (len - o) / DNS_RR_MIN)
		return NULL;	/* more records announced than the packet can hold */
	p.items = calloc(an + 1, sizeof(*p.items));
	p.arena = malloc(len + (size_t)(an + 1) * (DNS_NAME_MAX + 2));
	p.ttl = DNS_TTL_UNKNOWN;
	if (p.items == NULL || p.arena == NULL)
		goto done;
	if (wire_section(m, len, &o, an, type, &p, 0) < 0)
		goto done;
	if (p.n > 0)
		ans = dns_answer_pack(DNS_OK, type, p.ttl, p.items, p.n);
	else {
		p.ttl = DNS_TTL_UNKNOWN;
		if (wire_section(m, len, &o, ns, type, &p, 1) < 0)
			p.ttl = DNS_TTL_UNKNOWN;
		ans = dns_answer_pack(rcode == 3 ? DNS_NXDOMAIN : DNS_NODATA,
		    type, p.ttl, NULL, 0);
	}
done:
	free(p.items);
	free(p.arena);
	return ans;
}
