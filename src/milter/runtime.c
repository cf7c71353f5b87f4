/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	runtime - the configuration snapshot every session works with
 * DESCRIPTION
 *	See runtime.h. The published snapshot holds one reference of its
 *	own; sessions hold one each.
 * DIAGNOSTICS
 *	runtime_build() writes "parameter NAME: reason" lines to ERR;
 *	runtime_reload() logs "reload: ..." lines. A reload (SIGHUP) also
 *	rebuilds a store marked broken (store_rebuild()).
 */
#include <grp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "daemon.h"
#include "log.h"
#include "params.h"
#include "postconf.h"
#include "runtime.h"
#include "table.h"

static pthread_mutex_t runtime_lock = PTHREAD_MUTEX_INITIALIZER;
static runtime_t *runtime_current;
static unsigned long runtime_generation;
static strlist_t runtime_overrides;	/* "name=value" from the command line */
static store_t *runtime_state;		/* set once before the milter starts */
static char **runtime_started;		/* start_only values in effect, by index */

/* Free a snapshot and everything compiled from it. */
static void
runtime_free(runtime_t *rt)
{
	free(rt->trusted);
	s25r_free(rt->s25r);
	whitelist_free(rt->whitelist);
	spf_free(rt->spf);
	dns_free(rt->dns);
	config_free(rt->cfg);
	free(rt);
}

/* Check the parameters that only make sense together with the system. */
static int
runtime_check(const config_t *cfg, FILE *err)
{
	const char *file = cfg->path ? cfg->path : "default";
	char	spec[1024];
	int	errors = 0;

	if (daemon_socket_spec(cfg->milter_socket, spec, sizeof(spec)) < 0) {
		fprintf(err, "%s: parameter milter_socket: bad value \"%s\": want inet:PORT@HOST,"
		    " inet6:PORT@[ADDR], inet:HOST:PORT or unix:/PATH\n", file, cfg->milter_socket);
		errors++;
	}
	if (*cfg->milter_socket_group && getgrnam(cfg->milter_socket_group) == NULL) {
		fprintf(err, "%s: parameter milter_socket_group: no group \"%s\"\n", file,
		    cfg->milter_socket_group);
		errors++;
	}
	if (*cfg->log_file && *cfg->log_file != '/') {
		fprintf(err, "%s: parameter log_file: \"%s\" is not an absolute path\n", file,
		    cfg->log_file);
		errors++;
	}
	if (!log_facility_valid(cfg->syslog_facility)) {
		fprintf(err, "%s: parameter syslog_facility: unknown facility \"%s\"\n", file,
		    cfg->syslog_facility);
		errors++;
	}
	return errors ? -1 : 0;
}

/* After a failed compile: report every table that cannot be opened, with
 * the parameter and the configuration line that name it; returns how many. */
static int
runtime_report_tables(const config_t *cfg, FILE *err)
{
	const strlist_t *lists[] = {&cfg->s25r_whitelist, &cfg->s25r_client_access,
	    &cfg->client_whitelist, &cfg->sender_whitelist, &cfg->recipient_whitelist};
	char	why[512], where[1024];
	int	bad = 0;

	for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
		size_t	off = (size_t) ((const char *) lists[k] - (const char *) cfg);
		const param_t *p = params_table;

		while (p < params_table + params_count && p->offset != off)
			p++;
		for (size_t i = 0; p < params_table + params_count && i < lists[k]->n; i++) {
			table_t *t = table_open(lists[k]->items[i], NULL, why, sizeof(why));

			if (t != NULL) {
				table_free(t);
				continue;
			}
			config_where(cfg, p->name, where, sizeof(where));
			fprintf(err, "%s: parameter %s: %s\n", where, p->name, why);
			bad++;
		}
	}
	return bad;
}

/* Open the tables and build the S25R classifier and the SPF engine. */
static int
runtime_compile(runtime_t *rt, FILE *err)
{
	const char *file = rt->cfg->path ? rt->cfg->path : "default";
	char	why[512];
	int	s25r_errors = 0, wl_errors = 0;

	if ((rt->s25r = s25r_create(rt->cfg, &s25r_errors, why, sizeof(why))) == NULL
	    || (rt->whitelist = whitelist_create(rt->cfg, &wl_errors, why, sizeof(why))) == NULL) {
		if (runtime_report_tables(rt->cfg, err) == 0)
			fprintf(err, "%s: %s\n", file, why);
		return -1;
	}
	if ((rt->dns = dns_create_config(rt->cfg, why, sizeof(why))) == NULL
	    || (rt->spf = spf_create_dns(rt->cfg, rt->dns, why, sizeof(why))) == NULL) {
		fprintf(err, "%s: %s\n", file, why);
		return -1;
	}
	rt->table_errors = s25r_errors + wl_errors;
	return 0;
}

/* smtpd's process limit learned from postconf, else 100 (logged). */
static long
runtime_smtpd_limit(const config_t *cfg)
{
	char	why[160];
	long	limit;

	if ((limit = postconf_smtpd_limit(cfg->postfix_config_directory, why, sizeof(why))) > 0) {
		log_info("tarpit: smtpd_process_limit %ld (%s)", limit, why);
		return limit;
	}
	log_warning("tarpit: smtpd_process_limit %d, Postfix's default (%s); set it",
	    POSTCONF_DEFAULT_LIMIT, why);
	return POSTCONF_DEFAULT_LIMIT;
}

