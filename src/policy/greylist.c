/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	greylist - taRgrey decision and Postgrey-style greylisting, pure
 * DESCRIPTION
 *	See greylist.h. Decisions over records; keys and sender
 *	normalisation live in greylist_key.c. Times are seconds.
 * DIAGNOSTICS
 *	None: these functions cannot fail.
 */
#include "greylist.h"
#include "words.h"

/* Convert the configuration (milliseconds) into decision parameters. */
void
greylist_params_init(greylist_params_t *p, const config_t *cfg)
{
	p->delay = cfg->greylist_delay / 1000;
	p->retry_window = cfg->greylist_retry_window / 1000;
	p->max_age = cfg->greylist_max_age / 1000;
	p->tarpit_max_age = cfg->tarpit_failed_max_age / 1000;
	p->retry_count = cfg->greylist_retry_count > 0 ? cfg->greylist_retry_count : 1;
	p->awl_clients = cfg->auto_whitelist_clients;
	p->ipv4_prefix = (unsigned) cfg->greylist_ipv4_prefix;
	p->ipv6_prefix = (unsigned) cfg->greylist_ipv6_prefix;
}

/* Name of a verdict, for logs and targreyctl. */
const char *
greylist_verdict_name(greylist_verdict_t v)
{
	switch (v) {
	case GREYLIST_PASS_AWL:
		return W_PASS_AWL;
	case GREYLIST_PASS_TRIPLET:
		return W_PASS_TRIPLET;
	case GREYLIST_GREYLIST:
		return W_GREYLIST;
	case GREYLIST_TARPIT:
		return W_TARPIT;
	case GREYLIST_UNAVAILABLE:
		return W_STORE_UNAVAILABLE;
	}
	return W_UNKNOWN;
}

/* Has a triplet record expired? */
int
greylist_grey_expired(const greylist_params_t *p, int64_t now,
		      const grey_record_t *r)
{
	/* written as comparisons of times: no overflow on a damaged record */
	if (r->flags & GREY_FLAG_PASSED)
		return r->last < now - p->max_age;
	return r->last < now - p->retry_window;
}

/* Has a client (auto-whitelist) record expired? */
int
greylist_client_expired(const greylist_params_t *p, int64_t now,
			const client_record_t *r)
{
	return r->last_seen < now - p->max_age;
}

/* Has a tarpit-failed record expired? */
int
greylist_tarpit_expired(const greylist_params_t *p, int64_t now,
			const tarpit_record_t *r)
{
	return r->last < now - p->tarpit_max_age;
}

/* Is the client auto-whitelisted by its record? */
int
greylist_client_listed(const greylist_params_t *p, const client_record_t *r)
{
	return p->awl_clients > 0 && r->passes >= (uint64_t) p->awl_clients;
}

/* Count one pass of a client; return 1 when UPD must be written. */
int
greylist_client_pass(const greylist_params_t *p, int64_t now,
		     const client_record_t *old, client_record_t *upd)
{
	if (p->awl_clients <= 0)
		return 0;
	if (old == NULL || greylist_client_expired(p, now, old)) {
		upd->first = upd->last_pass = upd->last_seen = now;
		upd->passes = 1;
		return 1;
	}
	*upd = *old;
	/* a clock that went back must not freeze the record */
	if (old->last_pass <= now - GREYLIST_HOUR || old->last_pass > now) {
		if (upd->passes < UINT32_MAX)
			upd->passes++;
		upd->last_pass = upd->last_seen = now;
		return 1;
	}
	/* refresh last seen at most once an hour: fewer writes */
	if (old->last_seen <= now - GREYLIST_HOUR || old->last_seen > now) {
		upd->last_seen = now;
		return 1;
	}
	return 0;
}

/* Add one tarpit failure. */
void
greylist_tarpit_fail(int64_t now, const tarpit_record_t *old,
		     tarpit_record_t *upd)
{
	if (old == NULL) {
		upd->first = upd->last = now;
		upd->count = 1;
		return;
	}
	*upd = *old;
	upd->last = now;
	if (upd->count < UINT32_MAX)
		upd->count++;
}

