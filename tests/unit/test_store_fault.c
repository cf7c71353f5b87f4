/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_store_fault - a damaged, empty or unwritable store on real LMDB
 * DESCRIPTION
 *	Files are damaged the way a bit flip or a tamperer would, by
 *	patching data.mdb in place: a key whose size field exceeds our
 *	buffers (walk, expiry and lookups skip and count it, never copy
 *	it; store_verify() calls the file corrupt), a leaf page whose type
 *	is wrong while the store is open (store_check() answers
 *	store_unavailable with store=broken, logs the LMDB error, and
 *	store_rebuild() moves the file aside and starts afresh), a 0-byte
 *	data.mdb, and a file size limit (RLIMIT_FSIZE) that makes every
 *	commit fail like a full disk: writes fail with store=write_error
 *	and resume by themselves once the limit is lifted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "log.h"
#include "log_capture.h"
#include "store.h"

#define T0	1700000000LL
#define DAY	86400LL
#define PAGE	4096		/* LMDB's page size here: the OS page */
#define P_LEAF	0x02		/* lmdb mp_flags */

static const greylist_params_t P = {
	.delay = 300, .retry_window = 2 * DAY, .max_age = 30 * DAY,
	.tarpit_max_age = 30 * DAY, .retry_count = 2, .awl_clients = 5,
	.ipv4_prefix = 24, .ipv6_prefix = 64,
};

