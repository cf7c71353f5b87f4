/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	metrics_call - the call cache: label words as the hooks pass them -> series
 * DESCRIPTION
 *	See metrics_call.h. Two tables of entries, each entry a family, its
 *	own copies of the words, and the series; an entry is claimed by a
 *	compare-and-swap (FREE -> BUSY), filled, published READY, and never
 *	changes again, so a reader that sees READY reads whole words.
 *
 *	The address table is found from the addresses of the words (one
 *	multiply per word): the hooks' words are mostly string literals, so
 *	a decision finds its entry at once. An address says nothing about
 *	what a buffer holds now, so every hit is proved by comparing the
 *	words with the entry's copies. A buffer (a session's S25R reason)
 *	has a new address per session and would fill that table with copies
 *	of the same few words: the word table, found from each word's length
 *	and three of its bytes, holds one entry per label set whatever its
 *	address; an address entry is made on a hit there only while the
 *	address table is less than half full. Both look at most
 *	CALL_PROBES entries from where they start.
 * DIAGNOSTICS
 *	None: a full cache only sends the callers to their slow path.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "metrics_call.h"

#define CALL_BY_ADDR	1024
#define CALL_BY_WORD	512
#define CALL_PROBES	8

enum { CALL_FREE, CALL_BUSY, CALL_READY };

typedef struct {
	atomic_int state;
	const void *family;
	void   *series;
	char	words[METRICS_CALL_WORDS][METRICS_CALL_WORD_MAX];	/* cut at ':' */
} call_t;

static call_t by_addr[CALL_BY_ADDR], by_word[CALL_BY_WORD];
static atomic_int by_addr_used;

/* The length of W up to its first colon, at most METRICS_CALL_WORD_MAX. */
static size_t
call_word_len(const char *w)
{
	size_t	n = 0;

	while (w[n] != 0 && w[n] != ':' && n < METRICS_CALL_WORD_MAX)
		n++;
	return n;
}

/* Whether W, cut at its first colon, equals STORED. */
static int
call_word_eq(const char *stored, const char *w)
{
	for (; *stored != 0 && *stored == *w; stored++, w++)
		;
	return *stored == 0 && (*w == 0 || *w == ':');
}

/* Where the call starts in a table of SIZE: from addresses, or from words. */
static size_t
call_home(const void *family, const char *const *words, size_t n, int by_words,
	  size_t size)
{
	uint64_t h = (uint64_t) (uintptr_t) family;

	for (size_t i = 0; i < n; i++) {
		const char *w = words[i] ? words[i] : "";
		uint64_t k = (uint64_t) (uintptr_t) w;

		if (by_words) {
			size_t	len = call_word_len(w);

			k = len | (len ? (uint64_t) (unsigned char) w[0] << 8
			    | (uint64_t) (unsigned char) w[len / 2] << 16
			    | (uint64_t) (unsigned char) w[len - 1] << 24 : 0);
		}
		h = (h ^ k) * 0x9e3779b97f4a7c15ull;
	}
	return (size_t) (h >> 40) % size;
}

/* The series in TABLE from HOME on, or NULL; *FREE_AT: a free entry seen. */
static void *
call_look(call_t *table, size_t size, size_t home, const void *family,
	  const char *const *words, size_t n, call_t **free_at)
{
	*free_at = NULL;
	for (size_t p = 0; p < CALL_PROBES; p++) {
		call_t *c = &table[(home + p) % size];
		int	st = atomic_load_explicit(&c->state, memory_order_acquire);
		size_t	i = 0;

		if (st == CALL_FREE) {
			*free_at = c;
			return NULL;
		}
		if (st != CALL_READY || c->family != family)
			continue;
		while (i < n && call_word_eq(c->words[i], words[i] ? words[i] : ""))
			i++;
		if (i == n)
			return c->series;
	}
	return NULL;
}

/* Fill the free entry C with the call; 1 when it is kept. */
static int
call_fill(call_t *c, const void *family, const char *const *words, size_t n, void *series)
{
	int	want = CALL_FREE;

	if (c == NULL || series == NULL || n > METRICS_CALL_WORDS)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (call_word_len(words[i] ? words[i] : "") >= METRICS_CALL_WORD_MAX)
			return 0;
	if (!atomic_compare_exchange_strong(&c->state, &want, CALL_BUSY))
		return 0;
	c->family = family;
	c->series = series;
	for (size_t i = 0; i < n; i++) {
		const char *w = words[i] ? words[i] : "";

		snprintf(c->words[i], METRICS_CALL_WORD_MAX, "%.*s", (int) call_word_len(w), w);
	}
	atomic_store_explicit(&c->state, CALL_READY, memory_order_release);
	return 1;
}

/* An address entry for the call, while the address table is under half full. */
static void
call_keep_addr(call_t *free_at, const void *family, const char *const *words, size_t n,
	       void *series)
{
	if (atomic_load_explicit(&by_addr_used, memory_order_relaxed) < CALL_BY_ADDR / 2
	    && call_fill(free_at, family, words, n, series))
		atomic_fetch_add_explicit(&by_addr_used, 1, memory_order_relaxed);
}

void *
metrics_call_find(const void *family, const char *const *words, size_t n)
{
	call_t *free_addr, *free_word;
	void   *series;

	series = call_look(by_addr, CALL_BY_ADDR, call_home(family, words, n, 0, CALL_BY_ADDR),
	    family, words, n, &free_addr);
	if (series != NULL)
		return series;
	series = call_look(by_word, CALL_BY_WORD, call_home(family, words, n, 1, CALL_BY_WORD),
	    family, words, n, &free_word);
	if (series != NULL)
		call_keep_addr(free_addr, family, words, n, series);
	return series;
}

void
metrics_call_keep(const void *family, const char *const *words, size_t n, void *series)
{
	call_t *free_at;

	if (call_look(by_word, CALL_BY_WORD, call_home(family, words, n, 1, CALL_BY_WORD),
	    family, words, n, &free_at) == NULL)
		(void) call_fill(free_at, family, words, n, series);
	if (call_look(by_addr, CALL_BY_ADDR, call_home(family, words, n, 0, CALL_BY_ADDR),
	    family, words, n, &free_at) == NULL)
		call_keep_addr(free_at, family, words, n, series);
}