/* Make a passed triplet record (client reached DATA after a tarpit). */
void
greylist_triplet_pass(int64_t now, const grey_record_t *old,
		      grey_record_t *upd)
{
	upd->first = old ? old->first : now;
	upd->retries = old ? old->retries : 0;
	upd->last = now;
	upd->flags = GREY_FLAG_PASSED;
}

/* Greylist a triplet: Postgrey's algorithm plus a retry count. */
static void
greylist_grey_triplet(const greylist_params_t *p, int64_t now,
		      const grey_record_t *old, greylist_result_t *r)
{
	grey_record_t *g = &r->triplet;

	r->write_triplet = 1;
	if (old == NULL || old->first < now - p->retry_window
	    || old->first > now) {
		g->first = g->last = now;
		g->retries = 0;
		g->flags = 0;
		r->verdict = GREYLIST_GREYLIST;
		r->reason = W_NEW;
		r->remaining_delay = p->delay;
		r->remaining_retries = p->retry_count;
		return;
	}
	*g = *old;
	g->last = now;
	if (old->first > now - p->delay) {
		r->verdict = GREYLIST_GREYLIST;
		r->reason = W_EARLY_RETRY;
		r->remaining_delay = p->delay - (now - old->first);
		r->remaining_retries = p->retry_count - old->retries;
		return;
	}
	if (g->retries < UINT16_MAX)
		g->retries++;
	if (g->retries >= p->retry_count) {
		g->flags |= GREY_FLAG_PASSED;
		r->verdict = GREYLIST_PASS_TRIPLET;
		r->reason = W_RETRIED;
		return;
	}
	r->verdict = GREYLIST_GREYLIST;
	r->reason = W_RETRY_COUNTED;
	r->remaining_retries = p->retry_count - g->retries;
}

/* Refresh a passed triplet's last-seen, at most once a minute. */
static void
greylist_touch_triplet(int64_t now, const grey_record_t *old,
		       greylist_result_t *r)
{
	if (old->last <= now - 60 || old->last > now) {
		r->triplet = *old;
		r->triplet.last = now;
		r->write_triplet = 1;
	}
}

/* The taRgrey decision for a suspicious client at its first RCPT. */
void
greylist_decide(const greylist_params_t *p, int64_t now,
		const greylist_facts_t *f, int flags, greylist_result_t *r)
{
	const client_record_t *cl = f->client;
	const grey_record_t *gr = f->triplet;
	const tarpit_record_t *tp = f->tarpit;

	*r = (greylist_result_t) {0};
	if (cl && greylist_client_expired(p, now, cl))
		cl = NULL;
	if (gr && greylist_grey_expired(p, now, gr))
		gr = NULL;
	if (tp && greylist_tarpit_expired(p, now, tp))
		tp = NULL;

	if (f->whitelisted) {
		r->verdict = GREYLIST_PASS_AWL;
		r->reason = W_MANUAL_WHITELIST;
		return;
	}
	if (cl && greylist_client_listed(p, cl)) {
		r->verdict = GREYLIST_PASS_AWL;
		r->reason = W_CLIENT_AWL;
	} else if (gr && (gr->flags & GREY_FLAG_PASSED)) {
		r->verdict = GREYLIST_PASS_TRIPLET;
		r->reason = W_TRIPLET_PASSED;
		greylist_touch_triplet(now, gr, r);
	} else if (tp || (flags & GREYLIST_NO_TARPIT)) {
		greylist_grey_triplet(p, now, gr, r);
	} else {
		r->verdict = GREYLIST_TARPIT;
		r->reason = W_NEW_CLIENT;
		return;
	}
	if (r->verdict != GREYLIST_GREYLIST)
		r->write_client = greylist_client_pass(p, now, cl, &r->client);
}
