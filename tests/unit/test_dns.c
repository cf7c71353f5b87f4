/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_dns - unit tests for the resolver (dns.c, dns_net.c)
 * DESCRIPTION
 *	A fake name server on 127.0.0.1 (a thread, UDP and TCP on one free
 *	port) checks the wire code: answers, NXDOMAIN, SERVFAIL, a reply
 *	with a wrong id that must be ignored, truncation and the TCP
 *	retry, FORMERR to EDNS and the plain retry. A silent server checks the deadline. The zone mode checks
 *	CNAMEs, NODATA/NXDOMAIN and TIMEOUT; a settable clock checks that
 *	the cache honours TTLs, max_ttl and the negative TTL; FCrDNS runs
 *	against the zone. Out of descriptors (RLIMIT_NOFILE lowered and
 *	filled), a lookup must fail at once as a temporary error, not be
 *	cached, cost little CPU and be logged once. A server that truncates
 *	over UDP and hangs up over TCP gets one question per round, not a
 *	busy loop until the deadline. dns_wire_parse() on crafted replies:
 *	counts larger than the packet, a pointer loop, a record running
 *	past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>
#include "dns.h"
#include "dns_int.h"
#include "log.h"

typedef struct {
	int	udp, tcp, stop[2];
	int	silent;
	unsigned short port;
	pthread_t thr;
	int	udp_seen, tcp_seen;
} fake_t;

#define BIG_TXT_LEN	600

/* Build the reply to question Q; returns its length. */
static size_t
fake_reply(const unsigned char *q, size_t qlen, unsigned char *r, int tcp, int bad_id)
{
	size_t	o = 12, n, i;
	const char *name = (const char *)q + 13;
	int	qtype;

	while (o < qlen && q[o])
		o += q[o] + 1u;
	o += 5;
	if (o > qlen)
		return 0;
	qtype = q[o - 4] << 8 | q[o - 3];
	memcpy(r, q, o);
	r[2] = 0x81;
	r[3] = 0x80;
	memset(r + 6, 0, 6);
	if (bad_id)
		r[1] ^= 0xff;
	if (strncmp(name, "noedns", 6) == 0 && q[11] != 0)
		r[3] |= 1;		/* FORMERR to an EDNS question */
	else if (strncmp(name, "nx", 2) == 0)
		r[3] |= 3;
	else if (strncmp(name, "servfail", 8) == 0)
		r[3] |= 2;
	else if (qtype == DNS_T_A) {
		static const unsigned char a[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4,
		    192, 0, 2, 1};
		memcpy(r + o, a, sizeof(a));
		o += sizeof(a);
		r[7] = 1;
	} else if (qtype == DNS_T_TXT && strncmp(name, "big", 3) == 0 && !tcp)
		r[2] |= 0x02;
	else if (qtype == DNS_T_TXT) {
		static const unsigned char h[] = {0xc0, 12, 0, 16, 0, 1, 0, 0, 1, 0};
		memcpy(r + o, h, sizeof(h));
		o += sizeof(h);
		n = strncmp(name, "big", 3) == 0 ? BIG_TXT_LEN : 10;
		r[o++] = (unsigned char)((n + (n + 199) / 200) >> 8);
		r[o++] = (unsigned char)(n + (n + 199) / 200);
		for (i = 0; i < n; i += 200) {
			size_t	chunk = n - i < 200 ? n - i : 200;
			r[o++] = (unsigned char)chunk;
			memset(r + o, 'x', chunk);
			o += chunk;
		}
		r[7] = 1;
	}
	return o;
}

