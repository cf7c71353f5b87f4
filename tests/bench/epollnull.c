/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	epollnull - nullmilter's behaviour without libmilter, on one epoll thread
 * SYNOPSIS
 *	epollnull -s inet:PORT@HOST [-p PIDFILE] [-r MS]
 * DESCRIPTION
 *	A yardstick, not a milter to deploy: it answers the milter protocol
 *	exactly as tests/bench/nullmilter does (every event offered, continue
 *	on everything, one added header then continue at end of message) but
 *	serves every session from one thread with epoll(7) instead of
 *	libmilter's controller and worker threads. milterload against both
 *	shows how much of a session's cost is libmilter's engine rather than
 *	the protocol itself (bench-milterload.sh prints both).
 *
 *	Packets are parsed from a per-connection buffer; several packets read
 *	at once are answered in order. Replies are a few bytes on a socket
 *	with TCP_NODELAY (inherited from the listener), written with one
 *	write(2) each; a connection whose reply cannot be written at once is
 *	closed, as is one sending a packet longer than the buffer.
 *
 *	-r MS holds every RCPT reply for MS ms (as nullmilter -r does, but
 *	without progress packets): the yardstick for bursts of sessions held
 *	at RCPT (bench-burst.sh). The listen backlog is SOMAXCONN, as
 *	libmilter's.
 * DIAGNOSTICS
 *	Exits 1 when the socket cannot be opened, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <libmilter/mfapi.h>	/* constants only: no libmilter code is linked */
#include <libmilter/mfdef.h>

#define EN_PACKET_MAX	(65535 + 5)	/* the MTA sends chunks of at most 64 KiB */
#define EN_EVENTS	256

typedef struct {
	int	fd;
	size_t	len;
	long long due;		/* RCPT reply held until then (ms), 0: none */
	unsigned char buf[2 * EN_PACKET_MAX];
} en_conn_t;

static long en_hold_ms;		/* -r */
static en_conn_t **en_held;	/* connections whose RCPT reply is held */
static size_t en_nheld, en_capheld;

/* en_now_ms - monotonic milliseconds */
static long long
en_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* en_hold - hold C's RCPT reply for en_hold_ms; -1 without memory */
static int
en_hold(en_conn_t *c)
{
	en_conn_t **h;

	if (en_nheld == en_capheld) {
		en_capheld = en_capheld ? 2 * en_capheld : 1024;
		if ((h = realloc(en_held, en_capheld * sizeof(*h))) == NULL)
			return -1;
		en_held = h;
	}
	c->due = en_now_ms() + en_hold_ms;
	en_held[en_nheld++] = c;
	return 0;
}

/* en_reply - write one packet; -1 when it cannot go out whole at once */
static int
en_reply(int fd, char cmd, const void *data, uint32_t n)
{
	unsigned char out[64];
	uint32_t len = htonl(n + 1);

	memcpy(out, &len, 4);
	out[4] = (unsigned char) cmd;
	if (n > 0)
		memcpy(out + 5, data, n);
	return write(fd, out, 5 + n) == (ssize_t) (5 + n) ? 0 : -1;
}

/* en_packet - answer one command; -1 to close the connection */
static int
en_packet(int fd, unsigned char cmd)
{
	static const char header[] = "X-Null-Milter\0yes";
	uint32_t optneg[3] = {htonl(SMFI_PROT_VERSION), htonl(SMFIF_ADDHDRS), 0};

	switch (cmd) {
	case SMFIC_OPTNEG:
		return en_reply(fd, SMFIC_OPTNEG, optneg, sizeof(optneg));
	case SMFIC_MACRO:
	case SMFIC_ABORT:
		return 0;
	case SMFIC_QUIT:
		return -1;
	case SMFIC_BODYEOB:
		if (en_reply(fd, SMFIR_ADDHEADER, header, sizeof(header)) < 0)
			return -1;
		/* FALLTHROUGH */
	default:
		return en_reply(fd, SMFIR_CONTINUE, NULL, 0);
	}
}

static int en_parse(en_conn_t *c);

