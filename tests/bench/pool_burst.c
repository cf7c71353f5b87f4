/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	pool_burst - does a burst of tarpits starve libmilter's worker pool?
 * SYNOPSIS
 *	pool_burst [-n tarpits] [-d delay_s] [-g clean_gap_ms] [-H] [-W ms] [-c]
 * DESCRIPTION
 *	Forks a minimal libmilter milter on a free loopback TCP port. Its
 *	RCPT callback, for a recipient starting with "<tarpit", calls
 *	pool_handoff() (unless -H), sends one progress packet (the moment
 *	the milter took the command) and waits DELAY seconds with
 *	tarpit_wait(); other commands are answered at once.
 *
 *	The parent plays Postfix: it opens N tarpit sessions in one burst
 *	(default 200), each speaking OPTNEG, CONNECT, HELO, MAIL, RCPT as
 *	fast as the replies come, and starts one clean session every
 *	GAP ms (default 20) until the tarpits are over. For every command
 *	it measures the wait until the milter took it: the reply, or for a
 *	tarpitted RCPT the progress packet. It prints p50/p99/max per kind
 *	of session, and how many tarpit sessions had their RCPT taken before
 *	the first tarpit ended.
 *
 *	-H turns the explicit handoff off, to show the starvation it
 *	prevents. -W MS starts the watchdog (pool_watch_start(MS)) and wraps
 *	the callbacks in pool_busy_begin()/pool_busy_end(): with -H it
 *	shows that the watchdog alone covers a wait nobody announced.
 *	-c (check) exits 1 unless every tarpit session reached RCPT before
 *	the first tarpit ended and every session completed: an assertion
 *	about order, not about time.
 * DIAGNOSTICS
 *	Exit 0, 1 for a failed check, 2 for a setup error.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <libmilter/mfapi.h>
#include "pool.h"
#include "tarpit.h"

enum { K_TARPIT, K_CLEAN };
enum { S_OPTNEG, S_CONNECT, S_HELO, S_MAIL, S_RCPT, S_DONE };

typedef struct {
	int	fd;
	int	kind;
	int	step;
	int64_t	sent_us;	/* when the current command was sent */
	int	taken;		/* current command already taken */
	unsigned char buf[512];
	size_t	len;
} sess_t;

static const char *const step_names[] = {"tarpit sessions, OPTNEG taken:",
	"tarpit sessions, CONNECT taken:", "tarpit sessions, HELO taken:",
	"tarpit sessions, MAIL taken:"};

typedef struct {
	long   *v;
	size_t	n, cap;
} waits_t;

static int opt_n = 200, opt_delay = 5, opt_gap = 20, opt_handoff = 1, opt_check, opt_watch;

/* now_us - monotonic microseconds */
static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the test milter (child process) ---- */

/* mf_progress - progress callback of the test tarpit */
static int
mf_progress(void *arg)
{
	return smfi_progress(arg) == MI_SUCCESS ? 0 : -1;
}

/* mf_rcpt - tarpit recipients "<tarpit...": hand off, mark, wait */
static sfsistat
mf_rcpt(SMFICTX *ctx, char **argv)
{
	tarpit_req_t req = {opt_delay * 1000L, 250, 10000, 1, NULL, mf_progress, ctx, 0};
	tarpit_result_t res;

	if (strncasecmp(argv[0], "<tarpit", 7) != 0)
		return SMFIS_CONTINUE;
	smfi_progress(ctx);		/* tells the driver: command taken */
	if (opt_handoff && pool_handoff() < 0)
		fprintf(stderr, "pool_burst: milter: handoff failed\n");
	if (tarpit_wait(&req, &res) < 0)
		return SMFIS_TEMPFAIL;
	return SMFIS_CONTINUE;
}

/* mf_rcpt_watched - mf_rcpt() between pool_busy_begin() and _end() */
static sfsistat
mf_rcpt_watched(SMFICTX *ctx, char **argv)
{
	sfsistat r;

	pool_busy_begin();
	r = mf_rcpt(ctx, argv);
	pool_busy_end();
	return r;
}

/* mf_close - nothing to free; called for handoff sessions too */
static sfsistat
mf_close(SMFICTX *ctx)
{
	(void) ctx;
	return SMFIS_CONTINUE;
}

