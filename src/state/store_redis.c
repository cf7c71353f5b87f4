/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_redis - taRgrey decisions on Redis: one script call each
 * DESCRIPTION
 *	See store_redis.h. store_redis_check(), store_redis_tarpit_failed()
 *	and store_redis_tarpit_passed() each send STORE_REDIS_SCRIPT
 *	(store_redis_lua.c) once: it reads, decides and writes on the
 *	server. The keys of a decision are the client, tarpit, whitelist
 *	revision (read only) and triplet records; store_redis_lookup()
 *	(read only, for targreyctl explain) reads them with one MGET.
 * DIAGNOSTICS
 *	"store: DB KEY: record version N unknown, treated as absent", at
 *	most once a minute; connection faults: store_redis_conn.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "log_limit.h"
#include "store_impl.h"
#include "store_redis_int.h"
#include "text.h"
#include "words.h"

enum { REC_CLIENT, REC_TARPIT, REC_REV, REC_TRIPLET };

#define WL_TRIES	3	/* whitelist reloads within one decision */

static log_limit_t unknown_lim = LOG_LIMIT_INIT;

/* Log a record this program cannot read: KEY of DB, version VER. */
static void
rec_unknown(store_db_t db, const char *key, long long ver)
{
	char	clean[LOG_VALUE_MAX];
	unsigned long sup;

	if (!log_limit_due(&unknown_lim, LOG_LIMIT_INTERVAL, &sup))
		return;
	text_clean(TEXT_LOG_VALUE, clean, sizeof(clean), key);
	log_warning("store: %s %s: record version %lld unknown, treated as absent",
	    store_db_name(db), clean, ver);
}

/* Key REC with DB and KEY; -1 when too long. */
static int
rec_init(store_redis_t *rs, rs_rec_t *rec, store_db_t db, const char *key)
{
	memset(rec, 0, sizeof(*rec));
	rec->db = db;
	rec->klen = rs_key(rs, db, key, strlen(key), rec->key, sizeof(rec->key));
	return rec->klen ? 0 : -1;
}

/* The client, tarpit, revision and (with a recipient) triplet records. */
static int
rec_keys(store_redis_t *rs, const greylist_params_t *p, const addr_t *client,
	 const char *sender, const char *rcpt, store_facts_t *f, rs_rec_t *rec)
{
	if (store_grey_keys(p, client, sender, rcpt, f) != 0
	    || rec_init(rs, &rec[REC_CLIENT], STORE_DB_CLIENTS, f->net_key) != 0
	    || rec_init(rs, &rec[REC_TARPIT], STORE_DB_TARPIT, f->addr_key) != 0
	    || rec_init(rs, &rec[REC_REV], STORE_DB_META, RS_WL_REV) != 0)
		return -1;
	return rcpt ? rec_init(rs, &rec[REC_TRIPLET], STORE_DB_GREYLIST, f->triplet_key) : 0;
}

/* Log the unknown records the script names in R from element FROM on. */
static void
log_unknown(const redisReply *r, size_t from, const rs_rec_t *rec, size_t n)
{
	for (size_t i = from; i + 1 < r->elements; i += 2) {
		long long k = r->element[i]->integer;

		if (k >= 1 && (size_t) k <= n)
			rec_unknown(rec[k - 1].db, rec[k - 1].key, r->element[i + 1]->integer);
	}
}

