/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	words - the decision words of the log, the metrics and explain
 * SYNOPSIS
 *	#include "words.h"
 *
 *	extern const char W_PASS_AWL[];		(one per row of words.def)
 *	extern const word_t words[];
 *	extern const size_t words_count;
 *	const word_t *words_find(const char *text);
 *	const char *words_kind_name(unsigned kind);
 * DESCRIPTION
 *	Every word the daemon writes as stage=, action=, reason=, tg=, a
 *	step of targreyctl explain's trace or a metrics label value is a
 *	row of words.def; code names it by its constant (W_PASS_AWL is
 *	"pass_awl"), so a misspelt word does not compile. The words are
 *	lowercase, joined by underscore.
 *
 *	words[0..words_count-1] is the table in the order of words.def:
 *	the text, its kinds (WK_* bits) and a one-line meaning.
 *	words_find() returns the row of TEXT, or NULL; a WK_PREFIX row
 *	matches TEXT that starts with it. words_kind_name() names one
 *	WK_* bit ("stage", "action", ...), or returns NULL.
 * DIAGNOSTICS
 *	None.
 */
#ifndef TG_WORDS_H
#define TG_WORDS_H

#include <stddef.h>

enum {
	WK_STAGE = 1 << 0,	/* stage= */
	WK_ACTION = 1 << 1,	/* action= */
	WK_REASON = 1 << 2,	/* reason= (and the metrics reason label) */
	WK_VERDICT = 1 << 3,	/* tg=, the verdicts targreyctl explain prints */
	WK_STEP = 1 << 4,	/* a step of the decision (explain's trace) */
	WK_FACT = 1 << 5,	/* other values of the tail and metrics labels */
	WK_PREFIX = 1 << 6,	/* logged followed by N or TABLE:LINE */
};

typedef struct {
	const char *text;
	unsigned kinds;
	const char *meaning;
} word_t;

#define WORD(id, text, kinds, meaning) extern const char id[];
#include "words.def"
#undef WORD

extern const word_t words[];
extern const size_t words_count;

const word_t *words_find(const char *text);
const char *words_kind_name(unsigned kind);

#endif
