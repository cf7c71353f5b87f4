/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	fuzz_record - libFuzzer harness for store record decoding
 * DESCRIPTION
 *	Decodes the input as each record type; a record that decodes is
 *	encoded again and the encoding must decode to the same fields.
 */
#include <assert.h>
#include "fuzz_common.h"
#include "record.h"

/* Grey record: decode, re-encode, decode, compare. */
static void
fuzz_record_grey(const uint8_t *data, size_t size)
{
	unsigned char buf[RECORD_MAX_SIZE];
	grey_record_t r, s;
	size_t n;

	if (record_grey_decode(data, size, &r) != 0)
		return;
	n = record_grey_encode(&r, buf, sizeof(buf));
	assert(n > 0 && record_grey_decode(buf, n, &s) == 0);
	assert(r.first == s.first && r.last == s.last
	    && r.retries == s.retries && r.flags == s.flags);
}

/* Client record: decode, re-encode, decode, compare. */
static void
fuzz_record_client(const uint8_t *data, size_t size)
{
	unsigned char buf[RECORD_MAX_SIZE];
	client_record_t r, s;
	size_t n;

	if (record_client_decode(data, size, &r) != 0)
		return;
	n = record_client_encode(&r, buf, sizeof(buf));
	assert(n > 0 && record_client_decode(buf, n, &s) == 0);
	assert(r.first == s.first && r.last_pass == s.last_pass
	    && r.last_seen == s.last_seen && r.passes == s.passes);
}

/* Tarpit record: decode, re-encode, decode, compare. */
static void
fuzz_record_tarpit(const uint8_t *data, size_t size)
{
	unsigned char buf[RECORD_MAX_SIZE];
	tarpit_record_t r, s;
	size_t n;

	if (record_tarpit_decode(data, size, &r) != 0)
		return;
	n = record_tarpit_encode(&r, buf, sizeof(buf));
	assert(n > 0 && record_tarpit_decode(buf, n, &s) == 0);
	assert(r.first == s.first && r.last == s.last && r.count == s.count);
}

/* One input: the bytes of one stored value. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_record_grey(data, size);
	fuzz_record_client(data, size);
	fuzz_record_tarpit(data, size);
	return 0;
}
