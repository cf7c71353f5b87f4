/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	fuzz_config - libFuzzer harness for the main.cf parser
 * DESCRIPTION
 *	Writes the input to a temporary file and loads it with config_load();
 *	a snapshot that loads is printed (every value converted back) and
 *	freed.
 */
#include "fuzz_common.h"
#include "config.h"

/* One input: a whole configuration file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	const char *path;
	config_t *cfg;

	if (null == NULL) {
		fuzz_quiet();
		null = fopen("/dev/null", "w");
	}
	if ((path = fuzz_write_file("config", data, size)) == NULL)
		return 0;
	cfg = config_load(path, 0, null);
	if (cfg != NULL) {
		config_print(cfg, null, 1);
		config_free(cfg);
	}
	unlink(path);
	return 0;
}
