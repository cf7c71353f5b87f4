/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	dns_net - DNS questions on the wire: encode, UDP and TCP
 * DESCRIPTION
 *	See dns_int.h; answers are decoded by dns_wire.c. Questions carry
 *	an EDNS0 OPT record (1232 bytes);
 *	a truncated UDP answer is asked again over TCP, a FORMERR answer
 *	again without EDNS (servers that do not know it). Answers are
 *	checked against the question (id, source, name, type) before use:
 *	anything else on the socket is ignored. Every wait is a poll()
 *	bounded by the caller's deadline on the resolver's clock (dns_now_ms(),
 *	here because every wait reads it).
 *
 *	A socket that cannot be had (descriptors or memory exhausted) or a
 *	question that cannot be sent ends the lookup at once as a temporary
 *	failure that is not cached: retrying would only spin until the
 *	deadline. The UDP wait doubles per round up to DNS_TRY_MAX_MS.
 * DIAGNOSTICS
 *	Failures become DNS_TEMPFAIL answers. "dns: cannot open a socket
 *	...: lookups fail as temporary errors" is logged at most once a
 *	minute, with the number of lookups failed since the last line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "dns_int.h"
#include "log.h"
#include "log_limit.h"

#define DNS_UDP_MAX	4096

/* Parse "ADDR", "ADDR:PORT" or "[ADDR]:PORT" into S. */
static int
server_parse(const char *item, dns_server_t *s)
{
	char	host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL, *p;
	size_t	hlen;
	long	pn = 53;
	char   *end;

	if (item[0] == '[') {
		if ((p = strchr(item, ']')) == NULL || (p[1] && p[1] != ':'))
			return -1;
		hlen = (size_t)(p - item - 1);
		item++;
		port = p[1] ? p + 2 : NULL;
	} else if ((p = strchr(item, ':')) != NULL && strchr(p + 1, ':') == NULL) {
		hlen = (size_t)(p - item);
		port = p + 1;
	} else
		hlen = strcspn(item, "%");	/* resolv.conf scope ids */
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, item, hlen);
	host[hlen] = 0;
	if (port) {
		pn = strtol(port, &end, 10);
		if (*port == 0 || *end || pn < 1 || pn > 65535)
			return -1;
	}
	memset(s, 0, sizeof(*s));
	struct sockaddr_in *v4 = (struct sockaddr_in *)&s->sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&s->sa;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((unsigned short)pn);
		s->salen = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((unsigned short)pn);
		s->salen = sizeof(*v6);
	} else
		return -1;
	return 0;
}

