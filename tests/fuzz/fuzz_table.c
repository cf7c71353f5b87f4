/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	fuzz_table - libFuzzer harness for the table parsers
 * DESCRIPTION
 *	The first byte of the input picks the table type (regexp, pcre,
 *	cidr, list); the rest is the table file. The table is opened and
 *	asked a few fixed queries plus one whose name, address and mail are
 *	the last line of the input.
 *
 *	Inputs for regexp: with stacked repetition operators ("a+++", "}{",
 *	"*?") are skipped: glibc regcomp() copies the parse tree for each
 *	one, so its memory grows exponentially with their number (Postfix
 *	regexp: tables behave the same). Tables are written by the admin,
 *	so this is a known limit (for docs/security.md), not an attack surface.
 */
#include "fuzz_common.h"
#include "table.h"

static const char *const fuzz_types[] = { "regexp", "pcre", "cidr", "list" };

/* Whether TEXT has a repetition operator right after another one. */
static int
fuzz_table_stacked(const uint8_t *text, size_t len)
{
	size_t	i;

	for (i = 1; i < len; i++)
		if (strchr("+*?{", text[i]) != NULL && text[i] != '\0'
		    && strchr("+*?}", text[i - 1]) != NULL && text[i - 1] != '\0')
			return 1;
	return 0;
}

/* Ask T one query built from KEY, plus postmap-style key lookups. */
static void
fuzz_table_ask(const table_t *t, const char *key)
{
	static const char *const names[] = { "mail.example.com",
	    "p1234-ipbf01.tokyo.ocn.ne.jp", "[192.0.2.1]", "unknown", "" };
	static const char *const addrs[] = { "192.0.2.1", "2001:db8::1",
	    "::ffff:10.0.0.1" };
	table_answer_t ans;
	table_query_t q;
	addr_t a;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		addr_parse(addrs[i % 3], &a);
		q.name = names[i];
		q.addr = &a;
		q.mail = "user@example.com";
		table_lookup(t, &q, &ans);
	}
	q.name = key;
	q.addr = addr_parse(key, &a) == 0 ? &a : NULL;
	q.mail = key;
	table_lookup(t, &q, &ans);
	table_lookup_key(t, key, &ans);
}

/* One input: type selector byte, then the table file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char spec[300], why[256];
	const char *path, *type, *key;
	table_t *t;
	char *text;
	int nerr = 0;

	fuzz_quiet();
	if (size < 1)
		return 0;
	type = fuzz_types[data[0] % 4];
	if (data[0] % 4 == 0 && fuzz_table_stacked(data + 1, size - 1))
		return 0;
	if ((path = fuzz_write_file(type, data + 1, size - 1)) == NULL)
		return 0;
	snprintf(spec, sizeof(spec), "%s:%s", type, path);
	t = table_open(spec, &nerr, why, sizeof(why));
	if (t != NULL && (text = fuzz_cstring(data + 1, size - 1)) != NULL) {
		key = strrchr(text, '\n');
		fuzz_table_ask(t, key != NULL ? key + 1 : text);
		free(text);
	}
	table_free(t);
	unlink(path);
	return 0;
}
