/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	fuzz_store - libFuzzer harness: the store opened on damaged LMDB files
 * DESCRIPTION
 *	The input describes a small data.mdb, which the harness writes
 *	with the LMDB API into a fresh directory, then damages:
 *	  records  repeated: u8 database (0 greylist, 1 clients, 2 tarpit,
 *	           3 meta, modulo 4), u8 key length (0 ends the list), the
 *	           key, u8 value length, the value;
 *	  patches  after a 0 key length, repeated: u8 record index, u8
 *	           field (even: the node's key size, odd: its data size),
 *	           u16 little-endian new size, written over that field of
 *	           the record's node on every leaf page of our databases.
 *	           (A branch node's "size" is a page number, and a node of
 *	           LMDB's main database describes a database: LMDB trusts
 *	           both, see below.)
 *	Any byte in keys and values is allowed (versions, lengths, meta
 *	entries such as schema, counters and the whitelist), so the
 *	fuzzer reaches every decoder; the size patches are the damage a
 *	bit flip or a tamperer does to a node. Mutating the file's pages
 *	at random instead would mostly find LMDB trusting its own page
 *	headers, which the daemon survives only by walking a file in a
 *	child first (main.c): not this harness's subject.
 *
 *	Then store_verify(), in this process (the daemon and targreyctl run
 *	it in a child, which would hide a crash from the fuzzer): it must
 *	never crash on such damage, and must refuse every record out of
 *	bounds. Only when it passes, as the programs do: targreyctl's list,
 *	dump, stats and whitelist, and the daemon's open, a check and a
 *	tarpit update for a fixed client, and a whole expiry pass. Nothing
 *	may crash, leak or trip a sanitizer.
 *
 *	Seeds (tests/fuzz/corpus/store) were written by
 *	tests/fuzz/store_seeds.py from the records of a real store.
 */
#include <fcntl.h>
#include <lmdb.h>
#include <sys/stat.h>
#include "fuzz_common.h"
#include "ctl_store.h"
#include "greylist.h"

#define MAX_RECORDS	64
#define PAGE		4096	/* LMDB's page: the OS page */

static const char *const dbs[] = {"greylist", "clients", "tarpit", "meta"};

typedef struct {
	const uint8_t *key;
	size_t	klen;
} rec_t;

/* Write the records of the input; the index of the first patch byte. */
static size_t
write_records(const char *dir, const uint8_t *d, size_t n, rec_t *recs, size_t *nrecs)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi	dbi[4];
	size_t	i = 0;

	*nrecs = 0;
	if (mdb_env_create(&env) != 0)
		return n;
	mdb_env_set_maxdbs(env, 4);
	if (mdb_env_open(env, dir, MDB_NOSYNC, 0600) != 0 || mdb_txn_begin(env, NULL, 0, &txn) != 0) {
		mdb_env_close(env);
		return n;
	}
	for (int j = 0; j < 4; j++)
		mdb_dbi_open(txn, dbs[j], MDB_CREATE, &dbi[j]);
	while (i + 2 <= n && d[i + 1] != 0) {
		MDB_val k = {d[i + 1], (void *) (d + i + 2)}, v;
		int	db = d[i] % 4;

		i += 2 + k.mv_size;
		if (i >= n || i + 1 + d[i] > n)
			break;
		v.mv_size = d[i];
		v.mv_data = (void *) (d + i + 1);
		i += 1 + v.mv_size;
		if (mdb_put(txn, dbi[db], &k, &v, 0) == 0 && *nrecs < MAX_RECORDS)
			recs[(*nrecs)++] = (rec_t) {k.mv_data, k.mv_size};
	}
	mdb_txn_commit(txn);
	mdb_env_close(env);
	return i + 2;
}

/* The main database's root page: in the meta page with the newer
 * transaction id (meta: page header 16, magic, version, address and map
 * size 24, free list db 48, main db 48 ending in its root; txnid after
 * last_pg). */
static size_t
main_root(const uint8_t *file, size_t size)
{
	uint64_t root[2] = {0, 0}, txn[2] = {0, 0};

	for (int m = 0; m < 2 && (size_t) (m + 1) * PAGE <= size; m++) {
		memcpy(&root[m], file + m * PAGE + 128, 8);
		memcpy(&txn[m], file + m * PAGE + 144, 8);
	}
	return (size_t) (txn[1] > txn[0] ? root[1] : root[0]);
}

/* Patch field OFF (before the key) of every leaf node holding R's key,
 * outside the main database, to the little-endian VALUE at V. */
