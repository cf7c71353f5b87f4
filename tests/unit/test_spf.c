/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_spf - unit tests for SPF checks (spf.c, spf_check.c, spf_layer.c)
 * DESCRIPTION
 *	Checks run against in-memory zones through the real code path:
 *	the whole-check lookup budget (the exponential include tree of
 *	7,381 records must stop at the limit with a permerror after a
 *	bounded number of queries), the void-lookup limit, MX follow-up
 *	lookups that are not terms, the deadline against a name server
 *	that never answers, IPv4-mapped clients, broken records never
 *	reaching libspf2, the null sender; four threads sharing one checker
 *	and a small cache (eviction while others read).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <spf2/spf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>
#include "config.h"
#include "dns.h"
#include "log.h"
#include "spf.h"
#include "spf_int.h"

typedef struct {
	config_t *cfg;
	dns_t  *dns;
	spf_t  *spf;
} fix_t;

/* A zone resolver and an SPF checker over it. */
static fix_t *
fix_new(void)
{
	dns_opts_t opts = {.zone_mode = 1, .cache_size = 1000, .max_ttl_ms = 60000,
	    .negative_ttl_ms = 1000};
	fix_t  *f = calloc(1, sizeof(*f));
	char	err[256];

	assert_non_null(f);
	assert_non_null(f->cfg = config_load(NULL, 1, stderr));
	assert_non_null(f->dns = dns_create(&opts, err, sizeof(err)));
	return f;
}

static void
fix_txt(fix_t *f, const char *name, const char *txt)
{
	assert_int_equal(dns_zone_add(f->dns, name, DNS_T_TXT, 300, txt, strlen(txt), 0), 0);
}

static void
fix_a(fix_t *f, const char *name, const char *ip)
{
	addr_t	a;

	assert_int_equal(addr_parse(ip, &a), 0);
	assert_int_equal(dns_zone_add(f->dns, name, a.family == AF_INET ? DNS_T_A
	    : DNS_T_AAAA, 300, a.bytes, a.family == AF_INET ? 4 : 16, 0), 0);
}

/* Run a MAIL FROM check of SENDER from IP (creates the checker once). */
static spf_check_t *
fix_check(fix_t *f, const char *ip, const char *helo, const char *sender)
{
	static spf_check_t c;
	char	err[256];
	addr_t	a;

	if (f->spf == NULL)
		assert_non_null(f->spf = spf_create_dns(f->cfg, f->dns, err, sizeof(err)));
	assert_int_equal(addr_parse(ip, &a), 0);
	assert_int_equal(spf_check_mailfrom(f->spf, &a, helo, sender, &c), 0);
	return &c;
}

static void
fix_free(fix_t *f)
{
	spf_free(f->spf);
	dns_free(f->dns);
	config_free(f->cfg);
	free(f);
}

/* Publish a tree of DEPTH levels with WIDTH includes per record under NAME. */
static void
tree_add(fix_t *f, const char *name, int depth, int width)
{
	char	rec[2048], child[256];
	size_t	o;
	int	i;

	o = (size_t)snprintf(rec, sizeof(rec), "v=spf1");
	for (i = 1; depth > 0 && i <= width; i++) {
		snprintf(child, sizeof(child), "n%d.%s", i, name);
		o += (size_t)snprintf(rec + o, sizeof(rec) - o, " include:%s", child);
		tree_add(f, child, depth - 1, width);
	}
	snprintf(rec + o, sizeof(rec) - o, " -all");
	fix_txt(f, name, rec);
}

static void
test_budget_tree(void **state)
{
	fix_t  *f = fix_new();
	spf_check_t *c;

	(void)state;
	tree_add(f, "tree.example", 4, 9);	/* 1 + 9 + 81 + 729 + 6561 records */
	c = fix_check(f, "192.0.2.1", "mail.example", "x@tree.example");
	if (c->result != SPF_RES_PERMERROR)
		fail_msg("got %s (%s), want permerror", spf_result_name(c->result), c->reason);
	assert_string_equal(c->reason, "too many DNS lookups");
	/* The record itself, then 10 includes; the 11th is never asked. */
	if (c->queries != 11)
		fail_msg("queries: got %u, want 11", c->queries);
	fix_free(f);
}

