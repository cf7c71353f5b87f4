/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_redis - taRgrey decisions on Redis: read, decide, compare-and-set
 * DESCRIPTION
 *	See store_redis.h. The records of a decision are REC_CLIENT,
 *	REC_TARPIT, REC_REV (the revision of the manual whitelist, read
 *	only) and (store_redis_check()) REC_TRIPLET, or the triplets of the
 *	recipients (store_redis_tarpit_passed()).
 * DIAGNOSTICS
 *	"store: DB KEY: record version N unknown, treated as absent", at
 *	most once a minute; connection faults: store_redis_conn.h.
 */
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "log_limit.h"
#include "store_impl.h"
#include "store_redis_int.h"
#include "text.h"

enum { REC_CLIENT, REC_TARPIT, REC_REV, REC_TRIPLET };

static log_limit_t unknown_lim = LOG_LIMIT_INIT;

/* Key REC with DB and KEY, expecting it as read; -1 when too long. */
static int
rec_init(store_redis_t *rs, rs_rec_t *rec, store_db_t db, const char *key)
{
	memset(rec, 0, sizeof(*rec));
	rec->expect = 1;
	rec->ttl_ms = -1;
	rec->klen = rs_key(rs, db, key, strlen(key), rec->key, sizeof(rec->key));
	return rec->klen ? 0 : -1;
}

/* Log a record this program cannot read. */
static void
rec_unknown(store_db_t db, const rs_rec_t *rec)
{
	char	clean[LOG_VALUE_MAX];
	unsigned long sup;

	if (!log_limit_due(&unknown_lim, LOG_LIMIT_INTERVAL, &sup))
		return;
	text_clean(TEXT_LOG_VALUE, clean, sizeof(clean), rec->key);
	log_warning("store: %s %s: record version %d unknown, treated as absent",
	    store_db_name(db), clean, rec->olen ? rec->old[0] : -1);
}

/* Decode what REC holds into F (absent or unknown: not set). */
static void
rec_facts(const rs_rec_t *rec, size_t n, store_facts_t *f)
{
	f->has_client = rec[REC_CLIENT].has_old
	    && record_client_decode(rec[REC_CLIENT].old, rec[REC_CLIENT].olen, &f->client) == RECORD_OK;
	if (rec[REC_CLIENT].has_old && !f->has_client)
		rec_unknown(STORE_DB_CLIENTS, &rec[REC_CLIENT]);
	f->has_tarpit = rec[REC_TARPIT].has_old
	    && record_tarpit_decode(rec[REC_TARPIT].old, rec[REC_TARPIT].olen, &f->tarpit) == RECORD_OK;
	if (rec[REC_TARPIT].has_old && !f->has_tarpit)
		rec_unknown(STORE_DB_TARPIT, &rec[REC_TARPIT]);
	f->has_triplet = n > REC_TRIPLET && rec[REC_TRIPLET].has_old
	    && record_grey_decode(rec[REC_TRIPLET].old, rec[REC_TRIPLET].olen, &f->triplet) == RECORD_OK;
	if (n > REC_TRIPLET && rec[REC_TRIPLET].has_old && !f->has_triplet)
		rec_unknown(STORE_DB_GREYLIST, &rec[REC_TRIPLET]);
	f->whitelisted = 0;
}

/* Set what REC must become: the encoded record and its TTL. */
static void
rec_write(store_redis_t *rs, rs_rec_t *rec, store_db_t db, int64_t now, const void *r)
{
	switch (db) {
	case STORE_DB_GREYLIST:
		rec->nlen = record_grey_encode(r, rec->new, sizeof(rec->new));
		break;
	case STORE_DB_CLIENTS:
		rec->nlen = record_client_encode(r, rec->new, sizeof(rec->new));
		break;
	default:
		rec->nlen = record_tarpit_encode(r, rec->new, sizeof(rec->new));
	}
	rec->ttl_ms = store_redis_ttl_ms(&rs->p, now, db, rec->new, rec->nlen);
}

/* The client, tarpit and (with a recipient) triplet records of a decision. */
static int
rec_keys(store_redis_t *rs, const greylist_params_t *p, const addr_t *client,
	 const char *sender, const char *rcpt, store_facts_t *f, rs_rec_t *rec)
{
	if (store_grey_keys(p, client, sender, rcpt, f) != 0
	    || rec_init(rs, &rec[REC_CLIENT], STORE_DB_CLIENTS, f->net_key) != 0
	    || rec_init(rs, &rec[REC_TARPIT], STORE_DB_TARPIT, f->addr_key) != 0
	    || rec_init(rs, &rec[REC_REV], STORE_DB_META, RS_WL_REV) != 0)
		return -1;
	rec[REC_REV].expect = RS_EXPECT_ANY;
	return rcpt ? rec_init(rs, &rec[REC_TRIPLET], STORE_DB_GREYLIST, f->triplet_key) : 0;
}