static void
patch_nodes(uint8_t *file, size_t size, size_t skip, const rec_t *r, size_t off,
	    const uint8_t *v)
{
	for (size_t pg = 2; (pg + 1) * PAGE <= size; pg++) {
		uint8_t *page = file + pg * PAGE;
		size_t	lower = page[12] | page[13] << 8;

		if (pg == skip || page[10] != 0x02 || lower < 16 || lower > PAGE)
			continue;	/* leaf pages of our databases only */
		for (size_t i = 16; i + 2 <= lower; i += 2) {
			size_t	node = page[i] | page[i + 1] << 8;

			if (node + 8 + r->klen > PAGE || (page[node + 6] | page[node + 7] << 8) != r->klen
			    || memcmp(page + node + 8, r->key, r->klen) != 0)
				continue;
			page[node + 8 - off] = v[0];
			page[node + 9 - off] = v[1];
		}
	}
}

/* Apply the size patches to the records' nodes. */
static void
patch_sizes(const char *dir, const uint8_t *d, size_t n, const rec_t *recs, size_t nrecs)
{
	char	path[256];
	struct stat sb;
	uint8_t *file;
	size_t	size;
	int	fd;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (nrecs == 0 || n < 4 || (fd = open(path, O_RDWR)) < 0)
		return;
	if (fstat(fd, &sb) == 0 && (size = (size_t) sb.st_size) >= 2 * PAGE
	    && (file = malloc(size)) != NULL) {
		if (pread(fd, file, size, 0) == (ssize_t) size) {
			size_t	skip = main_root(file, size);

			for (size_t i = 0; i + 4 <= n; i += 4)	/* mn_lo or mn_ksize */
				patch_nodes(file, size, skip, &recs[d[i] % nrecs],
				    d[i + 1] & 1 ? 8 : 2, d + i + 2);
			if (pwrite(fd, file, size, 0) != (ssize_t) size)
				abort();
		}
		free(file);
	}
	close(fd);
}

/* targreyctl's reading commands, on whatever is there. */
static void
run_ctl(const config_t *cfg)
{
	static char *list[][2] = {{"list", "greylist"}, {"list", "clients"}, {"list", "tarpit"}};
	char   *one[] = {"dump"}, *stats[] = {"stats"}, *wl[] = {"whitelist"};

	for (size_t i = 0; i < 3; i++)
		ctl_list(cfg, 2, list[i]);
	ctl_dump(cfg, 1, one);
	ctl_stats(cfg, 1, stats);
	ctl_whitelist(cfg, 1, wl);
}

/* The daemon's path: verify first, then use. */
static void
run_daemon(const config_t *cfg, const char *dir)
{
	greylist_params_t p;
	greylist_result_t r;
	store_expire_t ex = {0};
	addr_t	a;
	store_t *st;

	if ((st = store_open(dir, 16UL << 20)) == NULL)
		return;
	greylist_params_init(&p, cfg);
	addr_parse("192.0.2.1", &a);
	store_check(st, &p, 1700000000, &a, "s@example.com", "r@example.net", 0, &r);
	store_tarpit_failed(st, &p, 1700000000, &a);
	store_check(st, &p, 1700000400, &a, "s@example.com", "r@example.net", 0, &r);
	for (int i = 0; i < 1000 && store_expire_step(st, &p, 1800000000, 7, &ex) == 0; i++)
		continue;
	store_close(st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static config_t *cfg;
	static FILE *devnull;
	static char dir[256];
	rec_t	recs[MAX_RECORDS];
	char	path[300], why[512];
	size_t	nrecs, at;

	if (cfg == NULL) {
		const char *tmp = getenv("TMPDIR");

		fuzz_quiet();
		snprintf(dir, sizeof(dir), "%s/tg-fuzz-store-%ld", tmp && *tmp ? tmp : "/tmp",
		    (long) getpid());
		devnull = fopen("/dev/null", "w");
		cfg = config_load("/nonexistent/targrey-milter.conf", 1, devnull);
		if (cfg == NULL || config_set(cfg, "state_directory", dir, devnull) != 0)
			abort();
		ctl_store_set_output(devnull);
		ctl_store_set_errors(devnull);
		ctl_store_set_verified(1);
		ctl_store_set_clock(1700000000);
	}
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/data.mdb.broken", dir);
	unlink(path);
	at = write_records(dir, data, size, recs, &nrecs);
	if (at < size)
		patch_sizes(dir, data + at, size - at, recs, nrecs);
	if (store_verify(dir, why, sizeof(why)) != 0)
		return 0;		/* refused, as by the daemon and targreyctl */
	run_ctl(cfg);
	run_daemon(cfg, dir);
	return 0;
}
