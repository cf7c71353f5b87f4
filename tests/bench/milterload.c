/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	milterload - load driver that talks to a milter the way Postfix 3.7 does
 * SYNOPSIS
 *	milterload -s inet:PORT@HOST|unix:PATH [options]
 * DESCRIPTION
 *	Runs sessions against a milter, each with a real loopback TCP
 *	client connection whose 4-tuple is reported in SMFIC_CONNECT and in
 *	{daemon_addr}/{daemon_port}, and prints sessions/s, per-stage reply
 *	latency (p50/p99/p99.9/max), the wait before the milter took each
 *	command (TCP milter sockets only, 1 ms resolution), reply counts, and
 *	with -p the milter's CPU seconds per 1,000 sessions, VmHWM and
 *	thread count. See usage() for the options.
 * DIAGNOSTICS
 *	Exit status 0 when every session completed, 1 when some failed
 *	(milter errors, timeouts), 2 on bad usage, 3 when a final reply
 *	differed from an -e expectation.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/un.h>

#include "ml.h"

static ml_opts_t opts;
static long next_session;		/* claimed atomically */
static long done_ok, done_failed;
static double t_start, t_end;
static pthread_barrier_t start_line;

/* usage - print the options and exit */
static void
usage(void)
{
	fprintf(stderr,
"usage: milterload -s SOCKET [options]\n"
"  -s SOCKET    inet:PORT@HOST, inet:HOST:PORT or unix:PATH\n"
"  -c N         concurrent sessions (threads), default 20\n"
"  -n N         total sessions, default 1000\n"
"  -d SECONDS   run for a duration instead of a session count\n"
"  -r RATE      start at most RATE sessions per second (default: no limit)\n"
"  -a A[-B]     client addresses to bind (127.0.0.x or ::1), default 127.0.0.2\n"
"  -A A[-B]     client addresses to report instead (no socket matches them)\n"
"  -N TMPL      client name, default \"[%%a]\" (unverified)\n"
"  -H TMPL      HELO name, default \"mail%%n.example.com\"\n"
"  -f TMPL      sender, default \"sender%%n@example.com\"\n"
"  -t TMPL      recipient, default \"user%%n@example.net\"\n"
"               templates: %%n session number, %%a address, %%d address\n"
"               with dashes, %%t thread number\n"
"  -R N         recipients per message, default 1\n"
"  -b BYTES     body size, default 1024\n"
"  -B HOW       first-RCPT client behaviour: wait, disconnect:SEC,\n"
"               reset:SEC or pipeline:SEC (default wait)\n"
"  -T SECONDS   milter reply timeout, restarted by progress (default 30)\n"
"  -e STAGE=C   expect final reply C (c a r t y d) at helo, mail, rcpt\n"
"               or eom; STAGE=TEXT (more than one character): a reply\n"
"               code packet (y) whose text starts with TEXT, e.g.\n"
"               \"mail=550 5.7.23\"; repeatable; exit 3 if any session\n"
"               differs\n"
"  -p PID       milter pid: report its CPU per 1000 sessions, VmHWM, threads\n"
"  -x           set TCP_NODELAY on the driver's milter sockets (Postfix\n"
"               does not)\n"
"  -P           do not probe when the milter takes each command\n");
	exit(2);
}

/* parse_socket - Postfix or libmilter socket syntax into a sockaddr */
static int
parse_socket(const char *spec, ml_opts_t *o)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&o->milter_sa;
	struct sockaddr_un *un = (struct sockaddr_un *)&o->milter_sa;
	char host[256], *at, *colon;
	long port;

	memset(&o->milter_sa, 0, sizeof(o->milter_sa));
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		spec = strchr(spec, ':') + 1;
		if (strlen(spec) >= sizeof(un->sun_path))
			return -1;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, spec);
		o->milter_salen = sizeof(*un);
		return 0;
	}
	if (strncmp(spec, "inet:", 5) != 0 || strlen(spec + 5) >= sizeof(host))
		return -1;
	strcpy(host, spec + 5);
	if ((at = strchr(host, '@')) != NULL) {		/* PORT@HOST */
		*at = 0;
		port = strtol(host, NULL, 10);
		memmove(host, at + 1, strlen(at + 1) + 1);
	} else if ((colon = strrchr(host, ':')) != NULL) { /* HOST:PORT */
		*colon = 0;
		port = strtol(colon + 1, NULL, 10);
	} else
		return -1;
	if (strcmp(host, "localhost") == 0 || host[0] == 0)
		strcpy(host, "127.0.0.1");
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	if (port <= 0 || port > 65535 || inet_pton(AF_INET, host,
	    &in->sin_addr) != 1)
		return -1;
	o->milter_salen = sizeof(*in);
	return 0;
}

