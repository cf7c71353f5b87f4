/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	record - versioned big-endian encoding of the LMDB state records
 * DESCRIPTION
 *	Every value stored in LMDB starts with a version byte; the fields
 *	that follow are fixed-width, unsigned or two's complement, most
 *	significant byte first, with no padding. Times are seconds since
 *	1970-01-01 UTC as signed 64-bit numbers. Version 1 layouts:
 *
 *	greylist (key "NET/SENDER/RECIPIENT"), 20 bytes:
 *	  offset 0   u8   version = 1
 *	  offset 1   u8   flags: 0x01 = passed
 *	  offset 2   u16  counted retries
 *	  offset 4   i64  first attempt of the current retry window
 *	  offset 12  i64  last attempt (last seen, once passed)
 *
 *	clients (key "NET", the client's network), 30 bytes:
 *	  offset 0   u8   version = 1
 *	  offset 1   u8   reserved, 0
 *	  offset 2   u32  counted passes (at least an hour apart)
 *	  offset 6   i64  first counted pass
 *	  offset 14  i64  last counted pass
 *	  offset 22  i64  last seen passing
 *
 *	tarpit (key "ADDR", the client's address), 22 bytes:
 *	  offset 0   u8   version = 1
 *	  offset 1   u8   reserved, 0
 *	  offset 2   u32  failures
 *	  offset 6   i64  first failure
 *	  offset 14  i64  latest failure
 *
 *	meta holds text keys: "schema" -> u8 schema version; "count/NAME"
 *	-> u64 counters; "whitelist/NET" -> u8 version + i64 time added.
 *
 *	A decoder accepts a value longer than its layout (bytes appended
 *	by a later minor change are ignored) but not a shorter one. A
 *	future incompatible layout gets a new version byte; this program
 *	reports such a record as RECORD_EVERSION and the store treats it
 *	as absent, so that a downgrade degrades to "never seen".
 */
#include <string.h>
#include "record.h"

/* Write V as N big-endian bytes at P. */
static void
record_put(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (unsigned char) (v & 0xff);
		v >>= 8;
	}
}

/* Read N big-endian bytes at P. */
static uint64_t
record_get(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Common header check: version byte and minimum length. */
static int
record_check(const void *buf, size_t len, size_t need)
{
	const unsigned char *p = buf;

	if (len < 1)
		return RECORD_ESHORT;
	if (p[0] != RECORD_VERSION)
		return RECORD_EVERSION;
	if (len < need)
		return RECORD_ESHORT;
	return RECORD_OK;
}

/* Encode a greylist triplet record. */
size_t
record_grey_encode(const grey_record_t *r, unsigned char *buf, size_t size)
{
	if (size < RECORD_GREY_SIZE)
		return 0;
	buf[0] = RECORD_VERSION;
	buf[1] = r->flags;
	record_put(buf + 2, r->retries, 2);
	record_put(buf + 4, (uint64_t) r->first, 8);
	record_put(buf + 12, (uint64_t) r->last, 8);
	return RECORD_GREY_SIZE;
}

/* Decode a greylist triplet record. */
int
record_grey_decode(const void *buf, size_t len, grey_record_t *r)
{
	const unsigned char *p = buf;
	int	rc;

	if ((rc = record_check(buf, len, RECORD_GREY_SIZE)) != RECORD_OK)
		return rc;
	r->flags = p[1];
	r->retries = (uint16_t) record_get(p + 2, 2);
	r->first = (int64_t) record_get(p + 4, 8);
	r->last = (int64_t) record_get(p + 12, 8);
	return RECORD_OK;
}

/* Encode a client (auto-whitelist) record. */
size_t
record_client_encode(const client_record_t *r, unsigned char *buf, size_t size)
{
	if (size < RECORD_CLIENT_SIZE)
		return 0;
	buf[0] = RECORD_VERSION;
	buf[1] = 0;
	record_put(buf + 2, r->passes, 4);
	record_put(buf + 6, (uint64_t) r->first, 8);
	record_put(buf + 14, (uint64_t) r->last_pass, 8);
	record_put(buf + 22, (uint64_t) r->last_seen, 8);
	return RECORD_CLIENT_SIZE;
}

/* Decode a client (auto-whitelist) record. */
int
record_client_decode(const void *buf, size_t len, client_record_t *r)
{
	const unsigned char *p = buf;
	int	rc;

	if ((rc = record_check(buf, len, RECORD_CLIENT_SIZE)) != RECORD_OK)
		return rc;
	r->passes = (uint32_t) record_get(p + 2, 4);
	r->first = (int64_t) record_get(p + 6, 8);
	r->last_pass = (int64_t) record_get(p + 14, 8);
	r->last_seen = (int64_t) record_get(p + 22, 8);
	return RECORD_OK;
}

/* Encode a tarpit-failed record. */
size_t
record_tarpit_encode(const tarpit_record_t *r, unsigned char *buf, size_t size)
{
	if (size < RECORD_TARPIT_SIZE)
		return 0;
	buf[0] = RECORD_VERSION;
	buf[1] = 0;
	record_put(buf + 2, r->count, 4);
	record_put(buf + 6, (uint64_t) r->first, 8);
	record_put(buf + 14, (uint64_t) r->last, 8);
	return RECORD_TARPIT_SIZE;
}

/* Decode a tarpit-failed record. */
int
record_tarpit_decode(const void *buf, size_t len, tarpit_record_t *r)
{
	const unsigned char *p = buf;
	int	rc;

	if ((rc = record_check(buf, len, RECORD_TARPIT_SIZE)) != RECORD_OK)
		return rc;
	r->count = (uint32_t) record_get(p + 2, 4);
	r->first = (int64_t) record_get(p + 6, 8);
	r->last = (int64_t) record_get(p + 14, 8);
	return RECORD_OK;
}
