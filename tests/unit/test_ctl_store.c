/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_ctl_store - unit tests for the targreyctl state commands
 * DESCRIPTION
 *	Runs ctl_* against a real LMDB in a temp dir and asserts on their
 *	output: import-postgrey of a real Postgrey 1.37 database (made
 *	with Debian's postgrey and db_dump -p, tests/unit/data) and of a
 *	taRgrey-style one with the retry field, dump | load round trip,
 *	whitelist, show, delete, explain, expire, stats, usage errors;
 *	lines longer than any buffer and numbers that overflow, named by
 *	file and line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include "ctl_store.h"
#include "log.h"

#define NOW	1795425500LL	/* a few minutes after the fixtures were made */

typedef struct {
	char	dir[64];
	config_t *cfg;
	char   *out;
	size_t	outlen;
} fixture_t;

static void
quiet(int prio, const char *line, void *ctx)
{
	(void) prio;
	(void) line;
	(void) ctx;
}

/* A configuration with the defaults and a fresh state directory. */
static config_t *
make_config(char *dir)
{
	config_t *cfg;

	if (mkdtemp(dir) == NULL || (cfg = config_load("/nonexistent/targrey.conf", 1, stderr)) == NULL)
		return NULL;
	if (config_set(cfg, "state_directory", dir, stderr) != 0)
		return config_free(cfg);
	return cfg;
}

static int
setup(void **state)
{
	fixture_t *fx = calloc(1, sizeof(*fx));

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_ctl.XXXXXX");
	if ((fx->cfg = make_config(fx->dir)) == NULL)
		return -1;
	log_set_sink(quiet, NULL);
	ctl_store_set_clock(NOW);
	*state = fx;
	return 0;
}

static void
remove_dir(const char *dir)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fail_msg("cannot remove %s", dir);
}

static int
teardown(void **state)
{
	fixture_t *fx = *state;

	remove_dir(fx->dir);
	config_free(fx->cfg);
	free(fx->out);
	free(fx);
	return 0;
}

