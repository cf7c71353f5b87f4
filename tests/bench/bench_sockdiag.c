/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	bench_sockdiag - cost of a socket probe and of a waiting tarpit
 * SYNOPSIS
 *	bench_sockdiag [-n probes] [-c extra_connections] [-t tarpits]
 * DESCRIPTION
 *	Probe latency (microseconds, p50/p99/max) of sockdiag_probe() on
 *	one thread's reused netlink socket: a live connection (ESTABLISHED),
 *	a 4-tuple that only matches a listener (LISTEN), and one that
 *	matches nothing (ENOENT); the first with C extra loopback
 *	connections open, to show the lookup does not grow with them.
 *	Then T threads each run a 3 s tarpit_wait() probing every 250 ms
 *	(no progress calls): the process CPU time used in the middle second,
 *	when no thread starts or ends - the cost of waiting tarpits. Last,
 *	T tarpits whose clients close one after the other over one second:
 *	the time from each FIN to the end of its tarpit (p50/p99/max).
 *	Figures only, never pass/fail.
 */
#include "autoconfig.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include "loopconn.h"
#include "sockdiag.h"
#include "tarpit.h"

static int opt_n = 100000, opt_extra = 1000, opt_tarpits = 200;

/* now_ns - monotonic nanoseconds */
static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* cmp_i64 - qsort order */
static int
cmp_i64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *) a, y = *(const int64_t *) b;

	return (x > y) - (x < y);
}

/* bench_probe - N probes of T; print the latency distribution */
static void
bench_probe(const char *label, const sockdiag_tuple_t *t, int want_rc)
{
	int64_t	*v = malloc(opt_n * sizeof(*v)), t0;
	sockdiag_info_t info;
	int	i, bad = 0;

	if (v == NULL)
		return;
	for (i = 0; i < opt_n; i++) {
		t0 = now_ns();
		bad += sockdiag_probe(t, &info) != want_rc;
		v[i] = now_ns() - t0;
	}
	qsort(v, opt_n, sizeof(*v), cmp_i64);
	printf("probe %-28s n=%d  p50=%6.2f us  p99=%6.2f us  max=%8.2f us%s\n",
	       label, opt_n, v[opt_n / 2] / 1000.0, v[(opt_n * 99) / 100] / 1000.0,
	       v[opt_n - 1] / 1000.0, bad ? "  (unexpected answers!)" : "");
	free(v);
}

/* tarpit_thread - one 3 s tarpit on the given connection */
static void *
tarpit_thread(void *arg)
{
	tarpit_req_t req = {3000, 250, 1000, 1, arg, NULL, NULL, 0};
	tarpit_result_t res;

	tarpit_wait(&req, &res);
	return res.outcome == TARPIT_PASSED ? arg : NULL;
}

