/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	config_value - convert parameter text to typed config_t fields
 * SYNOPSIS
 *	#include "config_value.h"
 *
 *	int config_value_set(config_t *cfg, const param_t *p, const char *text,
 *		char *why, size_t whylen);
 *	void config_value_clear(config_t *cfg, const param_t *p);
 *	int config_parse_time(const char *text, long *ms);
 *	int config_parse_size(const char *text, long *bytes);
 *	int config_parse_bool(const char *text, int *value);
 *	char *config_trim(char *s);
 *	char *config_trim_left(char *s);
 *	int config_append(char **buf, size_t *len, const char *sep, const char *s);
 *	int config_append_n(char **buf, size_t *len, const char *s, size_t n);
 * DESCRIPTION
 *	config_value_set() converts TEXT with P's type and bounds and stores
 *	it in CFG (freeing an earlier string or list value). On error it
 *	returns -1 and explains in WHY.
 *
 *	Times are a number with an optional unit: ms, s (default), m, h, d, w;
 *	the result is milliseconds. Sizes take k, m, g (powers of 1024).
 *	Booleans: yes/no, true/false, on/off, 1/0.
 *
 *	config_trim() strips white space at both ends in place.
 *	config_append() appends SEP then S to a growing heap string.
 */
#ifndef TG_CONFIG_VALUE_H
#define TG_CONFIG_VALUE_H

#include <stddef.h>
#include "config.h"
#include "params.h"

int	config_value_set(config_t *cfg, const param_t *p, const char *text, char *why, size_t whylen);
void	config_value_clear(config_t *cfg, const param_t *p);
int	config_parse_time(const char *text, long *ms);
int	config_parse_size(const char *text, long *bytes);
int	config_parse_bool(const char *text, int *value);
char   *config_trim(char *s);
char   *config_trim_left(char *s);
int	config_append(char **buf, size_t *len, const char *sep, const char *s);
int	config_append_n(char **buf, size_t *len, const char *s, size_t n);

#endif
