/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_metrics - unit tests for metrics.c
 * DESCRIPTION
 *	Counting through the hooks and reading the exposition as Prometheus
 *	would: exact values per label set, escapes, cumulative buckets, exact
 *	totals under concurrent writers, the Redis link's families, a reused buffer of label words
 *	counted by what it holds, not where it is, and a full series table that drops
 *	instead of crashing. The tests share the process-wide registry, so
 *	each uses its own label values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>
#include "metrics.h"
#include "metrics_redis.h"

/* The exposition as one string (the caller frees). */
static char *
render(void)
{
	char   *text = NULL;
	size_t	len = 0;
	FILE   *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_int_equal(metrics_write(out), 0);
	fclose(out);
	return text;
}

/* The value of the series LINE ("name{labels}"), or -1 when absent. */
static long long
value_of(const char *text, const char *series)
{
	size_t	n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return atoll(p + n + 1);
	return -1;
}

static void
expect(const char *text, const char *series, long long want)
{
	long long got = value_of(text, series);

	if (got != want)
		fail_msg("%s: got %lld, want %lld", series, got, want);
}

static void
test_disabled(void **state)
{
	char   *text;

	(void) state;
	metrics_set_enabled(0);
	metrics_count_decision("connect", "skip", "off_test");
	text = render();
	expect(text, "targrey_decisions_total{stage=\"connect\",action=\"skip\",reason=\"off_test\"}", -1);
	assert_non_null(strstr(text, "# TYPE targrey_decisions_total counter\n"));
	assert_non_null(strstr(text, "targrey_build_info{version=\""));
	free(text);
}

static void
test_decisions(void **state)
{
	char   *text;

	(void) state;
	metrics_set_enabled(1);
	for (int i = 0; i < 3; i++)
		metrics_count_decision("rcpt", "greylist", "new");
	metrics_count_decision("rcpt", "tarpit", "new");
	metrics_count_decision("mail", "reject", "odd\"re\\ason\nx");
	metrics_count_reload(1);
	metrics_count_reload(0);
	text = render();
	expect(text, "targrey_decisions_total{stage=\"rcpt\",action=\"greylist\",reason=\"new\"}", 3);
	expect(text, "targrey_decisions_total{stage=\"rcpt\",action=\"tarpit\",reason=\"new\"}", 1);
	expect(text, "targrey_decisions_total{stage=\"mail\",action=\"reject\",reason=\"odd\\\"re\\\\ason\\nx\"}", 1);
	expect(text, "targrey_reloads_total{result=\"ok\"}", 1);
	expect(text, "targrey_reloads_total{result=\"failed\"}", 1);
	free(text);
}

/* A value too long for the label buffer is cut, never the quoting. */
static void
test_long_value(void **state)
{
	char	reason[400], *text, *line;

	(void) state;
	metrics_set_enabled(1);
	memset(reason, '"', sizeof(reason) - 1);	/* every byte needs an escape */
	reason[sizeof(reason) - 1] = 0;
	metrics_count_decision("long", "value", reason);
	text = render();
	line = strstr(text, "targrey_decisions_total{stage=\"long\"");
	assert_non_null(line);
	*strchr(line, '\n') = 0;
	if (strlen(line) < 20 || strcmp(line + strlen(line) - 4, "\"} 1") != 0
	    || strstr(line, "\\\"\\\"\"}") == NULL)
		fail_msg("got %s, want a whole label set ending in \\\"\"} 1", line);
	free(text);
}

static void *
redis_other_thread(void *arg)
{
	(void) arg;
	metrics_redis_connect(1);	/* the connection that ends the outage */
	return NULL;
}

/*
 * The Redis families: absent until a link exists, then exact. The state
 * follows connections and commands, but a command failing on this
 * thread's connection from before another thread's reconnection (a
 * stale one) leaves it connected.
 */
static void
test_redis(void **state)
{
	static const struct {
		const char *series;
		long long value;
	} want[] = {
		{"targrey_redis_link_state{state=\"connecting\"}", 0},
		{"targrey_redis_link_state{state=\"connected\"}", 1},
		{"targrey_redis_link_state{state=\"reconnecting\"}", 0},
		{"targrey_redis_command_seconds_bucket{le=\"0.0001\"}", 1},
		{"targrey_redis_command_seconds_bucket{le=\"0.0025\"}", 1},
		{"targrey_redis_command_seconds_bucket{le=\"0.005\"}", 2},
		{"targrey_redis_command_seconds_bucket{le=\"0.5\"}", 2},
		{"targrey_redis_command_seconds_bucket{le=\"1\"}", 4},
		{"targrey_redis_command_seconds_count", 4},
		{"targrey_redis_command_failures_total", 2},
		{"targrey_redis_connects_total{result=\"ok\"}", 2},
		{"targrey_redis_connects_total{result=\"failed\"}", 1},
		{"targrey_redis_failovers_total", 1},
	};
	pthread_t t;
	char   *text;

	(void) state;
	metrics_set_enabled(1);
	text = render();
	assert_null(strstr(text, "targrey_redis_"));
	free(text);
	metrics_redis_link(METRICS_REDIS_CONNECTING);
	metrics_redis_connect(0);
	metrics_redis_connect(1);
	metrics_redis_command(80, 1);		/* 80 us */
	metrics_redis_command(3000, 1);		/* 3 ms */
	metrics_redis_command(600000, 0);	/* a timeout: the link is down */
	text = render();
	expect(text, "targrey_redis_link_state{state=\"reconnecting\"}", 1);
	free(text);
	assert_int_equal(pthread_create(&t, NULL, redis_other_thread, NULL), 0);
	pthread_join(t, NULL);
	metrics_redis_command(700000, 0);	/* this thread's stale connection */
	metrics_redis_failover();
	text = render();
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		expect(text, want[i].series, want[i].value);
	assert_non_null(strstr(text, "targrey_redis_command_seconds_sum 1.303080\n"));
	assert_non_null(strstr(text, "# TYPE targrey_redis_command_seconds histogram\n"));
	free(text);
}

