/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	config - parsed, validated, immutable configuration snapshot
 * DESCRIPTION
 *	See config.h. Reading happens in three passes: collect the raw text
 *	of each parameter (file over embedded default), expand $name
 *	references, then convert every value with the type and bounds that
 *	params.c declares. Every error is reported; any error fails the load.
 * DIAGNOSTICS
 *	"FILE:LINE: parameter NAME: reason", or "FILE:LINE: reason" for a
 *	line that is not a parameter setting.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config.h"
#include "config_value.h"
#include "params.h"

#define CONFIG_EXPAND_DEPTH	10

typedef struct {
	FILE   *err;
	const char *file;
	int	errors;
	int	*lines;		/* line of each parameter's setting, 0 = default */
} config_reader_t;

/* Report one problem. */
static void
config_error(config_reader_t *rd, int line, const char *name, const char *why)
{
	if (line > 0)
		fprintf(rd->err, "%s:%d: ", rd->file, line);
	else
		fprintf(rd->err, "%s: ", rd->file);
	if (name != NULL)
		fprintf(rd->err, "parameter %s: ", name);
	fprintf(rd->err, "%s\n", why);
	rd->errors++;
}

/* Store the raw value of parameter INDEX, replacing any earlier one. */
static int
config_store_raw(config_t *cfg, size_t index, const char *value)
{
	char   *copy = strdup(value);

	if (copy == NULL)
		return -1;
	free(cfg->raw[index]);
	cfg->raw[index] = copy;
	return 0;
}

/* Keep the text of parameter INDEX as written, for -n (best effort). */
static void
config_keep_text(config_t *cfg, size_t index, const char *value)
{
	free(cfg->text[index]);
	cfg->text[index] = strdup(value);
}

/* Handle one logical line "name = value". */
static void
config_parse_line(config_reader_t *rd, config_t *cfg, char *text, int line)
{
	char	why[256];
	char   *eq, *name, *value, *end;
	const param_t *p;
	const char *hint;

	if ((eq = strchr(text, '=')) == NULL) {
		config_error(rd, line, NULL, "missing '=' after parameter name");
		return;
	}
	*eq = '\0';
	name = config_trim(text);
	value = config_trim(eq + 1);
	for (end = name; *end && !strchr(" \t", *end); end++)
		;
	if (*name == '\0' || *end != '\0') {
		config_error(rd, line, NULL, "bad parameter name");
		return;
	}
	if ((p = params_find(name)) == NULL) {
		hint = params_suggest(name);
		snprintf(why, sizeof(why), "unknown parameter%s%s%s", hint ? " (did you mean " : "",
		    hint ? hint : "", hint ? "?)" : "");
		config_error(rd, line, name, why);
		return;
	}
	if (config_store_raw(cfg, (size_t) (p - params_table), value) < 0) {
		config_error(rd, line, name, "out of memory");
		return;
	}
	cfg->from_file[p - params_table] = 1;
	rd->lines[p - params_table] = line;
	config_keep_text(cfg, (size_t) (p - params_table), value);
}

/* Read the file into raw values, joining continuation lines. */
static int
config_read_file(config_reader_t *rd, config_t *cfg, FILE *fp)
{
	char   *buf = NULL, *logical = NULL;
	size_t	cap = 0, len = 0;
	ssize_t	got;
	int	line = 0, start = 0;

	while ((got = getline(&buf, &cap, fp)) >= 0) {
		line++;
		buf[strcspn(buf, "\r\n")] = '\0';
		if (*config_trim_left(buf) == '#' || *config_trim_left(buf) == '\0')
			continue;
		if ((buf[0] == ' ' || buf[0] == '\t') && logical != NULL) {
			if (config_append(&logical, &len, " ", buf) < 0)
				break;
			continue;
		}
		if (buf[0] == ' ' || buf[0] == '\t')
			config_error(rd, line, NULL, "continuation line without a parameter before it");
		if (logical != NULL)
			config_parse_line(rd, cfg, logical, start);
		free(logical);
		logical = NULL;
		len = 0;
		if (buf[0] != ' ' && buf[0] != '\t' && config_append(&logical, &len, "", buf) < 0)
			break;
		start = line;
	}
	if (logical != NULL)
		config_parse_line(rd, cfg, logical, start);
	free(logical);
	free(buf);
	return ferror(fp) ? -1 : 0;
}

/* The name of the $name, ${name} or $(name) reference after the '$' at
 * *SRCP, into NM[SIZE]; moves *SRCP past it. 0, or -1 (logged). */