/* Read the nameserver lines of /etc/resolv.conf into L. */
static void
servers_from_resolv(strlist_t *l)
{
	FILE   *fp;
	char	line[512], word[64], addr[128];

	if ((fp = fopen("/etc/resolv.conf", "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "%63s %127s", word, addr) == 2
		    && strcmp(word, "nameserver") == 0)
			(void)strlist_add(l, addr, strlen(addr));
	fclose(fp);
}

int
dns_net_servers(const strlist_t *list, dns_server_t **out, size_t *n,
    char *err, size_t errlen)
{
	strlist_t rc = {0};
	const strlist_t *use = list;
	dns_server_t *s;
	size_t	i;

	if (list == NULL || list->n == 0) {
		servers_from_resolv(&rc);
		if (rc.n == 0)
			(void)strlist_add(&rc, "127.0.0.1", 9);
		use = &rc;
	}
	if ((s = calloc(use->n, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < use->n; i++)
		if (server_parse(use->items[i], &s[i]) < 0) {
			snprintf(err, errlen, "bad name server address: %s",
			    use->items[i]);
			free(s);
			goto fail;
		}
	*out = s;
	*n = use->n;
	strlist_clear(&rc);
	return 0;
fail:
	strlist_clear(&rc);
	return -1;
}

int
dns_name_ok(const char *name)
{
	size_t	len = strlen(name), lab = 0;
	const unsigned char *p;

	if (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (p = (const unsigned char *)name; p < (const unsigned char *)name + len; p++) {
		if (*p == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
		} else if (*p < ' ' || *p >= 0x7f || ++lab > 63)
			return 0;
	}
	return lab > 0;
}

/* Encode a question for NAME/TYPE with id ID; returns its length or -1. */
static int
wire_query(unsigned char *buf, size_t size, unsigned id, const char *name, int type)
{
	static const unsigned char opt[11] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
	size_t	o = 12, ll;
	const char *p = name;

	memset(buf, 0, 12);
	buf[0] = (unsigned char)(id >> 8);
	buf[1] = (unsigned char)id;
	buf[2] = 0x01;			/* RD */
	buf[5] = 1;			/* QDCOUNT */
	buf[11] = 1;			/* ARCOUNT: OPT */
	while (*p) {
		ll = strcspn(p, ".");
		if (ll == 0 || ll > 63 || o + ll + 1 + 5 + sizeof(opt) > size)
			return -1;
		buf[o++] = (unsigned char)ll;
		memcpy(buf + o, p, ll);
		o += ll;
		p += ll;
		if (*p == '.')
			p++;
	}
	buf[o++] = 0;
	buf[o++] = (unsigned char)(type >> 8);
	buf[o++] = (unsigned char)type;
	buf[o++] = 0;
	buf[o++] = 1;			/* IN */
	memcpy(buf + o, opt, sizeof(opt));
	return (int)(o + sizeof(opt));
}

/* Wait until FD is ready for EVENTS or UNTIL passes; 1 ready, 0 not. */
static int
wait_fd(int fd, short events, long until, const dns_t *dns)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	long	now;
	int	rc;

	for (;;) {
		if ((now = dns_now_ms(dns)) >= until)
			return 0;
		rc = poll(&pfd, 1, (int)(until - now));
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return 0;
	}
}

/* One UDP exchange with S until UNTIL. */
static dns_answer_t *
udp_try(const dns_server_t *s, const unsigned char *q, size_t qlen, unsigned id,
    const char *name, int type, long until, const dns_t *dns, int *tc, int *local)
{
	unsigned char buf[DNS_UDP_MAX];
	dns_answer_t *ans = NULL;
	ssize_t	n;
	int	fd;

	fd = socket(s->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*local = errno ? errno : EMFILE;
		return NULL;
	}
	if (connect(fd, (const struct sockaddr *)&s->sa, s->salen) < 0
	    || send(fd, q, qlen, 0) != (ssize_t)qlen) {
		*local = -(errno ? errno : EIO);	/* not sent: no wait either */
		goto done;
	}
	while (ans == NULL && !*tc && wait_fd(fd, POLLIN, until, dns)) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			/* ICMP port unreachable: nobody there, like REFUSED */
			ans = dns_answer_pack(DNS_TEMPFAIL, type, DNS_TTL_UNKNOWN, NULL, 0);
			break;
		}
		if (n > 0)
			ans = dns_wire_parse(buf, (size_t)n, id, name, type, tc);
	}
done:
	close(fd);
	return ans;
}

/* Move LEN bytes over the TCP socket FD in direction WRITE, by UNTIL. */
static int
tcp_io(int fd, unsigned char *buf, size_t len, int write, long until, const dns_t *dns)
{
	size_t	done = 0;
	ssize_t	n;

	while (done < len) {
		if (!wait_fd(fd, write ? POLLOUT : POLLIN, until, dns))
			return -1;
		n = write ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
		    : recv(fd, buf + done, len - done, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return -1;
		if (n > 0)
			done += (size_t)n;
	}
	return 0;
}

/* One TCP exchange with S until UNTIL. */
static dns_answer_t *
tcp_try(const dns_server_t *s, const unsigned char *q, size_t qlen, unsigned id,
    const char *name, int type, long until, const dns_t *dns, int *local)
{
	unsigned char hdr[2], *out = NULL, *in = NULL;
	dns_answer_t *ans = NULL;
	size_t	rlen;
	int	fd, tc = 0;

	fd = socket(s->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*local = errno ? errno : EMFILE;
		return NULL;
	}
	if (connect(fd, (const struct sockaddr *)&s->sa, s->salen) < 0
	    && errno != EINPROGRESS)
		goto done;
	if ((out = malloc(qlen + 2)) == NULL)
		goto done;
	out[0] = (unsigned char)(qlen >> 8);
	out[1] = (unsigned char)qlen;
	memcpy(out + 2, q, qlen);
	if (tcp_io(fd, out, qlen + 2, 1, until, dns) < 0
	    || tcp_io(fd, hdr, 2, 0, until, dns) < 0)
		goto done;
	rlen = (size_t)(hdr[0] << 8 | hdr[1]);
	if ((in = malloc(rlen + 1)) == NULL || tcp_io(fd, in, rlen, 0, until, dns) < 0)
		goto done;
	ans = dns_wire_parse(in, rlen, id, name, type, &tc);
done:
	free(out);
	free(in);
	close(fd);
	return ans;
}

/*
 * Ask server S: UDP, TCP when truncated, once more without EDNS on
 * FORMERR. *LOCAL: errno when no socket could be had, -errno when the
 * question could not be sent, else left alone.
 */
static dns_answer_t *
server_ask(const dns_server_t *s, const unsigned char *q, size_t qlen, unsigned id,
    const char *name, int type, long until, long deadline_ms, const dns_t *dns,
    int *local)
{
	unsigned char plain[DNS_NAME_MAX + 64];
	dns_answer_t *ans;
	int	tc = 0;

	ans = udp_try(s, q, qlen, id, name, type, until, dns, &tc, local);
	if (tc == 2 && q[11] == 1) {
		memcpy(plain, q, qlen - 11);	/* drop the OPT record */
		plain[11] = 0;
		return server_ask(s, plain, qlen - 11, id, name, type, until,
		    deadline_ms, dns, local);
	}
	if (tc == 1)
		ans = tcp_try(s, q, qlen, id, name, type, deadline_ms, dns, local);
	else if (tc == 2)
		ans = dns_answer_pack(DNS_TEMPFAIL, type, DNS_TTL_UNKNOWN, NULL, 0);
	return ans;
}

/* No socket for a lookup: say so (once a minute); a TEMPFAIL not cached. */
static dns_answer_t *
dns_net_nosocket(int type, int err)
{
	static log_limit_t lim = LOG_LIMIT_INIT;
	unsigned long more;

	if (log_limit_due(&lim, LOG_LIMIT_INTERVAL, &more))
		log_warning("dns: cannot open a socket (%s): lookups fail as temporary"
		    " errors (%lu more since the last report)", strerror(err), more);
	return dns_answer_pack(DNS_TEMPFAIL, type, 0, NULL, 0);
}

/* Sleep until UNTIL on the resolver's clock (a few polls at most). */
static void
dns_net_pause(long until, const dns_t *dns)
{
	long	now;
	int	i;

	for (i = 0; i < 4 && (now = dns_now_ms(dns)) < until; i++)
		(void)poll(NULL, 0, (int)(until - now));
}

typedef struct {
	dns_answer_t *last;	/* the last SERVFAIL/REFUSED answer */
	size_t	answered, unsent;
	int	nosock;		/* errno: no socket could be had */
} dns_round_t;

/* Ask every server once, waiting up to TRY_MS each; a final answer or NULL. */
static dns_answer_t *
dns_net_round(const dns_server_t *srv, size_t nsrv, const unsigned char *q,
    size_t qlen, unsigned id, const char *name, int type, long try_ms,
    long deadline_ms, const dns_t *dns, dns_round_t *r)
{
	dns_answer_t *ans;
	long	now;
	int	local;
	size_t	i;

	r->answered = r->unsent = 0;
	for (i = 0; i < nsrv && (now = dns_now_ms(dns)) < deadline_ms; i++) {
		local = 0;
		ans = server_ask(&srv[i], q, qlen, id, name, type,
		    now + try_ms < deadline_ms ? now + try_ms : deadline_ms,
		    deadline_ms, dns, &local);
		if (ans == NULL && local > 0) {
			r->nosock = local;
			return NULL;
		}
		r->unsent += ans == NULL && local < 0;
		if (ans && ans->status != DNS_TEMPFAIL)
			return ans;
		if (ans) {
			r->answered++;
			dns_answer_free(r->last);
			r->last = ans;
		}
	}
	return NULL;
}

dns_answer_t *
dns_net_query(const dns_server_t *srv, size_t nsrv, const char *name, int type,
    long deadline_ms, const dns_t *dns)
{
	unsigned char q[DNS_NAME_MAX + 64];
	dns_answer_t *ans;
	dns_round_t r = {0};
	long	try_ms = DNS_TRY_MS, start = dns_now_ms(dns), round_end;
	unsigned id = arc4random() & 0xffff;
	int	qlen;

	if ((qlen = wire_query(q, sizeof(q), id, name, type)) < 0)
		return dns_answer_pack(DNS_NXDOMAIN, type, DNS_TTL_UNKNOWN, NULL, 0);
	while ((round_end = dns_now_ms(dns)) < deadline_ms) {
		round_end += try_ms;
		ans = dns_net_round(srv, nsrv, q, (size_t)qlen, id, name, type, try_ms,
		    deadline_ms, dns, &r);
		if (ans != NULL || r.nosock) {
			dns_answer_free(r.last);
			return ans ? ans : dns_net_nosocket(type, r.nosock);
		}
		if (r.answered == nsrv)
			break;		/* every server said SERVFAIL or REFUSED */
		if (r.unsent == nsrv)	/* nothing could be sent: do not spin */
			return dns_answer_pack(DNS_TEMPFAIL, type, 0, NULL, 0);
		/* A round that failed fast (TCP refused after truncation) waits
		 * out its time: one round per try, never a busy loop. */
		dns_net_pause(round_end < deadline_ms ? round_end : deadline_ms, dns);
		if (try_ms < DNS_TRY_MAX_MS)
			try_ms *= 2;
	}
	if (r.last)
		return r.last;
	/* A timeout is cached only when it outlasted one full try. */
	return dns_answer_pack(DNS_TEMPFAIL, type,
	    dns_now_ms(dns) - start >= DNS_TRY_MS ? DNS_TTL_UNKNOWN : 0, NULL, 0);
}

long
dns_now_ms(const dns_t *dns)
{
	struct timespec ts;

	if (dns && dns->opts.clock)
		return dns->opts.clock(dns->opts.clock_ctx);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}
