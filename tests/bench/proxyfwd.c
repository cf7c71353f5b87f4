/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	proxyfwd - TCP forwarder that adds a PROXY v1 header with a chosen address
 * SYNOPSIS
 *	proxyfwd -u PORT -a FIRST[-LAST] [-l PORT] [-d ADDR] [-p PIDFILE]
 * DESCRIPTION
 *	Accepts TCP connections on 127.0.0.1:PORT (-l; 0, the default, picks
 *	a free port), connects each to 127.0.0.1:PORT (-u: a Postfix smtpd
 *	with smtpd_upstream_proxy_protocol = haproxy), writes
 *	"PROXY TCP4 SRC DST SPORT 25\r\n" and then relays bytes both ways
 *	until both sides have closed. SRC cycles over the IPv4 range -a, one
 *	address per connection; DST is -d (default 192.0.2.25); SPORT is the
 *	client's own port. Thus a client that cannot send a PROXY header
 *	(smtp-source) reaches Postfix from non-loopback addresses: libspf2
 *	answers "pass" for 127/8 clients without a DNS query.
 *
 *	One thread per connection, TCP_NODELAY on both sockets so relaying
 *	adds no Nagle wait. Prints "port N" on stdout once listening.
 * DIAGNOSTICS
 *	Exits 2 on bad arguments, 1 when it cannot listen; a connection whose
 *	upstream cannot be reached is closed and reported on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#define FWD_BUFSIZE	16384

typedef struct {
	int	client;			/* accepted socket */
	struct in_addr src;		/* address to announce */
	unsigned sport;			/* client's port */
} fwd_conn_t;

static unsigned short fwd_upstream;
static struct in_addr fwd_dst;

/* fwd_socket_to - a TCP socket connected to 127.0.0.1:port, or -1 */
static int
fwd_socket_to(unsigned short port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int	fd, one = 1;

	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* fwd_write_all - write the whole buffer; 0 or -1 */
static int
fwd_write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fwd_relay - copy both ways until both directions reach end of file */
static void
fwd_relay(int a, int b)
{
	struct pollfd pfd[2] = { { .fd = a, .events = POLLIN },
	    { .fd = b, .events = POLLIN } };
	char	buf[FWD_BUFSIZE];
	int	open_dirs = 2, i;
	ssize_t	n;

	while (open_dirs > 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return;			/* reset: drop both */
			if (n == 0 || fwd_write_all(i ? a : b, buf, (size_t)n) < 0) {
				shutdown(i ? a : b, SHUT_WR);	/* pass the FIN on */
				pfd[i].fd = -1;
				open_dirs--;
			}
		}
	}
}

/* fwd_serve - thread body: connect upstream, send the header, relay */
static void *
fwd_serve(void *arg)
{
	fwd_conn_t *c = arg;
	char	hdr[128], src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	int	up, len;

	if ((up = fwd_socket_to(fwd_upstream)) < 0) {
		fprintf(stderr, "proxyfwd: connect 127.0.0.1:%u: %s\n",
		    fwd_upstream, strerror(errno));
		goto done;
	}
	inet_ntop(AF_INET, &c->src, src, sizeof(src));
	inet_ntop(AF_INET, &fwd_dst, dst, sizeof(dst));
	len = snprintf(hdr, sizeof(hdr), "PROXY TCP4 %s %s %u 25\r\n",
	    src, dst, c->sport);
	if (fwd_write_all(up, hdr, (size_t)len) == 0)
		fwd_relay(c->client, up);
	close(up);
done:
	close(c->client);
	free(c);
	return NULL;
}

/* fwd_listen - listening socket on 127.0.0.1:*port (0: any), or -1 */
static int
fwd_listen(unsigned short *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	int	fd, one = 1;

	sin.sin_port = htons(*port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0
	    || listen(fd, 1024) < 0
	    || getsockname(fd, (struct sockaddr *)&sin, &slen) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* fwd_parse_range - "A[-B]" into host-order first and count; 0 or -1 */
static int
fwd_parse_range(char *arg, uint32_t *first, uint32_t *count)
{
	struct in_addr a, b;
	char   *dash = strchr(arg, '-');

	if (dash)
		*dash++ = 0;
	if (inet_pton(AF_INET, arg, &a) != 1
	    || inet_pton(AF_INET, dash ? dash : arg, &b) != 1
	    || ntohl(b.s_addr) < ntohl(a.s_addr))
		return -1;
	*first = ntohl(a.s_addr);
	*count = ntohl(b.s_addr) - *first + 1;
	return 0;
}

/* fwd_accept_loop - accept forever, one detached thread per connection */
static void
fwd_accept_loop(int lfd, uint32_t first, uint32_t count)
{
	struct sockaddr_in peer;
	socklen_t plen;
	pthread_attr_t attr;
	pthread_t tid;
	fwd_conn_t *c;
	uint32_t next = 0;
	int	fd, one = 1;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (;;) {
		plen = sizeof(peer);
		if ((fd = accept4(lfd, (struct sockaddr *)&peer, &plen,
		    SOCK_CLOEXEC)) < 0)
			continue;			/* EINTR, EMFILE, ... */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((c = malloc(sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->client = fd;
		c->src.s_addr = htonl(first + next++ % count);
		c->sport = ntohs(peer.sin_port);
		if (pthread_create(&tid, &attr, fwd_serve, c) != 0) {
			close(fd);
			free(c);
		}
	}
}

int
main(int argc, char **argv)
{
	unsigned short lport = 0;
	uint32_t first = 0, count = 0;
	const char *pidfile = NULL;
	FILE   *fp;
	int	ch, lfd;

	inet_pton(AF_INET, "192.0.2.25", &fwd_dst);
	while ((ch = getopt(argc, argv, "a:d:l:p:u:")) != -1) {
		switch (ch) {
		case 'a':
			if (fwd_parse_range(optarg, &first, &count) < 0)
				goto usage;
			break;
		case 'd':
			if (inet_pton(AF_INET, optarg, &fwd_dst) != 1)
				goto usage;
			break;
		case 'l':
			lport = (unsigned short)atoi(optarg);
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'u':
			fwd_upstream = (unsigned short)atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (count == 0 || fwd_upstream == 0 || optind != argc)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = fwd_listen(&lport)) < 0) {
		fprintf(stderr, "proxyfwd: listen 127.0.0.1:%u: %s\n", lport,
		    strerror(errno));
		return 1;
	}
	if (pidfile && (fp = fopen(pidfile, "w")) != NULL) {
		fprintf(fp, "%ld\n", (long)getpid());
		fclose(fp);
	}
	printf("port %u\n", lport);
	fflush(stdout);
	fwd_accept_loop(lfd, first, count);
	return 0;
usage:
	fprintf(stderr, "usage: proxyfwd -u PORT -a FIRST[-LAST] [-l PORT]"
	    " [-d ADDR] [-p PIDFILE]\n");
	return 2;
}
