/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ml_stats.c - latency histograms, reply counts and /proc figures
 * DESCRIPTION
 *	Latencies go into log-linear histograms (32 sub-buckets per power
 *	of two of nanoseconds, about 3% precision) updated with relaxed
 *	atomics, so worker threads share them without locks. Percentiles are
 *	read from the histograms at the end.
 *
 *	With the milter's pid, ml_proc_start() samples /proc/PID/stat and a
 *	sampler thread tracks the peak thread count and RSS; ml_proc_report()
 *	prints CPU seconds per 1,000 sessions, VmHWM and the thread peak.
 * DIAGNOSTICS
 *	Missing /proc entries are reported as "n/a".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ml.h"

#define ML_HSUB		32
#define ML_HBUCKETS	(64 + 40 * ML_HSUB)

typedef struct {
	uint64_t b[ML_HBUCKETS];
	uint64_t n, max;
} ml_hist_t;

static ml_hist_t ml_lat[ML_ST_COUNT];
static ml_hist_t ml_take[ML_ST_COUNT];
static ml_hist_t ml_after;
static uint64_t ml_replies[ML_ST_COUNT][ML_R_COUNT];

static const char *ml_stage_names[ML_ST_COUNT] = {
	"optneg", "connect", "helo", "mail", "rcpt", "data", "header",
	"eoh", "body", "eom", "session",
};
static const char *ml_reply_names[ML_R_COUNT] = {
	"continue", "accept", "reject", "tempfail", "reply4xx", "reply5xx",
	"discard", "skip", "shutdown", "connfail", "progress", "addheader",
	"insheader", "chgheader", "othermod", "timeout", "error",
};

/* Named counters (errors, behaviour outcomes), a short fixed table. */
#define ML_NCOUNTERS 16
static struct { const char *name; uint64_t n; } ml_counters[ML_NCOUNTERS];
static pthread_mutex_t ml_counter_lock = PTHREAD_MUTEX_INITIALIZER;

/* ml_now - monotonic seconds */
double
ml_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ml_hist_index - bucket of a value in nanoseconds */
static int
ml_hist_index(uint64_t v)
{
	int msb, e;

	if (v < 2 * ML_HSUB)
		return (int)v;
	msb = 63 - __builtin_clzll(v);
	e = msb - 5;			/* v >> e is in [32, 63] */
	if (e > 40)
		return ML_HBUCKETS - 1;
	return 64 + (e - 1) * ML_HSUB + (int)((v >> e) - ML_HSUB);
}

/* ml_hist_value - middle of a bucket, in nanoseconds */
static double
ml_hist_value(int i)
{
	int e;

	if (i < 2 * ML_HSUB)
		return i;
	e = (i - 64) / ML_HSUB + 1;
	return (double)(((uint64_t)((i - 64) % ML_HSUB + ML_HSUB)) << e)
	    + (double)(1ULL << e) / 2;
}