static void
test_budget_limit(void **state)
{
	static const struct {
		const char *rec;
		spf_res_t want;
	} cases[] = {
		{"v=spf1 a:h1.b.example a:h2.b.example a:h3.b.example a:h4.b.example "
		 "a:h5.b.example mx:h6.b.example a:h7.b.example a:h8.b.example "
		 "a:h9.b.example a:h10.b.example ip4:192.0.2.1 -all", SPF_RES_PASS},
		{"v=spf1 a:h1.b.example a:h2.b.example a:h3.b.example a:h4.b.example "
		 "a:h5.b.example mx:h6.b.example a:h7.b.example a:h8.b.example "
		 "a:h9.b.example a:h10.b.example a:h11.b.example ip4:192.0.2.1 -all",
		 SPF_RES_PERMERROR},
		{"v=spf1 a:n1.b.example a:n2.b.example ip4:192.0.2.1 -all", SPF_RES_PASS},
		{"v=spf1 a:n1.b.example a:n2.b.example a:n3.b.example ip4:192.0.2.1 -all",
		 SPF_RES_PERMERROR},
		{"v=spf1 mx:m.b.example -all", SPF_RES_PASS},
	};
	spf_check_t *c;
	char	name[64];
	size_t	i;
	int	h;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fix_t  *f = fix_new();
		for (h = 1; h <= 11; h++) {
			snprintf(name, sizeof(name), "h%d.b.example", h);
			fix_a(f, name, "198.51.100.1");
		}
		for (h = 1; h <= 9; h++) {	/* nine MX hosts: not terms */
			snprintf(name, sizeof(name), "mx%d.b.example", h);
			fix_a(f, name, h == 9 ? "192.0.2.1" : "198.51.100.1");
			dns_zone_add(f->dns, "m.b.example", DNS_T_MX, 300, name, strlen(name),
			    (unsigned)h);
		}
		dns_zone_add(f->dns, "h6.b.example", DNS_T_MX, 300, "h1.b.example", 12, 1);
		fix_txt(f, "b.example", cases[i].rec);
		c = fix_check(f, "192.0.2.1", "mail.example", "x@b.example");
		if (c->result != cases[i].want)
			fail_msg("case %zu: got %s (%s), want %s", i,
			    spf_result_name(c->result), c->reason,
			    spf_result_name(cases[i].want));
		fix_free(f);
	}
}

static void
test_records(void **state)
{
	static const struct {
		const char *rec;
		const char *ip;
		spf_res_t want;
	} cases[] = {
		{"v=spf1 ip4:192.0.2.0/24 -all", "::ffff:192.0.2.9", SPF_RES_PASS},
		{"v=spf1 ip4:192.0.2.0/24 -all", "192.0.2.9", SPF_RES_PASS},
		{"v=spf1 ip4:192.0.2.0/24 -all", "198.51.100.1", SPF_RES_FAIL},
		{"v=spf1 ip4:192.0.2.0/24 ~all", "198.51.100.1", SPF_RES_SOFTFAIL},
		{"v=spf1 ip6:2001:db8::/32 ?all", "2001:db8::5", SPF_RES_PASS},
		{"v=spf1 ip6:2001:db8::/32 ?all", "2001:db9::5", SPF_RES_NEUTRAL},
		{"v=spf1 exists:%{l4294967297}.x.example -all", "192.0.2.1", SPF_RES_PERMERROR},
		{"v=spf1 include:bad.example -all", "192.0.2.1", SPF_RES_PERMERROR},
		{"v=spf1 include:none.example -all", "192.0.2.1", SPF_RES_PERMERROR},
		{"v=spf1 redirect=a.example redirect=b.example", "192.0.2.1", SPF_RES_PERMERROR},
		{"v=spf1 include:slow.example -all", "192.0.2.1", SPF_RES_TEMPERROR},
		{"v=spf1 ip4:192.0.2.1/0 -all", "203.0.113.7", SPF_RES_PASS},
	};
	spf_check_t *c;
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fix_t  *f = fix_new();
		fix_txt(f, "r.example", cases[i].rec);
		fix_txt(f, "bad.example", "v=spf1 a:%{l99999999999r}.x.example -all");
		dns_zone_add_timeout(f->dns, "slow.example", 0);
		c = fix_check(f, cases[i].ip, "mail.example", "x@r.example");
		if (c->result != cases[i].want)
			fail_msg("\"%s\" from %s: got %s (%s), want %s", cases[i].rec,
			    cases[i].ip, spf_result_name(c->result), c->reason,
			    spf_result_name(cases[i].want));
		fix_free(f);
	}
}

