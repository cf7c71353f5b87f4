/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ctl_store - targreyctl commands over the taRgrey state
 * SYNOPSIS
 *	#include "ctl_store.h"
 *
 *	int ctl_list(const config_t *cfg, int argc, char **argv);
 *	int ctl_show(const config_t *cfg, int argc, char **argv);
 *	int ctl_delete(const config_t *cfg, int argc, char **argv);
 *	int ctl_whitelist(const config_t *cfg, int argc, char **argv);
 *	int ctl_expire(const config_t *cfg, int argc, char **argv);
 *	int ctl_stats(const config_t *cfg, int argc, char **argv);
 *	int ctl_explain(const config_t *cfg, int argc, char **argv);
 *	int ctl_dump(const config_t *cfg, int argc, char **argv);
 *	int ctl_load(const config_t *cfg, int argc, char **argv);
 *	int ctl_import_postgrey(const config_t *cfg, int argc, char **argv);
 *
 *	void ctl_store_set_output(FILE *out);
 *	void ctl_store_set_clock(int64_t now);
 * DESCRIPTION
 *	Each function runs one targreyctl command (ARGV[0] is its name)
 *	against the store under state_directory, safely while the daemon
 *	runs (LMDB: one writer at a time, readers never block):
 *
 *	list greylist|clients|tarpit [PREFIX]
 *		one line per record: KEY (bytes that are not printable
 *		ASCII, white space and '%' as %XX), a TAB, its fields
 *		(times in UTC).
 *	show KEY
 *		(KEY as list prints it: %XX escapes are undone)
 *		every record stored under KEY; when KEY is an address, also
 *		its network's auto-whitelist entry, its tarpit entry and
 *		whether the manual whitelist covers it.
 *	delete KEY
 *		removes KEY from greylist, clients and tarpit.
 *	whitelist add|remove IP-or-NET, whitelist [list]
 *		the manual client whitelist; the daemon sees a change at its
 *		next decision.
 *	expire
 *		one full expiry pass now, in the daemon's small batches.
 *	stats
 *		records per database, decisions per verdict, events (the
 *		suspicious clients greylisted because the tarpit was full),
 *		oldest and newest record of each database, map and file size.
 *	explain IP NAME SENDER RECIPIENT
 *		what the taRgrey step of the milter would decide now for
 *		this client and triplet, and why (greylist_decide(), the
 *		same code, on the stored records; nothing is written).
 *	dump
 *		every record as text (see ctl_dump.c); load FILE|- reads it
 *		back, so that dump | load round-trips.
 *	import-postgrey FILE...
 *		reads `db_dump -p` output of Postgrey's postgrey.db and
 *		postgrey_clients.db (taRgrey's third, retry-count field
 *		included) and stores the entries in our format.
 *
 *	They print to standard output (ctl_store_set_output() changes it,
 *	for tests) and errors to standard error, and return 0 on
 *	success, 1 on errors, 2 on bad usage. ctl_store_set_clock() fixes
 *	"now" (seconds) for tests; 0 means the real clock.
 */
#ifndef TG_CTL_STORE_H
#define TG_CTL_STORE_H

#include <stdint.h>
#include <stdio.h>
#include "config.h"
#include "store.h"

int	ctl_list(const config_t *cfg, int argc, char **argv);
int	ctl_show(const config_t *cfg, int argc, char **argv);
int	ctl_delete(const config_t *cfg, int argc, char **argv);
int	ctl_whitelist(const config_t *cfg, int argc, char **argv);
int	ctl_expire(const config_t *cfg, int argc, char **argv);
int	ctl_stats(const config_t *cfg, int argc, char **argv);
int	ctl_explain(const config_t *cfg, int argc, char **argv);
int	ctl_dump(const config_t *cfg, int argc, char **argv);
int	ctl_load(const config_t *cfg, int argc, char **argv);
int	ctl_import_postgrey(const config_t *cfg, int argc, char **argv);

void	ctl_store_set_output(FILE *out);
void	ctl_store_set_clock(int64_t now);
void	ctl_store_set_errors(FILE *err);	/* NULL: stderr */
void	ctl_store_set_verified(int yes);	/* the caller walked the store */
FILE   *ctl_store_err(void);

/* Shared by the store commands (ctl_store.c, ctl_dump.c, ctl_import.c, ctl_explain.c). */
FILE   *ctl_store_out(void);
int64_t	ctl_store_now(void);
store_t *ctl_store_open(const config_t *cfg);
store_t *ctl_store_begin(const config_t *cfg, int args_ok, const char *usage, int *rc);
int	ctl_store_print_record(FILE *out, store_db_t db, const char *key, size_t klen,
	    const void *val, size_t vlen, int dump);
int	ctl_store_done(store_t *st, const char *cmd, int rc);
void	ctl_store_print_key(FILE *out, const char *key, size_t klen);
const char *ctl_store_time(int64_t t, char *buf, size_t size);

/* One "NAME=INTEGER" field of a dump line and its bounds. */
typedef struct {
	const char *name;
	long long lo, hi;
} ctl_field_t;
int	ctl_store_fields(const char *text, const ctl_field_t *f, int n, long long *out);
long	ctl_load_stream(store_t *st, FILE *fp, const char *name, long *loaded);
long	ctl_import_stream(store_t *st, const greylist_params_t *p, int64_t now,
	    FILE *fp, const char *name);
int	ctl_store_format(store_db_t db, const void *val, size_t len, int iso,
	    char *buf, size_t size);

#endif