/* parse_range - "A" or "A-B", IPv4, or IPv6 varying in the low 32 bits */
static int
parse_range(const char *spec, ml_range_t *r)
{
	char a[128], *dash;
	struct in6_addr x6, y6;
	struct in_addr x, y;
	uint32_t lo, hi;

	if (strlen(spec) >= sizeof(a))
		return -1;
	strcpy(a, spec);
	if ((dash = strchr(a, '-')) != NULL)
		*dash++ = 0;
	memset(r, 0, sizeof(*r));
	if (inet_pton(AF_INET, a, &x) == 1) {
		if (dash && inet_pton(AF_INET, dash, &y) != 1)
			return -1;
		r->family = AF_INET;
		r->first4 = ntohl(x.s_addr);
		r->count = dash ? ntohl(y.s_addr) - r->first4 + 1 : 1;
	} else if (inet_pton(AF_INET6, a, &x6) == 1) {
		if (dash && (inet_pton(AF_INET6, dash, &y6) != 1
		    || memcmp(&x6, &y6, 12) != 0))
			return -1;
		r->family = AF_INET6;
		r->first6 = x6;
		memcpy(&lo, x6.s6_addr + 12, 4);
		if (dash)
			memcpy(&hi, y6.s6_addr + 12, 4);
		r->count = dash ? ntohl(hi) - ntohl(lo) + 1 : 1;
	} else
		return -1;
	return r->count == 0 || r->count > (1U << 24) ? -1 : 0;
}

/* parse_behave - wait | disconnect:SEC | reset:SEC | pipeline:SEC */
static int
parse_behave(const char *spec, ml_opts_t *o)
{
	static const struct { const char *name; ml_behave_t b; } t[] = {
		{ "disconnect:", ML_B_DISCONNECT }, { "reset:", ML_B_RESET },
		{ "pipeline:", ML_B_PIPELINE },
	};
	size_t i, n;

	if (strcmp(spec, "wait") == 0) {
		o->behave = ML_B_WAIT;
		return 0;
	}
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = strlen(t[i].name);
		if (strncmp(spec, t[i].name, n) == 0) {
			o->behave = t[i].b;
			o->behave_after = atof(spec + n);
			return o->behave_after >= 0 ? 0 : -1;
		}
	}
	return -1;
}

/* parse_expect - STAGE=C, or STAGE=TEXT for a reply code packet */
static int
parse_expect(const char *spec, ml_opts_t *o)
{
	static const struct { const char *name; ml_stage_t st; } t[] = {
		{ "helo=", ML_ST_HELO }, { "mail=", ML_ST_MAIL },
		{ "rcpt=", ML_ST_RCPT }, { "eom=", ML_ST_EOM },
	};
	size_t i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = strlen(t[i].name);
		if (strncmp(spec, t[i].name, n) != 0 || !spec[n])
			continue;
		o->expect[t[i].st] = spec[n + 1] ? 'y' : spec[n];
		o->expect_text[t[i].st] = spec[n + 1] ? spec + n : NULL;
		return 0;
	}
	return -1;
}

/* parse_args - fill opts from the command line */
static void
parse_args(int argc, char **argv)
{
	int ch;

	opts.concurrency = 20;
	opts.total = 1000;
	opts.rcpts = 1;
	opts.body_size = 1024;
	opts.timeout = 30;
	opts.probe = 1;
	opts.name_tmpl = "[%a]";
	opts.helo_tmpl = "mail%n.example.com";
	opts.from_tmpl = "sender%n@example.com";
	opts.rcpt_tmpl = "user%n@example.net";
	parse_range("127.0.0.2", &opts.bind_range);
	while ((ch = getopt(argc, argv, "s:c:n:d:r:a:A:N:H:f:t:R:b:B:T:e:p:xP"))
	    != -1) {
		switch (ch) {
		case 's': opts.socket_spec = optarg;
			if (parse_socket(optarg, &opts) < 0) usage();
			break;
		case 'c': opts.concurrency = atoi(optarg); break;
		case 'n': opts.total = atol(optarg); opts.duration = 0; break;
		case 'd': opts.duration = atof(optarg); opts.total = 0; break;
		case 'r': opts.rate = atof(optarg); break;
		case 'a': if (parse_range(optarg, &opts.bind_range) < 0) usage();
			break;
		case 'A': if (parse_range(optarg, &opts.report_range) < 0) usage();
			opts.report_set = 1;
			break;
		case 'N': opts.name_tmpl = optarg; break;
		case 'H': opts.helo_tmpl = optarg; break;
		case 'f': opts.from_tmpl = optarg; break;
		case 't': opts.rcpt_tmpl = optarg; break;
		case 'R': opts.rcpts = atoi(optarg); break;
		case 'b': opts.body_size = (size_t)atol(optarg); break;
		case 'B': if (parse_behave(optarg, &opts) < 0) usage(); break;
		case 'T': opts.timeout = atof(optarg); break;
		case 'e': if (parse_expect(optarg, &opts) < 0) usage(); break;
		case 'p': opts.pid = atoi(optarg); break;
		case 'x': opts.nodelay = 1; break;
		case 'P': opts.probe = 0; break;
		default: usage();
		}
	}
	if (opts.socket_spec == NULL || opts.concurrency < 1 || opts.rcpts < 1
	    || opts.timeout <= 0 || (opts.total <= 0 && opts.duration <= 0))
		usage();
}