/* milter_run - the child: run the test milter on CONN until killed */
static int
milter_run(char *conn)
{
	struct smfiDesc desc;
	pthread_attr_t attr;
	pool_stats_t st;

	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = "pool_burst";
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_envrcpt = opt_watch ? mf_rcpt_watched : mf_rcpt;
	desc.xxfi_close = mf_close;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_setattr_default_np(&attr);
	if (pool_init(conn) < 0 || smfi_register(desc) == MI_FAILURE
	    || smfi_setconn(conn) == MI_FAILURE
	    || smfi_opensocket(1) == MI_FAILURE
	    || (opt_watch && pool_watch_start(opt_watch) < 0)) {
		fprintf(stderr, "pool_burst: milter setup failed on %s\n", conn);
		return 2;
	}
	if (smfi_main() != MI_SUCCESS)
		return 2;
	pool_stats_get(&st);
	printf("milter: %lu handoffs confirmed, %lu failed, mean %.3f ms, longest %.3f ms\n",
	       st.handoffs, st.failures,
	       st.handoffs ? st.total_us / 1000.0 / st.handoffs : 0.0, st.max_us / 1000.0);
	fflush(stdout);
	return 0;
}

/* ---- the driver (parent process): speaks the MTA side ---- */

/* packet_send - one milter packet: length, command, data */
static int
packet_send(int fd, char cmd, const void *data, size_t len)
{
	unsigned char pkt[512];
	uint32_t nl = htonl(len + 1);

	memcpy(pkt, &nl, 4);
	pkt[4] = cmd;
	memcpy(pkt + 5, data, len);
	return write(fd, pkt, len + 5) == (ssize_t) (len + 5) ? 0 : -1;
}

/* sess_send - send the command of the session's current step */
static int
sess_send(sess_t *s, unsigned port)
{
	unsigned char buf[256];
	uint32_t v[3];
	size_t	n;

	s->sent_us = now_us();
	s->taken = 0;
	switch (s->step) {
	case S_OPTNEG:
		v[0] = htonl(6);
		v[1] = htonl(0x1ff);
		v[2] = htonl(0x1fffff);
		return packet_send(s->fd, SMFIC_OPTNEG, v, sizeof(v));
	case S_CONNECT:
		n = (size_t) snprintf((char *) buf, sizeof(buf), "client.example") + 1;
		buf[n++] = SMFIA_INET;
		buf[n++] = port >> 8;
		buf[n++] = port & 0xff;
		n += (size_t) snprintf((char *) buf + n, sizeof(buf) - n, "127.0.0.1") + 1;
		return packet_send(s->fd, SMFIC_CONNECT, buf, n);
	case S_HELO:
		return packet_send(s->fd, SMFIC_HELO, "client.example", 15);
	case S_MAIL:
		return packet_send(s->fd, SMFIC_MAIL, "<sender@example.org>", 21);
	case S_RCPT:
		if (s->kind == K_TARPIT)
			return packet_send(s->fd, SMFIC_RCPT, "<tarpit@example.net>", 21);
		return packet_send(s->fd, SMFIC_RCPT, "<clean@example.net>", 20);
	}
	return packet_send(s->fd, SMFIC_QUIT, "", 0);
}

/* waits_add - remember one wait */
static void
waits_add(waits_t *w, long us)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 1024;
		w->v = realloc(w->v, w->cap * sizeof(*w->v));
		if (w->v == NULL)
			abort();
	}
	w->v[w->n++] = us;
}

/* cmp_long - qsort order */
static int
cmp_long(const void *a, const void *b)
{
	long	x = *(const long *) a, y = *(const long *) b;

	return (x > y) - (x < y);
}

/* waits_print - p50, p99, max in milliseconds */
static void
waits_print(const char *label, waits_t *w)
{
	size_t	i, over = 0;

	if (w->n == 0) {
		printf("%-34s none\n", label);
		return;
	}
	qsort(w->v, w->n, sizeof(*w->v), cmp_long);
	for (i = 0; i < w->n; i++)
		over += w->v[i] > 100000;
	printf("%-34s n=%-5zu p50=%8.3f ms  p99=%8.3f ms  max=%9.3f ms  >100ms: %zu\n",
	       label, w->n, w->v[w->n / 2] / 1000.0, w->v[(w->n * 99) / 100] / 1000.0,
	       w->v[w->n - 1] / 1000.0, over);
}

