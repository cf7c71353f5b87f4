/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	fuzz_common.h - helpers shared by the libFuzzer harnesses
 * SYNOPSIS
 *	#include "fuzz_common.h"
 *
 *	char *fuzz_cstring(const uint8_t *data, size_t size);
 *	const char *fuzz_write_file(const char *tag, const uint8_t *data, size_t size);
 *	void fuzz_quiet(void);
 * DESCRIPTION
 *	fuzz_cstring() returns a malloc()ed NUL-terminated copy of DATA
 *	(NUL bytes inside stay, so C string users see a prefix).
 *	fuzz_write_file() writes DATA to a per-process temporary file named
 *	after TAG and returns its path (the same path on every call).
 *	fuzz_quiet() sends the daemon's log lines nowhere, so warnings about
 *	bad input do not flood the fuzzer's output.
 * DIAGNOSTICS
 *	fuzz_write_file() returns NULL when the file cannot be written.
 */
#ifndef TG_FUZZ_COMMON_H
#define TG_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* NUL-terminated heap copy of the input. */
static inline char *
fuzz_cstring(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Write the input to this process's temporary file for TAG. */
static inline const char *
fuzz_write_file(const char *tag, const uint8_t *data, size_t size)
{
	static char path[256];
	FILE *fp;
	const char *dir = getenv("TMPDIR");

	snprintf(path, sizeof(path), "%s/tg-fuzz-%s-%ld",
	    dir != NULL && *dir != '\0' ? dir : "/tmp", tag, (long)getpid());
	if ((fp = fopen(path, "w")) == NULL)
		return NULL;
	if (size > 0 && fwrite(data, 1, size, fp) != size) {
		fclose(fp);
		return NULL;
	}
	if (fclose(fp) != 0)
		return NULL;
	return path;
}

/* Log sink that drops every line. */
static inline void
fuzz_sink(int prio, const char *line, void *ctx)
{
	(void)prio;
	(void)line;
	(void)ctx;
}

/* Silence the daemon's logging. */
static inline void
fuzz_quiet(void)
{
	log_set_sink(fuzz_sink, NULL);
}

#endif