/* ml_hist_add - record one value in seconds */
static void
ml_hist_add(ml_hist_t *h, double sec)
{
	uint64_t v = sec > 0 ? (uint64_t)(sec * 1e9) : 0, m;

	__atomic_fetch_add(&h->b[ml_hist_index(v)], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->n, 1, __ATOMIC_RELAXED);
	m = __atomic_load_n(&h->max, __ATOMIC_RELAXED);
	while (v > m && !__atomic_compare_exchange_n(&h->max, &m, v, 0,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* ml_hist_pct - the q-quantile in milliseconds */
static double
ml_hist_pct(const ml_hist_t *h, double q)
{
	uint64_t want = (uint64_t)(q * (double)h->n), seen = 0;
	int i;

	if (want >= h->n)
		want = h->n - 1;
	for (i = 0; i < ML_HBUCKETS; i++) {
		seen += h->b[i];
		if (seen > want)
			return ml_hist_value(i) / 1e6;
	}
	return h->max / 1e6;
}

/* ml_stats_record - latency of one stage */
void
ml_stats_record(ml_stage_t st, double sec)
{
	ml_hist_add(&ml_lat[st], sec);
}

/* ml_stats_take - wait before the milter read the command */
void
ml_stats_take(ml_stage_t st, double sec)
{
	ml_hist_add(&ml_take[st], sec);
}

/* ml_stats_after - reply delay after the client's disconnect or pipelining */
void
ml_stats_after(double sec)
{
	ml_hist_add(&ml_after, sec);
}

/* ml_stats_reply - count one reply packet at a stage */
void
ml_stats_reply(ml_stage_t st, ml_reply_t r)
{
	__atomic_fetch_add(&ml_replies[st][r], 1, __ATOMIC_RELAXED);
}

/* ml_stats_count - bump a named counter */
void
ml_stats_count(const char *name)
{
	int i;

	pthread_mutex_lock(&ml_counter_lock);
	for (i = 0; i < ML_NCOUNTERS; i++) {
		if (ml_counters[i].name == NULL)
			ml_counters[i].name = name;
		if (strcmp(ml_counters[i].name, name) == 0) {
			ml_counters[i].n++;
			break;
		}
	}
	pthread_mutex_unlock(&ml_counter_lock);
}

/* ml_stats_counter - value of a named counter */
long
ml_stats_counter(const char *name)
{
	int i;

	for (i = 0; i < ML_NCOUNTERS && ml_counters[i].name; i++)
		if (strcmp(ml_counters[i].name, name) == 0)
			return (long)ml_counters[i].n;
	return 0;
}

/* ml_reply_kind - classify a reply packet */
ml_reply_t
ml_reply_kind(int cmd, const unsigned char *data, size_t len)
{
	switch (cmd) {
	case 'c': return ML_R_CONTINUE;
	case 'a': return ML_R_ACCEPT;
	case 'r': return ML_R_REJECT;
	case 't': return ML_R_TEMPFAIL;
	case 'y': return len > 0 && data[0] == '4' ? ML_R_REPLY4 : ML_R_REPLY5;
	case 'd': return ML_R_DISCARD;
	case 's': return ML_R_SKIP;
	case '4': return ML_R_SHUTDOWN;
	case 'f': return ML_R_CONNFAIL;
	case 'p': return ML_R_PROGRESS;
	case 'h': return ML_R_ADDHEADER;
	case 'i': return ML_R_INSHEADER;
	case 'm': return ML_R_CHGHEADER;
	case '+': case '-': case '2': case 'b': case 'e': case 'q':
		return ML_R_OTHERMOD;
	default: return ML_R_ERROR;
	}
}

/* ml_stage_name - printable stage */
const char *
ml_stage_name(ml_stage_t st)
{
	return ml_stage_names[st];
}

/* ml_reply_name - printable reply kind */
const char *
ml_reply_name(ml_reply_t r)
{
	return ml_reply_names[r];
}

/* ml_print_hist - one table row */
static void
ml_print_hist(const char *what, const char *stage, const ml_hist_t *h)
{
	if (h->n == 0)
		return;
	printf("%-8s %-8s %9llu %9.3f %9.3f %9.3f %10.3f\n", what, stage,
	    (unsigned long long)h->n, ml_hist_pct(h, 0.5),
	    ml_hist_pct(h, 0.99), ml_hist_pct(h, 0.999), h->max / 1e6);
}

/* ml_stats_report - print the latency tables and reply counts */
void
ml_stats_report(double elapsed, long sessions)
{
	int st, r, i;

	printf("sessions %ld in %.3f s: %.1f sessions/s\n", sessions, elapsed,
	    elapsed > 0 ? sessions / elapsed : 0.0);
	printf("%-8s %-8s %9s %9s %9s %9s %10s\n", "latency", "stage", "n",
	    "p50 ms", "p99 ms", "p99.9 ms", "max ms");
	for (st = 0; st < ML_ST_COUNT; st++)
		ml_print_hist("reply", ml_stage_names[st], &ml_lat[st]);
	for (st = 0; st < ML_ST_COUNT; st++)
		ml_print_hist("take", ml_stage_names[st], &ml_take[st]);
	ml_print_hist("after", "action", &ml_after);
	printf("(reply: command sent to final reply; take: sent to read by the "
	    "milter, TCP only, +1 ms or +10%%; after: client action to reply)\n");
	for (st = 0; st < ML_ST_COUNT; st++) {
		int any = 0;

		for (r = 0; r < ML_R_COUNT; r++) {
			if (ml_replies[st][r] == 0)
				continue;
			printf("%s%s=%llu", any ? " " : "replies  ",
			    ml_reply_names[r],
			    (unsigned long long)ml_replies[st][r]);
			any = 1;
		}
		if (any)
			printf("  (%s)\n", ml_stage_names[st]);
	}
	for (i = 0; i < ML_NCOUNTERS && ml_counters[i].name; i++)
		printf("count    %s=%llu\n", ml_counters[i].name,
		    (unsigned long long)ml_counters[i].n);
}

/* /proc sampling of the milter process */
static struct {
	int	pid;
	double	cpu0;
	long	threads_peak, rss_peak;
	pthread_t tid;
	int	running;
} ml_proc;

/* ml_proc_cpu - utime + stime of pid in seconds, or -1 */
static double
ml_proc_cpu(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return -1;
	/* after ") ": state is field 3; utime and stime are 14 and 15 */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ml_proc_status - a "Key:" number from /proc/PID/status, or -1 */
static long
ml_proc_status(int pid, const char *key)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* ml_proc_sampler - track peak threads and RSS every 50 ms */
static void *
ml_proc_sampler(void *arg)
{
	long t, r;

	(void)arg;
	while (__atomic_load_n(&ml_proc.running, __ATOMIC_RELAXED)) {
		t = ml_proc_status(ml_proc.pid, "Threads");
		r = ml_proc_status(ml_proc.pid, "VmRSS");
		if (t > ml_proc.threads_peak)
			ml_proc.threads_peak = t;
		if (r > ml_proc.rss_peak)
			ml_proc.rss_peak = r;
		usleep(50000);
	}
	return NULL;
}

/* ml_proc_start - remember the milter's CPU time, start sampling */
void
ml_proc_start(int pid)
{
	if (pid <= 0)
		return;
	ml_proc.pid = pid;
	ml_proc.cpu0 = ml_proc_cpu(pid);
	ml_proc.running = 1;
	if (pthread_create(&ml_proc.tid, NULL, ml_proc_sampler, NULL) != 0)
		ml_proc.running = 0;
}

/* ml_proc_report - print the milter's CPU, memory and thread figures */
void
ml_proc_report(int pid, long sessions)
{
	double cpu;

	if (pid <= 0)
		return;
	if (__atomic_exchange_n(&ml_proc.running, 0, __ATOMIC_RELAXED))
		pthread_join(ml_proc.tid, NULL);
	cpu = ml_proc_cpu(pid);
	if (cpu < 0 || ml_proc.cpu0 < 0) {
		printf("milter   pid %d: n/a (no /proc entry)\n", pid);
		return;
	}
	printf("milter   pid %d: cpu %.2f s, %.3f cpu s per 1000 sessions, "
	    "VmHWM %ld kB, peak RSS seen %ld kB, threads now %ld peak %ld\n",
	    pid, cpu - ml_proc.cpu0, sessions > 0 ?
	    (cpu - ml_proc.cpu0) * 1000.0 / sessions : 0.0,
	    ml_proc_status(pid, "VmHWM"), ml_proc.rss_peak,
	    ml_proc_status(pid, "Threads"), ml_proc.threads_peak);
}
