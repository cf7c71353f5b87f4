/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	bench_s25r - S25R classifications per second on one core
 * SYNOPSIS
 *	bench_s25r [SRCDIR] [SECONDS]
 * DESCRIPTION
 *	Classifies a fixed mix of realistic client names (Japanese and
 *	other ISP pools, big senders, clean servers, [IP]) in a loop on one
 *	thread and prints names per second of CPU time for:
 *	- the built-in rules alone (no tables),
 *	- the shipped defaults (builtin:s25r_whitelist) plus the taRgrey
 *	  table conf/permit_client_nots25r as regexp: and as pcre:.
 *	Figures only; it never fails on time.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "config.h"
#include "s25r.h"

static const char *const bench_names[] = {
	"p2213-ipngn100101sapodori.hokkaido.ocn.ne.jp",
	"softbank126012345678.bbtec.net",
	"i219-167-45-78.s42.a014.ap.plala.or.jp",
	"KD106154071089.ppp-bb.dion.ne.jp",
	"FL1-122-133-45-6.tky.mesh.ad.jp",
	"zaq3a55e1c9.zaq.ne.jp",
	"c-73-15-200-1.hsd1.ca.comcast.net",
	"pool-71-105-3-4.nycmny.fios.verizon.net",
	"p5dd1a2b3.dip0.t-ipconnect.de",
	"42.red-80-39-27.dynamicip.rima-tde.net",
	"adsl-75-18-1-2.dsl.snfcca.sbcglobal.net",
	"dhcp-10-20.wifi.example.edu",
	"ec2-3-4-5-6.compute-1.amazonaws.com",
	"1.2.3.4.bc.googleusercontent.com",
	"mail-ed1-f41.google.com",
	"mail-tyzapc01on2095.outbound.protection.outlook.com",
	"sonic301-20.consmr.mail.ne1.yahoo.com",
	"e226-55.smtp-out.us-west-2.amazonses.com",
	"m228-4.mailgun.net",
	"mail.example.com",
	"mx1.example.co.jp",
	"smtp.university.ac.jp",
	"relay-out.example.de",
	"[192.0.2.1]",
	"[2001:db8::1]",
	"mail2.tokyo.example.co.jp",
	"ns.example.org",
	"mta-out.example.net",
};
#define BENCH_NNAMES	(sizeof(bench_names) / sizeof(bench_names[0]))

/* Clean names: every rule runs and fails (the slowest case). */
static const char *const bench_clean[] = {
	"mail.example.com", "mx1.example.co.jp", "smtp.university.ac.jp", "relay-out.example.de",
	"mail2.tokyo.example.co.jp", "ns.example.org", "mta-out.example.net", "post.city.example.jp",
};
#define BENCH_NCLEAN	(sizeof(bench_clean) / sizeof(bench_clean[0]))

/* This thread's CPU time in seconds. */
static double
bench_cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Classify for about SECONDS of CPU time; print the rate. */
static void
bench_run(const char *label, const char *const *overrides, double seconds,
	  const char *const *names, size_t nnames)
{
	config_t *cfg = config_load(NULL, 1, stderr);
	s25r_verdict_t v;
	char	why[512];
	s25r_t *s;
	double	start, used;
	unsigned long n = 0, suspicious = 0;

	for (; overrides && overrides[0]; overrides += 2)
		if (cfg == NULL || config_set(cfg, overrides[0], overrides[1], stderr) < 0)
			exit(1);
	if ((s = s25r_create(cfg, NULL, why, sizeof(why))) == NULL) {
		fprintf(stderr, "bench_s25r: %s\n", why);
		exit(1);
	}
	start = bench_cpu_seconds();
	do {
		for (int k = 0; k < 1000; k++, n++)
			suspicious += (unsigned long) s25r_classify(s, names[n % nnames], NULL, &v);
	} while ((used = bench_cpu_seconds() - start) < seconds);
	printf("%-48s %10.0f names/s/core (%lu names, %.0f%% suspicious)\n", label,
	    (double) n / used, n, 100.0 * (double) suspicious / (double) n);
	s25r_free(s);
	config_free(cfg);
}

/* Run each configuration for SECONDS (default 2) of CPU time. */
int
main(int argc, char **argv)
{
	const char *srcdir = argc > 1 ? argv[1] : ".";
	double	seconds = argc > 2 ? atof(argv[2]) : 2.0;
	char	re[1024], pc[1024];
	uint32_t jit = 0;

	pcre2_config(PCRE2_CONFIG_JIT, &jit);
	printf("bench_s25r: PCRE2 JIT %s, %zu different names\n",
	    jit ? "available" : "NOT available", BENCH_NNAMES);
	snprintf(re, sizeof(re), "regexp:%s/conf/permit_client_nots25r", srcdir);
	snprintf(pc, sizeof(pc), "pcre:%s/conf/permit_client_nots25r", srcdir);
	{
		const char *ov[] = {"s25r_whitelist", "", NULL};

		bench_run("built-in rules only", ov, seconds, bench_names, BENCH_NNAMES);
		bench_run("built-in rules only, clean names (all 6 run)", ov, seconds,
		    bench_clean, BENCH_NCLEAN);
	}
	bench_run("built-in rules + builtin:s25r_whitelist", NULL, seconds,
	    bench_names, BENCH_NNAMES);
	{
		const char *ov[] = {"s25r_client_access", re, NULL};

		bench_run("+ regexp:permit_client_nots25r (POSIX)", ov, seconds,
		    bench_names, BENCH_NNAMES);
	}
	{
		const char *ov[] = {"s25r_client_access", pc, NULL};

		bench_run("+ pcre:permit_client_nots25r (PCRE2 JIT)", ov, seconds,
		    bench_names, BENCH_NNAMES);
	}
	return 0;
}