greylist_verdict_t
store_redis_check(store_redis_t *rs, const greylist_params_t *p, int64_t now,
		  const addr_t *client, const char *sender, const char *recipient,
		  int flags, greylist_result_t *r)
{
	store_facts_t f;
	rs_rec_t rec[4];
	size_t	n = recipient ? 4 : 3;

	memset(r, 0, sizeof(*r));
	if (rec_keys(rs, p, client, sender, recipient, &f, rec) != 0)
		goto unavailable;
	for (int tries = 0; tries < STORE_REDIS_TRIES; tries++) {
		greylist_facts_t gf;
		int	rc;

		if (rs_read(rs, rec, n) != 0)
			goto unavailable;
		rec_facts(rec, n, &f);
		if ((f.whitelisted = rs_whitelist_match(rs, &rec[REC_REV], client)) < 0)
			goto unavailable;
		gf = (greylist_facts_t) {
			.client = f.has_client ? &f.client : NULL,
			.triplet = f.has_triplet ? &f.triplet : NULL,
			.tarpit = f.has_tarpit ? &f.tarpit : NULL,
			.whitelisted = f.whitelisted,
		};
		greylist_decide(p, now, &gf, flags, r);
		if (!r->write_triplet && !r->write_client)
			return r->verdict;
		if (r->write_triplet && n > REC_TRIPLET)
			rec_write(rs, &rec[REC_TRIPLET], STORE_DB_GREYLIST, now, &r->triplet);
		if (r->write_client)
			rec_write(rs, &rec[REC_CLIENT], STORE_DB_CLIENTS, now, &r->client);
		if ((rc = rs_cas(rs, rec, n)) == 1)
			return r->verdict;
		if (rc < 0)
			goto unavailable;
		rec[REC_TRIPLET].ttl_ms = rec[REC_CLIENT].ttl_ms = -1;
	}
unavailable:
	memset(r, 0, sizeof(*r));
	r->verdict = GREYLIST_UNAVAILABLE;
	r->reason = "store=redis";
	return r->verdict;
}

int
store_redis_tarpit_failed(store_redis_t *rs, const greylist_params_t *p, int64_t now,
			  const addr_t *client)
{
	store_facts_t f;
	rs_rec_t rec[3];
	tarpit_record_t upd;

	if (rec_keys(rs, p, client, NULL, NULL, &f, rec) != 0)
		return -1;
	rec[REC_CLIENT].expect = RS_EXPECT_ANY;
	for (int tries = 0; tries < STORE_REDIS_TRIES; tries++) {
		int	rc;

		if (rs_read(rs, rec, 2) != 0)
			return -1;
		rec_facts(rec, 2, &f);
		if (f.has_tarpit && greylist_tarpit_expired(p, now, &f.tarpit))
			f.has_tarpit = 0;
		greylist_tarpit_fail(now, f.has_tarpit ? &f.tarpit : NULL, &upd);
		rec_write(rs, &rec[REC_TARPIT], STORE_DB_TARPIT, now, &upd);
		if ((rc = rs_cas(rs, rec, 2)) != 0)
			return rc == 1 ? 0 : -1;
	}
	return -1;
}

/* Set the writes of store_redis_tarpit_passed() from what was read. */
static void
pass_writes(store_redis_t *rs, const greylist_params_t *p, int64_t now,
	    rs_rec_t *rec, size_t n, store_facts_t *f)
{
	client_record_t cl;

	rec_facts(rec, 2, f);
	rec[REC_TARPIT].ttl_ms = 0;
	for (size_t i = REC_TRIPLET; i < n; i++) {
		grey_record_t old, upd;
		int	have = rec[i].has_old
		    && record_grey_decode(rec[i].old, rec[i].olen, &old) == RECORD_OK
		    && !greylist_grey_expired(p, now, &old);

		greylist_triplet_pass(now, have ? &old : NULL, &upd);
		rec_write(rs, &rec[i], STORE_DB_GREYLIST, now, &upd);
	}
	if (f->has_client && greylist_client_expired(p, now, &f->client))
		f->has_client = 0;
	rec[REC_CLIENT].ttl_ms = -1;
	if (greylist_client_pass(p, now, f->has_client ? &f->client : NULL, &cl))
		rec_write(rs, &rec[REC_CLIENT], STORE_DB_CLIENTS, now, &cl);
}

/* Key the triplets of SENDER and RCPTS after the two first records. */
static size_t
pass_keys(store_redis_t *rs, const store_facts_t *f, const char *sender,
	  const char *const *rcpts, size_t count, rs_rec_t *rec)
{
	char	key[STORE_KEY_MAX + 1];
	size_t	n = REC_TRIPLET;

	for (size_t i = 0; i < count; i++)
		if (greylist_triplet_key_net(f->net_key, sender ? sender : "", rcpts[i],
		    key, sizeof(key)) != 0 && rec_init(rs, &rec[n], STORE_DB_GREYLIST, key) == 0)
			n++;		/* one that cannot be keyed is not remembered */
	return n;
}

int
store_redis_tarpit_passed(store_redis_t *rs, const greylist_params_t *p, int64_t now,
			  const addr_t *client, const char *sender,
			  const char *const *recipients, size_t count)
{
	store_facts_t f;
	rs_rec_t *rec = calloc(count + REC_TRIPLET, sizeof(*rec));
	size_t	n;
	int	rc = -1;

	if (rec == NULL || rec_keys(rs, p, client, NULL, NULL, &f, rec) != 0)
		goto out;
	rec[REC_TARPIT].expect = RS_EXPECT_ANY;
	n = pass_keys(rs, &f, sender, recipients, count, rec);
	for (int tries = 0; tries < STORE_REDIS_TRIES && rc == -1; tries++) {
		int	w;

		if (rs_read(rs, rec, n) != 0)
			break;
		pass_writes(rs, p, now, rec, n, &f);
		if ((w = rs_cas(rs, rec, n)) != 0) {
			rc = w == 1 ? 0 : -2;
			break;
		}
	}
out:
	free(rec);
	return rc == 0 ? 0 : -1;
}

int
store_redis_lookup(store_redis_t *rs, const greylist_params_t *p, const addr_t *client,
		   const char *sender, const char *recipient, store_facts_t *out)
{
	rs_rec_t rec[4];
	size_t	n = recipient ? 4 : 3;

	if (rec_keys(rs, p, client, sender, recipient, out, rec) != 0 || rs_read(rs, rec, n) != 0)
		return -1;
	rec_facts(rec, n, out);
	out->whitelisted = rs_whitelist_match(rs, &rec[REC_REV], client);
	return out->whitelisted < 0 ? -1 : 0;
}
