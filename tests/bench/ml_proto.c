/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ml_proto.c - milter packets on the MTA side, as Postfix 3.7 sends them
 * DESCRIPTION
 *	A packet is a 32-bit length in network order (command byte
 *	included), the command byte, then the data. Like Postfix's VSTREAM,
 *	commands are buffered and written in one go just before a reply is
 *	awaited (a macro packet and its event travel together; headers with
 *	no reply pile up), and at DATA, where smtpd passes the connection
 *	on to cleanup (ml_session.c).
 *
 *	ml_negotiate_put() queues SMFIC_OPTNEG with version 6, every action
 *	and every protocol flag of version 6; ml_negotiate_parse() checks
 *	the milter's answer and keeps the macro lists of setsymlist.
 * DIAGNOSTICS
 *	Functions return 0 (or 1 for a packet), -1 on a system error,
 *	-3 on a protocol error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/un.h>

#include "ml.h"

/* ml_conn_open - connect to the milter, blocking */
int
ml_conn_open(ml_conn_t *c, const ml_opts_t *o)
{
	socklen_t len = sizeof(c->local);
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->fd = socket(o->milter_sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	if (connect(c->fd, (const struct sockaddr *)&o->milter_sa,
	    o->milter_salen) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->inet = o->milter_sa.ss_family == AF_INET;
	if (c->inet) {
		if (o->nodelay)
			setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
		getsockname(c->fd, (struct sockaddr *)&c->local, &len);
		len = sizeof(c->peer);
		getpeername(c->fd, (struct sockaddr *)&c->peer, &len);
	}
	return 0;
}

/* ml_conn_close - close the milter connection and free buffers */
void
ml_conn_close(ml_conn_t *c)
{
	int i;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	for (i = 0; i < ML_M_COUNT; i++) {
		free(c->macros[i]);
		c->macros[i] = NULL;
	}
	free(c->out);
	free(c->in);
	free(c->rbuf);
	c->out = c->in = c->rbuf = NULL;
	c->outlen = c->outcap = c->incap = 0;
	c->roff = c->rlen = c->rcap = 0;
}

/* ml_reserve - make room for n more output bytes */
static void
ml_reserve(ml_conn_t *c, size_t n)
{
	size_t cap = c->outcap ? c->outcap : 4096;

	if (c->outlen + n <= c->outcap)
		return;
	while (cap < c->outlen + n)
		cap *= 2;
	c->out = realloc(c->out, cap);
	if (c->out == NULL)
		abort();		/* a test tool: out of memory is fatal */
	c->outcap = cap;
}

/* ml_put_cmd - append one packet to the output buffer */
void
ml_put_cmd(ml_conn_t *c, int cmd, const void *data, size_t len)
{
	uint32_t n = htonl((uint32_t)len + 1);

	ml_reserve(c, len + 5);
	memcpy(c->out + c->outlen, &n, 4);
	c->out[c->outlen + 4] = (unsigned char)cmd;
	if (len)
		memcpy(c->out + c->outlen + 5, data, len);
	c->outlen += len + 5;
}

/* ml_flush - write the buffered packets */
int
ml_flush(ml_conn_t *c)
{
	size_t off = 0;
	ssize_t n;

	while (off < c->outlen) {
		n = send(c->fd, c->out + off, c->outlen - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	c->outlen = 0;
	return 0;
}

/* ml_fill - receive what is there without blocking: >0, 0 (nothing), -1 */
static int
ml_fill(ml_conn_t *c)
{
	ssize_t n;

	if (c->roff > 0 && c->roff == c->rlen)
		c->roff = c->rlen = 0;
	if (c->rcap - c->rlen < 4096) {
		if (c->roff > 0) {
			memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
			c->rlen -= c->roff;
			c->roff = 0;
		}
		if (c->rcap - c->rlen < 4096) {
			c->rcap = c->rcap ? c->rcap * 2 : 16384;
			if ((c->rbuf = realloc(c->rbuf, c->rcap)) == NULL)
				abort();
		}
	}
	do
		n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen,
		    MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		c->rlen += (size_t)n;
		return 1;
	}
	return n < 0 && errno == EAGAIN ? 0 : -1;
}

/* ml_try_packet - take one complete reply from the buffer: 1, 0 or -3 */
static int
ml_try_packet(ml_conn_t *c, int *cmd, size_t *len)
{
	size_t avail = c->rlen - c->roff;
	uint32_t n;

	if (avail < 5)
		return 0;
	memcpy(&n, c->rbuf + c->roff, 4);
	n = ntohl(n);
	if (n < 1 || n > ML_MAXPKT)
		return -3;
	if (avail < 4 + (size_t)n)
		return 0;
	*cmd = c->cmd = c->rbuf[c->roff + 4];
	*len = c->inlen = n - 1;
	if (*len + 1 > c->incap) {
		c->incap = *len + 1;
		if ((c->in = realloc(c->in, c->incap)) == NULL)
			abort();
	}
	memcpy(c->in, c->rbuf + c->roff + 5, *len);
	c->in[*len] = 0;
	c->roff += 4 + (size_t)n;
	return 1;
}

/* ml_recv_packet - one reply if it is there, without waiting: 1, 0 or < 0 */
int
ml_recv_packet(ml_conn_t *c, int *cmd, size_t *len)
{
	int r;

	for (;;) {
		if ((r = ml_try_packet(c, cmd, len)) != 0)
			return r;
		if ((r = ml_fill(c)) <= 0)
			return r;
	}
}

/* ml_get32 - decode a network-order 32-bit integer */
static uint32_t
ml_get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/* ml_parse_symlists - read setsymlist overrides after the OPTNEG fields */
static int
ml_parse_symlists(ml_conn_t *c, const unsigned char *p, size_t len)
{
	uint32_t cls;
	size_t slen;

	while (len > 0) {
		if (len < 5)
			return -3;
		cls = ml_get32(p);
		p += 4;
		len -= 4;
		slen = strnlen((const char *)p, len);
		if (slen == len)
			return -3;	/* missing terminator */
		if (cls < ML_M_COUNT) {
			free(c->macros[cls]);
			c->macros[cls] = strdup((const char *)p);
		}
		p += slen + 1;
		len -= slen + 1;
	}
	return 0;
}

/* ml_negotiate_put - queue SMFIC_OPTNEG as milter8_connect() sends it */
void
ml_negotiate_put(ml_conn_t *c)
{
	uint32_t v[3] = { htonl(ML_VERSION), htonl(ML_ACTIONS),
	    htonl(ML_PROTOCOL) };

	ml_put_cmd(c, 'O', v, sizeof(v));
}

/* ml_negotiate_parse - check the milter's OPTNEG reply in c->in */
int
ml_negotiate_parse(ml_conn_t *c)
{
	if (c->cmd != 'O' || c->inlen < 12)
		return -3;
	c->version = ml_get32(c->in);
	c->actions = ml_get32(c->in + 4);
	c->protocol = ml_get32(c->in + 8);
	if (c->version > ML_VERSION || c->version < 2
	    || (c->actions & ML_ACTIONS) != c->actions)
		return -3;
	return ml_parse_symlists(c, c->in + 12, c->inlen - 12);
}
