/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ml_session.c - one SMTP session as Postfix's smtpd and cleanup show
 *	it to a milter
 * DESCRIPTION
 *	Each worker owns a listening socket on 127.0.0.1 (the "smtpd" side).
 *	A session binds a client socket to its 127.0.0.x address, connects,
 *	accepts, and keeps both ends open while it talks to the milter, so
 *	the 4-tuple in SMFIC_CONNECT, {daemon_addr} and {daemon_port} names
 *	a live socket the milter can probe. smtpd's end is never read, as
 *	smtpd does not read while it waits for the milter.
 *
 *	Event order: OPTNEG, CONNECT, HELO, MAIL, RCPT..., DATA, HEADER...,
 *	EOH, BODY..., BODYEOB, then ABORT, ABORT, QUIT (smtpd's mail_reset()
 *	after the message and at the end, then milter_disc_event()). Each
 *	event is preceded by its SMFIC_MACRO packet. Events the milter
 *	declined (SMFIP_NO*) are not sent (their macros are, except for
 *	headers, EOH and body, which cleanup skips entirely), replies it will not send
 *	(SMFIP_NR_*) are not awaited, and their packets stay buffered until
 *	a reply is awaited - except at DATA, where smtpd hands the milter
 *	connection to cleanup and flushes whatever the DATA event left (as
 *	Postfix 3.7 does, seen with strace). A reject or tempfail at MAIL, at the
 *	last RCPT or at DATA ends the transaction (ABORT, ABORT, QUIT); any
 *	final reply at CONNECT or HELO except continue closes the milter
 *	connection without QUIT, as Postfix does.
 *
 *	Waiting for each reply, the client's behaviour during the first
 *	RCPT and the take probe are in ml_wait.c.
 * DIAGNOSTICS
 *	ml_session_run() returns 0 when the session ran to its end with a
 *	reply for every awaited event, -1 otherwise (counted by kind).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "ml.h"

/* ml_listen - the worker's "smtpd" listener on 127.0.0.1 or ::1 */
static int
ml_listen(ml_worker_t *w, int family)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&w->laddr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&w->laddr;
	int one = 1;

	memset(&w->laddr, 0, sizeof(w->laddr));
	if (family == AF_INET6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		w->llen = sizeof(*in6);
	} else {
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		w->llen = sizeof(*in);
	}
	w->lfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (w->lfd < 0)
		return -1;
	if (family == AF_INET6)		/* as Postfix's listeners */
		setsockopt(w->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(w->lfd, (struct sockaddr *)&w->laddr, w->llen) < 0
	    || listen(w->lfd, 16) < 0
	    || getsockname(w->lfd, (struct sockaddr *)&w->laddr, &w->llen) < 0)
		return -1;
	return 0;
}

/* ml_worker_new - per-thread listener, probe socket and body text */
ml_worker_t *
ml_worker_new(const ml_opts_t *o, int idx)
{
	ml_worker_t *w = calloc(1, sizeof(*w));
	size_t i;

	if (w == NULL)
		return NULL;
	w->o = o;
	w->idx = idx;
	w->nl = -1;
	if (ml_listen(w, o->bind_range.family) < 0)
		return ml_worker_free(w);
	w->nl = o->probe ? ml_diag_open() : -1;
	w->bodylen = o->body_size;
	w->body = malloc(w->bodylen + 1);
	if (w->body == NULL)
		return ml_worker_free(w);
	for (i = 0; i < w->bodylen; i++)	/* 76-char lines, CRLF */
		w->body[i] = (i % 78 == 76) ? '\r' : (i % 78 == 77) ? '\n' :
		    (char)('a' + i % 26);
	return w;
}

/* ml_worker_free - close and free; returns NULL */
ml_worker_t *
ml_worker_free(ml_worker_t *w)
{
	if (w == NULL)
		return NULL;
	if (w->lfd >= 0)
		close(w->lfd);
	if (w->nl >= 0)
		close(w->nl);
	free(w->body);
	free(w);
	return NULL;
}

/* ml_range_pick - the n-th address of a range, as text */
static void
ml_range_pick(const ml_range_t *r, long n, char *buf, size_t len)
{
	uint32_t off = (uint32_t)(n % (long)r->count), lo;
	struct in6_addr a6 = r->first6;
	struct in_addr a;

	if (r->family == AF_INET6) {
		memcpy(&lo, a6.s6_addr + 12, 4);
		lo = htonl(ntohl(lo) + off);
		memcpy(a6.s6_addr + 12, &lo, 4);
		inet_ntop(AF_INET6, &a6, buf, (socklen_t)len);
		return;
	}
	a.s_addr = htonl(r->first4 + off);
	inet_ntop(AF_INET, &a, buf, (socklen_t)len);
}