/* Run operation OP of the script on the N keys of REC. */
static redisReply *
rs_run(store_redis_t *rs, const char *op, const greylist_params_t *p, int64_t now,
       long long rev, int wl, int flags, const rs_rec_t *rec, size_t n)
{
	const int64_t num[] = {now, p->delay, p->retry_window, p->max_age, p->tarpit_max_age,
	    p->retry_count, p->awl_clients, rev, wl, flags};
	enum { NNUM = sizeof(num) / sizeof(num[0]) };
	size_t	argc = 2 + n + NNUM;
	const char **av = calloc(argc, sizeof(*av));
	size_t *lv = calloc(argc, sizeof(*lv));
	char	text[NNUM + 1][24];
	redisReply *r = NULL;

	if (av != NULL && lv != NULL) {
		lv[0] = (size_t) snprintf(text[NNUM], sizeof(text[NNUM]), "%zu", n);
		av[0] = text[NNUM];
		for (size_t i = 0; i < n; i++) {
			av[1 + i] = rec[i].key;
			lv[1 + i] = rec[i].klen;
		}
		av[1 + n] = op;
		lv[1 + n] = strlen(op);
		for (size_t i = 0; i < NNUM; i++) {
			lv[2 + n + i] = (size_t) snprintf(text[i], sizeof(text[i]), "%" PRId64, num[i]);
			av[2 + n + i] = text[i];
		}
		r = redis_link_eval(rs->link, op, STORE_REDIS_SCRIPT, rs->sha, (int) argc, av, lv);
	}
	free(av);
	free(lv);
	return r;
}

/* The static reason text of the script's REASON; NULL when not one of ours. */
static const char *
reason_text(const redisReply *e)
{
	static const char *const known[] = {W_NEW_CLIENT, W_NEW, W_EARLY_RETRY,
	    W_RETRY_COUNTED, W_RETRIED, W_TRIPLET_PASSED, W_CLIENT_AWL, W_MANUAL_WHITELIST};

	for (size_t i = 0; e->type == REDIS_REPLY_STRING && i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(e->str, known[i]) == 0)
			return known[i];
	return NULL;
}

/* Fill R from the script's decision E; 0, 1 (whitelist moved: reloaded), -1. */
static int
decide_reply(store_redis_t *rs, const redisReply *e, const rs_rec_t *rec, size_t n,
	     greylist_result_t *r)
{
	redisReply *const *el = e->element;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || el[0]->type != REDIS_REPLY_INTEGER)
		return -1;
	if (el[0]->integer == -1)	/* the manual whitelist changed: reload it */
		return el[1]->type == REDIS_REPLY_STRING
		    && rs_whitelist_reload(rs, atoll(el[1]->str)) == 0 ? 1 : -1;
	if (e->elements < 6 || el[0]->integer < GREYLIST_PASS_AWL || el[0]->integer > GREYLIST_TARPIT
	    || (r->reason = reason_text(el[1])) == NULL
	    || el[2]->type != REDIS_REPLY_INTEGER || el[3]->type != REDIS_REPLY_INTEGER
	    || el[4]->type != REDIS_REPLY_STRING || el[5]->type != REDIS_REPLY_STRING)
		return -1;
	r->verdict = (greylist_verdict_t) el[0]->integer;
	r->remaining_delay = el[2]->integer;
	r->remaining_retries = (long) el[3]->integer;
	r->write_triplet = el[4]->len > 0
	    && record_grey_decode(el[4]->str, el[4]->len, &r->triplet) == RECORD_OK;
	r->write_client = el[5]->len > 0
	    && record_client_decode(el[5]->str, el[5]->len, &r->client) == RECORD_OK;
	log_unknown(e, 6, rec, n);
	return 0;
}

greylist_verdict_t
store_redis_check(store_t *st, const greylist_params_t *p, int64_t now,
		  const addr_t *client, const char *sender, const char *recipient,
		  int flags, greylist_result_t *r)
{
	store_redis_t *rs = st->redis;
	store_facts_t f;
	rs_rec_t rec[4];
	size_t	n = recipient ? 4 : 3;
	int	rc = -1;

	memset(r, 0, sizeof(*r));
	if (rec_keys(rs, p, client, sender, recipient, &f, rec) != 0)
		goto unavailable;
	for (int tries = 0; tries < WL_TRIES; tries++) {
		long long rev;
		int	wl = rs_whitelist_cached(rs, client, &rev);
		redisReply *e = rs_run(rs, "decide", p, now, rev, wl, flags, rec, n);

		rc = e ? decide_reply(rs, e, rec, n, r) : -1;
		if (e)
			freeReplyObject(e);
		if (rc != 1)
			break;
	}
	if (rc == 0)
		return r->verdict;
unavailable:
	memset(r, 0, sizeof(*r));
	r->verdict = GREYLIST_UNAVAILABLE;
	r->reason = "store=redis";
	return r->verdict;
}

