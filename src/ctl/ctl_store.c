/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ctl_store - targreyctl list, show, delete, whitelist, expire, stats
 * DESCRIPTION
 *	See ctl_store.h. Also the helpers the other store commands share:
 *	opening the store, where output and problems go, the %XX key
 *	escapes. dump and load are in ctl_dump.c, import-postgrey in
 *	ctl_import.c, explain in ctl_explain.c.
 * DIAGNOSTICS
 *	"targreyctl: COMMAND: problem" on standard error; the store's own
 *	errors are logged by store.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "ctl_store.h"
#include "greylist.h"

static FILE *ctl_out;
static FILE *ctl_err;
static int64_t ctl_now;
static int ctl_verified;

/* YES: the caller ran store_verify() itself (the fuzz harness, which
 * must see a crash in it); ctl_store_open() then does not. */
void
ctl_store_set_verified(int yes)
{
	ctl_verified = yes;
}

/* Where problems with the input and the store are told. */
void
ctl_store_set_errors(FILE *err)
{
	ctl_err = err;
}

/* The error stream. */
FILE *
ctl_store_err(void)
{
	return ctl_err ? ctl_err : stderr;
}

/* Where command output goes. */
void
ctl_store_set_output(FILE *out)
{
	ctl_out = out;
}

/* Fix the clock for tests; 0 is the real clock. */
void
ctl_store_set_clock(int64_t now)
{
	ctl_now = now;
}

/* The output stream. */
FILE *
ctl_store_out(void)
{
	return ctl_out ? ctl_out : stdout;
}

/* Now, in seconds. */
int64_t
ctl_store_now(void)
{
	return ctl_now ? ctl_now : (int64_t) time(NULL);
}

/* Open the configured store, or say why not. It is walked first in a
 * child (targreyctl runs as root on files the daemon's user can write):
 * a damaged one is refused with the cause, never read. */
store_t *
ctl_store_open(const config_t *cfg)
{
	char	why[1024];
	store_t *st;

	if (cfg->state_backend == STATE_BACKEND_REDIS)
		return store_open_config(cfg);
	if (!ctl_verified && store_verify_apart(cfg->state_directory, why, sizeof(why)) < 0) {
		fprintf(ctl_store_err(), "targreyctl: the state in %s is corrupt: %s (targrey-milter"
		    " moves it aside at its next start, or at SIGHUP once it meets the damage)\n",
		    cfg->state_directory, why);
		return NULL;
	}
	st = store_open(cfg->state_directory, (size_t) cfg->state_max_size);
	if (st == NULL)
		fprintf(ctl_store_err(), "targreyctl: cannot open the state in %s\n", cfg->state_directory);
	return st;
}

/* Close ST after CMD; RC, or 1 when records were skipped as damaged or
 * the store broke (said on standard error). */
int
ctl_store_done(store_t *st, const char *cmd, int rc)
{
	uint64_t bad = store_bad_records(st);
	store_health_t h = store_health(st);

	if (bad > 0)
		fprintf(ctl_store_err(), "targreyctl: %s: %llu damaged record(s) skipped (key or value"
		    " out of bounds): the store is corrupt\n", cmd, (unsigned long long) bad);
	if (h == STORE_BROKEN)
		fprintf(ctl_store_err(), "targreyctl: %s: the store is corrupt (see the error above)\n", cmd);
	store_close(st);
	return rc == 0 && bad == 0 && h != STORE_BROKEN ? 0 : 1;
}

/* A time as UTC ISO 8601, or as seconds. */
static const char *
ctl_time(int64_t t, int iso, char *buf, size_t size)
{
	struct tm tm;
	time_t	tt = (time_t) t;

	if (iso && gmtime_r(&tt, &tm) != NULL)
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(buf, size, "%lld", (long long) t);
	return buf;
}

/* A time as UTC ISO 8601. */
const char *
ctl_store_time(int64_t t, char *buf, size_t size)
{
	return ctl_time(t, 1, buf, size);
}

