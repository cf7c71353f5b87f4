/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_words - the table of decision words, the names the code gives,
 *	and targrey-milter(8)'s list of them
 * DESCRIPTION
 *	Every word of words.def is unique, lowercase joined by underscore
 *	(^[a-z][a-z0-9_]*$), has a kind and a meaning; the name functions
 *	(greylist_verdict_name(), policy_verdict_name(),
 *	tarpit_outcome_name(), spf_result_name(), store_health_name(),
 *	store_event_name()) return a table word for every enum value; the
 *	"Decision words" list of docs/targrey-milter.8 (found through
 *	TG_SRCDIR) is the table, row for row. "test_words --man" prints
 *	that list.
 * DIAGNOSTICS
 *	"got X, want Y" for each difference.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "greylist.h"
#include "policy.h"
#include "spf.h"
#include "store.h"
#include "tarpit.h"
#include "words.h"

#define MAN_LINE	512

/* Is W lowercase words joined by underscore? */
static int
word_shaped(const char *w)
{
	if (w[0] < 'a' || w[0] > 'z')
		return 0;
	for (; *w; w++)
		if (!((*w >= 'a' && *w <= 'z') || (*w >= '0' && *w <= '9') || *w == '_'))
			return 0;
	return 1;
}

static void
test_table_shape(void **state)
{
	(void) state;
	assert_true(words_count > 0);
	for (size_t i = 0; i < words_count; i++) {
		const word_t *w = &words[i];

		if (!word_shaped(w->text))
			fail_msg("row %zu: got \"%s\", want ^[a-z][a-z0-9_]*$", i, w->text);
		if ((w->kinds & ~(unsigned) WK_PREFIX) == 0)
			fail_msg("row %zu (%s): got no kind, want one", i, w->text);
		if (w->meaning == NULL || w->meaning[0] == '\0')
			fail_msg("row %zu (%s): got no meaning, want one line", i, w->text);
		for (size_t j = 0; j < i; j++)
			if (strcmp(words[j].text, w->text) == 0)
				fail_msg("row %zu: got \"%s\" again (row %zu), want unique", i,
				    w->text, j);
		if (words_find(w->text) != w && !(w->kinds & WK_PREFIX))
			fail_msg("words_find(%s): got another row, want row %zu", w->text, i);
	}
}

/* Fail unless NAME, what FN gave for value V, is a table word. */
static void
want_word(const char *fn, int v, const char *name)
{
	if (name == NULL || words_find(name) == NULL || !word_shaped(name))
		fail_msg("%s(%d): got \"%s\", want a word of words.def", fn, v,
		    name ? name : "(null)");
}

static void
test_names_are_words(void **state)
{
	(void) state;
	for (int v = GREYLIST_PASS_AWL; v <= GREYLIST_UNAVAILABLE; v++)
		want_word("greylist_verdict_name", v, greylist_verdict_name((greylist_verdict_t) v));
	for (int v = POLICY_ASK_CLIENT; v <= POLICY_UNAVAILABLE; v++)
		want_word("policy_verdict_name", v, policy_verdict_name((policy_verdict_t) v));
	for (int v = TARPIT_PASSED; v <= TARPIT_HALF_CLOSED; v++)
		want_word("tarpit_outcome_name", v, tarpit_outcome_name((tarpit_outcome_t) v));
	for (int v = SPF_RES_NONE; v <= SPF_RES_PERMERROR; v++)
		want_word("spf_result_name", v, spf_result_name((spf_res_t) v));
	for (int v = STORE_HEALTHY; v <= STORE_BROKEN; v++)
		want_word("store_health_name", v, store_health_name((store_health_t) v));
	for (int v = 0; v < STORE_EVENTS; v++)
		want_word("store_event_name", v, store_event_name((store_event_t) v));
	/* the renamed ones, by value */
	assert_string_equal(greylist_verdict_name(GREYLIST_PASS_AWL), "pass_awl");
	assert_string_equal(greylist_verdict_name(GREYLIST_PASS_TRIPLET), "pass_triplet");
	assert_string_equal(greylist_verdict_name(GREYLIST_UNAVAILABLE), "store_unavailable");
}

/* The kinds of W as the man page says them: "action, verdict". */
static void
word_kinds(const word_t *w, char *buf, size_t size)
{
	size_t	len = 0;

	buf[0] = '\0';
	for (unsigned k = WK_STAGE; k < WK_PREFIX && len < size; k <<= 1)
		if (w->kinds & k)
			len += (size_t) snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
			    words_kind_name(k));
}

/* Line N (0, 1) of the man page's item for row W. */
static void
word_man_line(const word_t *w, int n, char *buf, size_t size)
{
	char	kinds[64];

	if (n == 0) {
		snprintf(buf, size, ".It Ql %s%s", w->text, (w->kinds & WK_PREFIX) ? " Ns Ar ..." : "");
		return;
	}
	word_kinds(w, kinds, sizeof(kinds));
	snprintf(buf, size, "%s: %s", kinds, w->meaning);
}

/* The list as targrey-milter(8) has it. */
static void
print_man(void)
{
	char	line[MAN_LINE];

	printf(".Bl -tag -width Ds -compact\n");
	for (size_t i = 0; i < words_count; i++)
		for (int n = 0; n < 2; n++) {
			word_man_line(&words[i], n, line, sizeof(line));
			printf("%s\n", line);
		}
	printf(".El\n");
}

/* Read lines of FP up to the list's end; compare with the table. */
static void
check_man_list(FILE *fp)
{
	char	got[MAN_LINE], want[MAN_LINE];
	size_t	row = 0;
	int	n = 0;

	while (fgets(got, sizeof(got), fp) != NULL) {
		got[strcspn(got, "\n")] = '\0';
		if (strcmp(got, ".El") == 0)
			break;
		if (row >= words_count)
			fail_msg("man page: got \"%s\", want .El (a word not in words.def)", got);
		word_man_line(&words[row], n, want, sizeof(want));
		if (strcmp(got, want) != 0)
			fail_msg("man page, word %zu: got \"%s\", want \"%s\" (test_words --man prints the list)",
			    row, got, want);
		if (++n == 2)
			n = 0, row++;
	}
	if (row != words_count)
		fail_msg("man page: got %zu words, want %zu (test_words --man prints the list)",
		    row, words_count);
}

static void
test_man_page(void **state)
{
	const char *src = getenv("TG_SRCDIR");
	char	path[4096], line[MAN_LINE];
	FILE   *fp;
	int	found = 0;

	(void) state;
	snprintf(path, sizeof(path), "%s/docs/targrey-milter.8", src ? src : ".");
	if ((fp = fopen(path, "r")) == NULL)
		fail_msg("%s: cannot open (set TG_SRCDIR)", path);
	while (!found && fgets(line, sizeof(line), fp) != NULL)
		found = strcmp(line, ".Ss Decision words\n") == 0;
	while (found && fgets(line, sizeof(line), fp) != NULL
	    && strncmp(line, ".Bl ", 4) != 0)
		;
	if (!found || feof(fp)) {
		fclose(fp);
		fail_msg("%s: got no \".Ss Decision words\" list, want one", path);
	}
	check_man_list(fp);
	fclose(fp);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_shape),
		cmocka_unit_test(test_names_are_words),
		cmocka_unit_test(test_man_page),
	};

	if (argc > 1 && strcmp(argv[1], "--man") == 0) {
		print_man();
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
