/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	targrey-milter - SPF, S25R, tarpit and greylisting milter for Postfix
 * SYNOPSIS
 *	targrey-milter [-c FILE] [-f] [-p SOCKET] [-o NAME=VALUE] [-n] [-d] [-t] [-h] [-V]
 * DESCRIPTION
 *	Reads the configuration, binds the milter socket, drops privileges,
 *	and runs libmilter's loop until SIGTERM. See targrey-milter(8).
 * DIAGNOSTICS
 *	Configuration errors go to stderr as FILE:LINE: parameter NAME: reason
 *	and the exit status is 1. Run-time problems are logged.
 */
#include "autoconfig.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "config_secret.h"
#include "daemon.h"
#include "fdlimit.h"
#include "log.h"
#include "milter.h"
#include "pidfile.h"
#include "pool.h"
#include "runtime.h"
#include "session.h"
#include "http_metrics.h"
#include "metrics.h"
#include "milter_report.h"
#include "stage_metrics.h"
#include "signals.h"
#include "store.h"
#include "tarpit.h"

#define MAIN_DEFAULT_CONFIG	TG_SYSCONFDIR "/targrey-milter.conf"
#define MAIN_POOL_WATCH_MS	40	/* a callback busy this long gets a spare worker */
#define MAIN_KNOCKS		100	/* wake-up connections at stop, 0.1 s apart */

typedef struct {
	const char *config_path;
	int	explicit_config;
	int	foreground;
	int	print_set;
	int	print_defaults;
	int	test_only;
	char  **names;		/* -n/-d NAME...: print only these */
	int	nnames;
	strlist_t overrides;	/* NAME=VALUE from -p and -o */
} main_options_t;

static const char *main_config_path;
static long main_shutdown_ms;

static void
main_usage(FILE *fp)
{
	fprintf(fp, "usage: targrey-milter [-c FILE] [-f] [-p SOCKET] [-o NAME=VALUE] [-n|-d [NAME...]] [-t] [-h] [-V]\n"
	    "  -c FILE        configuration file (default %s; absent = embedded defaults)\n"
	    "  -f             stay in the foreground and log to stderr too\n"
	    "  -p SOCKET      listen on SOCKET (overrides milter_socket)\n"
	    "  -o NAME=VALUE  override one parameter\n"
	    "  -n [NAME...]   print the parameters the file sets, as written there\n"
	    "  -d [NAME...]   print every parameter's default (or NAME's only)\n"
	    "  -t             check the configuration, tables and state directory, then exit 0 or 1\n"
	    "  -h             this help\n"
	    "  -V             print the version\n", MAIN_DEFAULT_CONFIG);
}

/* Parse the command line; exits on -h, -V and bad usage. */
static void
main_parse_args(int argc, char **argv, main_options_t *o)
{
	char	buf[1024];
	int	c;

	o->config_path = MAIN_DEFAULT_CONFIG;
	while ((c = getopt(argc, argv, "c:fp:o:ndthV")) != -1) {
		switch (c) {
		case 'c': o->config_path = optarg; o->explicit_config = 1; break;
		case 'f': o->foreground = 1; break;
		case 'p':
			snprintf(buf, sizeof(buf), "milter_socket=%s", optarg);
			strlist_add(&o->overrides, buf, strlen(buf));
			break;
		case 'o':
			if (strchr(optarg, '=') == NULL) {
				fprintf(stderr, "targrey-milter: -o wants NAME=VALUE, got \"%s\"\n", optarg);
				exit(1);
			}
			strlist_add(&o->overrides, optarg, strlen(optarg));
			break;
		case 'n': o->print_set = 1; break;
		case 'd': o->print_defaults = 1; break;
		case 't': o->test_only = 1; break;
		case 'h': main_usage(stdout); exit(0);
		case 'V': printf("%s\n", PACKAGE_STRING); exit(0);
		default: main_usage(stderr); exit(1);
		}
	}
	if (optind != argc && !o->print_set && !o->print_defaults) {
		main_usage(stderr);
		exit(1);
	}
	o->names = argv + optind;	/* -n/-d NAME...: as postconf does */
	o->nnames = argc - optind;
}

/* Load, override and compile the configuration (or print it for -n/-d). */
static runtime_t *
main_load(main_options_t *o, int *status)
{
	config_t *cfg;

	*status = 1;
	if ((cfg = config_load(o->config_path, !o->explicit_config, stderr)) == NULL)
		return NULL;
	if (config_set_items(cfg, &o->overrides, stderr) < 0)
		return config_free(cfg), NULL;
	if (o->print_set || o->print_defaults) {
		*status = 0;
		if (o->nnames == 0)
			config_print(cfg, stdout, o->print_set);
		else if (config_print_names(cfg, stdout, o->print_set, o->names, o->nnames,
		    stderr) > 0)
			*status = 1;
		return config_free(cfg), NULL;
	}
	*status = 0;
	return runtime_build(cfg, stderr);
}

/* SIGHUP, in libmilter's signal thread. */
static void
main_reload(void)
{
	runtime_t *rt;

	metrics_count_reload(runtime_reload(main_config_path) == 0);
	if ((rt = runtime_acquire()) != NULL) {	/* does the new cap fit? */
		(void) fdlimit_check(rt->cfg->tarpit_max_sessions);
		runtime_release(rt);
	}
}

