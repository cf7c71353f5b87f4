/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	bench_store_redis - decisions per second and latency, LMDB beside Redis
 * SYNOPSIS
 *	bench_store_redis [decisions [threads]]
 * DESCRIPTION
 *	Times store_check() at the first RCPT, each a new triplet (a write),
 *	from THREADS threads (default 4) for DECISIONS decisions (default
 *	20,000), first on LMDB in a temp directory, then on a private
 *	redis-server on loopback (state_backend = redis). Prints, for each,
 *	decisions per second (wall clock) and the latency of one decision
 *	at p50 and p99. Store level only: the daemon adds its milter
 *	protocol work on top, the same for both. For Redis it also prints
 *	the round trips per decision, counted by the server: the calls of
 *	the commands a client sends (INFO commandstats: MGET, EVALSHA,
 *	EVAL, SCRIPT; not the GET/SET a script runs) before and after the
 *	run, divided by the decisions, and the CPU time redis-server spent
 *	per decision (INFO cpu). Figures, never pass/fail.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>
#include "config.h"
#include "log.h"
#include "store.h"
#include "../unit/redis_fixture.h"

#define T0	1700000000LL

typedef struct {
	store_t *st;
	long	from, to;
	double *lat;
} job_t;

static const greylist_params_t P = {
	.delay = 300, .retry_window = 2 * 86400, .max_age = 30 * 86400,
	.tarpit_max_age = 30 * 86400, .retry_count = 2, .awl_clients = 5,
	.ipv4_prefix = 24, .ipv6_prefix = 64,
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
run(void *arg)
{
	job_t  *j = arg;
	char	from[64];
	greylist_result_t r;
	addr_t	a;

	for (long i = j->from; i < j->to; i++) {
		double	t;

		snprintf(from, sizeof(from), "s%ld@example.org", i);
		addr_parse(i % 2 ? "192.0.2.7" : "198.51.100.7", &a);
		t = now_s();
		store_check(j->st, &P, T0, &a, from, "r@example.net", GREYLIST_NO_TARPIT, &r);
		j->lat[i] = now_s() - t;
	}
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double	x = *(const double *) a, y = *(const double *) b;

	return x < y ? -1 : x > y;
}

static void
bench(const char *name, store_t *st, long n, int threads)
{
	double *lat = calloc((size_t) n, sizeof(*lat)), t;
	pthread_t th[64];
	job_t	j[64];

	t = now_s();
	for (int i = 0; i < threads; i++) {
		j[i] = (job_t) {st, n * i / threads, n * (i + 1) / threads, lat};
		pthread_create(&th[i], NULL, run, &j[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	t = now_s() - t;
	qsort(lat, (size_t) n, sizeof(*lat), cmp);
	printf("%-6s %8.0f decisions/s  p50 %7.3f ms  p99 %7.3f ms  (%ld new triplets, %d threads)\n",
	    name, n / t, lat[n / 2] * 1e3, lat[n * 99 / 100] * 1e3, n, threads);
	free(lat);
}

/* From the server's INFO SECTION, the sum of the numbers after NAMES. */
static double
server_sum(int port, const char *section, const char *const *names, size_t n)
{
	redisContext *c = redisConnect("127.0.0.1", port);
	redisReply *r = c && !c->err ? redisCommand(c, "INFO %s", section) : NULL;
	double	sum = 0;

	for (size_t i = 0; r && r->type == REDIS_REPLY_STRING && i < n; i++) {
		const char *at = strstr(r->str, names[i]);

		if (at != NULL)
			sum += atof(at + strlen(names[i]));
	}
	if (r)
		freeReplyObject(r);
	if (c)
		redisFree(c);
	return sum;
}

/* Calls of the commands a client sends; the server's CPU seconds. */
static void
server_counts(int port, double *calls, double *cpu)
{
	static const char *const sent[] = {"cmdstat_mget:calls=", "cmdstat_evalsha:calls=",
	    "cmdstat_eval:calls=", "cmdstat_script|load:calls=", "cmdstat_script:calls="};
	static const char *const used[] = {"used_cpu_sys:", "used_cpu_user:"};

	*calls = server_sum(port, "commandstats", sent, sizeof(sent) / sizeof(sent[0]));
	*cpu = server_sum(port, "cpu", used, sizeof(used) / sizeof(used[0]));
}

int
main(int argc, char **argv)
{
	long	n = argc > 1 ? atol(argv[1]) : 20000;
	int	threads = argc > 2 ? atoi(argv[2]) : 4;
	char	dir[] = "/tmp/bench_store_redis.XXXXXX", cmd[128], server[64];
	redis_fixture_t rf;
	config_t *cfg;
	store_t *st;

	if (n < 100 || threads < 1 || threads > 64 || mkdtemp(dir) == NULL)
		return 2;
	log_open("bench_store_redis", "mail", 1);
	if ((st = store_open(dir, 1UL << 30)) != NULL)
		bench("lmdb", st, n, threads);
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0 || redis_fixture_start(&rf, 0) != 0)
		return 1;
	snprintf(server, sizeof(server), "127.0.0.1:%d", rf.port);
	cfg = config_load("/nonexistent/targrey-milter.conf", 1, stderr);
	if (cfg && config_set(cfg, "state_backend", "redis", stderr) == 0
	    && config_set(cfg, "redis_server", server, stderr) == 0
	    && (st = store_open_config(cfg)) != NULL) {
		double	calls0, cpu0, calls1, cpu1;

		server_counts(rf.port, &calls0, &cpu0);
		bench("redis", st, n, threads);
		server_counts(rf.port, &calls1, &cpu1);
		printf("redis  %.2f round trips per decision (server-counted MGET/EVALSHA/EVAL/SCRIPT calls),"
		    " redis-server cpu %.1f us per decision\n",
		    (calls1 - calls0) / (double) n, (cpu1 - cpu0) * 1e6 / (double) n);
		store_close(st);
	}
	config_free(cfg);
	redis_fixture_stop(&rf);
	return 0;
}
