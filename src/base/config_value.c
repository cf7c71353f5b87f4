/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	config_value - convert parameter text to typed config_t fields
 * DESCRIPTION
 *	See config_value.h. Numbers are parsed with strtol and checked for
 *	overflow before a unit multiplies them.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config_value.h"

typedef struct {
	const char *suffix;
	long	factor;
} config_unit_t;

static const config_unit_t config_time_units[] = {
	{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000L}, {"d", 86400000L},
	{"w", 604800000L}, {"", 1000}, {NULL, 0},
};
static const config_unit_t config_size_units[] = {
	{"k", 1024}, {"m", 1024L * 1024}, {"g", 1024L * 1024 * 1024}, {"", 1}, {NULL, 0},
};

/* A non-negative number followed by one of UNITS. */
static int
config_parse_unit(const char *text, const config_unit_t *units, long *out)
{
	char   *end;
	long	n;

	if (!isdigit((unsigned char) *text))
		return -1;
	errno = 0;
	n = strtol(text, &end, 10);
	if (errno == ERANGE)
		return -1;
	for (; units->suffix != NULL; units++) {
		if (strcasecmp(end, units->suffix) == 0) {
			if (n > LONG_MAX / units->factor)
				return -1;
			*out = n * units->factor;
			return 0;
		}
	}
	return -1;
}

int
config_parse_time(const char *text, long *ms)
{
	return config_parse_unit(text, config_time_units, ms);
}

int
config_parse_size(const char *text, long *bytes)
{
	return config_parse_unit(text, config_size_units, bytes);
}

int
config_parse_bool(const char *text, int *value)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(text, yes[i]) == 0)
			return *value = 1, 0;
		if (strcasecmp(text, no[i]) == 0)
			return *value = 0, 0;
	}
	return -1;
}

/* Numbers: parse with the type's syntax, then check the bounds. */
static int
config_value_number(const param_t *p, const char *text, long *out, char *why, size_t whylen)
{
	static const char *const syntax[] = {
		[PARAM_INT] = "a whole number",
		[PARAM_TIME] = "a time: number with optional unit ms, s, m, h, d or w (e.g. 125s)",
		[PARAM_SIZE] = "a size: number with optional unit k, m or g",
	};
	char   *end;
	int	rc;

	if (p->type == PARAM_INT) {
		errno = 0;
		*out = strtol(text, &end, 10);
		rc = (*text == '\0' || *end != '\0' || errno == ERANGE) ? -1 : 0;
	} else {
		rc = p->type == PARAM_TIME ? config_parse_time(text, out)
		    : config_parse_size(text, out);
	}
	if (rc < 0) {
		snprintf(why, whylen, "bad value \"%s\": want %s", text, syntax[p->type]);
		return -1;
	}
	if (*out < p->min || *out > p->max) {
		if (p->type == PARAM_TIME)
			snprintf(why, whylen, "value \"%s\" out of range: want %ldms to %ldms",
			    text, p->min, p->max);
		else
			snprintf(why, whylen, "value \"%s\" out of range: want %ld to %ld",
			    text, p->min, p->max);
		return -1;
	}
	return 0;
}

/* Enumerations: the index of the word. */
static int
config_value_enum(const param_t *p, const char *text, int *out, char *why, size_t whylen)
{
	size_t	len = 0;

	for (int i = 0; p->words[i] != NULL; i++) {
		if (strcasecmp(text, p->words[i]) == 0)
			return *out = i, 0;
	}
	len = (size_t) snprintf(why, whylen, "bad value \"%s\": want one of", text);
	for (int i = 0; p->words[i] != NULL && len < whylen; i++)
		len += (size_t) snprintf(why + len, whylen - len, " %s", p->words[i]);
	return -1;
}

/* Convert TEXT and store it in the field P describes. */
int
config_value_set(config_t *cfg, const param_t *p, const char *text, char *why, size_t whylen)
{
	void   *field = (char *) cfg + p->offset;
	strlist_t list = {0};
	char   *copy;

	switch (p->type) {
	case PARAM_BOOL:
		if (config_parse_bool(text, (int *) field) < 0) {
			snprintf(why, whylen, "bad value \"%s\": want yes or no", text);
			return -1;
		}
		return 0;
	case PARAM_INT:
	case PARAM_TIME:
	case PARAM_SIZE:
		return config_value_number(p, text, (long *) field, why, whylen);
	case PARAM_ENUM:
		return config_value_enum(p, text, (int *) field, why, whylen);
	case PARAM_STR:
		if ((copy = strdup(text)) == NULL)
			break;
		free(*(char **) field);
		*(char **) field = copy;
		return 0;
	case PARAM_LIST:
		if (strlist_split(&list, text) < 0) {
			strlist_clear(&list);
			break;
		}
		strlist_clear((strlist_t *) field);
		*(strlist_t *) field = list;
		return 0;
	}
	snprintf(why, whylen, "out of memory");
	return -1;
}

/* Free a string or list field. */
void
config_value_clear(config_t *cfg, const param_t *p)
{
	void   *field = (char *) cfg + p->offset;

	if (p->type == PARAM_STR) {
		free(*(char **) field);
		*(char **) field = NULL;
	} else if (p->type == PARAM_LIST) {
		strlist_clear((strlist_t *) field);
	}
}

char   *
config_trim_left(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

char   *
config_trim(char *s)
{
	size_t	len;

	s = config_trim_left(s);
	len = strlen(s);
	while (len > 0 && isspace((unsigned char) s[len - 1]))
		s[--len] = '\0';
	return s;
}

/* Append N bytes of S to the heap string *BUF of length *LEN. */
int
config_append_n(char **buf, size_t *len, const char *s, size_t n)
{
	char   *grown;

	if ((grown = realloc(*buf, *len + n + 1)) == NULL)
		return -1;
	memcpy(grown + *len, s, n);
	*len += n;
	grown[*len] = '\0';
	*buf = grown;
	return 0;
}

/* Append SEP and S. */
int
config_append(char **buf, size_t *len, const char *sep, const char *s)
{
	if (config_append_n(buf, len, sep, strlen(sep)) < 0)
		return -1;
	return config_append_n(buf, len, s, strlen(s));
}