/* Knock on our own socket until the listener has closed it. */
static void *
main_knock(void *arg)
{
	struct timespec tick = {0, 100 * 1000 * 1000};
	int	rc = 0;

	(void) arg;
	for (int i = 0; i < MAIN_KNOCKS && rc != -ECONNREFUSED && rc != -ENOENT; i++) {
		nanosleep(&tick, NULL);
		rc = pool_handoff();
	}
	return NULL;
}

/* libmilter's listener polls for up to 5 s with a lock held that the stop
 * request needs, and looks at the stop flag only between polls: wake it
 * with connections of our own until it has stopped listening. */
static void
main_wake_listener(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, main_knock, NULL) == 0)
		pthread_detach(t);
}

/* SIGTERM: wait for the running sessions, up to shutdown_timeout. */
static void
main_drain(void)
{
	struct timespec tick = {0, 100 * 1000 * 1000};
	long	waited = 0;

	log_info("stopping: waiting up to %lds for %u session(s)", main_shutdown_ms / 1000,
	    session_active());
	tarpit_cancel_all();	/* tarpits end now and their sessions continue */
	while (session_active() > 0 && waited < main_shutdown_ms) {
		nanosleep(&tick, NULL);
		waited += 100;
	}
	if (session_active() > 0)
		log_warning("stopping: %u session(s) still open after %lds", session_active(),
		    main_shutdown_ms / 1000);
	main_wake_listener();
}

/* Bind the socket and become the daemon; exits on failure. */
static void
main_start(const config_t *cfg, int foreground)
{
	char	spec[1024];
	pthread_attr_t attr;

	/* runtime_build() checked the facility and the socket name. */
	log_open(cfg->syslog_name, cfg->syslog_facility, foreground);
	log_set_level((int) cfg->log_level);
	daemon_socket_spec(cfg->milter_socket, spec, sizeof(spec));
	if (milter_register(PACKAGE_NAME) < 0 || smfi_setconn(spec) != MI_SUCCESS
	    || smfi_settimeout((int) (cfg->milter_timeout / 1000)) != MI_SUCCESS
	    || smfi_opensocket(1) != MI_SUCCESS) {
		log_error("cannot listen on %s", spec);
		exit(1);
	}
	daemon_prepare_socket(spec, cfg->milter_socket_mode);
	if (daemon_chown_socket(spec, cfg->user, cfg->group, cfg->milter_socket_group) < 0)
		exit(1);
	if ((!foreground && daemon_detach() < 0) || pidfile_write(cfg->pid_file) < 0
	    || daemon_drop_privileges(cfg->user, cfg->group) < 0)
		exit(1);
	if (log_open_file(cfg->log_file) < 0)	/* as the user: SIGHUP reopens it */
		exit(1);
	/* Every libmilter thread gets a small stack: tarpits hold threads. */
	if (pthread_attr_init(&attr) == 0
	    && pthread_attr_setstacksize(&attr, (size_t) cfg->thread_stack_size) == 0)
		pthread_setattr_default_np(&attr);
	if (pool_init(spec) < 0)
		log_warning("cannot prepare worker handoffs for %s: tarpits may delay other sessions", spec);
	log_info("starting %s on %s", PACKAGE_STRING, spec);
}

/* In a child that becomes the daemon's user: can it open the state? */
static void
main_state_child(const void *arg, int fd)
{
	const config_t *cfg = arg;
	char	why[1024];
	int	fd2;
	int	nouser = geteuid() == 0
	    && (getpwnam(cfg->user) == NULL || getgrnam(cfg->group) == NULL);

	if ((fd2 = open("/dev/null", O_WRONLY)) >= 0)
		dup2(fd2, STDERR_FILENO);	/* the daemon says it once, not this check */
	/* no user: daemon_drop_privileges() reports it; still walk the store */
	if (!nouser && daemon_drop_privileges(cfg->user, cfg->group) < 0) {
		snprintf(why, sizeof(why), "cannot switch to user %s group %s", cfg->user, cfg->group);
		if (write(fd, why, strlen(why)) < 0)
			_exit(1);
		_exit(1);
	}
	if (!nouser && store_access(cfg->state_directory, why, sizeof(why)) < 0) {
		if (write(fd, why, strlen(why)) < 0)
			_exit(1);
		_exit(1);
	}
	/* In this child a file damaged enough to crash LMDB ends only here. */
	if (store_verify(cfg->state_directory, why, sizeof(why)) < 0) {
		if (write(fd, why, strlen(why)) < 0)
			_exit(2);
		_exit(2);
	}
	_exit(0);
}

/* A state file that cannot be opened or walked (WHY): moved aside, or
 * refused (state_corrupt_action, -t); 0 to go on, -1 not to start. */
