/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ml_wait.c - waiting for the milter's reply to one event
 * DESCRIPTION
 *	ml_wait_reply() reads reply packets until a final one, as Postfix
 *	does: SMFIR_PROGRESS restarts the timeout, edits are accepted only
 *	at end of message. While it waits it acts out the client's
 *	behaviour (during the first RCPT): wait; disconnect (FIN) or reset
 *	(RST) the client socket T seconds after RCPT was sent; or pipeline:
 *	write "DATA" and message lines into it. The time from that action
 *	to the milter's reply is recorded ("after"). Over TCP it also
 *	probes the milter's receive queue (ml_diag.c) to record when the
 *	milter took the command off the socket ("take").
 * DIAGNOSTICS
 *	ml_wait_reply() returns the final reply's command, -2 on timeout,
 *	-1 or -3 on error (counted by kind).
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>

#include "ml.h"

/* ml_close_rst - close a socket with a reset, leaving no TIME_WAIT */
void
ml_close_rst(int *fd)
{
	struct linger l = { 1, 0 };

	if (*fd < 0)
		return;
	setsockopt(*fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(*fd);
	*fd = -1;
}

/* ml_behave - do the client's disconnect, reset or pipelining */
static void
ml_behave(ml_sess_t *s)
{
	static const char pipe_text[] = "DATA\r\nFrom: <a@example.com>\r\n"
	    "Subject: early\r\n\r\ntalking out of turn\r\n.\r\nQUIT\r\n";
	ml_behave_t b = s->w->o->behave;

	s->act_at = ml_now();
	s->act_due = 0;
	if (b == ML_B_DISCONNECT) {
		shutdown(s->cfd, SHUT_WR);
		close(s->cfd);
		s->cfd = -1;
	} else if (b == ML_B_RESET) {
		ml_close_rst(&s->cfd);
	} else if (b == ML_B_PIPELINE) {
		if (send(s->cfd, pipe_text, sizeof(pipe_text) - 1,
		    MSG_NOSIGNAL) < 0)
			ml_stats_count("pipeline_write_failed");
	}
}

/* ml_poll_ms - how long to poll: next probe, behaviour or read timeout */
static int
ml_poll_ms(const ml_sess_t *s, double now, double read_end, double probe)
{
	double until = read_end;

	if (s->act_due > 0 && s->act_due < until)
		until = s->act_due;
	if (probe > 0 && probe < until)
		until = probe;
	return until <= now ? 0 : (int)((until - now) * 1000) + 1;
}

/* State of the take probe for one command. */
typedef struct {
	int	probing;		/* TCP, probe socket, no failure yet */
	int	taken;			/* take time recorded */
	double	next;			/* time of the next probe */
} ml_take_t;

/*
 * Probe schedule: every 1 ms, or a tenth of the wait so far, at most every
 * 100 ms. The take time is then known to 1 ms or 10%, and thousands of
 * stuck sessions cost a few probes per second each, not a busy loop.
 */
#define ML_PROBE_MIN	0.001
#define ML_PROBE_MAX	0.1

/* ml_take_probe - once the milter's receive queue is empty, record the take */
static void
ml_take_probe(ml_sess_t *s, ml_stage_t st, double sent, double now,
    ml_take_t *tk)
{
	double step = (now - sent) / 10;
	int r;

	if (!tk->probing || tk->taken || now < tk->next)
		return;
	tk->next = now + (step < ML_PROBE_MIN ? ML_PROBE_MIN :
	    step > ML_PROBE_MAX ? ML_PROBE_MAX : step);
	r = ml_diag_rqueue(s->w->nl, &s->c.peer, &s->c.local);
	if (r == 0) {
		tk->taken = 1;
		ml_stats_take(st, now - sent);
	} else if (r < 0)
		tk->probing = 0;
}

/* ml_await_packet - next reply packet: 1, -2 on timeout, -1 or -3 on error */
static int
ml_await_packet(ml_sess_t *s, ml_stage_t st, double sent, double read_end,
    ml_take_t *tk)
{
	struct pollfd p = { .fd = s->c.fd, .events = POLLIN };
	double now;
	int cmd, r;
	size_t len;

	for (;;) {
		now = ml_now();
		if (s->act_due > 0 && now >= s->act_due)
			ml_behave(s);
		if ((r = ml_recv_packet(&s->c, &cmd, &len)) != 0)
			return r;
		r = poll(&p, 1, ml_poll_ms(s, now, read_end,
		    tk->probing && !tk->taken ? tk->next : 0));
		now = ml_now();
		if (r < 0 && errno != EINTR)
			return -1;
		if (r == 0 && now >= read_end)
			return -2;
		if (r == 0)
			ml_take_probe(s, st, sent, now, tk);
	}
}

/* ml_wait_reply - read replies until a final one; returns its command */
int
ml_wait_reply(ml_sess_t *s, ml_stage_t st, double sent)
{
	const ml_opts_t *o = s->w->o;
	ml_take_t tk = { o->probe && s->c.inet && s->w->nl >= 0, 0,
	    sent + ML_PROBE_MIN };
	double now, read_end = sent + o->timeout;
	int r;

	for (;;) {
		if ((r = ml_await_packet(s, st, sent, read_end, &tk)) < 0) {
			ml_stats_reply(st, r == -2 ? ML_R_TIMEOUT : ML_R_ERROR);
			return r;
		}
		now = ml_now();
		if (tk.probing && !tk.taken) {
			tk.taken = 1;
			ml_stats_take(st, now - sent);
		}
		if (s->c.cmd == 'O')
			return 'O';
		ml_stats_reply(st, ml_reply_kind(s->c.cmd, s->c.in, s->c.inlen));
		switch (s->c.cmd) {
		case 'p':			/* progress restarts the clock */
			read_end = now + o->timeout;
			continue;
		case 'h': case 'i': case 'm': case '+': case '-': case '2':
		case 'b': case 'e': case 'q':	/* edits, then the decision */
			if (st != ML_ST_EOM)	/* Postfix: protocol error */
				ml_stats_count("edit_outside_eom");
			continue;
		}
		ml_stats_record(st, now - sent);
		if (s->act_at > 0 && st == ML_ST_RCPT)
			ml_stats_after(now - s->act_at);
		return s->c.cmd;
	}
}
