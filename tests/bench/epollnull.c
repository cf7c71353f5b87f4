/*
 * NAME
 *	epollnull - nullmilter's behaviour without libmilter, on one epoll thread
 * SYNOPSIS
 *	epollnull -s inet:PORT@HOST [-p PIDFILE]
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
#include <unistd.h>
#include <libmilter/mfapi.h>	/* constants only: no libmilter code is linked */
#include <libmilter/mfdef.h>

#define EN_PACKET_MAX	(65535 + 5)	/* the MTA sends chunks of at most 64 KiB */
#define EN_EVENTS	256

typedef struct {
	int	fd;
	size_t	len;
	unsigned char buf[2 * EN_PACKET_MAX];
} en_conn_t;

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

/* en_read - take what arrived and answer every whole packet; -1 to close */
static int
en_read(en_conn_t *c)
{
	ssize_t	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	size_t	off = 0;
	uint32_t len;

	if (n <= 0)
		return n < 0 && errno == EAGAIN ? 0 : -1;
	c->len += (size_t) n;
	while (c->len - off >= 4) {
		memcpy(&len, c->buf + off, 4);
		len = ntohl(len);
		if (len == 0 || len > EN_PACKET_MAX)
			return -1;
		if (c->len - off < 4 + (size_t) len)
			break;
		if (en_packet(c->fd, c->buf[off + 4]) < 0)
			return -1;
		off += 4 + len;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	return 0;
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
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 1024) < 0) {
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

	while ((opt = getopt(argc, argv, "s:p:")) != -1) {
		if (opt == 's')
			spec = optarg;
		else if (opt == 'p')
			pidfile = optarg;
		else
			break;
	}
	if (spec == NULL || opt != -1 || optind != argc) {
		fprintf(stderr, "usage: epollnull -s inet:PORT@HOST [-p PIDFILE]\n");
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
		if ((n = epoll_wait(ep, evs, EN_EVENTS, -1)) < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < n; i++) {
			en_conn_t *c = evs[i].data.ptr;

			if (c == NULL) {
				en_accept(ep, lfd);
			} else if (en_read(c) < 0) {
				close(c->fd);	/* also leaves the epoll set */
				free(c);
			}
		}
	}
}