/* Answer one UDP question: first with a wrong id, then properly. */
static void
fake_udp(fake_t *f)
{
	unsigned char q[512], r[2048];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t	n;
	size_t	rl;

	n = recvfrom(f->udp, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
	f->udp_seen++;
	if (n <= 12 || f->silent)
		return;
	rl = fake_reply(q, (size_t)n, r, 0, 1);
	sendto(f->udp, r, rl, 0, (struct sockaddr *)&from, flen);
	rl = fake_reply(q, (size_t)n, r, 0, 0);
	sendto(f->udp, r, rl, 0, (struct sockaddr *)&from, flen);
}

/* Answer one TCP connection. */
static void
fake_tcp(fake_t *f)
{
	unsigned char q[514], r[2048 + 2];
	size_t	rl;
	ssize_t	n;
	int	c;

	if ((c = accept(f->tcp, NULL, NULL)) < 0)
		return;
	f->tcp_seen++;
	n = recv(c, q, 2, MSG_WAITALL);
	if (n == 2 && (size_t)(q[0] << 8 | q[1]) <= sizeof(q) - 2)
		n = 2 + recv(c, q + 2, (size_t)(q[0] << 8 | q[1]), MSG_WAITALL);
	if (n > 22 && memcmp(q + 15, "bigdrop", 7) == 0)
		n = 0;			/* hang up without an answer */
	if (n > 14) {
		rl = fake_reply(q + 2, (size_t)n - 2, r + 2, 1, 0);
		r[0] = (unsigned char)(rl >> 8);
		r[1] = (unsigned char)rl;
		send(c, r, rl + 2, MSG_NOSIGNAL);
	}
	close(c);
}

static void *
fake_main(void *arg)
{
	fake_t *f = arg;
	struct pollfd p[3] = {{f->udp, POLLIN, 0}, {f->tcp, POLLIN, 0},
	    {f->stop[0], POLLIN, 0}};

	while (poll(p, 3, -1) > 0 && !(p[2].revents & POLLIN)) {
		if (p[0].revents & POLLIN)
			fake_udp(f);
		if (p[1].revents & POLLIN)
			fake_tcp(f);
	}
	return NULL;
}

/* Start a fake server on a free loopback port (UDP and TCP alike). */
static void
fake_start(fake_t *f, int silent)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int	try;

	memset(f, 0, sizeof(*f));
	f->silent = silent;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (try = 0; try < 20; try++) {
		sa.sin_port = 0;
		f->udp = socket(AF_INET, SOCK_DGRAM, 0);
		assert_int_equal(bind(f->udp, (struct sockaddr *)&sa, sizeof(sa)), 0);
		getsockname(f->udp, (struct sockaddr *)&sa, &len);
		f->tcp = socket(AF_INET, SOCK_STREAM, 0);
		if (bind(f->tcp, (struct sockaddr *)&sa, sizeof(sa)) == 0
		    && listen(f->tcp, 4) == 0)
			break;
		close(f->udp);
		close(f->tcp);
	}
	f->port = ntohs(sa.sin_port);
	assert_int_equal(pipe(f->stop), 0);
	assert_int_equal(pthread_create(&f->thr, NULL, fake_main, f), 0);
}

static void
fake_stop(fake_t *f)
{
	assert_int_equal(write(f->stop[1], "x", 1), 1);
	pthread_join(f->thr, NULL);
	close(f->udp);
	close(f->tcp);
	close(f->stop[0]);
	close(f->stop[1]);
}

/* A resolver that asks F. */
static dns_t *
fake_dns(const fake_t *f)
{
	strlist_t servers = {0};
	dns_opts_t opts = {.servers = &servers, .cache_size = 100,
	    .max_ttl_ms = 3600000, .negative_ttl_ms = 60000};
	char	item[64], err[128];
	dns_t  *dns;

	snprintf(item, sizeof(item), "127.0.0.1:%u", f->port);
	assert_int_equal(strlist_add(&servers, item, strlen(item)), 0);
	dns = dns_create(&opts, err, sizeof(err));
	strlist_clear(&servers);
	assert_non_null(dns);
	return dns;
}