static char dir[64];
static int
setup(void **state)
{
	(void) state;
	snprintf(dir, sizeof(dir), "/tmp/test_store_fault.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	log_capture_start();
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[128];

	(void) state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static addr_t
ip(const char *text)
{
	addr_t	a;

	if (addr_parse(text, &a) != 0)
		fail_msg("bad address %s", text);
	return a;
}

typedef void (*patch_fn)(unsigned char *file, size_t size, size_t at);

/* Read data.mdb, call FN at every occurrence of NEEDLE, write it back
 * in place (the open map sees it); the number of occurrences. */
static int
patch_data(const char *needle, patch_fn fn)
{
	char	path[128];
	struct stat sb;
	unsigned char *buf;
	size_t	nlen = strlen(needle);
	int	fd, n = 0;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(stat(path, &sb), 0);
	buf = malloc((size_t) sb.st_size);
	assert_non_null(buf);
	assert_true((fd = open(path, O_RDWR)) >= 0);
	assert_int_equal(pread(fd, buf, (size_t) sb.st_size, 0), sb.st_size);
	for (size_t i = 0; i + nlen <= (size_t) sb.st_size; i++)
		if (memcmp(buf + i, needle, nlen) == 0) {
			fn(buf, (size_t) sb.st_size, i);
			n++;
		}
	assert_int_equal(pwrite(fd, buf, (size_t) sb.st_size, 0), sb.st_size);
	close(fd);
	free(buf);
	return n;
}

/* The node's key size (u16 just before the key) becomes 4144. */
static void
patch_key_size(unsigned char *file, size_t size, size_t at)
{
	(void) size;
	file[at - 2] = 4144 & 0xff;
	file[at - 1] = 4144 >> 8;
}

/* The leaf page holding the match becomes an overflow page. */
static void
patch_page_type(unsigned char *file, size_t size, size_t at)
{
	size_t	page = at / PAGE * PAGE;

	(void) size;
	if (file[page + 10] == P_LEAF)
		file[page + 10] = 0x04;
}

/* Files DIR/data.mdb.corrupt-* */
static size_t
count_aside(void)
{
	char	pat[128];
	glob_t	g;
	size_t	n;

	snprintf(pat, sizeof(pat), "%s/data.mdb.corrupt-*", dir);
	if (glob(pat, 0, NULL, &g) != 0)
		return 0;
	n = g.gl_pathc;
	globfree(&g);
	return n;
}

static int
count_one(const char *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	(void) key;
	(void) val;
	if (klen > STORE_KEY_MAX || vlen > STORE_VAL_MAX)
		fail_msg("walk handed out a record of %zu/%zu bytes", klen, vlen);
	++*(int *) ctx;
	return 0;
}

/* A key size past our buffers: skipped, counted, never copied. */
static void
test_oversized_key(void **state)
{
	char	key[401], why[512];
	unsigned char val[20] = {1};
	store_expire_t ex = {0};
	store_t *st;
	size_t	n;
	int	walked = 0, rc;

	(void) state;
	memset(key, 'k', 400);
	key[400] = 0;
	memcpy(key, "192.0.2.0/", 10);
	assert_non_null(st = store_open(dir, 64UL << 20));
	assert_int_equal(store_put(st, STORE_DB_GREYLIST, key, 400, val, sizeof(val)), 0);
	assert_int_equal(store_put(st, STORE_DB_GREYLIST, "a/b/c", 5, val, sizeof(val)), 0);
	assert_int_equal(store_put(st, STORE_DB_GREYLIST, "z/b/c", 5, val, sizeof(val)), 0);
	st = store_close(st);
	assert_int_equal(store_verify(dir, why, sizeof(why)), 0);
	assert_true(patch_data(key, patch_key_size) >= 1);

	assert_int_equal(store_verify(dir, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "1 record(s) with a key or value out of bounds"));
	assert_non_null(st = store_open(dir, 64UL << 20));
	assert_int_equal(store_walk(st, STORE_DB_GREYLIST, NULL, count_one, &walked), 0);
	assert_int_equal(walked, 2);
	assert_int_equal(store_bad_records(st), 1);
	assert_int_equal(store_health(st), STORE_HEALTHY);	/* reading is harmless */
	assert_int_equal(store_count(st, STORE_DB_GREYLIST, &n), 0);
	assert_int_equal(n, 3);
	/* the expiry would write next to it (its records are dated 1970):
	 * it stops, and the store is broken, not written */
	while ((rc = store_expire_step(st, &P, T0, 1, &ex)) == 0)
		continue;
	assert_int_equal(rc, -1);
	assert_int_equal(store_health(st), STORE_BROKEN);
	assert_non_null(strstr(log_lines, "store: corrupt state: expire: MDB_CORRUPTED"));
	store_close(st);
}

/* The key size field made smaller (still in bounds): the records no
 * longer tile their page, and LMDB would delete by the wrong size. */
static void
patch_key_shrink(unsigned char *file, size_t size, size_t at)
{
	(void) size;
	file[at - 2] = 20;
	file[at - 1] = 0;
}

static void
test_shrunk_key(void **state)
{
	const char *key = "192.0.2.0/shrink@x.org/r@y.org";
	unsigned char val[20] = {1};
	char	why[512];
	store_t *st;

	(void) state;
	assert_non_null(st = store_open(dir, 64UL << 20));
	assert_int_equal(store_put(st, STORE_DB_GREYLIST, key, strlen(key), val, sizeof(val)), 0);
	assert_int_equal(store_put(st, STORE_DB_GREYLIST, "a/b/c", 5, val, sizeof(val)), 0);
	st = store_close(st);
	assert_true(patch_data(key, patch_key_shrink) >= 1);
	assert_int_equal(store_verify(dir, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "1 page(s) whose records' sizes do not fit the page"));
	assert_int_equal(store_verify_apart(dir, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "do not fit the page"));
}

/* A page of the wrong type at run time: broken, told, rebuilt. */
static void
test_corrupt_page_rebuild(void **state)
{
	char	why[512];
	greylist_result_t r;
	addr_t	a = ip("192.0.2.10");
	store_t *st;

	(void) state;
	assert_non_null(st = store_open(dir, 64UL << 20));
	assert_int_equal(store_check(st, &P, T0, &a, "s@x.org", "r@y.org", GREYLIST_NO_TARPIT, &r),
	    GREYLIST_GREYLIST);
	assert_int_equal(store_sync(st), 0);
	assert_true(patch_data("192.0.2.0/s@x.org/r@y.org", patch_page_type) >= 1);

	assert_int_equal(store_check(st, &P, T0 + 400, &a, "s@x.org", "r@y.org",
	    GREYLIST_NO_TARPIT, &r), GREYLIST_UNAVAILABLE);
	assert_string_equal(r.reason, "store=broken");
	assert_int_equal(store_health(st), STORE_BROKEN);
	assert_non_null(strstr(log_lines, "store: corrupt state: check: MDB_CORRUPTED"));
	/* broken: not touched again, one line a minute at most */
	for (int i = 0; i < 50; i++)
		assert_int_equal(store_check(st, &P, T0, &a, "t@x.org", "r@y.org", 0, &r),
		    GREYLIST_UNAVAILABLE);
	assert_null(strstr(strstr(log_lines, "corrupt state") + 1, "corrupt state"));
	/* other processes (targreyctl, -t, the next start) are told */
	assert_int_equal(store_verify(dir, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "/data.mdb.broken: the daemon found it corrupt (check:"
	    " MDB_CORRUPTED"));

	assert_int_equal(store_rebuild(st), 0);
	assert_int_equal(store_verify(dir, why, sizeof(why)), 0);	/* mark removed */
	assert_int_equal(store_health(st), STORE_HEALTHY);
	assert_int_equal(count_aside(), 1);
	assert_non_null(strstr(log_lines, "/data.mdb moved to "));
	assert_int_equal(store_check(st, &P, T0 + 500, &a, "s@x.org", "r@y.org",
	    GREYLIST_NO_TARPIT, &r), GREYLIST_GREYLIST);
	assert_string_equal(r.reason, "new");
	store_close(st);
}

/* A 0-byte data.mdb is no store; set aside, the directory is fresh. */
static void
test_empty_file(void **state)
{
	char	path[128], why[512], where[512];
	int	fd;

	(void) state;
	assert_int_equal(store_verify(dir, why, sizeof(why)), 0);	/* no file yet */
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0640)) >= 0);
	close(fd);
	assert_int_equal(store_verify(dir, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "/data.mdb: empty file (0 bytes)"));
	assert_int_equal(store_set_aside(dir, where, sizeof(where)), 0);
	assert_non_null(strstr(where, "/data.mdb.corrupt-"));
	assert_int_equal(access(where, F_OK), 0);
	assert_int_equal(store_verify(dir, why, sizeof(why)), 0);
}

