/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	bench_metrics - cost of the metrics hooks per decision
 * DESCRIPTION
 *	Times one decision as the milter makes it at RCPT of a suspicious
 *	client: the decision line (log_decision() into /dev/null, in
 *	Postfix's maillog_file format), with the metrics off and on (the
 *	decision, greylist and S25R hooks; the hourly count runs in both),
 *	single-threaded and with two threads sharing the same series; then
 *	the three hooks alone (no log line, S25R's rule from a stack buffer
 *	as the milter's session passes it; then from one of 2048 heap
 *	buffers, a session's each), off and on, which is their cost
 *	without the noise of the log line; each the best of five runs, interleaved. Prints nanoseconds
 *	per decision and appends the figures to $BENCH_RESULTS (bench.am).
 * DIAGNOSTICS
 *	Exit 1 when /dev/null cannot be opened as the log file.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "log.h"
#include "metrics.h"
#include "metrics_hourly.h"

#define ROUNDS	100000

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One decision: the line, and the hooks when the metrics are on. */
static void
decide(int i)
{
	static const char *const reasons[] = {"new_client", "retry_counted", "too early"};
	log_fields_t f = {.queue_id = NULL, .action = "greylist", .reason = reasons[i % 3],
	    .client_name = "dyn-1-2-3-4.pool.example.net", .client_addr = "192.0.2.4",
	    .helo = "client.example.com", .from = "alice@example.com",
	    .to = "bob@example.org", .stage = "rcpt", .delay = 0.001};

	log_decision(&f);
	metrics_count_decision(f.stage, f.action, f.reason);
	metrics_count_greylist("greylist", f.reason, -1);
	metrics_hour_count(f.stage, f.action, f.reason);
	metrics_count_s25r(1, "s25r_rule_1");
}

/* The metrics hooks of one decision alone, with S25R's reason in a buffer. */
static void
hooks(int i)
{
	static const char *const reasons[] = {"new client", "retry-counted", "too early"};
	char	rule[32];

	snprintf(rule, sizeof(rule), "s25r_rule_%d", 1 + i % 2);
	metrics_count_decision("rcpt", "greylist", reasons[i % 3]);
	metrics_count_greylist("greylist", reasons[i % 3], -1);
	metrics_count_s25r(1, rule);
}

/* The same, the rule in one of many heap buffers (a session's each). */
#define HEAP_BUFFERS	2048
static char *heap_rule[HEAP_BUFFERS];

static void
hooks_heap(int i)
{
	static const char *const reasons[] = {"new client", "retry-counted", "too early"};

	metrics_count_decision("rcpt", "greylist", reasons[i % 3]);
	metrics_count_greylist("greylist", reasons[i % 3], -1);
	metrics_count_s25r(1, heap_rule[i % HEAP_BUFFERS]);
}

static void *
run(void *arg)
{
	void	(*step)(int) = *(void (**)(int)) arg;

	for (int i = 0; i < ROUNDS; i++)
		step(i);
	return NULL;
}

/* ns per call of STEP with THREADS threads. */
static double
measure_step(int threads, void (*step)(int))
{
	pthread_t t[2];
	double	t0 = now_ns();

	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, run, &step);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return (now_ns() - t0) / ROUNDS;	/* wall time per decision per thread */
}

static double
measure(int threads)
{
	return measure_step(threads, decide);
}

static void
note(const char *figure, double ns)
{
	const char *path = getenv("BENCH_RESULTS");
	FILE   *f;

	printf("figure: metrics\t%s\t%.0f\tns\n", figure, ns);
	if (path != NULL && (f = fopen(path, "a")) != NULL) {
		fprintf(f, "metrics\t%s\t%.0f\tns\n", figure, ns);
		fclose(f);
	}
}

int
main(void)
{
	double	off1 = 1e12, on1 = 1e12, off2 = 1e12, on2 = 1e12, t;
	double	h1 = 1e12, h2 = 1e12, h1off = 1e12, h2off = 1e12, heap1 = 1e12;

	if (log_open_file("/dev/null") < 0 || freopen("/dev/null", "w", stderr) == NULL)
		return 1;
	for (int i = 0; i < HEAP_BUFFERS; i++)
		if ((heap_rule[i] = malloc(32)) == NULL
		    || snprintf(heap_rule[i], 32, "s25r_rule_%d", 1 + i % 4) < 0)
			return 1;
	for (int round = 0; round < 5; round++) {
		metrics_set_enabled(0);
		if ((t = measure(1)) < off1)
			off1 = t;
		if ((t = measure(2)) < off2)
			off2 = t;
		if ((t = measure_step(1, hooks)) < h1off)
			h1off = t;
		if ((t = measure_step(2, hooks)) < h2off)
			h2off = t;
		metrics_set_enabled(1);
		if ((t = measure(1)) < on1)
			on1 = t;
		if ((t = measure(2)) < on2)
			on2 = t;
		if ((t = measure_step(1, hooks)) < h1)
			h1 = t;
		if ((t = measure_step(2, hooks)) < h2)
			h2 = t;
		if ((t = measure_step(1, hooks_heap)) < heap1)
			heap1 = t;
	}
	note("decision, metrics off (1 thread)", off1);
	note("decision, metrics on (1 thread)", on1);
	note("hooks' cost per decision (1 thread)", on1 - off1);
	note("decision, metrics off (2 threads)", off2);
	note("decision, metrics on (2 threads)", on2);
	note("hooks' cost per decision (2 threads)", on2 - off2);
	note("the three hooks alone, no log line, metrics off (1 thread)", h1off);
	note("the three hooks alone, no log line (1 thread)", h1);
	note("the three hooks alone, no log line, metrics off (2 threads)", h2off);
	note("the three hooks alone, no log line (2 threads)", h2);
	note("the three hooks alone, S25R rule in 2048 heap buffers (1 thread)", heap1);
	return 0;
}