static int
main_corrupt_state(const config_t *cfg, const char *why, int test_only)
{
	char	where[4096];

	if (test_only) {
		log_error("state in %s is corrupt: %s", cfg->state_directory, why);
		return -1;
	}
	if (cfg->state_corrupt_action == STATE_CORRUPT_REFUSE) {
		log_error("state in %s is corrupt: %s; not starting (state_corrupt_action = refuse)",
		    cfg->state_directory, why);
		return -1;
	}
	if (store_set_aside(cfg->state_directory, where, sizeof(where)) < 0) {
		log_error("state in %s is corrupt: %s; %s; not starting", cfg->state_directory,
		    why, where);
		return -1;
	}
	log_error("state in %s is corrupt: %s; moved to %s; starting on a fresh store",
	    cfg->state_directory, why, where);
	return 0;
}

/* Refuse an existing state directory the daemon's user cannot write (a
 * read-only mount, wrong owner) before binding or detaching, and open
 * and walk an existing store read-only (main_corrupt_state()); -1 when
 * the daemon must not start. */
static int
main_check_state(const config_t *cfg, int test_only)
{
	char	why[1024];
	struct stat sb;
	int	status;

	if (cfg->state_backend == STATE_BACKEND_REDIS)
		return 0;	/* no files: Redis is reached at the first decision */
	if (stat(cfg->state_directory, &sb) != 0 && errno == ENOENT)
		return 0;	/* store_open() creates it or says why not */
	if (store_child_run(main_state_child, cfg, why, sizeof(why), &status) < 0)
		return 0;	/* store_open() will tell */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "%s/data.mdb: walking it crashed (signal %d)",
		    cfg->state_directory, WTERMSIG(status));
	if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 2))
		return main_corrupt_state(cfg, why, test_only);
	if (why[0])
		log_error("cannot use the state in %s as user %s: %s; not starting",
		    cfg->state_directory, geteuid() == 0 ? cfg->user : "(this one)", why);
	return -1;
}

/* -t: metrics_listen parses and can be bound now (the socket is closed
 * at once); -1 after "FILE:LINE: parameter metrics_listen: why". */
static int
main_check_metrics(const config_t *cfg)
{
	char	why[512], where[1024];

	if (http_metrics_check(cfg->metrics_listen, why, sizeof(why)) == 0)
		return 0;
	config_where(cfg, "metrics_listen", where, sizeof(where));
	fprintf(stderr, "%s: parameter metrics_listen: %s\n", where, why);
	return -1;
}

/* Open the state (after dropping privileges: the files are the user's). */
static store_t *
main_open_store(const runtime_t *rt)
{
	store_t *st;

	if ((st = store_open_config(rt->cfg)) == NULL) {
		log_error("cannot open the state in %s; not starting", rt->cfg->state_directory);
		exit(1);
	}
	if (store_expire_start(st, &rt->grey, rt->cfg->state_expire_interval) < 0)
		log_warning("cannot start the expiry thread; records expire only with targreyctl expire");
	return st;
}

int
main(int argc, char **argv)
{
	main_options_t opts = {0};
	runtime_t *rt;
	int	rc;

	main_parse_args(argc, argv, &opts);
	rt = main_load(&opts, &rc);
	if (rt == NULL || opts.test_only) {
		strlist_clear(&opts.overrides);
		if (rt == NULL)
			return opts.print_set || opts.print_defaults ? rc : 1;
		rc = rt->table_errors > 0;
		if (rc)
			fprintf(stderr, "targrey-milter: %d bad table line(s), see above\n", rt->table_errors);
		if (main_check_state(rt->cfg, 1) < 0)
			rc = 1;
		if (main_check_metrics(rt->cfg) < 0)
			rc = 1;
		(void) fdlimit_check(rt->cfg->tarpit_max_sessions);	/* a warning only */
		(void) config_secret_check(rt->cfg);
		runtime_release(rt);
		return rc;
	}
	if (main_check_state(rt->cfg, 0) < 0) {
		runtime_release(rt);
		strlist_clear(&opts.overrides);
		return 1;
	}
	main_config_path = opts.config_path;
	main_shutdown_ms = rt->cfg->shutdown_timeout;
	main_start(rt->cfg, opts.foreground);
	(void) config_secret_check(rt->cfg);	/* logged, after the log is set up */
	fdlimit_setup(rt->cfg->tarpit_max_sessions);
	signals_install(main_reload, main_drain);	/* before any thread */
	runtime_set_overrides(&opts.overrides);
	runtime_set_store(main_open_store(rt));
	runtime_publish(rt);
	(void) http_metrics_start(rt->cfg->metrics_listen, stage_metrics_collect);	/* logged */
	if (milter_report_start(runtime_store(), 60000) < 0)
		log_warning("cannot start the report thread; no hourly counters for targreyctl report");
	if (pool_watch_start(MAIN_POOL_WATCH_MS) < 0)
		log_warning("cannot start the worker pool watchdog");
	rc = smfi_main();
	pool_watch_stop();
	http_metrics_stop();
	milter_report_stop();	/* last flush, before the store closes */
	if (session_active() == 0)	/* else a late callback might still use it */
		runtime_set_store(store_close(runtime_store()));
	pidfile_remove();
	log_info("stopped");
	strlist_clear(&opts.overrides);
	return rc == MI_SUCCESS ? 0 : 1;
}
