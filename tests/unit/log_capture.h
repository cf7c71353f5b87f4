/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	log_capture - keep the daemon's log lines for a unit test's assertions
 * SYNOPSIS
 *	#include "log_capture.h"
 *
 *	extern char log_lines[];
 *	void log_capture_start(void);
 *	int log_capture_count(const char *what);
 * DESCRIPTION
 *	log_capture_start() empties log_lines and sends every log line
 *	there, one per "\n" (lines that no longer fit are dropped).
 *	log_capture_count() says how many times WHAT occurs in it.
 */
#ifndef TG_LOG_CAPTURE_H
#define TG_LOG_CAPTURE_H

#define LOG_CAPTURE_SIZE	65536

extern char log_lines[LOG_CAPTURE_SIZE];

void	log_capture_start(void);
int	log_capture_count(const char *what);

#endif
