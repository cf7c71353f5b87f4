/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	fuzz_ctl_load - libFuzzer harness for targreyctl load and import-postgrey
 * DESCRIPTION
 *	The first input byte chooses the parser (even: load, reading
 *	targreyctl dump text; odd: import-postgrey, reading db_dump -p
 *	text); the rest is the file. Records go into a real store in a
 *	temporary directory, recreated every 2,000 inputs so that it never
 *	fills. Long lines, NUL bytes, numbers that overflow and keys of any
 *	length must be named as bad lines or skipped, never crash.
 */
#include <sys/stat.h>
#include "fuzz_common.h"
#include "ctl_store.h"
#include "greylist.h"

#define FUZZ_RESET	2000

static char dir[256];

/* A fresh store in DIR. */
static store_t *
fresh_store(void)
{
	char	path[300];

	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	return store_open(dir, 64UL << 20);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static store_t *st;
	static greylist_params_t p;
	static long runs;
	long	loaded = 0;
	FILE   *fp;

	if (dir[0] == 0) {
		const char *tmp = getenv("TMPDIR");
		config_t *cfg = config_load("/nonexistent/targrey-milter.conf", 1, stderr);

		fuzz_quiet();
		ctl_store_set_errors(fopen("/dev/null", "w"));
		snprintf(dir, sizeof(dir), "%s/tg-fuzz-load-%ld", tmp && *tmp ? tmp : "/tmp",
		    (long) getpid());
		if (cfg == NULL)
			abort();
		greylist_params_init(&p, cfg);
		config_free(cfg);
	}
	if (st == NULL || runs++ % FUZZ_RESET == 0) {
		st = store_close(st);
		if ((st = fresh_store()) == NULL)
			abort();
	}
	if (size < 1 || (fp = fmemopen((void *) (data + 1), size - 1 ? size - 1 : 1, "r")) == NULL)
		return 0;
	if (size == 1)
		fgetc(fp);		/* empty file */
	if (data[0] & 1)
		ctl_import_stream(st, &p, 1700000000, fp, "fuzz");
	else
		ctl_load_stream(st, fp, "fuzz", &loaded);
	fclose(fp);
	return 0;
}