typedef struct {
	waits_t	tarpit_step[S_RCPT], tarpit_rcpt, clean_cmd;
	int64_t	first_tarpit_end;	/* 0 until a tarpit RCPT is answered */
	int	rcpt_before_end;	/* tarpit RCPTs taken before that */
	int	tarpit_done, clean_done;
} stats_t;

/* sess_packet - handle one reply packet; 1 when the session is finished */
static int
sess_packet(sess_t *s, char cmd, stats_t *st, unsigned port)
{
	int64_t	t = now_us();

	if (!s->taken) {
		s->taken = 1;
		if (s->kind == K_CLEAN)
			waits_add(&st->clean_cmd, t - s->sent_us);
		else if (s->step == S_RCPT) {
			waits_add(&st->tarpit_rcpt, t - s->sent_us);
			if (st->first_tarpit_end == 0)
				st->rcpt_before_end++;
		} else
			waits_add(&st->tarpit_step[s->step], t - s->sent_us);
	}
	if (cmd == SMFIR_PROGRESS)
		return 0;
	if (s->kind == K_TARPIT && s->step == S_RCPT && st->first_tarpit_end == 0)
		st->first_tarpit_end = t;
	s->step++;
	if (sess_send(s, port) < 0 || s->step == S_DONE) {
		*(s->kind == K_TARPIT ? &st->tarpit_done : &st->clean_done) += s->step == S_DONE;
		return 1;
	}
	return 0;
}

/* sess_read - read and handle what arrived; 1 when finished, -1 on error */
static int
sess_read(sess_t *s, stats_t *st, unsigned port)
{
	ssize_t	n = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);
	uint32_t plen;
	int	done = 0;

	if (n <= 0)
		return n < 0 && errno == EAGAIN ? 0 : -1;
	s->len += (size_t) n;
	while (!done && s->len >= 5) {
		memcpy(&plen, s->buf, 4);
		plen = ntohl(plen);
		if (plen < 1 || plen + 4 > sizeof(s->buf))
			return -1;
		if (s->len < plen + 4)
			break;
		done = sess_packet(s, (char) s->buf[4], st, port);
		memmove(s->buf, s->buf + plen + 4, s->len - plen - 4);
		s->len -= plen + 4;
	}
	return done;
}

/* sess_open - connect a new session and send OPTNEG */
static int
sess_open(sess_t *s, int kind, const struct sockaddr_in *sin)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	if ((s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	    || connect(s->fd, (const struct sockaddr *) sin, sizeof(*sin)) < 0)
		return -1;
	fcntl(s->fd, F_SETFL, O_NONBLOCK);
	return sess_send(s, 40000);
}

/* free_port - a loopback port nothing uses right now */
static unsigned
free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int	fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port = 0;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == 0
	    && getsockname(fd, (struct sockaddr *) &sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* milter_wait_ready - connect until the milter listens (5 s at most) */
static int
milter_wait_ready(const struct sockaddr_in *sin)
{
	int	i, fd;

	for (i = 0; i < 500; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (const struct sockaddr *) sin, sizeof(*sin)) == 0) {
			close(fd);
			return 0;
		}
		if (fd >= 0)
			close(fd);
		usleep(10000);
	}
	return -1;
}

/* idle_handoffs - the cost of one handoff when the milter is idle */
static void
idle_handoffs(char *conn)
{
	waits_t	w = {NULL, 0, 0};
	int64_t	t0;
	int	i, bad = 0;

	if (pool_init(conn) < 0)
		return;
	for (i = 0; i < 200; i++) {
		t0 = now_us();
		bad += pool_handoff() != 0;
		waits_add(&w, now_us() - t0);
	}
	waits_print("handoff, idle milter (driver side):", &w);
	if (bad)
		printf("%d handoffs failed\n", bad);
	free(w.v);
}