/* sleep_until - sleep to a monotonic time */
static void
sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)
	    == EINTR)
		;
}

/* worker_main - claim session numbers and run them until done */
static void *
worker_main(void *arg)
{
	ml_worker_t *w = arg;
	long n;

	pthread_barrier_wait(&start_line);
	for (;;) {
		n = __atomic_fetch_add(&next_session, 1, __ATOMIC_RELAXED);
		if (opts.total > 0 && n >= opts.total)
			break;
		if (opts.rate > 0)
			sleep_until(t_start + (double)n / opts.rate);
		if (opts.duration > 0 && ml_now() >= t_start + opts.duration)
			break;
		if (ml_session_run(w, n) == 0)
			__atomic_fetch_add(&done_ok, 1, __ATOMIC_RELAXED);
		else
			__atomic_fetch_add(&done_failed, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* raise_nofile - allow one milter + two loopback sockets per session */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* start_workers - one thread per concurrent session, small stacks */
static int
start_workers(pthread_t *tids, ml_worker_t **ws)
{
	pthread_attr_t attr;
	int i;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < opts.concurrency; i++) {
		ws[i] = ml_worker_new(&opts, i);
		if (ws[i] == NULL || pthread_create(&tids[i], &attr, worker_main,
		    ws[i]) != 0) {
			fprintf(stderr, "milterload: cannot start worker %d: %s\n",
			    i, strerror(errno));
			return -1;
		}
	}
	pthread_attr_destroy(&attr);
	return 0;
}

/* print_self_cpu - the driver's own CPU time, to tell it from the milter's */
static void
print_self_cpu(long sessions)
{
	struct rusage ru;
	double cpu;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return;
	cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
	    + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("driver   cpu %.2f s, %.3f cpu s per 1000 sessions\n", cpu,
	    sessions > 0 ? cpu * 1000.0 / sessions : 0.0);
}

int
main(int argc, char **argv)
{
	pthread_t *tids;
	ml_worker_t **ws;
	int i;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	tids = calloc((size_t)opts.concurrency, sizeof(*tids));
	ws = calloc((size_t)opts.concurrency, sizeof(*ws));
	if (tids == NULL || ws == NULL)
		return 1;
	pthread_barrier_init(&start_line, NULL, (unsigned)opts.concurrency + 1);
	if (start_workers(tids, ws) < 0)
		_exit(1);		/* threads wait on the barrier */
	ml_proc_start(opts.pid);
	t_start = ml_now();
	pthread_barrier_wait(&start_line);
	for (i = 0; i < opts.concurrency; i++)
		pthread_join(tids[i], NULL);
	t_end = ml_now();
	printf("milterload: %s, concurrency %d, body %zu bytes\n",
	    opts.socket_spec, opts.concurrency, opts.body_size);
	ml_stats_report(t_end - t_start, done_ok);
	ml_proc_report(opts.pid, done_ok + done_failed);
	print_self_cpu(done_ok + done_failed);
	printf("completed %ld failed %ld unexpected %ld\n", done_ok, done_failed,
	    ml_stats_counter("unexpected_reply"));
	for (i = 0; i < opts.concurrency; i++)
		ws[i] = ml_worker_free(ws[i]);
	free(ws);
	free(tids);
	if (ml_stats_counter("unexpected_reply") > 0)
		return 3;
	return done_failed > 0 ? 1 : 0;
}
