/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	bench_store - greylist decisions per second and bytes on disk
 * SYNOPSIS
 *	bench_store [triplets]
 * DESCRIPTION
 *	On one core, against a real LMDB in a temp directory, times
 *	store_check() (the milter's call at the first RCPT) in three
 *	phases over TRIPLETS distinct triplets (default 1,000,000) from
 *	4,096 client networks:
 *	  new        every decision greylists a new triplet (a write each)
 *	  retry      every decision is a counted retry (a write each)
 *	  passed     every decision finds a passed triplet (reads; a
 *	             last-seen write at most once a minute per triplet)
 *	then prints the data file's size on disk (allocated blocks) and
 *	per triplet. Each phase reports wall-clock and CPU-time rates: on
 *	a shared machine the CPU-time rate is the one-core figure. Figures
 *	only, never pass/fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "log.h"
#include "store.h"

#define T0	1700000000LL

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

#define FROM_MAX	64

/* Client addresses and senders of N triplets, made before timing. */
static void
triplets_make(long n, addr_t *a, char *from)
{
	char	text[32];

	for (long i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "10.%ld.%ld.%ld", (i >> 12) & 15, (i >> 4) & 255, i & 15);
		addr_parse(text, &a[i]);
		snprintf(from + i * FROM_MAX, FROM_MAX, "user%ld-news@sender%ld.example.com", i, i % 9973);
	}
}

/* One timed phase; returns decisions per second. */
static double
phase(store_t *st, const greylist_params_t *p, const char *name, long n,
      const addr_t *a, const char *from, int64_t now, greylist_verdict_t want)
{
	greylist_result_t r;
	double	t, cpu;
	long	bad = 0;

	t = clock_s(CLOCK_MONOTONIC);
	cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (long i = 0; i < n; i++)
		if (store_check(st, p, now, &a[i], from + i * FROM_MAX,
		    "postmaster@example.net", GREYLIST_NO_TARPIT, &r) != want)
			bad++;
	t = clock_s(CLOCK_MONOTONIC) - t;
	cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu;
	printf("bench-store: %-7s %8ld decisions in %6.2f s: %9.0f decisions/s "
	    "(%.2f s CPU: %.0f per CPU-second)%s\n", name, n, t, n / t, cpu, n / cpu,
	    bad ? " (UNEXPECTED VERDICTS)" : "");
	return n / t;
}

int
main(int argc, char **argv)
{
	greylist_params_t p = {.delay = 300, .retry_window = 2 * 86400,
	    .max_age = 30 * 86400, .tarpit_max_age = 30 * 86400,
	    .retry_count = 1, .awl_clients = 5, .ipv4_prefix = 24, .ipv6_prefix = 64};
	long	n = argc > 1 ? atol(argv[1]) : 1000000;
	char	dir[] = "/tmp/bench_store.XXXXXX", path[64], cmd[96];
	struct stat sb;
	store_t *st;
	addr_t *a;
	char   *from;

	if (mkdtemp(dir) == NULL || (st = store_open(dir, 4UL << 30)) == NULL) {
		fprintf(stderr, "bench-store: cannot open a store in /tmp\n");
		return 1;
	}
	if ((a = calloc((size_t) n, sizeof(*a))) == NULL
	    || (from = calloc((size_t) n, FROM_MAX)) == NULL) {
		fprintf(stderr, "bench-store: out of memory\n");
		return 1;
	}
	triplets_make(n, a, from);
	phase(st, &p, "new", n, a, from, T0, GREYLIST_GREYLIST);
	phase(st, &p, "retry", n, a, from, T0 + 400, GREYLIST_PASS_TRIPLET);
	phase(st, &p, "passed", n, a, from, T0 + 420, GREYLIST_PASS_TRIPLET);
	store_sync(st);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &sb) == 0)
		printf("bench-store: %ld triplets: data.mdb %lld bytes on disk "
		    "(apparent size %lld), %.1f bytes per triplet\n", n,
		    (long long) sb.st_blocks * 512, (long long) sb.st_size,
		    (double) sb.st_blocks * 512 / n);
	st = store_close(st);
	free(a);
	free(from);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