/* Format one record's fields; -1 for an unknown version. */
int
ctl_store_format(store_db_t db, const void *val, size_t len, int iso,
		 char *buf, size_t size)
{
	char	a[32], b[32], c[32];
	grey_record_t g;
	client_record_t cl;
	tarpit_record_t t;

	if (db == STORE_DB_GREYLIST && record_grey_decode(val, len, &g) == RECORD_OK)
		snprintf(buf, size, "first=%s last=%s retries=%u passed=%d",
		    ctl_time(g.first, iso, a, sizeof(a)), ctl_time(g.last, iso, b, sizeof(b)),
		    g.retries, (g.flags & GREY_FLAG_PASSED) != 0);
	else if (db == STORE_DB_CLIENTS && record_client_decode(val, len, &cl) == RECORD_OK)
		snprintf(buf, size, "first=%s last_pass=%s last_seen=%s passes=%u",
		    ctl_time(cl.first, iso, a, sizeof(a)), ctl_time(cl.last_pass, iso, b, sizeof(b)),
		    ctl_time(cl.last_seen, iso, c, sizeof(c)), cl.passes);
	else if (db == STORE_DB_TARPIT && record_tarpit_decode(val, len, &t) == RECORD_OK)
		snprintf(buf, size, "first=%s last=%s count=%u",
		    ctl_time(t.first, iso, a, sizeof(a)), ctl_time(t.last, iso, b, sizeof(b)), t.count);
	else {
		snprintf(buf, size, "unreadable record (version %d, %zu bytes)",
		    len ? *(const unsigned char *) val : -1, len);
		return -1;
	}
	return 0;
}

/* A KEY argument as list prints it: undo %XX, or take it as it is. */
static const char *
ctl_key_arg(const char *arg, char *buf, size_t size)
{
	snprintf(buf, size, "%s", arg);
	if (ctl_store_unescape_key(buf) <= 0)
		snprintf(buf, size, "%s", arg);
	return buf;
}

typedef struct {
	store_db_t db;
	size_t	count;
} list_ctx_t;

/* Print one record of a listing. */
static int
ctl_list_one(const char *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	list_ctx_t *lc = ctx;
	char	text[256];

	ctl_store_format(lc->db, val, vlen, 1, text, sizeof(text));
	ctl_store_print_key(ctl_store_out(), key, klen);
	fprintf(ctl_store_out(), "\t%s\n", text);
	lc->count++;
	return 0;
}

/* list greylist|clients|tarpit [PREFIX] */
int
ctl_list(const config_t *cfg, int argc, char **argv)
{
	list_ctx_t lc = {0};
	store_t *st;
	int	db, rc;

	if (argc < 2 || argc > 3 || (db = store_db_by_name(argv[1])) < 0 || db == STORE_DB_META) {
		fprintf(stderr, "usage: targreyctl list greylist|clients|tarpit [PREFIX]\n");
		return 2;
	}
	if ((st = ctl_store_open(cfg)) == NULL)
		return 1;
	lc.db = (store_db_t) db;
	rc = store_walk(st, lc.db, argc == 3 ? argv[2] : NULL, ctl_list_one, &lc);
	return ctl_store_done(st, "list", rc);
}

/* Print KEY of DB when present; 1 when it was. */
static int
ctl_show_key(store_t *st, store_db_t db, const char *label, const char *key)
{
	unsigned char val[RECORD_MAX_SIZE * 2];
	size_t	len = sizeof(val);
	char	text[256];

	if (store_get(st, db, key, strlen(key), val, &len) != 0)
		return 0;
	ctl_store_format(db, val, len < sizeof(val) ? len : sizeof(val), 1, text, sizeof(text));
	fprintf(ctl_store_out(), "%s %s: %s\n", label, key, text);
	return 1;
}

/* show KEY */
int
ctl_show(const config_t *cfg, int argc, char **argv)
{
	greylist_params_t p;
	store_facts_t f;
	store_t *st;
	addr_t	a;
	char	key[STORE_KEY_MAX + 1];
	int	found = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: targreyctl show KEY\n");
		return 2;
	}
	if ((st = ctl_store_open(cfg)) == NULL)
		return 1;
	greylist_params_init(&p, cfg);
	ctl_key_arg(argv[1], key, sizeof(key));
	for (int db = STORE_DB_GREYLIST; db < STORE_DB_META; db++)
		found += ctl_show_key(st, (store_db_t) db, store_db_name((store_db_t) db), key);
	if (addr_parse(argv[1], &a) == 0 && store_lookup(st, &p, &a, NULL, NULL, &f) == 0) {
		if (strcmp(f.net_key, argv[1]) != 0)
			found += ctl_show_key(st, STORE_DB_CLIENTS, "clients (network)", f.net_key);
		if (strcmp(f.addr_key, argv[1]) != 0)
			found += ctl_show_key(st, STORE_DB_TARPIT, "tarpit (address)", f.addr_key);
		if (f.whitelisted) {
			fprintf(ctl_store_out(), "whitelist: %s is whitelisted\n", argv[1]);
			found++;
		}
	}
	store_close(st);
	if (!found)
		fprintf(stderr, "targreyctl: show: %s: not found\n", argv[1]);
	return found ? 0 : 1;
}

