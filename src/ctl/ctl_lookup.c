/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ctl_lookup - targreyctl lookup (postmap -q) and classify
 * DESCRIPTION
 *	See ctl_lookup.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl_lookup.h"
#include "s25r.h"
#include "table.h"
#include "words.h"

typedef int (*ctl_key_fn)(void *ctx, const char *key);

/* Call FN for each key of ARGV, or each line of stdin when it is "-". */
static int
ctl_each_key(int argc, char **argv, ctl_key_fn fn, void *ctx)
{
	char   *line = NULL;
	size_t	size = 0;
	ssize_t len;
	int	found = 0;

	if (argc == 1 && strcmp(argv[0], "-") == 0) {
		while ((len = getline(&line, &size, stdin)) >= 0) {
			if (len > 0 && line[len - 1] == '\n')
				line[len - 1] = '\0';
			found |= fn(ctx, line);
		}
		free(line);
	} else {
		for (int i = 0; i < argc; i++)
			found |= fn(ctx, argv[i]);
	}
	return found;
}

/* Print KEY<TAB>RESULT when the table answers. */
static int
ctl_lookup_one(void *ctx, const char *key)
{
	table_answer_t a;

	if (*key == '\0' || table_lookup_key(ctx, key, &a) <= 0)
		return 0;
	printf("%s\t%s\n", key, a.text);
	return 1;
}

/* targreyctl lookup TYPE:FILE KEY... | - */
int
ctl_lookup(const config_t *cfg, int argc, char **argv)
{
	table_t *t;
	char	why[512];
	int	found;

	(void) cfg;
	if (argc < 3) {
		fprintf(stderr, "usage: %s TYPE:FILE KEY... | -\n", argv[0]);
		return 2;
	}
	if ((t = table_open(argv[1], NULL, why, sizeof(why))) == NULL) {
		fprintf(stderr, "%s: %s\n", argv[0], why);
		return 1;
	}
	found = ctl_each_key(argc - 2, argv + 2, ctl_lookup_one, t);
	fflush(stdout);
	table_free(t);
	return found ? 0 : 1;
}

/* Print NAME<TAB>verdict<TAB>reason. */
static int
ctl_classify_one(void *ctx, const char *name)
{
	s25r_verdict_t v;
	addr_t	addr, *ap = NULL;
	size_t	len = strlen(name);
	char	inner[ADDR_TEXT_MAX + 8];

	if (len > 2 && name[0] == '[' && name[len - 1] == ']' && len - 2 < sizeof(inner)) {
		snprintf(inner, sizeof(inner), "%.*s", (int) (len - 2), name + 1);
		if (addr_parse(inner, &addr) == 0)
			ap = &addr;
	}
	s25r_classify(ctx, name, ap, &v);
	printf("%s\t%s\t%s\n", name, v.suspicious ? W_SUSPICIOUS : W_CLEAN, v.reason);
	return 1;
}

/* targreyctl classify NAME... | - */
int
ctl_classify(const config_t *cfg, int argc, char **argv)
{
	s25r_t *s;
	char	why[512];

	if (argc < 2) {
		fprintf(stderr, "usage: %s NAME... | -\n", argv[0]);
		return 2;
	}
	if ((s = s25r_create(cfg, NULL, why, sizeof(why))) == NULL) {
		fprintf(stderr, "%s: %s\n", argv[0], why);
		return 1;
	}
	ctl_each_key(argc - 1, argv + 1, ctl_classify_one, s);
	fflush(stdout);
	s25r_free(s);
	return 0;
}