/* Commits refused by the file system (RLIMIT_FSIZE: EFBIG, as ENOSPC):
 * store=write_error, logged once; writing resumes when it can. */
static void
test_write_error_resumes(void **state)
{
	char	path[128], from[64];
	struct rlimit old, lim;
	struct stat sb;
	greylist_result_t r;
	addr_t	a = ip("192.0.2.10");
	store_t *st;
	int	failed = 0, i;

	(void) state;
	signal(SIGXFSZ, SIG_IGN);
	assert_non_null(st = store_open(dir, 64UL << 20));
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(stat(path, &sb), 0);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = (rlim_t) sb.st_size;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (i = 0; i < 5000 && failed < 20; i++) {
		snprintf(from, sizeof(from), "s%d@x.org", i);
		failed += store_check(st, &P, T0, &a, from, "r@y.org", GREYLIST_NO_TARPIT, &r)
		    == GREYLIST_UNAVAILABLE;
	}
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(failed, 20);
	assert_string_equal(r.reason, "store=write_error");
	assert_int_equal(store_health(st), STORE_NOSPACE);
	assert_non_null(strstr(log_lines, "store: cannot write the state: check update: "));
	assert_null(strstr(strstr(log_lines, "cannot write the state") + 1, "cannot write the state"));
	assert_int_equal(store_check(st, &P, T0, &a, "later@x.org", "r@y.org",
	    GREYLIST_NO_TARPIT, &r), GREYLIST_GREYLIST);
	assert_int_equal(store_health(st), STORE_HEALTHY);
	assert_non_null(strstr(log_lines, "store: writing again (the store was write_error)"));
	store_close(st);
}

/* Both meta pages claim the map is used up to its end: LMDB says
 * MDB_MAP_FULL at state_max_size while the records use a few pages.
 * That is corruption, not "map full at state_max_size". */
static void
test_bogus_map_full(void **state)
{
	char	path[128], from[64], why[512];
	unsigned char last[8] = {250};	/* mm_last_pg, little-endian */
	greylist_result_t r;
	addr_t	a = ip("192.0.2.10");
	store_t *st;
	int	fd, i;

	(void) state;
	assert_non_null(st = store_open(dir, 1024 * 1024));
	assert_int_equal(store_check(st, &P, T0, &a, "s@x.org", "r@y.org", GREYLIST_NO_TARPIT, &r),
	    GREYLIST_GREYLIST);
	store_close(st);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_true((fd = open(path, O_RDWR)) >= 0);
	for (int m = 0; m < 2; m++)		/* header 16, meta fields 24, 2 dbs 96 */
		assert_int_equal(pwrite(fd, last, sizeof(last), m * PAGE + 136), 8);
	close(fd);
	assert_non_null(st = store_open(dir, 1024 * 1024));
	for (i = 0; i < 100 && store_health(st) == STORE_HEALTHY; i++) {
		snprintf(from, sizeof(from), "s%d@x.org", i);
		store_check(st, &P, T0, &a, from, "r@y.org", GREYLIST_NO_TARPIT, &r);
	}
	assert_int_equal(store_health(st), STORE_BROKEN);
	assert_string_equal(r.reason, "store=broken");
	assert_non_null(strstr(log_lines, "store: corrupt state: check update: MDB_MAP_FULL at"
	    " state_max_size, but the records use less than half of it"));
	assert_null(strstr(log_lines, "map full at state_max_size"));
	store_close(st);
	/* a walk finds nothing wrong; the mark still tells */
	assert_int_equal(store_verify(dir, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "(check update: MDB_MAP_FULL at state_max_size"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_oversized_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shrunk_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_page_rebuild, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bogus_map_full, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
