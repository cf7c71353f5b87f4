/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	bench_spf - SPF checks per second, cached and cold, over loopback DNS
 * SYNOPSIS
 *	bench_spf [SECONDS]
 * DESCRIPTION
 *	Starts a small authoritative DNS server on 127.0.0.1 (a thread,
 *	UDP, answering from an in-memory zone) that publishes a 3-level
 *	include chain: example.test -> l1.example.test -> l2.example.test,
 *	the last one holding ip4:192.0.2.0/24. Then, on one thread:
 *	- cold: the resolver cache is off, every check fetches the three
 *	  records over UDP from the server;
 *	- cached: the resolver cache is on, the records come from it.
 *	Prints checks per second and DNS queries per check for both.
 *	Figures only: it never fails on time.
 * DIAGNOSTICS
 *	Exit status 1 when a check does not pass (the set-up is broken).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "config.h"
#include "dns.h"
#include "spf.h"

typedef struct {
	dns_t  *zone;
	int	fd, stop[2];
	unsigned short port;
} server_t;

/* Encode the answer records of A into R at *O; returns the count. */
static unsigned
server_records(const dns_answer_t *a, unsigned char *r, size_t *o, size_t size)
{
	unsigned n = 0;
	size_t	i, j, len, rdlen;

	for (i = 0; i < a->count; i++) {
		len = a->rr[i].len;
		rdlen = a->type == DNS_T_TXT ? len + (len + 254) / 255 : len;
		if (*o + 12 + rdlen > size || a->type == DNS_T_MX)
			break;
		unsigned char h[12] = {0xc0, 12, (unsigned char)(a->type >> 8),
		    (unsigned char)a->type, 0, 1, 0, 0, 1, 0x2c,
		    (unsigned char)(rdlen >> 8), (unsigned char)rdlen};
		memcpy(r + *o, h, sizeof(h));
		*o += sizeof(h);
		for (j = 0; a->type == DNS_T_TXT && j < len; j += 255) {
			size_t	chunk = len - j < 255 ? len - j : 255;
			r[(*o)++] = (unsigned char)chunk;
			memcpy(r + *o, dns_rr_data(a, i) + j, chunk);
			*o += chunk;
		}
		if (a->type != DNS_T_TXT) {
			memcpy(r + *o, dns_rr_data(a, i), len);
			*o += len;
		}
		n++;
	}
	return n;
}

/* Answer question Q (N bytes) from the zone into R; returns the length. */
static size_t
server_answer(server_t *s, const unsigned char *q, size_t n, unsigned char *r, size_t size)
{
	char	name[DNS_NAME_MAX + 1];
	size_t	o = 12, w = 0;
	dns_answer_t *a;
	unsigned cnt;

	while (o < n && q[o] && w + q[o] + 1 < sizeof(name)) {
		if (w)
			name[w++] = '.';
		memcpy(name + w, q + o + 1, q[o]);
		w += q[o];
		o += q[o] + 1u;
	}
	name[w] = 0;
	if ((o += 5) > n)
		return 0;
	memcpy(r, q, o);
	r[2] = 0x85;		/* QR AA RD */
	r[3] = 0x00;
	memset(r + 6, 0, 6);
	a = dns_lookup(s->zone, name, q[o - 4] << 8 | q[o - 3], dns_now_ms(s->zone) + 1000);
	if (a == NULL || a->status == DNS_NXDOMAIN)
		r[3] = 3;
	else if ((cnt = server_records(a, r, &o, size)) > 0)
		r[7] = (unsigned char)cnt;
	dns_answer_free(a);
	return o;
}

static void *
server_main(void *arg)
{
	server_t *s = arg;
	unsigned char q[512], r[1232];
	struct sockaddr_storage from;
	struct pollfd p[2] = {{s->fd, POLLIN, 0}, {s->stop[0], POLLIN, 0}};
	socklen_t flen;
	ssize_t	n;
	size_t	rl;

	while (poll(p, 2, -1) > 0 && !(p[1].revents & POLLIN)) {
		flen = sizeof(from);
		n = recvfrom(s->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
		if (n > 12 && (rl = server_answer(s, q, (size_t)n, r, sizeof(r))) > 0)
			sendto(s->fd, r, rl, 0, (struct sockaddr *)&from, flen);
	}
	return NULL;
}

/* Publish the chain and start serving it. */
static int
server_start(server_t *s)
{
	static const char *const zone[][2] = {
		{"example.test", "v=spf1 include:l1.example.test -all"},
		{"l1.example.test", "v=spf1 include:l2.example.test -all"},
		{"l2.example.test", "v=spf1 ip4:192.0.2.0/24 -all"},
	};
	dns_opts_t opts = {.zone_mode = 1};
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	pthread_t thr;
	char	err[128];
	size_t	i;

	if ((s->zone = dns_create(&opts, err, sizeof(err))) == NULL)
		return -1;
	for (i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
		dns_zone_add(s->zone, zone[i][0], DNS_T_TXT, 300, zone[i][1],
		    strlen(zone[i][1]), 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s->fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0
	    || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0
	    || getsockname(s->fd, (struct sockaddr *)&sa, &len) < 0 || pipe(s->stop) < 0)
		return -1;
	s->port = ntohs(sa.sin_port);
	if (pthread_create(&thr, NULL, server_main, s) != 0)
		return -1;
	pthread_detach(thr);
	return 0;
}

/* Run checks for SECONDS with cache CACHE on; print the figures. */
static int
bench_run(const char *label, unsigned short port, const char *cache, double seconds)
{
	char	item[64], err[256];
	config_t *cfg = config_load(NULL, 1, stderr);
	spf_check_t c;
	unsigned long n = 0, queries = 0;
	long	start, now;
	spf_t  *spf;
	addr_t	a;

	snprintf(item, sizeof(item), "127.0.0.1:%u", port);
	if (cfg == NULL || config_set(cfg, "dns_servers", item, stderr) < 0
	    || config_set(cfg, "dns_cache_size", cache, stderr) < 0
	    || (spf = spf_create(cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench_spf: cannot start: %s\n", err);
		return -1;
	}
	addr_parse("192.0.2.1", &a);
	spf_check_mailfrom(spf, &a, "mail.example.test", "user@example.test", &c);
	start = now = dns_now_ms(spf_dns(spf));
	while (now - start < (long)(seconds * 1000)) {
		for (int i = 0; i < 100; i++, n++) {
			spf_check_mailfrom(spf, &a, "mail.example.test", "user@example.test", &c);
			queries += c.queries;
			if (c.result != SPF_RES_PASS) {
				fprintf(stderr, "bench_spf: got %s (%s), want pass\n",
				    spf_result_name(c.result), c.reason);
				return -1;
			}
		}
		now = dns_now_ms(spf_dns(spf));
	}
	printf("%-34s %10.0f checks/s  %5.2f DNS queries/check  (%lu checks)\n", label,
	    n * 1000.0 / (double)(now - start), (double)queries / (double)n, n);
	spf_free(spf);
	config_free(cfg);
	return 0;
}

int
main(int argc, char **argv)
{
	double	seconds = argc > 1 ? atof(argv[1]) : 2.0;
	server_t s = {0};

	if (server_start(&s) < 0) {
		perror("bench_spf: server");
		return 1;
	}
	printf("SPF, one thread, 3-level include chain, loopback UDP server:\n");
	if (bench_run("cold (resolver cache off)", s.port, "0", seconds) < 0
	    || bench_run("cached (resolver cache on)", s.port, "1000", seconds) < 0)
		return 1;
	return 0;
}
