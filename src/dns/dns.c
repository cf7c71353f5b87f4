/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	dns - stub resolver front end: cache, in-memory zone, FCrDNS
 * DESCRIPTION
 *	See dns.h. The cache is a hash table of answer blocks under one
 *	mutex, with a FIFO list for eviction when it holds cache_size
 *	entries. Callers get their own copy of an answer (one memcpy), so
 *	nothing shared escapes the lock.
 * DIAGNOSTICS
 *	dns_create() explains a bad dns_servers entry in ERR.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "dns_int.h"
#include "metrics.h"

#define DNS_CNAME_MAX	8

typedef struct centry {
	struct centry *hnext, *older, *newer;
	long	expires;
	int	type;
	dns_answer_t *ans;
	char	name[];
} centry_t;

typedef struct zentry {
	struct zentry *next;
	char   *name;
	int	type;
	int	timeout;		/* a TIMEOUT entry */
	unsigned ttl;
	unsigned pref;
	size_t	len;
	char	data[];
} zentry_t;


unsigned long
dns_queries(const dns_t *dns)
{
	return atomic_load(&((dns_t *)dns)->queries);
}

dns_t *
dns_create(const dns_opts_t *opts, char *err, size_t errlen)
{
	dns_t  *dns;

	if ((dns = calloc(1, sizeof(*dns))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	dns->opts = *opts;
	dns->opts.servers = NULL;
	dns->zone_tail = &dns->zone;
	pthread_mutex_init(&dns->lock, NULL);
	if (!opts->zone_mode && dns_net_servers(opts->servers, &dns->servers,
	    &dns->nservers, err, errlen) < 0)
		return dns_free(dns);
	if (opts->cache_size > 0) {
		dns->nbuckets = (size_t)opts->cache_size < 1024 ? 1024 : (size_t)opts->cache_size;
		if ((dns->buckets = calloc(dns->nbuckets, sizeof(centry_t *))) == NULL) {
			snprintf(err, errlen, "out of memory");
			return dns_free(dns);
		}
	}
	return dns;
}

/* A resolver with the dns_* parameters of CFG; NULL and ERR on failure. */
dns_t *
dns_create_config(const config_t *cfg, char *err, size_t errlen)
{
	dns_opts_t opts = {0};

	opts.servers = &cfg->dns_servers;
	opts.cache_size = cfg->dns_cache_size;
	opts.max_ttl_ms = cfg->dns_cache_max_ttl;
	opts.negative_ttl_ms = cfg->dns_negative_ttl;
	return dns_create(&opts, err, errlen);
}

dns_t *
dns_free(dns_t *dns)
{
	centry_t *c, *cn;
	zentry_t *z, *zn;

	if (dns == NULL)
		return NULL;
	for (c = dns->oldest; c; c = cn) {
		cn = c->newer;
		free(c->ans);
		free(c);
	}
	for (z = dns->zone; z; z = zn) {
		zn = z->next;
		free(z->name);
		free(z);
	}
	free(dns->buckets);
	free(dns->servers);
	pthread_mutex_destroy(&dns->lock);
	free(dns);
	return NULL;
}

/* Lower-case NAME without its final dot into KEY; -1 if too long. */
static int
dns_key(const char *name, char *key, size_t size)
{
	size_t	i, len = strlen(name);

	if (len && name[len - 1] == '.')
		len--;
	if (len >= size)
		return -1;
	for (i = 0; i < len; i++)
		key[i] = (char)tolower((unsigned char)name[i]);
	key[len] = 0;
	return 0;
}

/* FNV-1a over KEY and TYPE. */
static size_t
dns_hash(const char *key, int type, size_t n)
{
	unsigned long h = 2166136261u ^ (unsigned)type;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % n;
}

/* Unlink C from its chain and the FIFO (lock held). */
static void
cache_unlink(dns_t *dns, centry_t *c, centry_t **link)
{
	*link = c->hnext;
	if (c->older)
		c->older->newer = c->newer;
	else
		dns->oldest = c->newer;
	if (c->newer)
		c->newer->older = c->older;
	else
		dns->newest = c->older;
	dns->count--;
	free(c->ans);
	free(c);
}

/* Find KEY/TYPE (lock held); drop it when expired. */
static centry_t **
cache_find(dns_t *dns, const char *key, int type, long now)
{
	centry_t **link = &dns->buckets[dns_hash(key, type, dns->nbuckets)];

	for (; *link; link = &(*link)->hnext)
		if ((*link)->type == type && strcmp((*link)->name, key) == 0) {
			if ((*link)->expires > now)
				return link;
			cache_unlink(dns, *link, link);
			return NULL;
		}
	return NULL;
}

/* A private copy of the cached answer for KEY/TYPE, or NULL. */
static dns_answer_t *
cache_get(dns_t *dns, const char *key, int type)
{
	dns_answer_t *copy = NULL;
	centry_t **link;
	long	now = dns_now_ms(dns);

	pthread_mutex_lock(&dns->lock);
	if ((link = cache_find(dns, key, type, now)) != NULL
	    && (copy = malloc((*link)->ans->size)) != NULL) {
		memcpy(copy, (*link)->ans, (*link)->ans->size);
		copy->cached = 1;
	}
	pthread_mutex_unlock(&dns->lock);
	return copy;
}

/* Remove the entry at the head of the FIFO (lock held). */
static void
cache_evict_oldest(dns_t *dns)
{
	centry_t *victim = dns->oldest, **link;

	link = &dns->buckets[dns_hash(victim->name, victim->type, dns->nbuckets)];
	while (*link != victim)
		link = &(*link)->hnext;
	cache_unlink(dns, victim, link);
}

/* Store a copy of ANS under KEY/TYPE for LIFETIME_MS. */
static void
cache_put(dns_t *dns, const char *key, int type, const dns_answer_t *ans, long lifetime_ms)
{
	centry_t *c, **link;
	size_t	klen = strlen(key) + 1;
	long	now = dns_now_ms(dns);

	if ((c = calloc(1, sizeof(*c) + klen)) == NULL
	    || (c->ans = malloc(ans->size)) == NULL) {
		free(c);
		return;
	}
	memcpy(c->ans, ans, ans->size);
	memcpy(c->name, key, klen);
	c->type = type;
	c->expires = now + lifetime_ms;
	pthread_mutex_lock(&dns->lock);
	if ((link = cache_find(dns, key, type, now)) != NULL)
		cache_unlink(dns, *link, link);
	if (dns->count >= (size_t)dns->opts.cache_size)
		cache_evict_oldest(dns);
	link = &dns->buckets[dns_hash(key, type, dns->nbuckets)];
	c->hnext = *link;
	*link = c;
	c->older = dns->newest;
	if (dns->newest)
		dns->newest->newer = c;
	else
		dns->oldest = c;
	dns->newest = c;
	dns->count++;
	pthread_mutex_unlock(&dns->lock);
}

/* How long ANS may be cached, in milliseconds. */
static long
cache_lifetime(const dns_t *dns, const dns_answer_t *ans)
{
	long	ms;

	if (ans->ttl == DNS_TTL_UNKNOWN)
		ms = dns->opts.negative_ttl_ms;
	else if (ans->status == DNS_TEMPFAIL)
		ms = ans->ttl ? dns->opts.negative_ttl_ms : 0;
	else
		ms = (long)ans->ttl * 1000L;
	return ms < dns->opts.max_ttl_ms ? ms : dns->opts.max_ttl_ms;
}

/* Append a zone entry; NULL when out of memory or NAME is too long. */
static zentry_t *
zone_append(dns_t *dns, const char *name, int type, const void *data, size_t len)
{
	zentry_t *z;
	char	key[DNS_NAME_MAX + 2];

	if (dns_key(name, key, sizeof(key)) < 0
	    || (z = calloc(1, sizeof(*z) + len + 1)) == NULL)
		return NULL;
	if ((z->name = strdup(key)) == NULL) {
		free(z);
		return NULL;
	}
	z->type = type;
	z->len = len;
	if (len)
		memcpy(z->data, data, len);
	*dns->zone_tail = z;
	dns->zone_tail = &z->next;
	return z;
}

int
dns_zone_add(dns_t *dns, const char *name, int type, unsigned ttl,
    const void *data, size_t len, unsigned pref)
{
	zentry_t *z;

	if ((z = zone_append(dns, name, type, data, len)) == NULL)
		return -1;
	z->ttl = ttl;
	z->pref = pref;
	return 0;
}

int
dns_zone_add_timeout(dns_t *dns, const char *name, int type)
{
	zentry_t *z;

	if ((z = zone_append(dns, name, type, NULL, 0)) == NULL)
		return -1;
	z->timeout = 1;
	return 0;
}

/* Answer KEY/TYPE from the zone, following CNAMEs up to DEPTH. */
static dns_answer_t *
zone_query(const dns_t *dns, const char *key, int type, int depth)
{
	dns_item_t items[64];
	const zentry_t *z, *cname = NULL;
	size_t	n = 0;
	unsigned ttl = DNS_TTL_UNKNOWN;
	int	exists = 0;

	for (z = dns->zone; z; z = z->next) {
		if (strcmp(z->name, key) != 0)
			continue;
		exists = 1;
		if (z->timeout && (z->type == 0 ? n == 0 : z->type == type))
			return dns_answer_pack(DNS_TEMPFAIL, type, DNS_TTL_UNKNOWN, NULL, 0);
		if (z->timeout && z->type == 0)
			break;
		if (z->type == type && n < 64) {
			items[n].data = z->data;
			items[n].len = z->len;
			items[n++].pref = z->pref;
			ttl = z->ttl < ttl ? z->ttl : ttl;
		} else if (z->type == DNS_T_CNAME && type != DNS_T_CNAME)
			cname = z;
	}
	if (n)
		return dns_answer_pack(DNS_OK, type, ttl, items, n);
	if (cname && depth < DNS_CNAME_MAX) {
		char	next[DNS_NAME_MAX + 2];
		if (dns_key(cname->data, next, sizeof(next)) == 0)
			return zone_query(dns, next, type, depth + 1);
	}
	return dns_answer_pack(exists ? DNS_NODATA : DNS_NXDOMAIN, type,
	    DNS_TTL_UNKNOWN, NULL, 0);
}

dns_answer_t *
dns_lookup(dns_t *dns, const char *name, int type, long deadline_ms)
{
	char	key[DNS_NAME_MAX + 2];
	dns_answer_t *ans;
	long	life, start;

	if (!dns_name_ok(name) || dns_key(name, key, sizeof(key)) < 0)
		return dns_answer_pack(DNS_NXDOMAIN, type, 0, NULL, 0);
	if (dns->buckets && (ans = cache_get(dns, key, type)) != NULL)
		return ans;
	if (dns_now_ms(dns) >= deadline_ms)
		return dns_answer_pack(DNS_TEMPFAIL, type, 0, NULL, 0);
	atomic_fetch_add(&dns->queries, 1);
	start = dns_now_ms(dns);
	if (dns->opts.zone_mode)
		ans = zone_query(dns, key, type, 0);
	else
		ans = dns_net_query(dns->servers, dns->nservers, key, type,
		    deadline_ms, dns);
	metrics_count_dns(ans == NULL || ans->status == DNS_TEMPFAIL, dns_now_ms(dns) - start);
	if (ans && dns->buckets && (life = cache_lifetime(dns, ans)) > 0)
		cache_put(dns, key, type, ans, life);
	return ans;
}

int
dns_reverse_name(const addr_t *a, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t	o = 0;
	int	i;

	if (a->family == AF_INET)
		return snprintf(buf, size, "%u.%u.%u.%u.in-addr.arpa", a->bytes[3],
		    a->bytes[2], a->bytes[1], a->bytes[0]) < (int)size ? 0 : -1;
	if (size < 16 * 4 + 9)
		return -1;
	for (i = 15; i >= 0; i--) {
		buf[o++] = hex[a->bytes[i] & 0xf];
		buf[o++] = '.';
		buf[o++] = hex[a->bytes[i] >> 4];
		buf[o++] = '.';
	}
	memcpy(buf + o, "ip6.arpa", 9);
	return 0;
}

/* Does one of the addresses of NAME equal CLIENT? 1 yes, 0 no, -1 tempfail. */
static int
fcrdns_confirm(dns_t *dns, const char *name, const addr_t *client, long deadline_ms)
{
	dns_answer_t *a;
	size_t	i, blen = client->family == AF_INET ? 4 : 16;
	int	rc = 0;

	a = dns_lookup(dns, name, client->family == AF_INET ? DNS_T_A : DNS_T_AAAA,
	    deadline_ms);
	if (a == NULL || a->status == DNS_TEMPFAIL)
		rc = -1;
	else
		for (i = 0; i < a->count && !rc; i++)
			rc = a->rr[i].len == blen
			    && memcmp(dns_rr_data(a, i), client->bytes, blen) == 0;
	dns_answer_free(a);
	return rc;
}

int
dns_fcrdns(dns_t *dns, const addr_t *client, long deadline_ms, char *name, size_t namelen)
{
	char	rev[80];
	dns_answer_t *ptr;
	size_t	i;
	int	rc = DNS_FCRDNS_NOTFOUND, ok;

	if (dns_reverse_name(client, rev, sizeof(rev)) < 0)
		return DNS_FCRDNS_NOTFOUND;
	ptr = dns_lookup(dns, rev, DNS_T_PTR, deadline_ms);
	if (ptr == NULL || ptr->status == DNS_TEMPFAIL)
		rc = DNS_FCRDNS_TEMPFAIL;
	for (i = 0; ptr && i < ptr->count && i < DNS_FCRDNS_MAX; i++) {
		ok = fcrdns_confirm(dns, dns_rr_data(ptr, i), client, deadline_ms);
		if (ok > 0) {
			snprintf(name, namelen, "%s", dns_rr_data(ptr, i));
			rc = DNS_FCRDNS_FOUND;
			break;
		}
		if (ok < 0)
			rc = DNS_FCRDNS_TEMPFAIL;
	}
	dns_answer_free(ptr);
	return rc;
}