static void
test_net_answers(void **state)
{
	static const struct {
		const char *name;
		int	type;
		dns_status_t want;
		size_t	count, len;
	} cases[] = {
		{"host.example.com", DNS_T_A, DNS_OK, 1, 4},
		{"small.example.com", DNS_T_TXT, DNS_OK, 1, 10},
		{"big.example.com", DNS_T_TXT, DNS_OK, 1, BIG_TXT_LEN},	/* via TCP */
		{"nx.example.com", DNS_T_A, DNS_NXDOMAIN, 0, 0},
		{"host.example.com", DNS_T_MX, DNS_NODATA, 0, 0},
		{"servfail.example.com", DNS_T_A, DNS_TEMPFAIL, 0, 0},
		{"noedns.example.com", DNS_T_A, DNS_OK, 1, 4},
	};
	fake_t	f;
	dns_t  *dns;
	dns_answer_t *a;
	size_t	i;

	(void)state;
	fake_start(&f, 0);
	dns = fake_dns(&f);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		a = dns_lookup(dns, cases[i].name, cases[i].type, dns_now_ms(dns) + 5000);
		assert_non_null(a);
		if (a->status != cases[i].want || a->count != cases[i].count
		    || (a->count && a->rr[0].len != cases[i].len))
			fail_msg("%s/%d: got status %d count %zu, want %d %zu",
			    cases[i].name, cases[i].type, a->status, a->count,
			    cases[i].want, cases[i].count);
		if (cases[i].type == DNS_T_A && a->count)
			assert_memory_equal(dns_rr_data(a, 0), "\xc0\x00\x02\x01", 4);
		dns_answer_free(a);
	}
	assert_int_equal(f.tcp_seen, 1);
	/* Second time from the cache: no new question. */
	a = dns_lookup(dns, "HOST.example.com.", DNS_T_A, dns_now_ms(dns) + 5000);
	assert_int_equal(a->cached, 1);
	assert_int_equal(a->ttl, 60);
	dns_answer_free(a);
	assert_int_equal(dns_queries(dns), 7);
	dns_free(dns);
	fake_stop(&f);
}

/* Ask a fake server (SILENT or not) NAME/TXT until DEADLINE_MS from now;
 * the answer must be a temporary failure. Returns the time it took. */
static long
lookup_tempfail(fake_t *f, int silent, const char *name, long deadline_ms)
{
	dns_t  *dns;
	dns_answer_t *a;
	long	start, took;

	fake_start(f, silent);
	dns = fake_dns(f);
	start = dns_now_ms(dns);
	a = dns_lookup(dns, name, DNS_T_TXT, start + deadline_ms);
	took = dns_now_ms(dns) - start;
	assert_non_null(a);
	assert_int_equal(a->status, DNS_TEMPFAIL);
	dns_answer_free(a);
	dns_free(dns);
	fake_stop(f);
	return took;
}

static void
test_net_deadline(void **state)
{
	fake_t	f;
	long	took;

	(void)state;
	took = lookup_tempfail(&f, 1, "slow.example.com", 300);
	/* Bounded by the deadline, not by resolv.conf's 5 s x 2 tries. */
	if (took > 2000)
		fail_msg("deadline 300 ms: got %ld ms", took);
	assert_true(f.udp_seen >= 1);
}

static long fake_now;

static long
fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

/* A zone-mode resolver with the fake clock. */
static dns_t *
zone_dns(long cache_size, long max_ttl_ms)
{
	dns_opts_t opts = {.zone_mode = 1, .cache_size = cache_size,
	    .max_ttl_ms = max_ttl_ms, .negative_ttl_ms = 10000, .clock = fake_clock};
	char	err[128];
	dns_t  *dns = dns_create(&opts, err, sizeof(err));

	assert_non_null(dns);
	fake_now = 1000000;
	assert_int_equal(dns_zone_add(dns, "a.example", DNS_T_A, 5, "\x01\x02\x03\x04", 4, 0), 0);
	assert_int_equal(dns_zone_add(dns, "b.example", DNS_T_A, 300, "\x01\x02\x03\x05", 4, 0), 0);
	return dns;
}

/* Look NAME up; return 1 when the answer came from the cache. */
static int
lookup_cached(dns_t *dns, const char *name)
{
	dns_answer_t *a = dns_lookup(dns, name, DNS_T_A, fake_now + 1000);
	int	cached = a->cached;

	dns_answer_free(a);
	return cached;
}

