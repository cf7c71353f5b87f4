/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	log_capture - keep the daemon's log lines for a unit test's assertions
 * DESCRIPTION
 *	See log_capture.h.
 */
#include <string.h>
#include "log.h"
#include "log_capture.h"

char	log_lines[LOG_CAPTURE_SIZE];

/* Append one line, when it fits. */
static void
log_capture_sink(int prio, const char *line, void *ctx)
{
	(void) prio;
	(void) ctx;
	if (strlen(log_lines) + strlen(line) + 2 < sizeof(log_lines)) {
		strcat(log_lines, line);
		strcat(log_lines, "\n");
	}
}

void
log_capture_start(void)
{
	log_lines[0] = 0;
	log_set_sink(log_capture_sink, NULL);
}

int
log_capture_count(const char *what)
{
	int	n = 0;

	for (const char *p = log_lines; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}
