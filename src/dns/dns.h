/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	dns - stub resolver with deadlines, a TTL cache and an in-memory zone
 * SYNOPSIS
 *	#include "dns.h"
 *
 *	dns_t *dns_create(const dns_opts_t *opts, char *err, size_t errlen);
 *	dns_t *dns_create_config(const config_t *cfg, char *err, size_t errlen);
 *	dns_t *dns_free(dns_t *dns);
 *	int dns_zone_add(dns_t *dns, const char *name, int type, unsigned ttl,
 *	    const void *data, size_t len, unsigned pref);
 *	int dns_zone_add_timeout(dns_t *dns, const char *name, int type);
 *	dns_answer_t *dns_lookup(dns_t *dns, const char *name, int type,
 *	    long deadline_ms);
 *	dns_answer_t *dns_answer_free(dns_answer_t *ans);
 *	const char *dns_rr_data(const dns_answer_t *ans, size_t i);
 *	int dns_fcrdns(dns_t *dns, const addr_t *client, long deadline_ms,
 *	    char *name, size_t namelen);
 *	long dns_now_ms(const dns_t *dns);
 *	unsigned long dns_queries(const dns_t *dns);
 * DESCRIPTION
 *	dns_create() builds a resolver. With OPTS->zone_mode set it answers
 *	only from records added with dns_zone_add() and never touches the
 *	network (unit tests, the RFC 7208 suite). Otherwise it sends queries
 *	to OPTS->servers ("ADDR" or "ADDR:PORT", "[V6ADDR]:PORT"; an empty
 *	list means the nameserver lines of /etc/resolv.conf) over UDP, and
 *	again over TCP when the UDP answer is truncated.
 *
 *	dns_lookup() answers one question. DEADLINE_MS is an absolute time
 *	on the dns_now_ms() clock (monotonic, milliseconds); the call
 *	returns by then. The answer is owned by the caller (free it with
 *	dns_answer_free()) and is never NULL except when memory runs out.
 *	Its status is DNS_OK (count >= 1 records of TYPE, CNAMEs followed),
 *	DNS_NXDOMAIN, DNS_NODATA or DNS_TEMPFAIL (timeout, server failure,
 *	malformed name). Record data: A = 4 bytes, AAAA = 16 bytes,
 *	PTR/MX/CNAME = the name in text form without the final dot (MX
 *	preference in rr[i].pref), TXT = its character-strings joined
 *	(RFC 7208 3.3), possibly holding NUL bytes: use rr[i].len.
 *
 *	Answers are cached (OPTS->cache_size entries; 0 = no cache) for
 *	their TTL, clamped to OPTS->max_ttl_ms; NXDOMAIN/NODATA for the SOA
 *	minimum when the server sent one (else negative_ttl_ms); temporary
 *	failures for negative_ttl_ms. dns_zone_add() records keep their TTL.
 *
 *	dns_fcrdns() does a forward-confirmed reverse lookup of CLIENT:
 *	PTR, then A/AAAA of at most DNS_FCRDNS_MAX names; returns
 *	DNS_FCRDNS_FOUND with the confirmed name in NAME,
 *	DNS_FCRDNS_NOTFOUND, or DNS_FCRDNS_TEMPFAIL (also when the deadline
 *	passes).
 *
 *	dns_zone_add_timeout() makes a zone question time out: for TYPE, or
 *	with TYPE 0 for every type that has no record added before it
 *	(the RFC 7208 suite's TIMEOUT entries).
 *	dns_reverse_name() writes the in-addr.arpa / ip6.arpa name of A.
 *
 *	dns_queries() counts the questions sent (or asked of the zone), not
 *	cache hits: tests and the benchmark read it.
 *	OPTS->clock, when set, replaces the monotonic clock (tests).
 * THREADS
 *	All functions except dns_zone_add*() and dns_free() may be called
 *	from any number of threads at once; the cache has one mutex.
 * DIAGNOSTICS
 *	dns_create() returns NULL with a reason in ERR.
 */
#ifndef TG_DNS_H
#define TG_DNS_H

#include <stddef.h>
#include "addr.h"
#include "config.h"
#include "strlist.h"

#define DNS_T_A		1
#define DNS_T_CNAME	5
#define DNS_T_SOA	6
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28
#define DNS_T_SPF	99

#define DNS_NAME_MAX	255
#define DNS_FCRDNS_MAX	10

typedef enum {
	DNS_OK = 0,
	DNS_NXDOMAIN,
	DNS_NODATA,
	DNS_TEMPFAIL
} dns_status_t;

typedef struct {
	unsigned pref;		/* MX preference */
	unsigned off;		/* data offset from the answer start */
	unsigned len;		/* data length in bytes */
} dns_rr_t;

typedef struct dns_answer {
	dns_status_t status;
	int	type;
	unsigned ttl;		/* seconds */
	int	cached;		/* 1 when it came from the cache */
	size_t	size;		/* bytes of the whole block */
	size_t	count;
	dns_rr_t rr[];		/* data follows the array */
} dns_answer_t;

typedef long (*dns_clock_fn)(void *ctx);

typedef struct {
	const strlist_t *servers;	/* NULL or empty: /etc/resolv.conf */
	long	cache_size;		/* entries; 0 disables the cache */
	long	max_ttl_ms;
	long	negative_ttl_ms;
	int	zone_mode;		/* answer from dns_zone_add() only */
	dns_clock_fn clock;		/* NULL: CLOCK_MONOTONIC */
	void   *clock_ctx;
} dns_opts_t;

typedef struct dns dns_t;

enum { DNS_FCRDNS_FOUND = 0, DNS_FCRDNS_NOTFOUND = 1, DNS_FCRDNS_TEMPFAIL = -1 };

dns_t  *dns_create(const dns_opts_t *opts, char *err, size_t errlen);
dns_t  *dns_create_config(const config_t *cfg, char *err, size_t errlen);
dns_t  *dns_free(dns_t *dns);
int	dns_zone_add(dns_t *dns, const char *name, int type, unsigned ttl,
	    const void *data, size_t len, unsigned pref);
int	dns_zone_add_timeout(dns_t *dns, const char *name, int type);
dns_answer_t *dns_lookup(dns_t *dns, const char *name, int type, long deadline_ms);
dns_answer_t *dns_answer_free(dns_answer_t *ans);
const char *dns_rr_data(const dns_answer_t *ans, size_t i);
int	dns_fcrdns(dns_t *dns, const addr_t *client, long deadline_ms,
	    char *name, size_t namelen);
int	dns_reverse_name(const addr_t *a, char *buf, size_t size);
long	dns_now_ms(const dns_t *dns);
unsigned long dns_queries(const dns_t *dns);

#endif