static void
test_cache_ttl(void **state)
{
	dns_t  *dns = zone_dns(100, 60000);

	(void)state;
	assert_int_equal(lookup_cached(dns, "a.example"), 0);
	fake_now += 4000;
	assert_int_equal(lookup_cached(dns, "a.example"), 1);	/* TTL 5 s */
	fake_now += 2000;
	assert_int_equal(lookup_cached(dns, "a.example"), 0);	/* expired */
	assert_int_equal(lookup_cached(dns, "b.example"), 0);
	fake_now += 59000;
	assert_int_equal(lookup_cached(dns, "b.example"), 1);
	fake_now += 2000;
	assert_int_equal(lookup_cached(dns, "b.example"), 0);	/* clamped to 60 s */
	assert_int_equal(lookup_cached(dns, "nx.example"), 0);
	fake_now += 9000;
	assert_int_equal(lookup_cached(dns, "nx.example"), 1);	/* negative TTL 10 s */
	fake_now += 2000;
	assert_int_equal(lookup_cached(dns, "nx.example"), 0);
	assert_int_equal(dns_queries(dns), 6);
	dns_free(dns);
}

static void
test_cache_size(void **state)
{
	dns_t  *dns = zone_dns(1, 60000);

	(void)state;
	assert_int_equal(lookup_cached(dns, "a.example"), 0);
	assert_int_equal(lookup_cached(dns, "b.example"), 0);	/* evicts a */
	assert_int_equal(lookup_cached(dns, "b.example"), 1);
	assert_int_equal(lookup_cached(dns, "a.example"), 0);
	dns_free(dns);
	dns = zone_dns(0, 60000);				/* no cache */
	assert_int_equal(lookup_cached(dns, "a.example"), 0);
	assert_int_equal(lookup_cached(dns, "a.example"), 0);
	dns_free(dns);
}

static void
test_zone(void **state)
{
	dns_t  *dns = zone_dns(0, 0);
	dns_answer_t *a;
	static const struct {
		const char *name;
		int	type;
		dns_status_t want;
	} cases[] = {
		{"alias.example", DNS_T_A, DNS_OK},
		{"alias.example", DNS_T_CNAME, DNS_OK},
		{"a.example", DNS_T_MX, DNS_NODATA},
		{"none.example", DNS_T_A, DNS_NXDOMAIN},
		{"slow.example", DNS_T_TXT, DNS_TEMPFAIL},
		{"slow.example", DNS_T_A, DNS_OK},	/* record before TIMEOUT */
		{"slowa.example", DNS_T_A, DNS_TEMPFAIL},
		{"slowa.example", DNS_T_TXT, DNS_NODATA},
		{"bad..example", DNS_T_A, DNS_NXDOMAIN},
	};
	size_t	i;

	(void)state;
	dns_zone_add(dns, "alias.example", DNS_T_CNAME, 60, "a.example", 9, 0);
	dns_zone_add(dns, "slow.example", DNS_T_A, 60, "\x01\x01\x01\x01", 4, 0);
	dns_zone_add_timeout(dns, "slow.example", 0);
	dns_zone_add_timeout(dns, "slowa.example", DNS_T_A);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		a = dns_lookup(dns, cases[i].name, cases[i].type, fake_now + 1000);
		if (a->status != cases[i].want)
			fail_msg("%s/%d: got %d, want %d", cases[i].name, cases[i].type,
			    a->status, cases[i].want);
		dns_answer_free(a);
	}
	dns_free(dns);
}