/* Compile CFG into a snapshot. */
runtime_t *
runtime_build(config_t *cfg, FILE *err)
{
	runtime_t *rt;
	char	why[256];

	if ((rt = calloc(1, sizeof(*rt))) == NULL) {
		fprintf(err, "out of memory\n");
		config_free(cfg);
		return NULL;
	}
	rt->cfg = cfg;
	rt->refs = 1;		/* the caller's, handed over by runtime_publish() */
	if (runtime_check(cfg, err) < 0) {
		runtime_free(rt);
		return NULL;
	}
	if (netlist_parse(&cfg->trusted_networks, &rt->trusted, &rt->trusted_count,
	    why, sizeof(why)) < 0) {
		fprintf(err, "%s: parameter trusted_networks: %s\n",
		    cfg->path ? cfg->path : "default", why);
		runtime_free(rt);
		return NULL;
	}
	if (runtime_compile(rt, err) < 0) {
		runtime_free(rt);
		return NULL;
	}
	greylist_params_init(&rt->grey, cfg);
	/* learned from postconf when published (the daemon, not -t) */
	rt->smtpd_limit = cfg->smtpd_process_limit > 0 ? cfg->smtpd_process_limit
	    : POSTCONF_DEFAULT_LIMIT;
	return rt;
}

void
runtime_set_store(store_t *st)
{
	runtime_state = st;
}

store_t *
runtime_store(void)
{
	return runtime_state;
}

/* Remember the start_only values of the first snapshot: those run until
 * the next restart, whatever later reloads say. */
static void
runtime_remember_start(const config_t *cfg)
{
	if (runtime_started != NULL || (runtime_started = calloc(params_count,
	    sizeof(*runtime_started))) == NULL)
		return;
	for (size_t i = 0; i < params_count; i++)
		if (params_table[i].start_only)
			runtime_started[i] = strdup(cfg->raw[i] ? cfg->raw[i] : "");
}

/* Make RT current; the caller's reference becomes the published one. */
void
runtime_publish(runtime_t *rt)
{
	runtime_t *old;

	runtime_remember_start(rt->cfg);	/* the first one only */
	if (rt->cfg->smtpd_process_limit == 0)
		rt->smtpd_limit = runtime_smtpd_limit(rt->cfg);
	pthread_mutex_lock(&runtime_lock);
	rt->generation = ++runtime_generation;
	old = runtime_current;
	runtime_current = rt;
	pthread_mutex_unlock(&runtime_lock);
	if (old)
		runtime_release(old);
}

/* The current snapshot, referenced. */
runtime_t *
runtime_acquire(void)
{
	runtime_t *rt;

	pthread_mutex_lock(&runtime_lock);
	if ((rt = runtime_current) != NULL)
		rt->refs++;
	pthread_mutex_unlock(&runtime_lock);
	return rt;
}

/* Drop one reference. */
void
runtime_release(runtime_t *rt)
{
	int	last;

	if (rt == NULL)
		return;
	pthread_mutex_lock(&runtime_lock);
	last = --rt->refs == 0;
	pthread_mutex_unlock(&runtime_lock);
	if (last)
		runtime_free(rt);
}

/* Remember the command-line overrides that every reload reapplies. */
void
runtime_set_overrides(const strlist_t *overrides)
{
	strlist_clear(&runtime_overrides);
	for (size_t i = 0; i < overrides->n; i++)
		if (strlist_add(&runtime_overrides, overrides->items[i], strlen(overrides->items[i])) < 0)
			log_error("out of memory saving command-line overrides");
}

/* Log each line of the error stream. */
static void
runtime_log_errors(char *text)
{
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		log_error("reload: %s", line);
}

/* Say which changed parameters wait for a restart, comparing NEXT with
 * what runs (not with the previous reload). */
static void
runtime_warn_start_only(const config_t *next)
{
	runtime_t *now = runtime_acquire();
	const char *run, *was, *b;

	for (size_t i = 0; runtime_started != NULL && i < params_count; i++) {
		if (!params_table[i].start_only || (run = runtime_started[i]) == NULL)
			continue;
		b = next->raw[i] ? next->raw[i] : "";
		was = now && now->cfg->raw[i] ? now->cfg->raw[i] : "";
		if (strcmp(run, b) != 0 && params_table[i].secret)	/* never in a log */
			log_warning("reload: %s changed; it takes effect at the next restart",
			    params_table[i].name);
		else if (strcmp(run, b) != 0)
			log_warning("reload: %s changed to \"%s\"; it takes effect at the next restart"
			    " (running with \"%s\")", params_table[i].name, b, run);
		else if (strcmp(was, b) != 0)
			log_info("reload: %s is \"%s\" again, the value running", params_table[i].name,
			    params_table[i].secret ? PARAM_SECRET_MASK : b);
	}
	runtime_release(now);
}

/* Re-read PATH; publish the new snapshot or keep the old one. */
int
runtime_reload(const char *path)
{
	char   *text = NULL;
	size_t	len = 0;
	FILE   *err = open_memstream(&text, &len);
	config_t *cfg;
	runtime_t *rt = NULL;

	if (err == NULL) {
		log_error("reload: out of memory");
		return -1;
	}
	log_reopen();		/* first: logrotate's SIGHUP works with a broken file too */
	store_rebuild(runtime_state);	/* a broken store: moved aside, fresh */
	if ((cfg = config_load(path, 1, err)) != NULL) {
		if (config_set_items(cfg, &runtime_overrides, err) < 0)
			cfg = config_free(cfg);
		else
			rt = runtime_build(cfg, err);
	}
	fclose(err);
	if (rt == NULL) {
		runtime_log_errors(text);
		log_error("reload: configuration %s has errors; keeping the running one", path);
		free(text);
		return -1;
	}
	free(text);
	runtime_warn_start_only(rt->cfg);
	log_set_level((int) rt->cfg->log_level);
	runtime_publish(rt);
	if (runtime_state != NULL)
		store_expire_start(runtime_state, &rt->grey, rt->cfg->state_expire_interval);
	log_info("reload: configuration %s loaded (generation %lu)", path, rt->generation);
	return 0;
}