static void
test_identities(void **state)
{
	fix_t  *f = fix_new();
	spf_check_t *c;

	(void)state;
	fix_txt(f, "helo.example", "v=spf1 ip4:192.0.2.1 -all");
	fix_txt(f, "r.example", "v=spf1 -all exp=e.r.example");
	fix_txt(f, "e.r.example", "%{s} is not welcome from %{i}");
	c = fix_check(f, "192.0.2.1", "helo.example", "");
	assert_int_equal(c->result, SPF_RES_PASS);
	assert_int_equal(c->identity, SPF_ID_HELO);
	assert_int_equal(c->null_sender, 1);
	assert_string_equal(c->domain, "helo.example");
	c = fix_check(f, "192.0.2.1", "helo.example", "who@r.example");
	assert_int_equal(c->result, SPF_RES_FAIL);
	assert_int_equal(c->identity, SPF_ID_MAILFROM);
	assert_string_equal(c->explanation, "who@r.example is not welcome from 192.0.2.1");
	c = fix_check(f, "192.0.2.1", "helo.example", "who@[192.0.2.1]");
	assert_int_equal(c->result, SPF_RES_NONE);
	assert_int_equal(c->queries, 0);
	c = fix_check(f, "192.0.2.1", "helo.example", "who@nothing.example");
	assert_int_equal(c->result, SPF_RES_NONE);
	assert_int_equal(c->queries, 1);
	c = fix_check(f, "192.0.2.1", "helo.example", "who@nothing.example");
	assert_int_equal(c->queries, 0);	/* cached */
	assert_int_equal(c->lookups, 1);
	fix_free(f);
}

static void
test_deadline(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	config_t *cfg;
	spf_t  *spf;
	spf_check_t c;
	addr_t	a;
	char	item[64], err[256];
	int	fd;

	(void)state;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_DGRAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	snprintf(item, sizeof(item), "127.0.0.1:%u", ntohs(sa.sin_port));
	assert_non_null(cfg = config_load(NULL, 1, stderr));
	assert_int_equal(config_set(cfg, "dns_servers", item, stderr), 0);
	assert_int_equal(config_set(cfg, "spf_lookup_time", "300ms", stderr), 0);
	assert_non_null(spf = spf_create(cfg, err, sizeof(err)));
	addr_parse("192.0.2.1", &a);
	spf_check_mailfrom(spf, &a, "mail.example", "x@silent.example", &c);
	assert_int_equal(c.result, SPF_RES_TEMPERROR);
	assert_true(c.queries >= 1);
	/* Bounded by spf_lookup_time, not by resolv.conf's 5 s x 2 tries. */
	if (c.elapsed_ms > 2000)
		fail_msg("spf_lookup_time 300 ms: got %ld ms", c.elapsed_ms);
	spf_free(spf);
	config_free(cfg);
	close(fd);
}

#define THREADS		4
#define THREAD_CHECKS	300

/* One thread's share of checks: domain dN passes 192.0.2.N only. */
static void *
thread_checks(void *arg)
{
	spf_t  *spf = arg;
	spf_check_t c;
	char	sender[64], ip[32];
	addr_t	a;
	long	bad = 0;
	int	i, d;

	for (i = 0; i < THREAD_CHECKS; i++) {
		d = i % 20;
		snprintf(sender, sizeof(sender), "u@d%d.example", d);
		snprintf(ip, sizeof(ip), "192.0.2.%d", i % 2 ? d : 200);
		addr_parse(ip, &a);
		spf_check_mailfrom(spf, &a, "mail.example", sender, &c);
		bad += c.result != (i % 2 ? SPF_RES_PASS : SPF_RES_FAIL);
	}
	return (void *)bad;
}

