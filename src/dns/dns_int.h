/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	dns_int - pieces shared by dns.c and dns_net.c (not a public API)
 * SYNOPSIS
 *	#include "dns_int.h"
 *
 *	dns_answer_t *dns_answer_pack(dns_status_t st, int type, unsigned ttl,
 *	    const dns_item_t *items, size_t n);
 *	int dns_net_servers(const strlist_t *list, dns_server_t **out,
 *	    size_t *n, char *err, size_t errlen);
 *	dns_answer_t *dns_net_query(const dns_server_t *srv, size_t nsrv,
 *	    const char *name, int type, long deadline_ms, const dns_t *dns);
 *	int dns_name_ok(const char *name);
 *	dns_answer_t *dns_wire_parse(const unsigned char *m, size_t len,
 *	    unsigned id, const char *name, int type, int *tc);
 * DESCRIPTION
 *	dns_answer_pack() copies N items into one answer block.
 *	dns_net_servers() turns the dns_servers list (or resolv.conf)
 *	into socket addresses. dns_net_query() asks the servers in turn
 *	until one answers or DEADLINE_MS passes; it returns an answer with
 *	DNS_TEMPFAIL on timeout. The answer's ttl holds the value to cache.
 *	dns_name_ok() says whether NAME can be sent in a question.
 *	dns_wire_parse() decodes the reply M (LEN bytes, untrusted) to the
 *	question ID NAME/TYPE: NULL when it is not a usable reply (*TC set
 *	to 1 when truncated, 2 on FORMERR), else an answer to free. It is
 *	exposed for the fuzz harness.
 */
#ifndef TG_DNS_INT_H
#define TG_DNS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include "dns.h"

typedef struct {
	const void *data;
	size_t	len;
	unsigned pref;
} dns_item_t;

typedef struct {
	struct sockaddr_storage sa;
	socklen_t salen;
} dns_server_t;

#define DNS_TRY_MS	1000	/* first UDP wait; doubles on each round */
#define DNS_TRY_MAX_MS	64000	/* ... up to this */
#define DNS_MSG_MAX	65535
/* The resolver (dns.c owns it; dns_now_ms() in dns_net.c reads its clock). */
struct dns {
	dns_opts_t opts;
	dns_server_t *servers;
	size_t	nservers;
	struct zentry *zone, **zone_tail;
	pthread_mutex_t lock;		/* guards everything below */
	struct centry **buckets;
	size_t	nbuckets, count;
	struct centry *oldest, *newest;
	atomic_ulong queries;
};

#define DNS_TTL_UNKNOWN	0xffffffffu	/* no TTL known: cache for negative_ttl */

dns_answer_t *dns_answer_pack(dns_status_t st, int type, unsigned ttl,
	    const dns_item_t *items, size_t n);
int	dns_net_servers(const strlist_t *list, dns_server_t **out, size_t *n,
	    char *err, size_t errlen);
dns_answer_t *dns_net_query(const dns_server_t *srv, size_t nsrv,
	    const char *name, int type, long deadline_ms, const dns_t *dns);
int	dns_name_ok(const char *name);
dns_answer_t *dns_wire_parse(const unsigned char *m, size_t len, unsigned id,
	    const char *name, int type, int *tc);

#endif
