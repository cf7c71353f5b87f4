/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	metrics_call - the call cache: label words as the hooks pass them -> series
 * SYNOPSIS
 *	#include "metrics_call.h"
 *
 *	void *metrics_call_find(const void *family, const char *const *words,
 *		size_t n);
 *	void metrics_call_keep(const void *family, const char *const *words,
 *		size_t n, void *series);
 * DESCRIPTION
 *	metrics_call_find() returns the series kept for FAMILY and the label
 *	WORDS[0..N-1] (N at most METRICS_CALL_WORDS; a NULL word is ""; each
 *	compared up to its first colon, as the labels cut "TABLE:LINE"), or
 *	NULL: then the caller renders the labels, finds the series the slow
 *	way and hands it to metrics_call_keep(). Nothing is formatted or
 *	hashed over the text: see metrics_call.c. A word of
 *	METRICS_CALL_WORD_MAX bytes or more (before its colon) is never
 *	kept, nor anything once the cache is full: the caller's slow path
 *	then runs every time, which is only slower. For the modules of
 *	src/metrics only.
 * THREADS
 *	Both may be called from any thread at any time; no lock.
 */
#ifndef TG_METRICS_CALL_H
#define TG_METRICS_CALL_H

#include <stddef.h>

#define METRICS_CALL_WORDS	3
#define METRICS_CALL_WORD_MAX	48

void   *metrics_call_find(const void *family, const char *const *words, size_t n);
void	metrics_call_keep(const void *family, const char *const *words, size_t n,
	    void *series);

#endif