static int
config_ref_name(config_reader_t *rd, size_t index, const char **srcp, char *nm, size_t size)
{
	const char *src = *srcp, *name, *close = NULL;
	size_t	nlen;

	if (*src == '{' || *src == '(') {
		close = strchr(src, *src == '{' ? '}' : ')');
		name = src + 1;
		nlen = close ? (size_t) (close - name) : 0;
	} else {
		name = src;
		nlen = strspn(src, "abcdefghijklmnopqrstuvwxyz0123456789_");
	}
	if (nlen == 0 || nlen >= size) {
		config_error(rd, rd->lines[index], params_table[index].name,
		    "bad $name reference");
		return -1;
	}
	memcpy(nm, name, nlen);
	nm[nlen] = '\0';
	*srcp = close ? close + 1 : name + nlen;
	return 0;
}

/* Expand $name, ${name} and $(name) in parameter INDEX, recursively. */
static char *
config_expand(config_reader_t *rd, config_t *cfg, size_t index, int depth)
{
	const char *src = cfg->raw[index];
	char   *out = NULL, *sub, nm[64];
	size_t	len = 0, nlen;
	const param_t *p;

	if (depth > CONFIG_EXPAND_DEPTH) {
		config_error(rd, rd->lines[index], params_table[index].name,
		    "$name references nest too deeply (a loop?)");
		return NULL;
	}
	if (config_append(&out, &len, "", "") < 0)
		return NULL;
	while (*src) {
		if (*src != '$') {
			nlen = strcspn(src, "$");
			if (config_append_n(&out, &len, src, nlen) < 0)
				goto fail;
			src += nlen;
			continue;
		}
		src++;
		if (config_ref_name(rd, index, &src, nm, sizeof(nm)) < 0)
			goto fail;
		if ((p = params_find(nm)) == NULL) {
			char	why[128];

			snprintf(why, sizeof(why), "reference to unknown parameter $%s", nm);
			config_error(rd, rd->lines[index], params_table[index].name, why);
			goto fail;
		}
		if ((sub = config_expand(rd, cfg, (size_t) (p - params_table), depth + 1)) == NULL)
			goto fail;
		if (config_append(&out, &len, "", sub) < 0) {
			free(sub);
			goto fail;
		}
		free(sub);
	}
	return out;
fail:
	free(out);
	return NULL;
}

/* Expand and convert every parameter. */
static void
config_convert_all(config_reader_t *rd, config_t *cfg)
{
	char	why[256];
	char  **expanded;

	if ((expanded = calloc(params_count, sizeof(*expanded))) == NULL) {
		config_error(rd, 0, NULL, "out of memory");
		return;
	}
	for (size_t i = 0; i < params_count; i++)
		if ((expanded[i] = config_expand(rd, cfg, i, 0)) == NULL && rd->errors == 0)
			config_error(rd, rd->lines[i], params_table[i].name, "out of memory");
	for (size_t i = 0; i < params_count; i++) {
		if (expanded[i] == NULL)
			continue;
		if (config_value_set(cfg, &params_table[i], expanded[i], why, sizeof(why)) < 0)
			config_error(rd, rd->lines[i], params_table[i].name, why);
		free(cfg->raw[i]);
		cfg->raw[i] = expanded[i];
	}
	free(expanded);
}

/* A new configuration holding the embedded defaults as raw text. */
static config_t *
config_alloc(void)
{
	config_t *cfg;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		return NULL;
	cfg->raw = calloc(params_count, sizeof(*cfg->raw));
	cfg->from_file = calloc(params_count, 1);
	cfg->text = calloc(params_count, sizeof(*cfg->text));
	cfg->lines = calloc(params_count, sizeof(*cfg->lines));
	if (cfg->raw == NULL || cfg->from_file == NULL || cfg->text == NULL || cfg->lines == NULL)
		return config_free(cfg);
	for (size_t i = 0; i < params_count; i++)
		if (config_store_raw(cfg, i, params_table[i].def) < 0)
			return config_free(cfg);
	return cfg;
}

/* Read PATH (or only defaults) into a new snapshot. */
config_t *
config_load(const char *path, int missing_ok, FILE *err)
{
	config_reader_t rd = {err, path ? path : "default", 0, NULL};
	config_t *cfg;
	FILE   *fp = NULL;

	if ((cfg = config_alloc()) == NULL || (rd.lines = calloc(params_count, sizeof(int))) == NULL) {
		fprintf(err, "out of memory\n");
		free(rd.lines);
		return config_free(cfg);
	}
	if (path != NULL && (fp = fopen(path, "r")) == NULL && !(errno == ENOENT && missing_ok)) {
		fprintf(err, "%s: cannot open: %s\n", path, strerror(errno));
		rd.errors++;
	}
	if (fp != NULL) {
		if ((cfg->path = strdup(path)) == NULL || config_read_file(&rd, cfg, fp) < 0)
			config_error(&rd, 0, NULL, "read error");
		fclose(fp);
	}
	config_convert_all(&rd, cfg);	/* also after errors: report them all */
	memcpy(cfg->lines, rd.lines, params_count * sizeof(int));
	free(rd.lines);
	if (rd.errors > 0)
		return config_free(cfg);
	return cfg;
}

