/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ctl_import - targreyctl import-postgrey
 * DESCRIPTION
 *	import-postgrey reads `db_dump -p` output (Berkeley DB print
 *	format: HEADER=END, then key and value lines that start with a
 *	space, "\\" for a backslash and "\xx" for other bytes, DATA=END)
 *	of Postgrey's databases, several files or sections at once:
 *	  postgrey.db          "NET/SENDER/RECIPIENT" -> "FIRST,LAST[,X]"
 *	  postgrey_clients.db  "ADDRESS" -> "COUNT,LAST"
 *	A triplet passed when LAST - FIRST >= greylist_delay (Postgrey's
 *	rule). A third field made of digits is taRgrey's retry count: the
 *	triplet then also needs greylist_retry_count retries to count as
 *	passed; any other third field (the host part older Postgrey
 *	versions kept) is ignored. NET and ADDRESS are regrouped with our
 *	greylist_ipv4_prefix/ipv6_prefix and the sender normalised again.
 *	Keys hashed by Postgrey's --privacy cannot be mapped and are
 *	skipped; records older than greylist_max_age are skipped; a record
 *	we already hold with a later last-seen time is kept.
 * DIAGNOSTICS
 *	"targreyctl: import-postgrey: FILE:LINE: problem" on standard
 *	error, then one summary line on standard output.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ctl_store.h"
#include "greylist.h"

typedef struct {
	store_t *st;
	const greylist_params_t *p;
	int64_t	now;
	const char *name;	/* file being read */
	long	lineno;		/* its line */
	long	triplets, passed, clients, skipped, expired, kept, errors;
} import_t;

/* Name a bad entry by file and line; it is skipped and counted. */
static int
import_bad(import_t *im, const char *what, const char *val)
{
	fprintf(ctl_store_err(), "targreyctl: import-postgrey: %s:%ld: %s \"%.80s\"\n",
	    im->name, im->lineno, what, val);
	return -1;
}

/* Read "N[,]" at *S: a time or count from 0 to INT64_MAX; 0 or -1. */
static int
import_number(const char **s, long long *out)
{
	char   *end;

	if (!isdigit((unsigned char) **s))
		return -1;
	errno = 0;
	*out = strtoll(*s, &end, 10);
	if (errno != 0 || (*end && *end != ','))
		return -1;
	*s = *end ? end + 1 : end;
	return 0;
}

/* Decode a db_dump -p line body in place ("\\" and "\xx"); 0 or -1. */
static int
import_unescape(char *s)
{
	char   *out = s, *p = s;
	unsigned int c;

	while (*p) {
		if (*p != '\\') {
			*out++ = *p++;
			continue;
		}
		if (p[1] == '\\') {
			*out++ = '\\';
			p += 2;
		} else if (isxdigit((unsigned char) p[1]) && isxdigit((unsigned char) p[2])
		    && sscanf(p + 1, "%2x", &c) == 1) {
			*out++ = (char) c;
			p += 3;
		} else
			return -1;
	}
	*out = 0;
	return memchr(s, 0, (size_t) (out - s)) ? -1 : 0;
}

/* Put REC under KEY unless we hold a record seen later; 1 when kept ours. */
static int
import_put(import_t *im, store_db_t db, const char *key, const unsigned char *buf,
	   size_t len, int64_t last)
{
	unsigned char old[RECORD_MAX_SIZE * 2];
	size_t	olen = sizeof(old);
	grey_record_t g;
	client_record_t c;

	if (store_get(im->st, db, key, strlen(key), old, &olen) == 0) {
		if (db == STORE_DB_GREYLIST && record_grey_decode(old, olen, &g) == RECORD_OK
		    && g.last >= last)
			return 1;
		if (db == STORE_DB_CLIENTS && record_client_decode(old, olen, &c) == RECORD_OK
		    && c.last_seen >= last)
			return 1;
	}
	return store_put(im->st, db, key, strlen(key), buf, len) == 0 ? 0 : -1;
}

/* One postgrey.db entry: "NET/SENDER/RECIPIENT" -> "FIRST,LAST[,X]". */
static int
import_triplet(import_t *im, char *key, const char *val)
{
	char	ourkey[GREYLIST_KEY_MAX], *s1, *s2;
	unsigned char buf[RECORD_MAX_SIZE];
	const char *third = val;
	long long first, last, retries = -1;
	grey_record_t g = {0};
	addr_t	a;
	int	rc;

	s1 = strchr(key, '/');
	s2 = strrchr(key, '/');
	if (s1 == s2)
		return im->skipped++, 0;
	*s1++ = 0;
	*s2++ = 0;
	if (import_number(&third, &first) != 0 || import_number(&third, &last) != 0)
		return import_bad(im, "want FIRST,LAST[,X] (times from 0 to 2^63-1), got", val);
	if (*third && strspn(third, "0123456789") == strlen(third)
	    && import_number(&third, &retries) != 0)
		return import_bad(im, "retry count out of range in", val);
	if (addr_parse(key, &a) != 0
	    || greylist_triplet_key(im->p, &a, s1, s2, ourkey, sizeof(ourkey)) == 0)
		return im->skipped++, 0;
	g.first = first;
	g.last = last;
	if (last >= first && last - first >= im->p->delay) {	/* both >= 0: no overflow */
		g.flags = GREY_FLAG_PASSED;
		g.retries = (uint16_t) im->p->retry_count;
	}
	if (retries >= 0) {
		g.retries = retries > UINT16_MAX ? UINT16_MAX : (uint16_t) retries;
		if (g.retries < im->p->retry_count)
			g.flags = 0;
	}
	if (greylist_grey_expired(im->p, im->now, &g))
		return im->expired++, 0;
	rc = import_put(im, STORE_DB_GREYLIST, ourkey, buf,
	    record_grey_encode(&g, buf, sizeof(buf)), g.last);
	if (rc == 1)
		im->kept++;
	else if (rc == 0) {
		im->triplets++;
		im->passed += (g.flags & GREY_FLAG_PASSED) != 0;
	}
	return rc < 0 ? -1 : 0;
}