/* Run OP on the N records of REC: 0 done, -1 not. */
static int
rs_write(store_redis_t *rs, const char *op, const greylist_params_t *p, int64_t now,
	 const rs_rec_t *rec, size_t n)
{
	redisReply *e = rs_run(rs, op, p, now, 0, 0, 0, rec, n);
	int	rc = -1;

	if (e && e->type == REDIS_REPLY_ARRAY && e->elements >= 1
	    && e->element[0]->type == REDIS_REPLY_INTEGER && e->element[0]->integer == 0) {
		log_unknown(e, 1, rec, n);
		rc = 0;
	}
	if (e)
		freeReplyObject(e);
	return rc;
}

int
store_redis_tarpit_failed(store_t *st, const greylist_params_t *p, int64_t now,
			  const addr_t *client)
{
	store_redis_t *rs = st->redis;
	store_facts_t f;
	rs_rec_t rec[3];

	if (rec_keys(rs, p, client, NULL, NULL, &f, rec) != 0)
		return -1;
	return rs_write(rs, "fail", p, now, &rec[REC_TARPIT], 1);
}

int
store_redis_tarpit_passed(store_t *st, const greylist_params_t *p, int64_t now,
			  const addr_t *client, const char *sender,
			  const char *const *recipients, size_t count)
{
	store_redis_t *rs = st->redis;
	store_facts_t f;
	rs_rec_t *rec = calloc(count + REC_TRIPLET, sizeof(*rec));
	char	key[STORE_KEY_MAX + 1];
	size_t	n = 2;
	int	rc = -1;

	/* client, tarpit, then the triplets (REC_REV is not sent) */
	if (rec != NULL && rec_keys(rs, p, client, NULL, NULL, &f, rec) == 0) {
		for (size_t i = 0; i < count; i++)
			if (greylist_triplet_key_net(f.net_key, sender ? sender : "", recipients[i],
			    key, sizeof(key)) != 0 && rec_init(rs, &rec[n], STORE_DB_GREYLIST, key) == 0)
				n++;	/* one that cannot be keyed is not remembered */
		rc = rs_write(rs, "pass", p, now, rec, n);
	}
	free(rec);
	return rc;
}

int
store_redis_lookup(store_t *st, const greylist_params_t *p, const addr_t *client,
		   const char *sender, const char *recipient, store_facts_t *out)
{
	store_redis_t *rs = st->redis;
	rs_rec_t rec[4];
	size_t	n = recipient ? 4 : 3;

	if (rec_keys(rs, p, client, sender, recipient, out, rec) != 0 || rs_read(rs, rec, n) != 0)
		return -1;
	out->has_client = rec[REC_CLIENT].has_old && record_client_decode(rec[REC_CLIENT].old,
	    rec[REC_CLIENT].olen, &out->client) == RECORD_OK;
	out->has_tarpit = rec[REC_TARPIT].has_old && record_tarpit_decode(rec[REC_TARPIT].old,
	    rec[REC_TARPIT].olen, &out->tarpit) == RECORD_OK;
	out->has_triplet = n > REC_TRIPLET && rec[REC_TRIPLET].has_old
	    && record_grey_decode(rec[REC_TRIPLET].old, rec[REC_TRIPLET].olen, &out->triplet) == RECORD_OK;
	out->whitelisted = rs_whitelist_match(rs, &rec[REC_REV], client);
	return out->whitelisted < 0 ? -1 : 0;
}
