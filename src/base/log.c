/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	log - one greppable line per decision, to syslog and/or stderr
 * DESCRIPTION
 *	See log.h. Lines are formatted into a stack buffer and written with
 *	one write(2) to stderr (and to the log file, opened O_APPEND) so that
 *	lines of different threads never interleave; syslog(3) is thread
 *	safe on glibc.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "text.h"

#define LOG_LINE_MAX	2048

static int log_to_stderr = 1;
static int log_to_syslog;
static atomic_int log_level;	/* set by a reload while sessions log */
static log_sink_fn log_sink;
static void *log_sink_ctx;
static char log_name[64] = "targrey-milter";	/* a copy: the snapshot goes */
static char *log_path;		/* log_file, or NULL: syslog */
static int log_fd = -1;		/* its descriptor; dup2() replaces the file */
static char log_host[64];

static const struct {
	const char *name;
	int	value;
} log_facilities[] = {
	{"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
	{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
	{"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
	{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

/* The syslog code of FACILITY, -1 if unknown. */
static int
log_facility_code(const char *facility)
{
	for (size_t i = 0; i < sizeof(log_facilities) / sizeof(log_facilities[0]); i++)
		if (strcasecmp(facility, log_facilities[i].name) == 0)
			return log_facilities[i].value;
	return -1;
}

int
log_facility_valid(const char *facility)
{
	return log_facility_code(facility) != -1;
}

/* Choose the destinations; -1 for an unknown facility. */
int
log_open(const char *name, const char *facility, int to_stderr)
{
	int	code = log_facility_code(facility);

	if (code == -1)
		return -1;
	snprintf(log_name, sizeof(log_name), "%s", name);
	openlog(log_name, LOG_PID | LOG_NDELAY, code);	/* syslog keeps the pointer */
	log_to_syslog = log_fd < 0;
	log_to_stderr = to_stderr;
	return 0;
}

/* Open PATH for appending; the descriptor, or -1 after reporting why. */
static int
log_file_fd(const char *path)
{
	int	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		log_msg(LOG_ERR, "cannot open log_file %s: %s", path, strerror(errno));
	return fd;
}

/* Write lines to PATH instead of syslog (empty PATH: keep syslog). */
int
log_open_file(const char *path)
{
	char   *dot;

	if (path == NULL || *path == '\0')
		return 0;
	if ((log_fd = log_file_fd(path)) < 0 || (log_path = strdup(path)) == NULL)
		return -1;
	if (gethostname(log_host, sizeof(log_host) - 1) < 0)
		strcpy(log_host, "localhost");
	if ((dot = strchr(log_host, '.')) != NULL)
		*dot = '\0';
	log_to_syslog = 0;
	return 0;
}

/* Open the log file again, under the same descriptor. */
int
log_reopen(void)
{
	int	fd;

	if (log_path == NULL)
		return 0;
	if ((fd = log_file_fd(log_path)) < 0)
		return -1;
	if (dup2(fd, log_fd) < 0) {
		log_msg(LOG_ERR, "cannot reopen log_file %s: %s", log_path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* One line in the format of Postfix's maillog_file. */
static void
log_write_file(const char *label, const char *line)
{
	char	buf[LOG_LINE_MAX + 160], stamp[32];
	struct tm tm;
	time_t	now = time(NULL);
	int	len;

	strftime(stamp, sizeof(stamp), "%b %d %H:%M:%S", localtime_r(&now, &tm));
	len = snprintf(buf, sizeof(buf), "%s %s %s[%ld]: %s%s\n", stamp, log_host, log_name,
	    (long) getpid(), label, line);
	if (len > (int) sizeof(buf) - 1)
		len = sizeof(buf) - 1;
	if (write(log_fd, buf, (size_t) len) < 0)
		return;
}

void
log_set_level(int level)
{
	atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

int
log_get_level(void)
{
	return atomic_load_explicit(&log_level, memory_order_relaxed);
}

void
log_set_sink(log_sink_fn fn, void *ctx)
{
	log_sink = fn;
	log_sink_ctx = ctx;
}

/* Send one formatted line to every destination. */
static void
log_emit(int prio, const char *line)
{
	static const char *const labels[] = {
		"panic: ", "fatal: ", "fatal: ", "error: ", "warning: ", "", "", "",
	};
	char	buf[LOG_LINE_MAX + 32];
	int	len;

	if (log_to_syslog)
		syslog(prio, "%s%s", labels[prio & 7], line);
	if (log_fd >= 0)
		log_write_file(labels[prio & 7], line);
	if (log_to_stderr) {
		len = snprintf(buf, sizeof(buf), "targrey-milter: %s%s\n", labels[prio & 7], line);
		if (len > (int) sizeof(buf) - 1)
			len = sizeof(buf) - 1;
		if (write(STDERR_FILENO, buf, (size_t) len) < 0)
			return;
	}
	if (log_sink)
		log_sink(prio, line, log_sink_ctx);
}

/* printf-style line at priority PRIO. */
void
log_msg(int prio, const char *fmt, ...)
{
	char	line[LOG_LINE_MAX];
	va_list	ap;

	if (prio == LOG_DEBUG && log_get_level() < 2)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_emit(prio, line);
}

/* The decision line. */
void
log_decision(const log_fields_t *f)
{
	char	q[64], act[64], why[LOG_VALUE_MAX], name[LOG_VALUE_MAX], addr[64];
	char	helo[LOG_VALUE_MAX], from[LOG_VALUE_MAX], to[LOG_VALUE_MAX], stage[32];

	text_clean(TEXT_LOG_VALUE, q, sizeof(q), f->queue_id && *f->queue_id ? f->queue_id : "NOQUEUE");
	text_clean(TEXT_LOG_VALUE, act, sizeof(act), f->action);
	text_clean(TEXT_LOG_VALUE, why, sizeof(why), f->reason);
	text_clean(TEXT_LOG_VALUE, name, sizeof(name), f->client_name ? f->client_name : "unknown");
	text_clean(TEXT_LOG_VALUE, addr, sizeof(addr), f->client_addr);
	text_clean(TEXT_LOG_VALUE, helo, sizeof(helo), f->helo);
	text_clean(TEXT_LOG_VALUE, from, sizeof(from), f->from);
	text_clean(TEXT_LOG_VALUE, to, sizeof(to), f->to);
	text_clean(TEXT_LOG_VALUE, stage, sizeof(stage), f->stage);
	log_msg(LOG_INFO, "%s: action=%s reason=%s client=%s[%s] helo=<%s> from=<%s> to=<%s>"
	    " stage=%s delay=%.3f%s%s", q, act, why, name, addr, helo, from, to, stage,
	    f->delay, f->extra ? " " : "", f->extra ? f->extra : "");
}
