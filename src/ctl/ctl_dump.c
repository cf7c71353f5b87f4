/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ctl_dump - targreyctl dump and load
 * DESCRIPTION
 *	dump writes one line per record, fields separated by one TAB:
 *	  # targrey-milter dump 1
 *	  greylist KEY first=S last=S retries=N passed=0|1
 *	  clients KEY first=S last_pass=S last_seen=S passes=N
 *	  tarpit KEY first=S last=S count=N
 *	  whitelist NET/LEN added=S
 *	  raw DB KEY HEX		(a record this program cannot read)
 *	S are seconds since the epoch. In KEY every byte below '!', above
 *	'~', and '%' itself, is written %XX, so a key never holds a TAB
 *	or a newline. load reads the same lines back (dump | load is the
 *	identity on the three databases and the whitelist; counters are
 *	not dumped); lines starting with '#' and empty lines are skipped.
 * DIAGNOSTICS
 *	"targreyctl: load: FILE:LINE: problem"; the count at the end.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "ctl_store.h"
#include "greylist.h"
#include "text.h"

#define DUMP_HEADER	"# targrey-milter dump 1"
#define T_ANY		LLONG_MIN, LLONG_MAX	/* times: any i64 */

static const ctl_field_t load_grey[] = {{"first", T_ANY}, {"last", T_ANY},
	{"retries", 0, UINT16_MAX}, {"passed", 0, 1}};
static const ctl_field_t load_client[] = {{"first", T_ANY}, {"last_pass", T_ANY},
	{"last_seen", T_ANY}, {"passes", 0, UINT32_MAX}};
static const ctl_field_t load_tarpit[] = {{"first", T_ANY}, {"last", T_ANY},
	{"count", 0, UINT32_MAX}};
static const ctl_field_t load_wl[] = {{"added", T_ANY}};

/* One field at *P; moves *P past it. 0, or -1 when it is not NAME=N
 * with N in bounds (an overflowing number is out of bounds). */
static int
ctl_field(const char **p, const ctl_field_t *f, long long *out)
{
	size_t	n = strlen(f->name);
	const char *s = *p + strspn(*p, " \t");
	char   *end;

	if (strncmp(s, f->name, n) != 0 || s[n] != '=' || !(isdigit((unsigned char) s[n + 1])
	    || (s[n + 1] == '-' && isdigit((unsigned char) s[n + 2]))))
		return -1;
	errno = 0;
	*out = strtoll(s + n + 1, &end, 10);
	if (errno != 0 || *out < f->lo || *out > f->hi || (*end && *end != ' ' && *end != '\t'))
		return -1;
	*p = end;
	return 0;
}

/* The N fields F[] of TEXT, in order, nothing else; 0 or -1. */
int
ctl_store_fields(const char *text, const ctl_field_t *f, int n, long long *out)
{
	for (int i = 0; i < n; i++)
		if (ctl_field(&text, &f[i], &out[i]) != 0)
			return -1;
	return text[strspn(text, " \t")] == 0 ? 0 : -1;
}

typedef struct {
	FILE   *out;
	store_db_t db;
} dump_ctx_t;

/* Write one record (or a raw line for an unreadable one). */
static int
dump_one(const char *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	dump_ctx_t *dc = ctx;

	if (ctl_store_print_record(dc->out, dc->db, key, klen, val, vlen, 1) == 0)
		return 0;
	fprintf(dc->out, "raw\t%s\t", store_db_name(dc->db));
	ctl_store_print_key(dc->out, key, klen);
	fputc('\t', dc->out);
	for (size_t i = 0; i < vlen; i++)
		fprintf(dc->out, "%02x", ((const unsigned char *) val)[i]);
	fputc('\n', dc->out);
	return 0;
}

/* Write one whitelist entry. */
static int
dump_whitelist(const char *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	dump_ctx_t *dc = ctx;
	const unsigned char *p = val;
	uint64_t added = 0;

	if (vlen < 27 || p[0] != RECORD_VERSION)
		return 0;
	for (int i = 19; i < 27; i++)
		added = (added << 8) | p[i];
	fprintf(dc->out, "whitelist\t");
	ctl_store_print_key(dc->out, key + strlen("whitelist/"), klen - strlen("whitelist/"));
	fprintf(dc->out, "\tadded=%lld\n", (long long) added);
	return 0;
}

/* dump */
int
ctl_dump(const config_t *cfg, int argc, char **argv)
{
	dump_ctx_t dc = {.out = ctl_store_out()};
	store_t *st;
	int	rc = 0;

	(void) argv;
	if ((st = ctl_store_begin(cfg, argc == 1, "dump", &rc)) == NULL)
		return rc;
	fprintf(dc.out, "%s\n", DUMP_HEADER);
	for (int db = STORE_DB_GREYLIST; db < STORE_DB_META && rc == 0; db++) {
		dc.db = (store_db_t) db;
		rc = store_walk(st, dc.db, NULL, dump_one, &dc);
	}
	if (rc == 0)
		rc = store_walk(st, STORE_DB_META, "whitelist/", dump_whitelist, &dc);
	if (fflush(dc.out) != 0)
		rc = 1;
	return ctl_store_done(st, "dump", rc);
}

