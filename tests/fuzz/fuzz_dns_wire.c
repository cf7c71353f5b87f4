/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	fuzz_dns_wire - libFuzzer harness for the DNS answer parser
 * DESCRIPTION
 *	The first input byte picks the question type (A, AAAA, TXT, SPF,
 *	MX, PTR, CNAME); the rest is a reply from the network, parsed by
 *	dns_wire_parse() as the answer to "example.com" with the id the
 *	reply carries (so that the fuzzer reaches past the id check).
 *	Seeds: answers of each type, compression pointers, a pointer loop,
 *	counts larger than the packet, truncation, NXDOMAIN with an SOA.
 *	Checked on every answer: status and count agree, each record lies
 *	inside the answer block and is NUL-terminated, A/AAAA records have
 *	4/16 bytes, names are at most 255 bytes; *TC is 0, 1 or 2.
 * DIAGNOSTICS
 *	assert() fails on a broken invariant; the sanitizers catch the rest.
 */
#include <assert.h>
#include "fuzz_common.h"
#include "dns_int.h"

static const int fuzz_types[] = {
	DNS_T_A, DNS_T_AAAA, DNS_T_TXT, DNS_T_SPF, DNS_T_MX, DNS_T_PTR, DNS_T_CNAME,
};

/* Check the invariants of one parsed answer. */
static void
fuzz_check_answer(const dns_answer_t *a, int type, size_t msglen)
{
	size_t	i, end;
	const char *d;

	assert(a->type == type);
	assert(a->status == DNS_OK ? a->count >= 1 : a->count == 0);
	for (i = 0; i < a->count; i++) {
		end = (size_t)a->rr[i].off + a->rr[i].len;
		assert(a->rr[i].off >= sizeof(*a) + a->count * sizeof(dns_rr_t));
		assert(end < a->size);
		assert(a->rr[i].len <= msglen);
		d = dns_rr_data(a, i);
		assert(d[a->rr[i].len] == '\0');
		if (type == DNS_T_A || type == DNS_T_AAAA)
			assert(a->rr[i].len == (type == DNS_T_A ? 4u : 16u));
		else if (type != DNS_T_TXT && type != DNS_T_SPF)
			assert(a->rr[i].len <= DNS_NAME_MAX && strlen(d) == a->rr[i].len);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dns_answer_t *a;
	const unsigned char *m;
	unsigned id;
	int	type, tc = 0;

	if (size < 1)
		return 0;
	fuzz_quiet();
	type = fuzz_types[data[0] % (sizeof(fuzz_types) / sizeof(fuzz_types[0]))];
	m = data + 1;
	size--;
	id = size >= 2 ? (unsigned)(m[0] << 8 | m[1]) : 0;
	a = dns_wire_parse(m, size, id, "example.com", type, &tc);
	assert(tc >= 0 && tc <= 2);
	if (a != NULL) {
		assert(tc == 0);
		fuzz_check_answer(a, type, size);
	}
	dns_answer_free(a);
	return 0;
}
