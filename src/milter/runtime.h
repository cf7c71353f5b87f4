/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	runtime - the configuration snapshot every session works with
 * SYNOPSIS
 *	#include "runtime.h"
 *
 *	runtime_t *runtime_build(config_t *cfg, FILE *err);
 *	void runtime_publish(runtime_t *rt);
 *	runtime_t *runtime_acquire(void);
 *	void runtime_release(runtime_t *rt);
 *	int runtime_reload(const char *path);
 * DESCRIPTION
 *	A runtime_t bundles one immutable config_t with everything compiled
 *	from it (networks, tables, rules, the SPF engine). runtime_build()
 *	takes ownership of CFG and returns NULL (reporting on ERR, freeing
 *	CFG) when anything fails to compile.
 *
 *	runtime_publish() makes RT the snapshot new sessions get; the one it
 *	replaces is freed when its last session releases it.
 *	runtime_acquire() returns the current snapshot with one more
 *	reference; runtime_release() drops one.
 *
 *	RT->smtpd_limit is smtpd_process_limit; when that is 0,
 *	runtime_publish() asks postconf (see postconf.h) and logs the value
 *	and its source, or warns and keeps Postfix's default, 100 (so
 *	"targrey-milter -t" runs no postconf).
 *
 *	RT->table_errors counts table lines that were logged and skipped;
 *	"targrey-milter -t" fails on them, the daemon runs without them.
 *
 *	runtime_set_store() records the process's one LMDB store (opened at
 *	start, kept across reloads); runtime_store() returns it.
 *
 *	runtime_reload() reads PATH again, builds and publishes a new snapshot
 *	(keeping the current command-line overrides); on any error it logs
 *	and keeps the old one. Returns 0 or -1. log_level applies at once;
 *	a changed parameter marked start_only in params.c is logged as
 *	a warning and waits for a restart.
 *
 *	runtime_set_overrides() keeps the "name=value" items (-p, -o) that
 *	every reload applies again with config_set_items() (config.h), as
 *	main.c does at start-up.
 * THREADS
 *	All functions may be called from any thread; one mutex guards the
 *	pointer swap and the reference counts.
 */
#ifndef TG_RUNTIME_H
#define TG_RUNTIME_H

#include <stdio.h>
#include "addr.h"
#include "config.h"
#include "greylist.h"
#include "s25r.h"
#include "spf.h"
#include "store.h"
#include "whitelist.h"

typedef struct runtime {
	config_t *cfg;
	net_t  *trusted;		/* trusted_networks */
	size_t	trusted_count;
	s25r_t *s25r;			/* S25R rules and tables */
	whitelist_t *whitelist;		/* client/sender/recipient whitelists */
	dns_t  *dns;			/* the resolver and its cache: SPF, reverse lookups */
	spf_t  *spf;			/* SPF engine (on dns) */
	greylist_params_t grey;		/* greylist_* parameters, in seconds */
	int	table_errors;		/* bad table lines (skipped, logged) */
	long	smtpd_limit;		/* smtpd_process_limit, or learned */
	unsigned long generation;	/* 1 for the first, +1 per reload */
	int	refs;			/* guarded by the runtime mutex */
} runtime_t;

runtime_t *runtime_build(config_t *cfg, FILE *err);
void	runtime_publish(runtime_t *rt);
runtime_t *runtime_acquire(void);
void	runtime_release(runtime_t *rt);
int	runtime_reload(const char *path);
void	runtime_set_overrides(const strlist_t *overrides);
void	runtime_set_store(store_t *st);
store_t *runtime_store(void);

#endif
