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
 *	The tables grey_fields, client_fields and tarpit_fields below are
 *	these layouts in code (offset, width, struct member); one encoder
 *	and one decoder walk them. Bytes no field names are written 0.
 *
 *	A decoder accepts a value longer than its layout (bytes appended
 *	by a later minor change are ignored) but not a shorter one. A
 *	future incompatible layout gets a new version byte; this program
 *	reports such a record as RECORD_EVERSION and the store treats it
 *	as absent, so that a downgrade degrades to "never seen".
 */
#include <stddef.h>
#include <string.h>
#include "record.h"

/* One fixed-width field: where it is in the value and in the struct. */
typedef struct {
	uint8_t	at;		/* byte offset in the encoded value */
	uint8_t	width;		/* bytes on disk = bytes in the struct: 1, 2, 4, 8 */
	uint16_t member;	/* offsetof() in the record struct */
} record_field_t;

/* One record kind: its encoded size and its fields after the version byte. */
typedef struct {
	size_t	size;
	size_t	nfields;
	const record_field_t *fields;
} record_layout_t;

#define RECORD_FIELD(type, m, at) \
	{(at), (uint8_t) sizeof(((type *) 0)->m), (uint16_t) offsetof(type, m)}
#define RECORD_LAYOUT(size, f)	{(size), sizeof(f) / sizeof((f)[0]), (f)}

static const record_field_t grey_fields[] = {
	RECORD_FIELD(grey_record_t, flags, 1),
	RECORD_FIELD(grey_record_t, retries, 2),
	RECORD_FIELD(grey_record_t, first, 4),
	RECORD_FIELD(grey_record_t, last, 12),
};
static const record_field_t client_fields[] = {
	RECORD_FIELD(client_record_t, passes, 2),
	RECORD_FIELD(client_record_t, first, 6),
	RECORD_FIELD(client_record_t, last_pass, 14),
	RECORD_FIELD(client_record_t, last_seen, 22),
};
static const record_field_t tarpit_fields[] = {
	RECORD_FIELD(tarpit_record_t, count, 2),
	RECORD_FIELD(tarpit_record_t, first, 6),
	RECORD_FIELD(tarpit_record_t, last, 14),
};

static const record_layout_t grey_layout = RECORD_LAYOUT(RECORD_GREY_SIZE, grey_fields);
static const record_layout_t client_layout = RECORD_LAYOUT(RECORD_CLIENT_SIZE, client_fields);
static const record_layout_t tarpit_layout = RECORD_LAYOUT(RECORD_TARPIT_SIZE, tarpit_fields);

/* The struct member of F as an unsigned number (two's complement kept). */
static uint64_t
record_member_get(const void *rec, const record_field_t *f)
{
	const unsigned char *m = (const unsigned char *) rec + f->member;
	uint8_t	u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (f->width) {
	case 1:
		memcpy(&u8, m, 1);
		return u8;
	case 2:
		memcpy(&u16, m, 2);
		return u16;
	case 4:
		memcpy(&u32, m, 4);
		return u32;
	default:
		memcpy(&u64, m, 8);
		return u64;
	}
}

/* Store V into the struct member of F, truncated to its width. */
static void
record_member_set(void *rec, const record_field_t *f, uint64_t v)
{
	unsigned char *m = (unsigned char *) rec + f->member;
	uint8_t	u8 = (uint8_t) v;
	uint16_t u16 = (uint16_t) v;
	uint32_t u32 = (uint32_t) v;

	switch (f->width) {
	case 1:
		memcpy(m, &u8, 1);
		break;
	case 2:
		memcpy(m, &u16, 2);
		break;
	case 4:
		memcpy(m, &u32, 4);
		break;
	default:
		memcpy(m, &v, 8);
		break;
	}
}

/* Encode REC by layout L: version byte, zeroed reserved bytes, fields. */
static size_t
record_encode(const record_layout_t *l, const void *rec, unsigned char *buf, size_t size)
{
	uint64_t v;

	if (size < l->size)
		return 0;
	memset(buf, 0, l->size);
	buf[0] = RECORD_VERSION;
	for (size_t i = 0; i < l->nfields; i++) {
		v = record_member_get(rec, &l->fields[i]);
		for (int b = l->fields[i].width - 1; b >= 0; b--, v >>= 8)
			buf[l->fields[i].at + b] = (unsigned char) (v & 0xff);
	}
	return l->size;
}

/* Decode BUF into REC by layout L: check the version and length first. */
static int
record_decode(const record_layout_t *l, const void *buf, size_t len, void *rec)
{
	const unsigned char *p = buf;
	uint64_t v;

	if (len < 1)
		return RECORD_ESHORT;
	if (p[0] != RECORD_VERSION)
		return RECORD_EVERSION;
	if (len < l->size)
		return RECORD_ESHORT;
	for (size_t i = 0; i < l->nfields; i++) {
		v = 0;
		for (int b = 0; b < l->fields[i].width; b++)
			v = (v << 8) | p[l->fields[i].at + b];
		record_member_set(rec, &l->fields[i], v);
	}
	return RECORD_OK;
}

/*
 * The typed entry points of record.h, one pair per kind:
 * record_grey_encode/_decode, record_client_encode/_decode,
 * record_tarpit_encode/_decode.
 */
#define RECORD_KIND(name, type)						\
size_t									\
record_##name##_encode(const type *r, unsigned char *buf, size_t size)	\
{									\
	return record_encode(&name##_layout, r, buf, size);		\
}									\
int									\
record_##name##_decode(const void *buf, size_t len, type *r)		\
{									\
	return record_decode(&name##_layout, buf, len, r);		\
}

RECORD_KIND(grey, grey_record_t)
RECORD_KIND(client, client_record_t)
RECORD_KIND(tarpit, tarpit_record_t)