static void
test_histogram(void **state)
{
	char   *text;

	(void) state;
	metrics_set_enabled(1);
	metrics_count_tarpit("passed", 7000);
	metrics_count_tarpit("passed", 125000);
	metrics_count_tarpit("disconnected", 500);
	text = render();
	expect(text, "targrey_tarpit_outcomes_total{outcome=\"passed\"}", 2);
	expect(text, "targrey_tarpit_outcomes_total{outcome=\"disconnected\"}", 1);
	expect(text, "targrey_tarpit_wait_seconds_bucket{le=\"1\"}", 1);
	expect(text, "targrey_tarpit_wait_seconds_bucket{le=\"5\"}", 1);
	expect(text, "targrey_tarpit_wait_seconds_bucket{le=\"10\"}", 2);
	expect(text, "targrey_tarpit_wait_seconds_bucket{le=\"180\"}", 3);
	expect(text, "targrey_tarpit_wait_seconds_bucket{le=\"+Inf\"}", 3);
	expect(text, "targrey_tarpit_wait_seconds_count", 3);
	assert_non_null(strstr(text, "targrey_tarpit_wait_seconds_sum 132.500000\n"));
	free(text);
}

#define THREADS	8
#define ROUNDS	20000

static void *
hammer(void *arg)
{
	static const char *const reasons[] = {"t0", "t1", "t2", "t3", "t4"};
	long	id = (long) arg;

	for (int i = 0; i < ROUNDS; i++)
		metrics_count_decision("thread", "count", reasons[(i + id) % 5]);
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t t[THREADS];
	char	series[128];
	char   *text;

	(void) state;
	metrics_set_enabled(1);
	for (long i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, (void *) i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	text = render();
	for (int r = 0; r < 5; r++) {
		snprintf(series, sizeof(series),
		    "targrey_decisions_total{stage=\"thread\",action=\"count\",reason=\"t%d\"}", r);
		expect(text, series, THREADS * ROUNDS / 5);
	}
	free(text);
}

/*
 * One buffer (as the session's S25R reason is) rewritten with other
 * words between calls: the call cache knows a call by the words'
 * addresses, and must still count each word in its own series; words
 * that name a table line count under the table.
 */
static void
test_reused_buffer(void **state)
{
	char	reason[64], series[160];
	char   *text;

	(void) state;
	metrics_set_enabled(1);
	for (int round = 0; round < 50; round++)
		for (int w = 0; w < 20; w++) {
			snprintf(reason, sizeof(reason), "reuse%d", w);
			metrics_count_decision("reuse", "x", reason);
			snprintf(reason, sizeof(reason), "reusetable:%d", round);
			metrics_count_s25r(1, reason);
		}
	text = render();
	for (int w = 0; w < 20; w++) {
		snprintf(series, sizeof(series),
		    "targrey_decisions_total{stage=\"reuse\",action=\"x\",reason=\"reuse%d\"}", w);
		expect(text, series, 50);
	}
	expect(text, "targrey_s25r_results_total{result=\"suspicious\",rule=\"reusetable\"}", 1000);
	free(text);
}

/* Words in many buffers (one per session, as the milter's are), each
 * counted in its series, however many addresses the cache sees. */
static void
test_many_buffers(void **state)
{
	static const char *const words[] = {"heap_a", "heap_b:3", "heap_c", "heap_b:9"};
	enum { BUFFERS = 3000 };
	char   *buf[BUFFERS], *text;

	(void) state;
	metrics_set_enabled(1);
	for (int i = 0; i < BUFFERS; i++) {
		assert_non_null(buf[i] = malloc(16));
		snprintf(buf[i], 16, "%s", words[i % 4]);
	}
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < BUFFERS; i++)
			metrics_count_decision("heap", "x", buf[i]);
	for (int i = 0; i < BUFFERS; i++)
		free(buf[i]);
	text = render();
	expect(text, "targrey_decisions_total{stage=\"heap\",action=\"x\",reason=\"heap_a\"}", 2250);
	expect(text, "targrey_decisions_total{stage=\"heap\",action=\"x\",reason=\"heap_b\"}", 4500);
	expect(text, "targrey_decisions_total{stage=\"heap\",action=\"x\",reason=\"heap_c\"}", 2250);
	free(text);
}

static void
test_full_table(void **state)
{
	char	reason[32];
	char   *text;
	long long before;

	(void) state;
	metrics_set_enabled(1);
	text = render();
	before = value_of(text, "targrey_metrics_dropped_total");
	free(text);
	for (int i = 0; i < METRICS_SERIES + 10; i++) {
		snprintf(reason, sizeof(reason), "many%d", i);
		metrics_count_decision("full", "x", reason);
	}
	text = render();
	assert_true(value_of(text, "targrey_metrics_dropped_total") >= before + 10);
	expect(text, "targrey_decisions_total{stage=\"rcpt\",action=\"greylist\",reason=\"new\"}", 3);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_long_value),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_redis),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_reused_buffer),
		cmocka_unit_test(test_many_buffers),
		cmocka_unit_test(test_full_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
