/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	config - parsed, validated, immutable configuration snapshot
 * SYNOPSIS
 *	#include "config.h"
 *
 *	config_t *config_load(const char *path, int missing_ok, FILE *err);
 *	config_t *config_free(config_t *cfg);
 *	int config_set(config_t *cfg, const char *name, const char *value, FILE *err);
 *	int config_set_items(config_t *cfg, const strlist_t *items, FILE *err);
 *	void config_print(const config_t *cfg, FILE *fp, int only_set);
 *	int config_print_names(const config_t *cfg, FILE *fp, int only_set,
 *		char *const *names, int count, FILE *err);
 *	int config_where(const config_t *cfg, const char *name, char *buf, size_t len);
 *	const char *config_raw(const config_t *cfg, const char *name);
 * DESCRIPTION
 *	config_load() reads a file in Postfix main.cf syntax (name = value,
 *	# comments, continuation lines that start with white space, $name and
 *	${name} expansion), applies the embedded defaults from params.c to
 *	everything else, converts and bounds-checks every value and returns a
 *	new snapshot. When PATH does not exist and MISSING_OK is set, the
 *	snapshot holds the embedded defaults.
 *
 *	A snapshot is never modified after config_load() returns; SIGHUP
 *	builds a new one (see runtime.c).
 *
 *	config_set() overrides one parameter (command line -p) before the
 *	snapshot is published. config_set_items() applies a list of
 *	"name=value" items (-p, -o) that way: the daemon at start-up and
 *	at every reload, targreyctl once; -1 after the first error. config_print() writes "name = value" lines:
 *	every parameter with its default, or (ONLY_SET) those the file
 *	or the command line set, with the text as written there ($name
 *	references not expanded, as postconf -n does). config_print_names()
 *	does the same for the COUNT parameters NAMES only, in that order (a
 *	parameter the file does not set prints nothing with ONLY_SET);
 *	it returns the number of unknown names, each reported to ERR.
 *	config_where() writes "FILE:LINE" (or "FILE" for a default, or
 *	"command line") of parameter NAME's setting into BUF.
 * DIAGNOSTICS
 *	Errors go to ERR as "FILE:LINE: parameter NAME: reason"; config_load()
 *	then returns NULL after reading the whole file (all errors at once).
 */
#ifndef TG_CONFIG_H
#define TG_CONFIG_H

#include <stdio.h>
#include "strlist.h"

/* One field per parameter of params.c, same name, same order. */
typedef struct config {
	/* milter */
	char   *config_directory;
	char   *milter_socket;
	char   *milter_socket_mode;
	char   *milter_socket_group;
	long	milter_timeout;
	char   *user;
	char   *group;
	char   *pid_file;
	long	shutdown_timeout;
	long	thread_stack_size;
	strlist_t trusted_networks;
	int	skip_authenticated;
	int	dry_run;
	/* logging */
	char   *syslog_facility;
	char   *syslog_name;
	long	log_level;
	char   *log_file;
	char   *metrics_listen;	/* metrics (metrics.h) */
	long	report_history;	/* report (report.h) */
	/* DNS */
	strlist_t dns_servers;
	long	dns_cache_size;
	long	dns_cache_max_ttl;
	long	dns_negative_ttl;
	/* SPF */
	int	spf_helo_reject;
	int	spf_mail_from_reject;
	int	spf_permerror_reject;
	int	spf_temperror_defer;
	strlist_t spf_skip_addresses;
	strlist_t spf_whitelist;
	strlist_t spf_domain_whitelist;
	strlist_t spf_helo_whitelist;
	int	spf_header;
	char   *authserv_id;
	long	spf_lookup_time;
	long	spf_lookup_limit;
	long	spf_void_limit;
	/* S25R and whitelists */
	int	s25r_builtin_rules;
	strlist_t s25r_client_access;
	strlist_t s25r_whitelist;
	int	s25r_reverse_lookup;
	int	s25r_tempfail_is_unknown;
	strlist_t client_whitelist;
	strlist_t sender_whitelist;
	strlist_t recipient_whitelist;
	/* tarpit */
	long	tarpit_delay;
	long	tarpit_poll_interval;
	long	tarpit_progress_interval;
	int	tarpit_pipelining_action;
	long	tarpit_max_sessions;
	long	tarpit_failed_max_age;
	long	tarpit_pipelining_grace;
	long	smtpd_process_limit;	/* 0: learn it with postconf */
	char   *postfix_config_directory;
	long	tarpit_max_share;	/* percent of smtpd_process_limit */
	/* greylist */
	long	greylist_delay;
	long	greylist_retry_count;
	long	greylist_retry_window;
	long	greylist_max_age;
	long	auto_whitelist_clients;
	long	greylist_ipv4_prefix;
	long	greylist_ipv6_prefix;
	long	greylist_rcpt_replies;
	char   *greylist_text;
	/* state */
	char   *state_directory;
	long	state_max_size;
	long	state_expire_interval;
	int	state_corrupt_action;
	/* state in Redis */
	int	state_backend;
	char   *redis_server;
	char   *redis_password;
	char   *redis_username;
	long	redis_database;
	char   *redis_key_prefix;
	long	redis_timeout;
	char   *redis_sentinels;
	char   *redis_sentinel_master;

	/* bookkeeping, not parameters */
	char  **raw;		/* the text of each parameter, by table index */
	unsigned char *from_file; /* 1 when set by the file or config_set() */
	char   *path;		/* file it was read from, or NULL */
	char  **text;		/* as written in the file (unexpanded), or NULL */
	int    *lines;		/* line of each setting; 0 = default, -1 = command line */
} config_t;

/* Enumerations, in the order of their words in params.c. */
enum { SPF_HELO_REJECT_FAIL, SPF_HELO_REJECT_SOFTFAIL, SPF_HELO_REJECT_NOT_PASS,
       SPF_HELO_REJECT_NULL, SPF_HELO_REJECT_NO, SPF_HELO_REJECT_NO_CHECK };
enum { SPF_MAIL_REJECT_FAIL, SPF_MAIL_REJECT_SOFTFAIL, SPF_MAIL_REJECT_NOT_PASS,
       SPF_MAIL_REJECT_NO };
enum { SPF_HEADER_RECEIVED_SPF, SPF_HEADER_AUTH_RESULTS, SPF_HEADER_BOTH,
       SPF_HEADER_NONE };
enum { S25R_REVERSE_AUTO, S25R_REVERSE_YES, S25R_REVERSE_NO };
enum { TARPIT_PIPELINING_FAIL, TARPIT_PIPELINING_IGNORE };
enum { STATE_CORRUPT_REBUILD, STATE_CORRUPT_REFUSE };
enum { STATE_BACKEND_LMDB, STATE_BACKEND_REDIS };

config_t *config_load(const char *path, int missing_ok, FILE *err);
config_t *config_free(config_t *cfg);
int	config_set(config_t *cfg, const char *name, const char *value, FILE *err);
int	config_set_items(config_t *cfg, const strlist_t *items, FILE *err);
void	config_print(const config_t *cfg, FILE *fp, int only_set);
int	config_print_names(const config_t *cfg, FILE *fp, int only_set,
	    char *const *names, int count, FILE *err);
int	config_where(const config_t *cfg, const char *name, char *buf, size_t len);
const char *config_raw(const config_t *cfg, const char *name);

#endif