/* en_read - take what arrived and answer every whole packet; -1 to close */
static int
en_read(en_conn_t *c)
{
	ssize_t	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);

	if (n <= 0)
		return n < 0 && errno == EAGAIN ? 0 : -1;
	c->len += (size_t) n;
	return c->due ? 0 : en_parse(c);
}

/* en_parse - answer every whole packet buffered (up to a held RCPT) */
static int
en_parse(en_conn_t *c)
{
	size_t	off = 0;
	uint32_t len;
	int	rc = 0;

	while (rc == 0 && c->len - off >= 4) {
		memcpy(&len, c->buf + off, 4);
		len = ntohl(len);
		if (len == 0 || len > EN_PACKET_MAX)
			return -1;
		if (c->len - off < 4 + (size_t) len)
			break;
		if (en_hold_ms > 0 && c->buf[off + 4] == SMFIC_RCPT)
			rc = en_hold(c) < 0 ? -1 : 1;	/* answered later */
		else if (en_packet(c->fd, c->buf[off + 4]) < 0)
			return -1;
		off += 4 + len;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	return rc < 0 ? -1 : 0;
}

/* en_release - send the held RCPT replies that are due; the next wait */
static int
en_release(void)
{
	long long now = en_now_ms(), wait = -1;
	en_conn_t *c;

	for (size_t i = 0; i < en_nheld;) {
		c = en_held[i];
		if (c->due > now) {
			if (wait < 0 || c->due - now < wait)
				wait = c->due - now;
			i++;
			continue;
		}
		en_held[i] = en_held[--en_nheld];
		c->due = 0;
		if (en_packet(c->fd, SMFIC_RCPT) < 0 || en_parse(c) < 0)
			shutdown(c->fd, SHUT_RDWR);	/* epoll reports it, then it is freed */
	}
	return (int) wait;
}

/* en_forget - a connection closes: no held reply for it any more */
static void
en_forget(en_conn_t *c)
{
	for (size_t i = 0; c->due && i < en_nheld; i++)
		if (en_held[i] == c) {
			en_held[i] = en_held[--en_nheld];
			return;
		}
}

/* en_listen - a non-blocking TCP listener for inet:PORT@HOST */
static int
en_listen(const char *spec)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	const char *at = strchr(spec, '@');
	int	fd, on = 1;

	if (strncmp(spec, "inet:", 5) != 0 || at == NULL
	    || inet_pton(AF_INET, at + 1, &sa.sin_addr) != 1)
		return -1;
	sa.sin_port = htons((uint16_t) atoi(spec + 5));
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, SOMAXCONN) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* en_accept - add every pending connection to the epoll set */
static void
en_accept(int ep, int lfd)
{
	struct epoll_event ev = {.events = EPOLLIN};
	en_conn_t *c;
	int	fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
		}
	}
}

int
main(int argc, char **argv)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, evs[EN_EVENTS];
	const char *spec = NULL, *pidfile = NULL;
	int	opt, lfd, ep, n;
	FILE   *fp;

	while ((opt = getopt(argc, argv, "s:p:r:")) != -1) {
		if (opt == 's')
			spec = optarg;
		else if (opt == 'p')
			pidfile = optarg;
		else if (opt == 'r')
			en_hold_ms = atol(optarg);
		else
			break;
	}
	if (spec == NULL || opt != -1 || optind != argc || en_hold_ms < 0) {
		fprintf(stderr, "usage: epollnull -s inet:PORT@HOST [-p PIDFILE] [-r MS]\n");
		return 2;
	}
	if ((lfd = en_listen(spec)) < 0 || (ep = epoll_create1(EPOLL_CLOEXEC)) < 0
	    || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		fprintf(stderr, "epollnull: cannot open %s\n", spec);
		return 1;
	}
	if (pidfile != NULL && (fp = fopen(pidfile, "w")) != NULL) {
		fprintf(fp, "%ld\n", (long) getpid());
		fclose(fp);
	}
	for (;;) {
		if ((n = epoll_wait(ep, evs, EN_EVENTS, en_release())) < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < n; i++) {
			en_conn_t *c = evs[i].data.ptr;

			if (c == NULL) {
				en_accept(ep, lfd);
			} else if (en_read(c) < 0) {
				en_forget(c);
				close(c->fd);	/* also leaves the epoll set */
				free(c);
			}
		}
	}
}