/* ml_expand - expand %n %a %d %t %% in a template */
static void
ml_expand(const char *t, const ml_sess_t *s, long n, char *buf, size_t len)
{
	size_t used = 0;
	char tmp[64];
	const char *add;

	for (; *t && used + 1 < len; t++) {
		if (*t != '%' || t[1] == 0) {
			buf[used++] = *t;
			continue;
		}
		t++;
		add = tmp;
		if (*t == 'n')
			snprintf(tmp, sizeof(tmp), "%ld", n);
		else if (*t == 't')
			snprintf(tmp, sizeof(tmp), "%d", s->w->idx);
		else if (*t == 'a' || *t == 'd') {
			snprintf(tmp, sizeof(tmp), "%s", s->v.client_addr);
			for (char *p = tmp; *t == 'd' && *p; p++)
				if (*p == '.' || *p == ':')
					*p = '-';
		} else
			snprintf(tmp, sizeof(tmp), "%c", *t);
		used += (size_t)snprintf(buf + used, len - used, "%s", add);
		if (used >= len)
			used = len - 1;
	}
	buf[used] = 0;
}

/* ml_port - the port of an IPv4 or IPv6 socket address */
static unsigned
ml_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* ml_smtp_open - the loopback client connection and smtpd's end of it */
static int
ml_smtp_open(ml_sess_t *s, long n)
{
	const ml_opts_t *o = s->w->o;
	struct sockaddr_storage ca;
	socklen_t len = s->w->llen;
	char addr[64];
	void *ap;

	memset(&ca, 0, sizeof(ca));
	ca.ss_family = (sa_family_t)o->bind_range.family;
	ap = ca.ss_family == AF_INET6 ?
	    (void *)&((struct sockaddr_in6 *)&ca)->sin6_addr :
	    (void *)&((struct sockaddr_in *)&ca)->sin_addr;
	ml_range_pick(&o->bind_range, n, addr, sizeof(addr));
	inet_pton(ca.ss_family, addr, ap);
	s->cfd = socket(ca.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->cfd < 0 || bind(s->cfd, (struct sockaddr *)&ca, len) < 0
	    || connect(s->cfd, (struct sockaddr *)&s->w->laddr, len) < 0
	    || getsockname(s->cfd, (struct sockaddr *)&ca, &len) < 0)
		return -1;
	s->sfd = accept4(s->w->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (s->sfd < 0)
		return -1;
	if (o->report_set)
		ml_range_pick(&o->report_range, n, s->v.client_addr,
		    sizeof(s->v.client_addr));
	else
		snprintf(s->v.client_addr, sizeof(s->v.client_addr), "%s", addr);
	s->v.v6 = strchr(s->v.client_addr, ':') != NULL;
	snprintf(s->v.client_port, sizeof(s->v.client_port), "%u", ml_port(&ca));
	snprintf(s->v.daemon_addr, sizeof(s->v.daemon_addr), "%s",
	    ca.ss_family == AF_INET6 ? "::1" : "127.0.0.1");
	snprintf(s->v.daemon_port, sizeof(s->v.daemon_port), "%u",
	    ml_port(&s->w->laddr));
	return 0;
}

/* ml_event - macros, then the event, then its reply if one is due */
static int
ml_event(ml_sess_t *s, ml_stage_t st, int cls, int cmd, const void *data,
    size_t len, uint32_t noflag, uint32_t nrflag)
{
	double sent;

	/* cleanup skips declined message content, macros included;
	 * smtpd sends the macros of a declined SMTP event all the same */
	if (s->c.protocol & noflag & (SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY))
		return 'c';
	ml_put_macros(&s->c, cls, cmd, &s->v);
	if (s->c.protocol & noflag)
		return 'c';
	ml_put_cmd(&s->c, cmd, data, len);
	if (s->c.protocol & nrflag)
		return 'c';
	sent = ml_now();
	if (ml_flush(&s->c) < 0) {
		ml_stats_reply(st, ML_R_ERROR);
		return -1;
	}
	return ml_wait_reply(s, st, sent);
}

/* ml_cat - append a NUL-terminated string to a packet buffer */
static size_t
ml_cat(char *buf, size_t used, size_t cap, const char *str)
{
	size_t n = strlen(str) + 1;

	if (used + n > cap)
		return used;
	memcpy(buf + used, str, n);
	return used + n;
}

/* ml_connect_helo - SMFIC_CONNECT and SMFIC_HELO */
static int
ml_connect_helo(ml_sess_t *s, long n)
{
	char pkt[600];
	size_t used;
	uint16_t port = htons((uint16_t)atoi(s->v.client_port));
	int r;

	used = ml_cat(pkt, 0, sizeof(pkt), s->v.client_name);
	pkt[used++] = s->v.v6 ? '6' : '4';
	memcpy(pkt + used, &port, 2);
	used = ml_cat(pkt, used + 2, sizeof(pkt), s->v.client_addr);
	r = ml_event(s, ML_ST_CONNECT, ML_M_CONNECT, 'C', pkt, used,
	    SMFIP_NOCONNECT, SMFIP_NR_CONN);
	if (r != 'c')
		return r;
	ml_expand(s->w->o->helo_tmpl, s, n, s->v.helo, sizeof(s->v.helo));
	return ml_event(s, ML_ST_HELO, ML_M_HELO, 'H', s->v.helo,
	    strlen(s->v.helo) + 1, SMFIP_NOHELO, SMFIP_NR_HELO);
}

/* ml_check_final - compare a stage's final reply (and, for a reply code
 * packet, its text) with the expectation */
static void
ml_check_final(const ml_sess_t *s, ml_stage_t st, int r)
{
	const ml_opts_t *o = s->w->o;
	const char *want = o->expect_text[st];

	if (o->expect[st] && (r != o->expect[st] || (want != NULL
	    && strncmp((const char *)s->c.in, want, strlen(want)) != 0)))
		ml_stats_count("unexpected_reply");
}

/* ml_envelope - MAIL and the RCPTs; returns 'c' if any RCPT passed */
static int
ml_envelope(ml_sess_t *s, long n)
{
	const ml_opts_t *o = s->w->o;
	char arg[300];
	int r, i, ok = 0;

	ml_expand(o->from_tmpl, s, n, s->v.from, sizeof(s->v.from));
	snprintf(s->v.queue_id, sizeof(s->v.queue_id), "%02X%08lX",
	    s->w->idx & 0xff, (unsigned long)n & 0xffffffffUL);
	snprintf(arg, sizeof(arg), "<%s>", s->v.from);
	r = ml_event(s, ML_ST_MAIL, ML_M_MAIL, 'M', arg, strlen(arg) + 1,
	    SMFIP_NOMAIL, SMFIP_NR_MAIL);
	ml_check_final(s, ML_ST_MAIL, r);
	if (r != 'c')
		return r;
	for (i = 0; i < o->rcpts; i++) {
		ml_expand(o->rcpt_tmpl, s, n * o->rcpts + i, s->v.rcpt,
		    sizeof(s->v.rcpt));
		snprintf(arg, sizeof(arg), "<%s>", s->v.rcpt);
		if (i == 0 && o->behave != ML_B_WAIT)
			s->act_due = ml_now() + o->behave_after;
		r = ml_event(s, ML_ST_RCPT, ML_M_RCPT, 'R', arg,
		    strlen(arg) + 1, SMFIP_NORCPT, SMFIP_NR_RCPT);
		if (i == 0 && s->act_due > 0) {
			s->act_due = 0;
			ml_stats_count("behaviour_not_reached");
		}
		if (r < 0 || r == '4' || r == 'a' || r == 'd')
			return r;
		ok |= r == 'c';
		/* smtpd_delay_open_until_valid_rcpt: the queue file, and
		 * with it {i}, exists from the first accepted RCPT on */
		s->v.have_qid |= ok;
	}
	return ok ? 'c' : r;
}

/* ml_header - one SMFIC_HEADER, value without its leading space */
static int
ml_header(ml_sess_t *s, const char *name, const char *value)
{
	char pkt[600];
	size_t used;

	used = ml_cat(pkt, 0, sizeof(pkt), name);
	if (s->c.protocol & SMFIP_HDR_LEADSPC)
		pkt[used++] = ' ';
	used = ml_cat(pkt, used, sizeof(pkt), value);
	return ml_event(s, ML_ST_HEADER, ML_M_EOH, 'L', pkt, used,
	    SMFIP_NOHDRS, SMFIP_NR_HDR);
}

/* ml_message - DATA, headers, EOH, body chunks, end of message */
static int
ml_message(ml_sess_t *s, long n)
{
	ml_worker_t *w = s->w;
	char subj[80], mid[80];
	size_t off, chunk;
	int r;

	r = ml_event(s, ML_ST_DATA, ML_M_DATA, 'T', NULL, 0, SMFIP_NODATA,
	    SMFIP_NR_DATA);
	if (r != 'c')
		return r;
	/* smtpd now hands the milter connection to cleanup, which writes
	 * the rest: what DATA left unflushed (no reply due) goes out now,
	 * and the next packets in writes of their own (Nagle applies) */
	if (ml_flush(&s->c) < 0) {
		ml_stats_reply(ML_ST_DATA, ML_R_ERROR);
		return -1;
	}
	snprintf(subj, sizeof(subj), "load test message %ld", n);
	snprintf(mid, sizeof(mid), "<%ld.%d@example.com>", n, w->idx);
	if ((r = ml_header(s, "From", s->v.from)) != 'c'
	    || (r = ml_header(s, "To", s->v.rcpt)) != 'c'
	    || (r = ml_header(s, "Subject", subj)) != 'c'
	    || (r = ml_header(s, "Date", "Mon, 23 Nov 2026 09:00:00 +0000")) != 'c'
	    || (r = ml_header(s, "Message-ID", mid)) != 'c')
		return r;
	r = ml_event(s, ML_ST_EOH, ML_M_EOH, 'N', NULL, 0, SMFIP_NOEOH,
	    SMFIP_NR_EOH);
	if (r != 'c')
		return r;
	for (off = 0; off < w->bodylen; off += chunk) {
		chunk = w->bodylen - off < ML_CHUNK ? w->bodylen - off : ML_CHUNK;
		r = ml_event(s, ML_ST_BODY, ML_M_EOM, 'B', w->body + off,
		    chunk, SMFIP_NOBODY, SMFIP_NR_BODY);
		if (r == 's')
			break;
		if (r != 'c')
			return r;
	}
	return ml_event(s, ML_ST_EOM, ML_M_EOM, 'E', NULL, 0, 0, 0);
}

/* ml_quit - smtpd's mail_reset() twice, then the disconnect event */
static void
ml_quit(ml_sess_t *s)
{
	ml_put_cmd(&s->c, 'A', NULL, 0);
	ml_put_cmd(&s->c, 'A', NULL, 0);
	ml_put_cmd(&s->c, 'Q', NULL, 0);
	(void)ml_flush(&s->c);
}

/* ml_dialogue - the milter conversation of one session */
static int
ml_dialogue(ml_sess_t *s, long n)
{
	const ml_opts_t *o = s->w->o;
	double t = ml_now();
	int r;

	if (ml_conn_open(&s->c, o) < 0) {
		ml_stats_count("milter_connect_failed");
		return -1;
	}
	ml_negotiate_put(&s->c);
	if (ml_flush(&s->c) < 0 || ml_wait_reply(s, ML_ST_OPTNEG, t) != 'O'
	    || ml_negotiate_parse(&s->c) < 0) {
		ml_stats_count("optneg_failed");
		return -1;
	}
	ml_stats_record(ML_ST_OPTNEG, ml_now() - t);
	r = ml_connect_helo(s, n);
	ml_check_final(s, ML_ST_HELO, r);
	if (r != 'c')
		return r < 0 ? -1 : 0;	/* Postfix closes without QUIT */
	r = ml_envelope(s, n);
	ml_check_final(s, ML_ST_RCPT, r);
	if (r == 'c' && s->act_at > 0 && o->behave != ML_B_PIPELINE)
		r = 'x';		/* client gone: lost connection */
	if (r == 'c') {
		r = ml_message(s, n);
		ml_check_final(s, ML_ST_EOM, r);
	}
	if (r < 0 || r == '4')
		return r < 0 ? -1 : 0;
	ml_quit(s);
	return 0;
}

/* ml_session_run - run session number n from start to end */
int
ml_session_run(ml_worker_t *w, long n)
{
	ml_sess_t s;
	double t0 = ml_now();
	int r;

	memset(&s, 0, sizeof(s));
	s.w = w;
	s.cfd = s.sfd = -1;
	s.c.fd = -1;
	if (ml_smtp_open(&s, n) < 0) {
		ml_stats_count("smtp_socket_failed");
		ml_close_rst(&s.cfd);
		return -1;
	}
	ml_expand(w->o->name_tmpl, &s, n, s.v.client_name,
	    sizeof(s.v.client_name));
	r = ml_dialogue(&s, n);
	ml_conn_close(&s.c);
	ml_close_rst(&s.cfd);
	ml_close_rst(&s.sfd);
	if (r == 0)
		ml_stats_record(ML_ST_SESSION, ml_now() - t0);
	else
		ml_stats_count("sessions_failed");
	return r;
}