/* milter_stop - SIGTERM (the milter prints its figures), SIGKILL after 15 s */
static void
milter_stop(pid_t pid)
{
	int	i, status;

	kill(pid, SIGTERM);
	for (i = 0; i < 1500; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* drive - the burst and the clean arrivals; returns sessions left open */
static int
drive(const struct sockaddr_in *sin, stats_t *st)
{
	int	nclean = (opt_delay * 1000 + 1000) / opt_gap, total = opt_n + nclean;
	sess_t *ss = calloc(total, sizeof(*ss));
	struct pollfd *pfd = calloc(total, sizeof(*pfd));
	int	*idx = calloc(total, sizeof(*idx));
	int64_t	t0, limit;
	int	i, n, started = 0, open = 0, rc;

	if (ss == NULL || pfd == NULL || idx == NULL)
		return -1;
	t0 = now_us();
	limit = t0 + (opt_delay + 60) * 1000000LL;
	for (i = 0; i < opt_n; i++, started++, open++)
		if (sess_open(ss + i, K_TARPIT, sin) < 0)
			return -1;
	while ((open > 0 || started < total) && now_us() < limit) {
		int64_t next = t0 + (int64_t) (started - opt_n) * opt_gap * 1000;

		if (started < total && now_us() >= next) {
			if (sess_open(ss + started, K_CLEAN, sin) < 0)
				return -1;
			started++, open++;
			continue;
		}
		for (i = n = 0; i < started; i++)
			if (ss[i].fd >= 0) {
				pfd[n].fd = ss[i].fd;
				pfd[n].events = POLLIN;
				idx[n++] = i;
			}
		rc = poll(pfd, n, started < total ? (int) ((next - now_us()) / 1000) + 1 : 1000);
		for (i = 0; rc > 0 && i < n; i++) {
			sess_t *s = ss + idx[i];

			if (pfd[i].revents == 0 || sess_read(s, st, 40000) == 0)
				continue;
			close(s->fd);
			s->fd = -1;
			open--;
		}
	}
	for (i = 0; i < started; i++)
		if (ss[i].fd >= 0)
			close(ss[i].fd);
	free(ss), free(pfd), free(idx);
	return open;
}

/* report - print the figures and free them; 1 when the check holds */
static int
report(const char *conn, stats_t *st, int left)
{
	int	c;

	printf("pool_burst: %s: handoff %s, watchdog %s, %d tarpits of %d s in one "
	       "burst, a clean session every %d ms\n", conn, opt_handoff ? "on" : "OFF",
	       opt_watch ? "on" : "off", opt_n, opt_delay, opt_gap);
	for (c = S_OPTNEG; c < S_RCPT; c++)
		waits_print(step_names[c], &st->tarpit_step[c]);
	waits_print("tarpit sessions, RCPT taken:", &st->tarpit_rcpt);
	waits_print("clean sessions, all commands:", &st->clean_cmd);
	printf("tarpit RCPTs taken before the first tarpit ended: %d/%d\n",
	       st->rcpt_before_end, opt_n);
	printf("completed: tarpit %d/%d, clean %d; left open %d\n",
	       st->tarpit_done, opt_n, st->clean_done, left);
	for (c = S_OPTNEG; c < S_RCPT; c++)
		free(st->tarpit_step[c].v);
	free(st->tarpit_rcpt.v);
	free(st->clean_cmd.v);
	return left == 0 && st->rcpt_before_end == opt_n && st->tarpit_done == opt_n
	    && st->clean_done == (opt_delay * 1000 + 1000) / opt_gap;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	char	conn[64];
	stats_t	st;
	pid_t	pid;
	int	c, left, status, ok;

	while ((c = getopt(argc, argv, "n:d:g:HW:c")) != -1) {
		switch (c) {
		case 'n': opt_n = atoi(optarg); break;
		case 'd': opt_delay = atoi(optarg); break;
		case 'g': opt_gap = atoi(optarg); break;
		case 'H': opt_handoff = 0; break;
		case 'W': opt_watch = atoi(optarg); break;
		case 'c': opt_check = 1; break;
		default:
			fprintf(stderr, "usage: pool_burst [-n tarpits] [-d delay_s] [-g gap_ms] [-H] [-W ms] [-c]\n");
			return 2;
		}
	}
	if (opt_n < 1 || opt_delay < 0 || opt_gap < 1)
		return 2;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(free_port());
	snprintf(conn, sizeof(conn), "inet:%u@127.0.0.1", ntohs(sin.sin_port));
	signal(SIGPIPE, SIG_IGN);
	if ((pid = fork()) < 0)
		return 2;
	if (pid == 0)
		_exit(milter_run(conn));
	memset(&st, 0, sizeof(st));
	if (milter_wait_ready(&sin) < 0) {
		fprintf(stderr, "pool_burst: milter did not start on %s\n", conn);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return 2;
	}
	left = drive(&sin, &st);
	idle_handoffs(conn);
	fflush(stdout);
	milter_stop(pid);
	ok = report(conn, &st, left);
	return opt_check && !ok ? 1 : 0;
}
