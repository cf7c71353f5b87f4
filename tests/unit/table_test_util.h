/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	table_test_util - helpers shared by the table unit tests
 * SYNOPSIS
 *	#include "table_test_util.h"
 *
 *	void table_test_write(char *path, size_t size, const char *text);
 *	table_t *table_test_open(const char *type, const char *path, int *nerrors);
 *	void table_run_cases(const table_case_t *cases);
 *	void table_test_capture_start(void);
 *	void table_test_capture_stop(void);
 *	const char *table_test_captured(void);
 * DESCRIPTION
 *	table_run_cases() writes each case's text to a temporary file,
 *	opens TYPE:FILE, checks the count of bad lines, and looks each
 *	probe key up with table_lookup_key() (postmap -q semantics); a
 *	probe with want NULL must get no answer. Failures print
 *	"got X, want Y". Warnings are captured, not printed.
 */
#ifndef TG_TEST_TABLE_UTIL_H
#define TG_TEST_TABLE_UTIL_H

#include <stddef.h>
#include "table.h"

typedef struct {
	const char *key;
	const char *want;	/* NULL: no answer */
	int	line;
} table_probe_t;

typedef struct {
	const char *name;
	const char *type;
	const char *text;
	int	errors;
	table_probe_t probes[8];
} table_case_t;

void	table_test_write(char *path, size_t size, const char *text);
table_t *table_test_open(const char *type, const char *path, int *nerrors);
void	table_run_cases(const table_case_t *cases);
void	table_test_capture_start(void);
void	table_test_capture_stop(void);
const char *table_test_captured(void);

#endif
