/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	words - the decision words, from words.def
 * DESCRIPTION
 *	See words.h. words.def is read twice: once for the constants, once
 *	for the table.
 * DIAGNOSTICS
 *	None.
 */
#include <string.h>
#include "words.h"

#define WORD(id, text, kinds, meaning) const char id[] = text;
#include "words.def"
#undef WORD

const word_t words[] = {
#define WORD(id, text, kinds, meaning) {id, kinds, meaning},
#include "words.def"
#undef WORD
};

const size_t words_count = sizeof(words) / sizeof(words[0]);

/* The row of TEXT, or NULL. */
const word_t *
words_find(const char *text)
{
	for (size_t i = 0; text != NULL && i < words_count; i++) {
		size_t	len = strlen(words[i].text);

		if ((words[i].kinds & WK_PREFIX) ? strncmp(text, words[i].text, len) == 0
		    && text[len] != '\0' : strcmp(text, words[i].text) == 0)
			return &words[i];
	}
	return NULL;
}

/* The name of the kind bit KIND. */
const char *
words_kind_name(unsigned kind)
{
	switch (kind) {
	case WK_STAGE:
		return "stage";
	case WK_ACTION:
		return "action";
	case WK_REASON:
		return "reason";
	case WK_VERDICT:
		return "verdict";
	case WK_STEP:
		return "step";
	case WK_FACT:
		return "fact";
	case WK_PREFIX:
		return "prefix";
	}
	return NULL;
}