/* Store the record of one dump line; 0, or -1 when malformed. */
static int
load_record(store_t *st, const char *db, char *key, const char *rest)
{
	unsigned char buf[RECORD_MAX_SIZE];
	long long v[4];
	long	klen = text_key_unescape(key);

	if (klen <= 0 || klen > STORE_KEY_MAX)
		return -1;
	if (strcmp(db, "greylist") == 0 && ctl_store_fields(rest, load_grey, 4, v) == 0) {
		grey_record_t g = {v[0], v[1], (uint16_t) v[2], v[3] ? GREY_FLAG_PASSED : 0};

		return store_put(st, STORE_DB_GREYLIST, key, (size_t) klen, buf,
		    record_grey_encode(&g, buf, sizeof(buf))) ? -1 : 0;
	}
	if (strcmp(db, "clients") == 0 && ctl_store_fields(rest, load_client, 4, v) == 0) {
		client_record_t r = {v[0], v[1], v[2], (uint32_t) v[3]};

		return store_put(st, STORE_DB_CLIENTS, key, (size_t) klen, buf,
		    record_client_encode(&r, buf, sizeof(buf))) ? -1 : 0;
	}
	if (strcmp(db, "tarpit") == 0 && ctl_store_fields(rest, load_tarpit, 3, v) == 0) {
		tarpit_record_t t = {v[0], v[1], (uint32_t) v[2]};

		return store_put(st, STORE_DB_TARPIT, key, (size_t) klen, buf,
		    record_tarpit_encode(&t, buf, sizeof(buf))) ? -1 : 0;
	}
	if (strcmp(db, "whitelist") == 0 && ctl_store_fields(rest, load_wl, 1, v) == 0) {
		net_t	net;

		return net_parse(key, &net) == 0 && store_whitelist_add(st, &net, v[0]) == 0 ? 0 : -1;
	}
	return -1;
}

/* Store a raw line "raw DB KEY HEX"; 0 or -1. */
static int
load_raw(store_t *st, char *fields)
{
	char   *db = fields, *key, *hex;
	unsigned char val[512];
	size_t	n = 0;
	unsigned int byte;
	long	klen;
	int	d;

	if ((key = strchr(db, '\t')) == NULL || (hex = strchr(++key, '\t')) == NULL)
		return -1;
	key[-1] = 0;
	*hex++ = 0;
	if ((d = store_db_by_name(db)) < 0 || d == STORE_DB_META
	    || (klen = text_key_unescape(key)) <= 0 || klen > STORE_KEY_MAX)
		return -1;
	for (; hex[0] && hex[1] && n < sizeof(val); hex += 2, n++) {
		if (sscanf(hex, "%2x", &byte) != 1)
			return -1;
		val[n] = (unsigned char) byte;
	}
	if (*hex || n == 0)
		return -1;
	return store_put(st, (store_db_t) d, key, (size_t) klen, val, n) ? -1 : 0;
}

/* Store one dump line; 0 or -1. */
static int
load_line(store_t *st, char *line)
{
	char   *key, *rest;

	if (strncmp(line, "raw\t", 4) == 0)
		return load_raw(st, line + 4);
	if ((key = strchr(line, '\t')) == NULL || (rest = strchr(key + 1, '\t')) == NULL)
		return -1;
	*key++ = 0;
	*rest++ = 0;
	return load_record(st, line, key, rest);
}

/* Read dump lines from FP, each whole however long; number of bad lines
 * (each named FILE:LINE on standard error and skipped). */
long
ctl_load_stream(store_t *st, FILE *fp, const char *name, long *loaded)
{
	char   *line = NULL;
	size_t	size = 0;
	ssize_t	len;
	long	lineno = 0, bad = 0;
	int	rc;

	while ((len = getline(&line, &size, fp)) >= 0) {
		lineno++;
		rc = strlen(line) == (size_t) len ? 0 : -1;	/* a NUL inside: not text */
		line[strcspn(line, "\r\n")] = 0;
		if (rc == 0 && (line[0] == 0 || line[0] == '#'))
			continue;
		if (rc == 0)
			rc = load_line(st, line);
		if (rc != 0) {
			fprintf(ctl_store_err(), "targreyctl: load: %s:%ld: bad line\n", name, lineno);
			bad++;
		} else
			++*loaded;
	}
	free(line);
	return bad;
}

/* load FILE|- */
int
ctl_load(const config_t *cfg, int argc, char **argv)
{
	store_t *st;
	FILE   *fp;
	long	bad, loaded = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: targreyctl load FILE|-\n");
		return 2;
	}
	fp = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "r");
	if (fp == NULL) {
		perror(argv[1]);
		return 1;
	}
	if ((st = ctl_store_open(cfg)) == NULL) {
		if (fp != stdin)
			fclose(fp);
		return 1;
	}
	bad = ctl_load_stream(st, fp, argv[1], &loaded);
	if (fp != stdin)
		fclose(fp);
	store_close(st);
	fprintf(ctl_store_out(), "loaded %ld records, %ld bad lines\n", loaded, bad);
	return bad ? 1 : 0;
}
