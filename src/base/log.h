/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	log - one greppable line per decision, to syslog and/or stderr
 * SYNOPSIS
 *	#include "log.h"
 *
 *	int log_open(const char *name, const char *facility, int to_stderr);
 *	int log_open_file(const char *path);
 *	int log_reopen(void);
 *	void log_set_level(int level);
 *	void log_set_sink(log_sink_fn fn, void *ctx);
 *	void log_msg(int prio, const char *fmt, ...);
 *	void log_decision(const log_fields_t *f);
 * DESCRIPTION
 *	log_open() chooses where lines go: syslog under NAME and FACILITY
 *	("mail", "local0".."local7", "daemon", "user"), and stderr too when
 *	TO_STDERR is set. Returns -1 for an unknown facility;
 *	log_facility_valid() tells beforehand.
 *
 *	log_open_file() sends the lines to PATH instead of syslog, in the
 *	format of Postfix's maillog_file ("Mon DD HH:MM:SS HOST NAME[PID]:
 *	text"), so that they can sit beside Postfix's; an empty PATH keeps
 *	syslog. log_reopen() opens PATH again (after logrotate moved it)
 *	under the same descriptor, so that no thread ever writes to a closed
 *	or reused one. Both return -1 after reporting why (the old file
 *	stays in use).
 *
 *	log_msg() writes one line at syslog priority PRIO (LOG_ERR,
 *	LOG_WARNING, LOG_INFO, LOG_DEBUG); LOG_DEBUG lines are written only
 *	when log_set_level() was given 2 or more. Shorthands: log_error(),
 *	log_warning(), log_info(), log_debug(LEVEL, ...).
 *
 *	log_decision() writes the decision line, Postfix style:
 *	  QUEUEID: action=ACTION reason=REASON client=NAME[IP] helo=<H>
 *	  from=<F> to=<T> stage=STAGE delay=S.SSS [EXTRA]
 *	(NOQUEUE when no queue id is known yet). Every value is cleaned
 *	first as TEXT_LOG_VALUE (text.h): control bytes, non-ASCII bytes,
 *	'<' '>' and white space become '?' or '_', so that a hostile value
 *	cannot forge or split a line; longer values are cut with "...".
 *	Other files clean the values they log the same way.
 *
 *	log_set_sink() sends every line (without the syslog prefix) to FN as
 *	well: the unit tests assert on the lines a human would read.
 * THREADS
 *	All functions are safe to call from any thread; the sink and the
 *	destinations are set before threads start.
 */
#ifndef TG_LOG_H
#define TG_LOG_H

#include <stddef.h>
#include <syslog.h>

typedef void (*log_sink_fn)(int prio, const char *line, void *ctx);

typedef struct {
	const char *queue_id;
	const char *action;
	const char *reason;
	const char *client_name;
	const char *client_addr;
	const char *helo;
	const char *from;
	const char *to;
	const char *stage;
	double	delay;		/* seconds spent on this decision */
	const char *extra;	/* optional "key=value ..." tail, written as is */
} log_fields_t;

#define LOG_VALUE_MAX	256

int	log_open(const char *name, const char *facility, int to_stderr);
int	log_open_file(const char *path);
int	log_reopen(void);
int	log_facility_valid(const char *facility);
void	log_set_level(int level);
int	log_get_level(void);
void	log_set_sink(log_sink_fn fn, void *ctx);
void	log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	log_decision(const log_fields_t *f);

#define log_error(...)		log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)		log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(lvl, ...) \
	do { if (log_get_level() >= (lvl)) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