/* One postgrey_clients.db entry: "ADDRESS" -> "COUNT,LAST". */
static int
import_client(import_t *im, const char *key, const char *val)
{
	char	ourkey[GREYLIST_KEY_MAX];
	unsigned char buf[RECORD_MAX_SIZE];
	const char *s = val;
	long long count, last;
	client_record_t c;
	addr_t	a;
	int	rc;

	if (import_number(&s, &count) != 0 || import_number(&s, &last) != 0 || *s)
		return import_bad(im, "want COUNT,LAST (numbers from 0 to 2^63-1), got", val);
	if (addr_parse(key, &a) != 0 || greylist_net_key(im->p, &a, ourkey, sizeof(ourkey)) == 0)
		return im->skipped++, 0;
	c.first = c.last_pass = c.last_seen = last;
	c.passes = count > UINT32_MAX ? UINT32_MAX : (uint32_t) count;
	if (greylist_client_expired(im->p, im->now, &c))
		return im->expired++, 0;
	rc = import_put(im, STORE_DB_CLIENTS, ourkey, buf,
	    record_client_encode(&c, buf, sizeof(buf)), last);
	if (rc == 1)
		im->kept++;
	else if (rc == 0)
		im->clients++;
	return rc < 0 ? -1 : 0;
}

/* Read one db_dump -p stream, each line whole however long. */
static void
import_stream(import_t *im, FILE *fp, const char *name)
{
	char   *line = NULL, *key = NULL;
	size_t	size = 0;
	ssize_t	len;
	int	in_data = 0, have_key = 0;

	im->name = name;
	im->lineno = 0;
	while ((len = getline(&line, &size, fp)) >= 0) {
		im->lineno++;
		if (strlen(line) != (size_t) len)
			line[0] = '!';		/* a NUL inside: not db_dump text */
		line[strcspn(line, "\r\n")] = 0;
		if (strcmp(line, "HEADER=END") == 0 || strcmp(line, "DATA=END") == 0) {
			in_data = line[0] == 'H';
			have_key = 0;
			continue;
		}
		if (!in_data)
			continue;
		if (line[0] != ' ' || import_unescape(line + 1) != 0) {
			fprintf(ctl_store_err(), "targreyctl: import-postgrey: %s:%ld: not db_dump -p data\n",
			    name, im->lineno);
			im->errors++;
			have_key = 0;
			continue;
		}
		if (!have_key) {
			free(key);
			have_key = (key = strdup(line + 1)) != NULL;
			im->errors += !have_key;
			continue;
		}
		have_key = 0;
		if ((strchr(key, '/') ? import_triplet(im, key, line + 1)
		    : import_client(im, key, line + 1)) != 0)
			im->errors++;
	}
	free(key);
	free(line);
}

/* import_stream() for one stream into ST (the fuzz harness); errors. */
long
ctl_import_stream(store_t *st, const greylist_params_t *p, int64_t now,
		  FILE *fp, const char *name)
{
	import_t im = {.st = st, .p = p, .now = now};

	import_stream(&im, fp, name);
	return im.errors;
}

/* import-postgrey FILE... */
int
ctl_import_postgrey(const config_t *cfg, int argc, char **argv)
{
	greylist_params_t p;
	import_t im = {0};
	FILE   *fp;

	if (argc < 2) {
		fprintf(stderr, "usage: targreyctl import-postgrey FILE...  "
		    "(FILE: output of db_dump -p postgrey.db or postgrey_clients.db, - for stdin)\n");
		return 2;
	}
	if ((im.st = ctl_store_open(cfg)) == NULL)
		return 1;
	greylist_params_init(&p, cfg);
	im.p = &p;
	im.now = ctl_store_now();
	for (int i = 1; i < argc; i++) {
		fp = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "r");
		if (fp == NULL) {
			perror(argv[i]);
			im.errors++;
			continue;
		}
		import_stream(&im, fp, argv[i]);
		if (fp != stdin)
			fclose(fp);
	}
	store_close(im.st);
	fprintf(ctl_store_out(), "imported %ld triplets (%ld passed) and %ld clients; "
	    "%ld kept (ours newer), %ld expired, %ld skipped (unmappable), %ld errors\n",
	    im.triplets, im.passed, im.clients, im.kept, im.expired, im.skipped, im.errors);
	return im.errors ? 1 : 0;
}