static void
test_threads(void **state)
{
	dns_opts_t opts = {.zone_mode = 1, .cache_size = 8, .max_ttl_ms = 60000,
	    .negative_ttl_ms = 1000};
	pthread_t thr[THREADS];
	config_t *cfg;
	dns_t  *dns;
	spf_t  *spf;
	char	name[64], rec[64], err[256];
	void   *bad;
	int	i;

	(void)state;
	assert_non_null(cfg = config_load(NULL, 1, stderr));
	assert_non_null(dns = dns_create(&opts, err, sizeof(err)));
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "d%d.example", i);
		snprintf(rec, sizeof(rec), "v=spf1 include:i%d.example -all", i);
		dns_zone_add(dns, name, DNS_T_TXT, 300, rec, strlen(rec), 0);
		snprintf(name, sizeof(name), "i%d.example", i);
		snprintf(rec, sizeof(rec), "v=spf1 ip4:192.0.2.%d -all", i);
		dns_zone_add(dns, name, DNS_T_TXT, 300, rec, strlen(rec), 0);
	}
	assert_non_null(spf = spf_create_dns(cfg, dns, err, sizeof(err)));
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&thr[i], NULL, thread_checks, spf), 0);
	for (i = 0; i < THREADS; i++) {
		pthread_join(thr[i], &bad);
		if (bad != NULL)
			fail_msg("thread %d: got %ld wrong results, want 0", i, (long)bad);
	}
	spf_free(spf);
	dns_free(dns);
	config_free(cfg);
}

static char last_line[512];

static void
sink(int prio, const char *line, void *ctx)
{
	(void)prio;
	(void)ctx;
	snprintf(last_line, sizeof(last_line), "%s", line);
}

/* libspf2's SPF_error() must come back to the check, not abort(). */
static void
test_error_handler(void **state)
{
	fix_t  *f = fix_new();
	sigjmp_buf jb;
	volatile int back = 0;

	(void)state;
	fix_check(f, "192.0.2.1", "mail.example", "x@none.example");	/* installs it */
	log_set_sink(sink, NULL);
	spf_jump = &jb;
	if (sigsetjmp(jb, 0) == 0)
		SPF_error("simulated internal error");
	else
		back = 1;
	spf_jump = NULL;
	log_set_sink(NULL, NULL);
	assert_int_equal(back, 1);
	assert_non_null(strstr(last_line, "libspf2: error at"));
	assert_non_null(strstr(last_line, "simulated internal error"));
	fix_free(f);
}

/* A real libspf2 error path: SPF_dns_free(NULL) ends in SPF_error(). */
static int
guard_libspf2_error(void *arg)
{
	SPF_dns_free(NULL);
	*(int *)arg = 1;		/* never reached */
	return 0;
}

static int
guard_returns(void *arg)
{
	*(int *)arg += 1;
	return 7;
}

/* A guard inside a guard: the inner one catches, the outer stays armed. */
static int
guard_nested(void *arg)
{
	sigjmp_buf *outer = spf_jump;
	int	rc = spf_guarded(guard_libspf2_error, arg);

	return rc == SPF_GUARD_CAUGHT && outer != NULL && spf_jump == outer ? 3 : -1;
}

/* spf_guarded() brings libspf2's errors back, disarms, nests. */
static void
test_guard(void **state)
{
	fix_t  *f = fix_new();
	int	after = 0, n = 0, rc;
	spf_check_t *c;

	(void)state;
	fix_txt(f, "ok.example", "v=spf1 ip4:192.0.2.1 -all");
	fix_check(f, "192.0.2.1", "mail.example", "x@none.example");	/* handlers */
	log_set_sink(sink, NULL);
	last_line[0] = 0;
	if ((rc = spf_guarded(guard_returns, &n)) != 7 || n != 1)
		fail_msg("plain call: got %d (ran %d times), want 7 (once)", rc, n);
	assert_null(spf_jump);
	if ((rc = spf_guarded(guard_libspf2_error, &after)) != SPF_GUARD_CAUGHT)
		fail_msg("libspf2 error: got %d, want SPF_GUARD_CAUGHT", rc);
	assert_int_equal(after, 0);
	assert_null(spf_jump);
	if (strstr(last_line, "libspf2: error at") == NULL
	    || strstr(last_line, "spf_dns_server is NULL") == NULL)
		fail_msg("log: got \"%s\", want libspf2's error", last_line);
	if ((rc = spf_guarded(guard_nested, &after)) != 3)
		fail_msg("nested: got %d, want 3", rc);
	assert_null(spf_jump);
	log_set_sink(NULL, NULL);
	c = fix_check(f, "192.0.2.1", "mail.example", "x@ok.example");	/* still works */
	assert_int_equal(c->result, SPF_RES_PASS);
	fix_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget_tree),
		cmocka_unit_test(test_budget_limit),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_identities),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_error_handler),
		cmocka_unit_test(test_guard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