/* Override one parameter after loading (command line). */
int
config_set(config_t *cfg, const char *name, const char *value, FILE *err)
{
	config_reader_t rd = {err, "command line", 0, NULL};
	const param_t *p = params_find(name);
	char	why[256];

	if (p == NULL) {
		config_error(&rd, 0, name, "unknown parameter");
		return -1;
	}
	if (config_value_set(cfg, p, value, why, sizeof(why)) < 0) {
		fprintf(err, "command line: parameter %s: %s\n", name, why);
		return -1;
	}
	cfg->from_file[p - params_table] = 1;
	cfg->lines[p - params_table] = -1;
	config_keep_text(cfg, (size_t) (p - params_table), value);
	return config_store_raw(cfg, (size_t) (p - params_table), value);
}

/* Apply the "name=value" ITEMS (-p, -o) with config_set(), in order;
 * -1 after the first error (an item without '=' is one). */
int
config_set_items(config_t *cfg, const strlist_t *items, FILE *err)
{
	for (size_t i = 0; i < items->n; i++) {
		char   *item = items->items[i], *eq = strchr(item, '=');
		int	rc;

		if (eq == NULL)
			return -1;
		*eq = '\0';		/* put back below: the list stays as it was */
		rc = config_set(cfg, item, eq + 1, err);
		*eq = '=';
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The text of a parameter after expansion. */
const char *
config_raw(const config_t *cfg, const char *name)
{
	const param_t *p = params_find(name);

	return p ? cfg->raw[p - params_table] : NULL;
}

/* Print "name = value" for parameter I: the default, or as written. */
static void
config_print_one(const config_t *cfg, FILE *fp, int only_set, size_t i)
{
	const char *v = !only_set ? params_table[i].def : cfg->text[i] ? cfg->text[i]
	    : cfg->raw[i];

	if (only_set && !cfg->from_file[i])
		return;
	if (params_table[i].secret && v && *v)
		v = PARAM_SECRET_MASK;	/* -n output lands in tickets and mails */
	fprintf(fp, "%s = %s\n", params_table[i].name, v);
}

/* Print "name = value" for every parameter, or only the changed ones. */
void
config_print(const config_t *cfg, FILE *fp, int only_set)
{
	for (size_t i = 0; i < params_count; i++)
		config_print_one(cfg, fp, only_set, i);
}

/* The same for the parameters NAMES only; returns how many are unknown. */
int
config_print_names(const config_t *cfg, FILE *fp, int only_set, char *const *names,
    int count, FILE *err)
{
	const param_t *p;
	int	unknown = 0;

	for (int i = 0; i < count; i++) {
		if ((p = params_find(names[i])) == NULL) {
			fprintf(err, "targrey-milter: unknown parameter %s\n", names[i]);
			unknown++;
			continue;
		}
		config_print_one(cfg, fp, only_set, (size_t) (p - params_table));
	}
	return unknown;
}

/* Where parameter NAME was set: "FILE:LINE", "FILE" or "command line". */
int
config_where(const config_t *cfg, const char *name, char *buf, size_t len)
{
	const param_t *p = params_find(name);
	const char *file = cfg->path ? cfg->path : "default";
	int	line;

	if (p == NULL)
		return -1;
	line = cfg->lines[p - params_table];
	if (line < 0)
		snprintf(buf, len, "command line");
	else if (line > 0)
		snprintf(buf, len, "%s:%d", file, line);
	else
		snprintf(buf, len, "%s", file);
	return 0;
}

/* Release everything; returns NULL. */
config_t *
config_free(config_t *cfg)
{
	if (cfg == NULL)
		return NULL;
	for (size_t i = 0; i < params_count; i++) {
		config_value_clear(cfg, &params_table[i]);
		if (cfg->raw)
			free(cfg->raw[i]);
		if (cfg->text)
			free(cfg->text[i]);
	}
	free(cfg->raw);
	free(cfg->text);
	free(cfg->lines);
	free(cfg->from_file);
	free(cfg->path);
	free(cfg);
	return NULL;
}