/* delete KEY */
int
ctl_delete(const config_t *cfg, int argc, char **argv)
{
	store_t *st;
	char	key[STORE_KEY_MAX + 1];
	int	deleted = 0, rc, err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: targreyctl delete KEY\n");
		return 2;
	}
	if ((st = ctl_store_open(cfg)) == NULL)
		return 1;
	ctl_key_arg(argv[1], key, sizeof(key));
	for (int db = STORE_DB_GREYLIST; db < STORE_DB_META; db++) {
		rc = store_delete(st, (store_db_t) db, key, strlen(key));
		if (rc == 0) {
			fprintf(ctl_store_out(), "deleted %s from %s\n", argv[1],
			    store_db_name((store_db_t) db));
			deleted++;
		} else if (rc == STORE_ERROR)
			err = 1;
	}
	store_close(st);
	if (!deleted && !err)
		fprintf(stderr, "targreyctl: delete: %s: not found\n", argv[1]);
	return deleted && !err ? 0 : 1;
}

/* Print one manual whitelist entry. */
static int
ctl_whitelist_one(const char *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	const unsigned char *p = val;
	int64_t	added = 0;
	char	t[32];

	(void) klen;
	(void) ctx;
	for (size_t i = 19; i < 27 && vlen >= 27; i++)
		added = (int64_t) (((uint64_t) added << 8) | p[i]);
	fprintf(ctl_store_out(), "%s\tadded=%s\n", key + strlen("whitelist/"),
	    ctl_time(added, 1, t, sizeof(t)));
	return 0;
}

/* whitelist add|remove IP-or-NET, whitelist [list] */
int
ctl_whitelist(const config_t *cfg, int argc, char **argv)
{
	store_t *st;
	net_t	n;
	int	rc;

	if (!(argc == 1 || (argc == 2 && strcmp(argv[1], "list") == 0)
	    || (argc == 3 && (strcmp(argv[1], "add") == 0 || strcmp(argv[1], "remove") == 0)))) {
		fprintf(stderr, "usage: targreyctl whitelist [list | add IP-or-NET | remove IP-or-NET]\n");
		return 2;
	}
	if (argc == 3 && net_parse(argv[2], &n) != 0) {
		fprintf(stderr, "targreyctl: whitelist: bad address or network \"%s\"\n", argv[2]);
		return 2;
	}
	if ((st = ctl_store_open(cfg)) == NULL)
		return 1;
	if (argc < 3)
		rc = store_walk(st, STORE_DB_META, "whitelist/", ctl_whitelist_one, NULL);
	else if (strcmp(argv[1], "add") == 0)
		rc = store_whitelist_add(st, &n, ctl_store_now());
	else if ((rc = store_whitelist_remove(st, &n)) == STORE_NOTFOUND)
		fprintf(stderr, "targreyctl: whitelist: %s is not in the whitelist\n", argv[2]);
	store_close(st);
	return rc == 0 ? 0 : 1;
}

/* expire: one full pass now. */
int
ctl_expire(const config_t *cfg, int argc, char **argv)
{
	greylist_params_t p;
	store_expire_t ex = {0};
	store_t *st;
	int	rc;

	(void) argv;
	if (argc != 1) {
		fprintf(stderr, "usage: targreyctl expire\n");
		return 2;
	}
	if ((st = ctl_store_open(cfg)) == NULL)
		return 1;
	if (store_is_redis(st)) {
		fprintf(ctl_store_out(), "server-side expiry: Redis removes each record at the end"
		    " of its TTL; nothing to do\n");
		return ctl_store_done(st, "expire", 0);
	}
	greylist_params_init(&p, cfg);
	while ((rc = store_expire_step(st, &p, ctl_store_now(), STORE_EXPIRE_BATCH, &ex)) == 0)
		continue;
	if (rc == 1)
		fprintf(ctl_store_out(), "expired %zu of %zu records\n", ex.deleted, ex.seen);
	return ctl_store_done(st, "expire", rc == 1 ? 0 : 1);
}

/* Write KEY with %XX escapes. */
void
ctl_store_print_key(FILE *out, const char *key, size_t klen)
{
	for (size_t i = 0; i < klen; i++) {
		unsigned char c = (unsigned char) key[i];

		if (c <= ' ' || c > '~' || c == '%')
			fprintf(out, "%%%02X", c);
		else
			fputc(c, out);
	}
}

/* Undo ctl_store_print_key() in place; length, or -1 when malformed. */
long
ctl_store_unescape_key(char *s)
{
	char   *out = s, *p = s;
	unsigned int c;

	while (*p) {
		if (*p == '%') {
			if (!isxdigit((unsigned char) p[1]) || !isxdigit((unsigned char) p[2])
			    || sscanf(p + 1, "%2x", &c) != 1)
				return -1;
			*out++ = (char) c;
			p += 3;
		} else
			*out++ = *p++;
	}
	*out = 0;
	return out - s;
}
