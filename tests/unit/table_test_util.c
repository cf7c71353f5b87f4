/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	table_test_util - helpers shared by the table unit tests
 * DESCRIPTION
 *	See table_test_util.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "log.h"
#include "table_test_util.h"

static char captured[8192];

static void
table_test_sink(int prio, const char *line, void *ctx)
{
	size_t	len = strlen(captured);

	(void) prio;
	(void) ctx;
	snprintf(captured + len, sizeof(captured) - len, "%s\n", line);
}

/* Send log lines to a buffer instead of stderr. */
void
table_test_capture_start(void)
{
	captured[0] = '\0';
	log_set_sink(table_test_sink, NULL);
}

void
table_test_capture_stop(void)
{
	log_set_sink(NULL, NULL);
}

const char *
table_test_captured(void)
{
	return captured;
}

/* Write TEXT to a new temporary file; its name goes to PATH. */
void
table_test_write(char *path, size_t size, const char *text)
{
	FILE   *fp;
	int	fd;

	snprintf(path, size, "/tmp/test_table.XXXXXX");
	if ((fd = mkstemp(path)) < 0 || (fp = fdopen(fd, "w")) == NULL)
		fail_msg("cannot create %s", path);
	fputs(text, fp);
	fclose(fp);
}

/* Open TYPE:PATH, failing the test when it cannot be opened. */
table_t *
table_test_open(const char *type, const char *path, int *nerrors)
{
	char	spec[512], why[512];
	table_t *t;

	snprintf(spec, sizeof(spec), "%s:%s", type, path);
	if ((t = table_open(spec, nerrors, why, sizeof(why))) == NULL)
		fail_msg("table_open(%s): %s", spec, why);
	return t;
}

/* Check one probe. */
static void
table_test_probe(const table_case_t *c, const table_t *t, const table_probe_t *p)
{
	table_answer_t a;
	int	found = table_lookup_key(t, p->key, &a);

	if (p->want == NULL && found)
		fail_msg("%s: key \"%s\": got \"%s\" (line %d), want no answer",
		    c->name, p->key, a.text, a.line);
	if (p->want != NULL && !found)
		fail_msg("%s: key \"%s\": got no answer, want \"%s\"", c->name, p->key, p->want);
	if (p->want != NULL && (strcmp(a.text, p->want) != 0 || a.line != p->line))
		fail_msg("%s: key \"%s\": got \"%s\" line %d, want \"%s\" line %d",
		    c->name, p->key, a.text, a.line, p->want, p->line);
}

/* Run a NULL-terminated array of cases. */
void
table_run_cases(const table_case_t *cases)
{
	for (const table_case_t *c = cases; c->name; c++) {
		char	path[256];
		int	nerr = 0;
		table_t *t;

		table_test_write(path, sizeof(path), c->text);
		table_test_capture_start();
		t = table_test_open(c->type, path, &nerr);
		table_test_capture_stop();
		if (nerr != c->errors)
			fail_msg("%s: bad lines: got %d, want %d; log:\n%s", c->name, nerr,
			    c->errors, table_test_captured());
		for (const table_probe_t *p = c->probes; p->key; p++)
			table_test_probe(c, t, p);
		table_free(t);
		unlink(path);
	}
}