/* cpu_us - user + system CPU time of the process */
static int64_t
cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (int64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000
	    + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* bench_tarpits - CPU used by T concurrent waiting tarpits */
static void
bench_tarpits(void)
{
	loopconn_t *lc = calloc(opt_tarpits, sizeof(*lc));
	pthread_t *tid = calloc(opt_tarpits, sizeof(*tid));
	pthread_attr_t attr;
	int64_t	c0, c1, t0;
	double	wall;
	void   *ok;
	int	i, n = 0, passed = 0;

	if (lc == NULL || tid == NULL)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (n = 0; n < opt_tarpits && loopconn_open(lc + n, AF_INET) == 0; n++)
		;
	for (i = 0; i < n; i++)
		pthread_create(tid + i, &attr, tarpit_thread, &lc[i].tuple);
	/* the middle of the waits: no thread creation or exit in the figure */
	usleep(1000000);
	c0 = cpu_us();
	t0 = now_ns();
	usleep(1000000);
	c1 = cpu_us() - c0;
	wall = (now_ns() - t0) / 1e9;
	for (i = 0; i < n; i++) {
		pthread_join(tid[i], &ok);
		passed += ok != NULL;
	}
	printf("tarpits: %d concurrent 3 s waits (probe every 250 ms): %d passed; "
	       "mid-wait CPU %.2f ms per %.2f s = %.2f us per tarpit-second\n",
	       n, passed, c1 / 1000.0, wall, c1 / (n * wall));
	for (i = 0; i < n; i++)
		loopconn_close(lc + i);
	free(lc), free(tid);
}

typedef struct {
	loopconn_t lc;
	int64_t	closed_ns;	/* when the client closed */
	int64_t	ended_ns;	/* when tarpit_wait() returned */
	int	outcome;
} detect_t;

/* detect_thread - a 20 s tarpit that should end with the client's close */
static void *
detect_thread(void *arg)
{
	detect_t *d = arg;
	tarpit_req_t req = {20000, 250, 10000, 1, &d->lc.tuple, NULL, NULL, 0};
	tarpit_result_t res;

	tarpit_wait(&req, &res);
	d->ended_ns = now_ns();
	d->outcome = res.outcome;
	return NULL;
}

/* bench_detect - time from a client's FIN to the end of its tarpit */
static void
bench_detect(void)
{
	detect_t *d = calloc(opt_tarpits, sizeof(*d));
	pthread_t *tid = calloc(opt_tarpits, sizeof(*tid));
	int64_t	*v = calloc(opt_tarpits, sizeof(*v));
	int	i, n, m = 0;

	if (d == NULL || tid == NULL || v == NULL)
		return;
	for (n = 0; n < opt_tarpits && loopconn_open(&d[n].lc, AF_INET) == 0; n++)
		;
	for (i = 0; i < n; i++)
		pthread_create(tid + i, NULL, detect_thread, d + i);
	usleep(500000);
	for (i = 0; i < n; i++) {	/* spread the closes over 1 s */
		d[i].closed_ns = now_ns();
		shutdown(d[i].lc.client, SHUT_WR);
		usleep(1000000 / n);
	}
	for (i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		if (d[i].outcome == TARPIT_DISCONNECTED)
			v[m++] = d[i].ended_ns - d[i].closed_ns;
		loopconn_close(&d[i].lc);
	}
	qsort(v, m, sizeof(*v), cmp_i64);
	if (m > 0)
		printf("detection after FIN: %d/%d detected, p50=%.1f ms p99=%.1f ms "
		       "max=%.1f ms (poll interval 250 ms)\n", m, n, v[m / 2] / 1e6,
		       v[(m * 99) / 100] / 1e6, v[m - 1] / 1e6);
	free(d), free(tid), free(v);
}

int
main(int argc, char **argv)
{
	loopconn_t main_lc, *extra;
	sockdiag_tuple_t t;
	int	c, i, n;

	while ((c = getopt(argc, argv, "n:c:t:")) != -1) {
		switch (c) {
		case 'n': opt_n = atoi(optarg); break;
		case 'c': opt_extra = atoi(optarg); break;
		case 't': opt_tarpits = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench_sockdiag [-n probes] [-c conns] [-t tarpits]\n");
			return 2;
		}
	}
	if (opt_n < 100 || opt_extra < 0 || opt_tarpits < 1
	    || loopconn_open(&main_lc, AF_INET) < 0)
		return 2;
	bench_probe("ESTABLISHED (1 conn)", &main_lc.tuple, 0);
	t = main_lc.tuple;
	t.remote_port = t.remote_port == 65535 ? 1 : t.remote_port + 1;
	bench_probe("LISTEN (listener match)", &t, 0);
	t.local_port = t.local_port == 65535 ? 1 : t.local_port + 1;
	bench_probe("ENOENT (no match)", &t, -ENOENT);
	extra = calloc(opt_extra + 1, sizeof(*extra));
	for (n = 0; extra && n < opt_extra && loopconn_open(extra + n, AF_INET) == 0; n++)
		;
	printf("(%d more loopback connections open)\n", n);
	bench_probe("ESTABLISHED (many conns)", &main_lc.tuple, 0);
	for (i = 0; i < n; i++)
		loopconn_close(extra + i);
	free(extra);
	loopconn_close(&main_lc);
	bench_tarpits();
	bench_detect();
	return 0;
}