static void
test_fcrdns(void **state)
{
	dns_t  *dns = zone_dns(0, 0);
	addr_t	ok, wrong, slow, v6;
	char	name[256];

	(void)state;
	addr_parse("1.2.3.4", &ok);
	addr_parse("1.2.3.9", &wrong);
	addr_parse("1.2.3.7", &slow);
	addr_parse("2001:db8::1", &v6);
	dns_zone_add(dns, "4.3.2.1.in-addr.arpa", DNS_T_PTR, 60, "a.example", 9, 0);
	dns_zone_add(dns, "9.3.2.1.in-addr.arpa", DNS_T_PTR, 60, "a.example", 9, 0);
	dns_zone_add_timeout(dns, "7.3.2.1.in-addr.arpa", 0);
	dns_zone_add(dns, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
	    DNS_T_PTR, 60, "v6.example", 10, 0);
	dns_zone_add(dns, "v6.example", DNS_T_AAAA, 60, v6.bytes, 16, 0);
	assert_int_equal(dns_fcrdns(dns, &ok, fake_now + 1000, name, sizeof(name)),
	    DNS_FCRDNS_FOUND);
	assert_string_equal(name, "a.example");
	assert_int_equal(dns_fcrdns(dns, &wrong, fake_now + 1000, name, sizeof(name)),
	    DNS_FCRDNS_NOTFOUND);
	assert_int_equal(dns_fcrdns(dns, &slow, fake_now + 1000, name, sizeof(name)),
	    DNS_FCRDNS_TEMPFAIL);
	assert_int_equal(dns_fcrdns(dns, &v6, fake_now + 1000, name, sizeof(name)),
	    DNS_FCRDNS_FOUND);
	assert_string_equal(name, "v6.example");
	dns_free(dns);
}

static void
test_servers(void **state)
{
	static const struct {
		const char *item;
		int	ok;
	} cases[] = {
		{"127.0.0.1", 1}, {"127.0.0.1:5353", 1}, {"::1", 1}, {"[::1]:5353", 1},
		{"127.0.0.1:0", 0}, {"127.0.0.1:99999", 0}, {"localhost", 0}, {"[::1", 0},
	};
	strlist_t l = {0};
	dns_opts_t opts = {.servers = &l};
	char	err[128];
	dns_t  *dns;
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strlist_clear(&l);
		strlist_add(&l, cases[i].item, strlen(cases[i].item));
		dns = dns_create(&opts, err, sizeof(err));
		if ((dns != NULL) != cases[i].ok)
			fail_msg("%s: got %s, want %s", cases[i].item, dns ? "ok" : err,
			    cases[i].ok ? "ok" : "error");
		dns_free(dns);
	}
	strlist_clear(&l);
}

/* A reply to example.com/A (id 0x1234): ANCOUNT AN, then BODY. */
static size_t
wire_reply(unsigned char *m, unsigned an, const void *body, size_t blen)
{
	static const unsigned char head[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,
	    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1};

	memcpy(m, head, sizeof(head));
	m[6] = (unsigned char)(an >> 8);
	m[7] = (unsigned char)an;
	memcpy(m + sizeof(head), body, blen);
	return sizeof(head) + blen;
}