/* Run one command with its output captured in fx->out; its status. */
static int
run(fixture_t *fx, const config_t *cfg, int (*fn)(const config_t *, int, char **), ...)
{
	char   *argv[8];
	int	argc = 0, rc;
	va_list ap;
	FILE   *out;

	va_start(ap, fn);
	while (argc < 7 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	free(fx->out);
	fx->out = NULL;
	out = open_memstream(&fx->out, &fx->outlen);
	ctl_store_set_output(out);
	rc = fn(cfg ? cfg : fx->cfg, argc, argv);
	fclose(out);
	ctl_store_set_output(NULL);
	return rc;
}

/* Fail unless the output holds WANT. */
static void
want_output(const fixture_t *fx, const char *want)
{
	if (strstr(fx->out, want) == NULL)
		fail_msg("output: got\n%s\nwant it to contain \"%s\"", fx->out, want);
}

static void
import_fixtures(fixture_t *fx)
{
	int	rc = run(fx, NULL, ctl_import_postgrey, "import-postgrey",
	    TG_TEST_DATA "/postgrey-1.37.dump", TG_TEST_DATA "/targrey.dump", NULL);

	if (rc != 0)
		fail_msg("import-postgrey: got %d, want 0; output %s", rc, fx->out);
	want_output(fx, "imported 6 triplets (1 passed) and 2 clients; 0 kept (ours newer), "
	    "1 expired, 1 skipped (unmappable), 0 errors");
}

static void
test_import_postgrey(void **state)
{
	fixture_t *fx = *state;

	import_fixtures(fx);
	assert_int_equal(run(fx, NULL, ctl_list, "list", "greylist", NULL), 0);
	want_output(fx, "192.0.2.0/alice@example.org/bob@example.net\tfirst=2026-11-23T09:16:05Z "
	    "last=2026-11-23T09:16:08Z retries=0 passed=0\n");
	want_output(fx, "198.51.100.0/bounce-#@lists.example/dave@example.net\t");
	want_output(fx, "2001:db8:1:2::/carol@example.com/bob@example.net\t");
	want_output(fx, "203.0.113.0/news@example.com/bob@example.net\tfirst=2026-11-23T09:10:00Z "
	    "last=2026-11-23T09:16:40Z retries=2 passed=1\n");
	want_output(fx, "203.0.113.0/once@example.com/bob@example.net\tfirst=2026-11-23T09:10:00Z "
	    "last=2026-11-23T09:16:40Z retries=1 passed=0\n");
	want_output(fx, "203.0.113.0/tab%09here@example.com/bob@example.net\tfirst=");
	assert_int_equal(run(fx, NULL, ctl_list, "list", "clients", NULL), 0);
	want_output(fx, "192.0.2.0\tfirst=2026-11-23T09:16:08Z last_pass=2026-11-23T09:16:08Z "
	    "last_seen=2026-11-23T09:16:08Z passes=1\n");
	want_output(fx, "198.51.100.0\t");
	/* importing again keeps what is already there */
	assert_int_equal(run(fx, NULL, ctl_import_postgrey, "import-postgrey",
	    TG_TEST_DATA "/postgrey-1.37.dump", NULL), 0);
	want_output(fx, "imported 0 triplets (0 passed) and 0 clients; 5 kept (ours newer)");
}

static void
test_import_rejects_garbage(void **state)
{
	fixture_t *fx = *state;
	char	path[96];
	FILE   *fp;

	snprintf(path, sizeof(path), "%s/bad.dump", fx->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("HEADER=END\n 192.0.2.0/a@b/c@d\nno leading space\n 1,2\nDATA=END\n", fp);
	fclose(fp);
	assert_int_equal(run(fx, NULL, ctl_import_postgrey, "import-postgrey", path, NULL), 1);
	want_output(fx, "1 errors");
	assert_int_equal(run(fx, NULL, ctl_import_postgrey, "import-postgrey", NULL), 2);
}

static void
test_dump_load_round_trip(void **state)
{
	fixture_t *fx = *state;
	char	dir2[64] = "/tmp/test_ctl2.XXXXXX", path[96], *first;
	unsigned char future[] = {7, 1, 2, 3};
	config_t *cfg2;
	store_t *st;
	FILE   *fp;

	import_fixtures(fx);
	assert_int_equal(run(fx, NULL, ctl_whitelist, "whitelist", "add", "[2001:db8::]/32", NULL), 0);
	st = store_open(fx->dir, 1 << 24);
	assert_non_null(st);
	assert_int_equal(store_put(st, STORE_DB_TARPIT, "192.0.2.99", 10, future, sizeof(future)), 0);
	st = store_close(st);
	assert_int_equal(run(fx, NULL, ctl_dump, "dump", NULL), 0);
	want_output(fx, "raw\ttarpit\t192.0.2.99\t07010203\n");
	want_output(fx, "greylist\t203.0.113.0/tab%09here@example.com/bob@example.net\t"
	    "first=1795425000 last=1795425001 retries=0 passed=0\n");
	want_output(fx, "whitelist\t2001:db8::/32\tadded=1795425500\n");
	first = strdup(fx->out);
	snprintf(path, sizeof(path), "%s/dump.txt", fx->dir);
	fp = fopen(path, "w");
	fputs(first, fp);
	fclose(fp);
	cfg2 = make_config(dir2);
	assert_non_null(cfg2);
	assert_int_equal(run(fx, cfg2, ctl_load, "load", path, NULL), 0);
	want_output(fx, "loaded 10 records, 0 bad lines");
	assert_int_equal(run(fx, cfg2, ctl_dump, "dump", NULL), 0);
	if (strcmp(first, fx->out) != 0)
		fail_msg("round trip: got\n%s\nwant\n%s", fx->out, first);
	free(first);
	remove_dir(dir2);
	config_free(cfg2);
}

static void
test_load_bad_lines(void **state)
{
	fixture_t *fx = *state;
	char	path[96];
	FILE   *fp;

	snprintf(path, sizeof(path), "%s/bad.txt", fx->dir);
	fp = fopen(path, "w");
	fputs("# comment\n\ngreylist\tk%zz\tfirst=1 last=2 retries=0 passed=0\n"
	    "tarpit\t192.0.2.1\tfirst=1 last=2 count=3\nnonsense\n"
	    "clients\t192.0.2.0\tfirst=1\n", fp);
	fclose(fp);
	assert_int_equal(run(fx, NULL, ctl_load, "load", path, NULL), 1);
	want_output(fx, "loaded 1 records, 3 bad lines");
}

/* Run FN like run(), standard error kept in ERR (SIZE bytes). */
static int
run_err(fixture_t *fx, int (*fn)(const config_t *, int, char **), const char *cmd,
	const char *path, char *err, size_t size)
{
	char	errpath[96];
	int	saved, fd, rc;
	FILE   *fp;
	size_t	n;

	snprintf(errpath, sizeof(errpath), "%s/stderr.txt", fx->dir);
	fflush(stderr);
	saved = dup(2);
	fd = open(errpath, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	rc = run(fx, NULL, fn, cmd, path, NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fp = fopen(errpath, "r");
	assert_non_null(fp);
	n = fread(err, 1, size - 1, fp);
	err[n] = 0;
	fclose(fp);
	return rc;
}

/* Fail unless TEXT holds WANT (or, with NOT, does not). */
static void
want_text(const char *what, const char *text, const char *want, int not)
{
	if ((strstr(text, want) == NULL) != not)
		fail_msg("%s: got\n%s\nwant it %sto contain \"%s\"", what, text,
		    not ? "not " : "", want);
}

/* Long lines are read whole: one bad line, named by its own number;
 * numbers that overflow or leave their field's range are bad lines. */
static void
test_load_long_lines(void **state)
{
	fixture_t *fx = *state;
	char	path[96], want[160], err[4096];
	FILE   *fp;

	snprintf(path, sizeof(path), "%s/long.txt", fx->dir);
	fp = fopen(path, "w");
	fputs("# targrey-milter dump 1\ngreylist\t", fp);
	for (int i = 0; i < 6000; i++)
		fputc('k', fp);
	fputs("\tfirst=1 last=2 retries=0 passed=0\n"
	    "tarpit\t192.0.2.1\tfirst=1 last=2 count=3\n"
	    "greylist\ta/b/c\tfirst=1 last=2 retries=70000 passed=0\n"
	    "clients\t192.0.2.0\tfirst=1 last_pass=2 last_seen=3 passes=99999999999999999999\n"
	    "tarpit\t192.0.2.2\tfirst=-99999999999999999999 last=2 count=3\n", fp);
	fclose(fp);
	assert_int_equal(run_err(fx, ctl_load, "load", path, err, sizeof(err)), 1);
	want_output(fx, "loaded 1 records, 4 bad lines");
	for (int line = 2; line <= 6; line++) {
		snprintf(want, sizeof(want), "targreyctl: load: %s:%d: bad line", path, line);
		want_text("load errors", err, want, line == 3);
	}
}

/* import-postgrey: times that would overflow LAST - FIRST are errors
 * named by file and line; the good entry after them is imported. */
static void
test_import_overflow(void **state)
{
	fixture_t *fx = *state;
	char	path[96], want[160], err[4096];
	FILE   *fp;

	snprintf(path, sizeof(path), "%s/overflow.dump", fx->dir);
	fp = fopen(path, "w");
	fputs("VERSION=3\nformat=print\nHEADER=END\n"
	    " 192.0.2.0/a@b/c@d\n -5,99999999999999999999\n"
	    " 192.0.2.0/e@f/g@h\n 5,99999999999999999999\n"
	    " 192.0.2.0/i@j/k@l\n 1795425000,1795425400,99999999999999999999\n"
	    " 192.0.2.0/x@y/z@w\n 1795425000,1795425400\nDATA=END\n", fp);
	fclose(fp);
	assert_int_equal(run_err(fx, ctl_import_postgrey, "import-postgrey", path, err,
	    sizeof(err)), 1);
	want_output(fx, "imported 1 triplets (1 passed) and 0 clients");
	want_output(fx, "3 errors");
	for (int line = 5; line <= 9; line += 2) {
		snprintf(want, sizeof(want), "targreyctl: import-postgrey: %s:%d: ", path, line);
		want_text("import errors", err, want, 0);
	}
	want_text("import errors", err, "99999999999999999999", 0);
}

static void
test_whitelist_show_delete(void **state)
{
	fixture_t *fx = *state;

	import_fixtures(fx);
	assert_int_equal(run(fx, NULL, ctl_whitelist, "whitelist", "add", "192.0.2.0/25", NULL), 0);
	assert_int_equal(run(fx, NULL, ctl_whitelist, "whitelist", NULL), 0);
	want_output(fx, "192.0.2.0/25\tadded=2026-11-23T09:18:20Z\n");
	assert_int_equal(run(fx, NULL, ctl_show, "show", "192.0.2.10", NULL), 0);
	want_output(fx, "clients (network) 192.0.2.0: first=2026-11-23T09:16:08Z");
	want_output(fx, "whitelist: 192.0.2.10 is whitelisted\n");
	assert_int_equal(run(fx, NULL, ctl_whitelist, "whitelist", "remove", "192.0.2.0/25", NULL), 0);
	assert_int_equal(run(fx, NULL, ctl_whitelist, "whitelist", "remove", "192.0.2.0/25", NULL), 1);
	assert_int_equal(run(fx, NULL, ctl_whitelist, "whitelist", "add", "192.0.2.300", NULL), 2);
	assert_int_equal(run(fx, NULL, ctl_delete, "delete", "192.0.2.0", NULL), 0);
	want_output(fx, "deleted 192.0.2.0 from clients\n");
	assert_int_equal(run(fx, NULL, ctl_delete, "delete", "192.0.2.0", NULL), 1);
	assert_int_equal(run(fx, NULL, ctl_show, "show", "192.0.2.0", NULL), 1);
	assert_int_equal(run(fx, NULL, ctl_show, "show", "203.0.113.0/news@example.com/bob@example.net", NULL), 0);
	want_output(fx, "greylist 203.0.113.0/news@example.com/bob@example.net: first=");
	/* keys as list prints them */
	assert_int_equal(run(fx, NULL, ctl_delete, "delete",
	    "203.0.113.0/tab%09here@example.com/bob@example.net", NULL), 0);
	want_output(fx, "from greylist\n");
}

static void
test_explain(void **state)
{
	fixture_t *fx = *state;
	greylist_params_t p;
	char	path[96], spec[128];
	store_t *st;
	FILE   *fp;
	addr_t	a;

	import_fixtures(fx);
	assert_int_equal(run(fx, NULL, ctl_explain, "explain", "192.0.2.77", "[192.0.2.77]",
	    "Alice+x@Example.org", "bob@example.net", NULL), 0);
	want_output(fx, "client 192.0.2.77 ([192.0.2.77]), network 192.0.2.0");
	want_output(fx, "  greylist 192.0.2.0/alice@example.org/bob@example.net: first=");
	want_output(fx, "  tarpit 192.0.2.77: none\n");
	want_output(fx, "verdict: tarpit (new_client): the first RCPT reply waits 125 s");
	/* after a tarpit failure the same triplet is greylisted, early retry */
	greylist_params_init(&p, fx->cfg);
	st = store_open(fx->dir, 1 << 24);
	assert_int_equal(addr_parse("192.0.2.77", &a), 0);
	assert_int_equal(store_tarpit_failed(st, &p, NOW, &a), 0);
	st = store_close(st);
	assert_int_equal(run(fx, NULL, ctl_explain, "explain", "192.0.2.77", "[192.0.2.77]",
	    "alice@example.org", "bob@example.net", NULL), 0);
	want_output(fx, "verdict: greylist (early_retry): 450 4.7.1 Greylisted, please try again later; "
	    "a retry counts after 165 s, 2 counted retries needed\n");
	assert_int_equal(run(fx, NULL, ctl_explain, "explain", "203.0.113.9", "[203.0.113.9]",
	    "news@example.com", "bob@example.net", NULL), 0);
	want_output(fx, "verdict: pass_triplet (triplet_passed): accepted without delay\n");
	/* the stages before taRgrey */
	assert_int_equal(run(fx, NULL, ctl_explain, "explain", "127.0.0.1", "localhost",
	    "a@b", "c@d", NULL), 0);
	want_output(fx, "  trusted_networks: yes\nverdict: pass (trusted_networks)");
	assert_int_equal(run(fx, NULL, ctl_explain, "explain", "192.0.2.77", "mail.example.com",
	    "alice@example.org", "bob@example.net", NULL), 0);
	want_output(fx, "  s25r: clean (no_match)\nverdict: pass (s25r clean)");
	assert_int_equal(run(fx, NULL, ctl_explain, "explain", "192.0.2.77", "[192.0.2.77]",
	    "alice@example.org", "bob@example.net", NULL), 0);
	want_output(fx, "  s25r: suspicious (s25r_rule_0)\n");
	/* a whitelisted recipient passes a suspicious client */
	snprintf(path, sizeof(path), "%s/rcpt", fx->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("postmaster@\n", fp);
	fclose(fp);
	snprintf(spec, sizeof(spec), "list:%s", path);
	assert_int_equal(config_set(fx->cfg, "recipient_whitelist", spec, stderr), 0);
	assert_int_equal(run(fx, NULL, ctl_explain, "explain", "192.0.2.77", "[192.0.2.77]",
	    "alice@example.org", "Postmaster@example.net", NULL), 0);
	want_output(fx, ":1 answers OK\nverdict: pass (recipient_whitelist)");
	assert_int_equal(run(fx, NULL, ctl_explain, "explain", "nonsense", "x", "a", "b", NULL), 2);
}

static void
test_expire_and_stats(void **state)
{
	fixture_t *fx = *state;

	import_fixtures(fx);
	ctl_store_set_clock(NOW + 3 * 86400);
	assert_int_equal(run(fx, NULL, ctl_expire, "expire", NULL), 0);
	/* unpassed triplets are gone after retry_window (2 days); the passed one and clients stay */
	want_output(fx, "expired 5 of 8 records\n");
	assert_int_equal(run(fx, NULL, ctl_stats, "stats", NULL), 0);
	want_output(fx, "greylist         1 records, oldest 2026-11-23T09:10:00Z, newest 2026-11-23T09:16:40Z\n");
	want_output(fx, "clients          2 records");
	want_output(fx, "tarpit           0 records\n");
	want_output(fx, "decisions: pass_awl=0 pass_triplet=0 greylist=0 tarpit=0 store_unavailable=0\n");
	want_output(fx, "events: tarpit_full=0\n");
	want_output(fx, "map: 8388608 bytes");
	assert_int_equal(run(fx, NULL, ctl_stats, "stats", "extra", NULL), 2);
	assert_int_equal(run(fx, NULL, ctl_list, "list", "meta", NULL), 2);
	assert_int_equal(run(fx, NULL, ctl_expire, "expire", "now", NULL), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_import_postgrey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_rejects_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_load_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_bad_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_long_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whitelist_show_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_and_stats, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
