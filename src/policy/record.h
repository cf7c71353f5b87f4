/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	record - versioned big-endian encoding of the LMDB state records
 * SYNOPSIS
 *	#include "record.h"
 *
 *	size_t record_grey_encode(const grey_record_t *r, unsigned char *buf, size_t size);
 *	int record_grey_decode(const void *buf, size_t len, grey_record_t *r);
 *	size_t record_client_encode(const client_record_t *r, unsigned char *buf, size_t size);
 *	int record_client_decode(const void *buf, size_t len, client_record_t *r);
 *	size_t record_tarpit_encode(const tarpit_record_t *r, unsigned char *buf, size_t size);
 *	int record_tarpit_decode(const void *buf, size_t len, tarpit_record_t *r);
 * DESCRIPTION
 *	One record type per named database: grey_record_t (greylist:
 *	one triplet), client_record_t (clients: auto-whitelist of one
 *	client network) and tarpit_record_t (tarpit: one client that
 *	failed the tarpit). The byte layout is documented at the top of
 *	record.c. Times are seconds since the epoch.
 *
 *	The encoders write RECORD_*_SIZE bytes into BUF and return that
 *	length, or 0 when SIZE is too small.
 *
 *	The decoders return RECORD_OK, RECORD_EVERSION when the first
 *	byte names a version this program does not know (the caller logs
 *	it and treats the record as absent), or RECORD_ESHORT when the
 *	value is too short for its version.
 * THREADS
 *	Pure functions; safe from any thread.
 */
#ifndef TG_RECORD_H
#define TG_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define RECORD_VERSION		1	/* version byte written by this program */

#define RECORD_OK		0
#define RECORD_EVERSION		(-1)
#define RECORD_ESHORT		(-2)

#define GREY_FLAG_PASSED	0x01	/* the triplet passed greylisting */

typedef struct {
	int64_t	first;		/* first attempt of the current window */
	int64_t	last;		/* last attempt (last seen once passed) */
	uint16_t retries;	/* counted retries so far */
	uint8_t	flags;		/* GREY_FLAG_* */
} grey_record_t;

typedef struct {
	int64_t	first;		/* first counted pass */
	int64_t	last_pass;	/* last counted pass (passes are >= 1 h apart) */
	int64_t	last_seen;	/* last time the client was seen passing */
	uint32_t passes;	/* counted passes */
} client_record_t;

typedef struct {
	int64_t	first;		/* first failure */
	int64_t	last;		/* latest failure */
	uint32_t count;		/* failures */
} tarpit_record_t;

#define RECORD_GREY_SIZE	20
#define RECORD_CLIENT_SIZE	30
#define RECORD_TARPIT_SIZE	22
#define RECORD_MAX_SIZE		32

size_t	record_grey_encode(const grey_record_t *r, unsigned char *buf, size_t size);
int	record_grey_decode(const void *buf, size_t len, grey_record_t *r);
size_t	record_client_encode(const client_record_t *r, unsigned char *buf, size_t size);
int	record_client_decode(const void *buf, size_t len, client_record_t *r);
size_t	record_tarpit_encode(const tarpit_record_t *r, unsigned char *buf, size_t size);
int	record_tarpit_decode(const void *buf, size_t len, tarpit_record_t *r);

#endif