static void
test_wire_parse(void **state)
{
	static const unsigned char a1[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
	static const unsigned char loop[] = {0xc0, 29, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
	static const unsigned char past[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 40, 192};
	static const struct {
		const char *what;
		unsigned an;
		const unsigned char *body;
		size_t	blen;
		int	parsed;		/* 1: an answer, 0: NULL (malformed) */
		size_t	count;
	} cases[] = {
		{"one A record", 1, a1, sizeof(a1), 1, 1},
		{"65535 announced, one there", 65535, a1, sizeof(a1), 0, 0},
		{"2 announced, one there", 2, a1, sizeof(a1), 0, 0},
		{"owner name points at itself", 1, loop, sizeof(loop), 0, 0},
		{"rdata past the end", 1, past, sizeof(past), 0, 0},
	};
	unsigned char m[512];
	dns_answer_t *a;
	size_t	i, len;
	int	tc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = wire_reply(m, cases[i].an, cases[i].body, cases[i].blen);
		tc = 0;
		a = dns_wire_parse(m, len, 0x1234, "example.com", DNS_T_A, &tc);
		if ((a != NULL) != cases[i].parsed || (a && a->count != cases[i].count))
			fail_msg("%s: got %s (count %zu), want %s (count %zu)", cases[i].what,
			    a ? "an answer" : "malformed", a ? a->count : 0,
			    cases[i].parsed ? "an answer" : "malformed", cases[i].count);
		dns_answer_free(a);
	}
}

static void
test_net_tcp_drop(void **state)
{
	fake_t	f;
	long	took;

	(void)state;
	took = lookup_tempfail(&f, 0, "bigdrop.example.com", 1500);
	/* Rounds at 0 and 1000 ms; the deadline ends the second pause. */
	if (f.udp_seen > 3 || f.tcp_seen > 3 || took < 1400 || took > 2500)
		fail_msg("truncated, then TCP dropped: got %d UDP and %d TCP questions"
		    " in %ld ms, want at most 3 each in about 1500 ms", f.udp_seen,
		    f.tcp_seen, took);
	print_message("truncated, then TCP dropped: %d UDP, %d TCP questions in %ld ms\n",
	    f.udp_seen, f.tcp_seen, took);
}

static int nofd_lines;

static void
nofd_sink(int prio, const char *line, void *ctx)
{
	(void)prio;
	(void)ctx;
	if (strstr(line, "dns: cannot open a socket") != NULL)
		nofd_lines++;
}

/* CPU seconds used by this process so far. */
static double
cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
	    + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Occupy every free descriptor under a soft limit of 64; returns the count. */
static int
nofd_fill(int *fds, int max, struct rlimit *saved)
{
	struct rlimit rl;
	int	n = 0, fd;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, saved), 0);
	rl = *saved;
	rl.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (n < max && (fd = dup(0)) >= 0)
		fds[n++] = fd;
	return n;
}

static void
test_net_no_descriptors(void **state)
{
	static const int types[] = {DNS_T_TXT, DNS_T_A, DNS_T_PTR};
	struct rlimit saved;
	int	fds[64], n, i;
	fake_t	f;
	dns_t  *dns;
	dns_answer_t *a;
	long	start, took;
	double	cpu;

	(void)state;
	fake_start(&f, 1);
	dns = fake_dns(&f);
	log_set_sink(nofd_sink, NULL);
	n = nofd_fill(fds, 64, &saved);
	for (i = 0; i < 3; i++) {
		start = dns_now_ms(dns);
		cpu = cpu_now();
		a = dns_lookup(dns, "nofd.example.com", types[i], start + 3000);
		took = dns_now_ms(dns) - start;
		cpu = cpu_now() - cpu;
		assert_non_null(a);
		if (a->status != DNS_TEMPFAIL || took > 500 || cpu > 0.2)
			fail_msg("no descriptor, type %d: got status %d in %ld ms, %.3f s CPU;"
			    " want %d (tempfail) at once", types[i], a->status, took, cpu,
			    DNS_TEMPFAIL);
		print_message("no descriptor, type %d: tempfail in %ld ms, %.3f s CPU\n",
		    types[i], took, cpu);
		dns_answer_free(a);
	}
	while (n > 0)
		close(fds[--n]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	log_set_sink(NULL, NULL);
	if (nofd_lines != 1)
		fail_msg("log lines about the missing socket: got %d, want 1", nofd_lines);
	/* Not cached: with descriptors back, the question goes out. */
	a = dns_lookup(dns, "nofd.example.com", DNS_T_TXT, dns_now_ms(dns) + 300);
	assert_int_equal(a->cached, 0);
	assert_true(f.udp_seen >= 1);
	dns_answer_free(a);
	dns_free(dns);
	fake_stop(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_answers),
		cmocka_unit_test(test_net_deadline),
		cmocka_unit_test(test_cache_ttl),
		cmocka_unit_test(test_cache_size),
		cmocka_unit_test(test_zone),
		cmocka_unit_test(test_fcrdns),
		cmocka_unit_test(test_servers),
		cmocka_unit_test(test_net_no_descriptors),
		cmocka_unit_test(test_net_tcp_drop),
		cmocka_unit_test(test_wire_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
