/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	greylist - taRgrey decision and Postgrey-style greylisting, pure
 * SYNOPSIS
 *	#include "greylist.h"
 *
 *	void greylist_params_init(greylist_params_t *p, const config_t *cfg);
 *	void greylist_decide(const greylist_params_t *p, int64_t now,
 *		const greylist_facts_t *f, int flags, greylist_result_t *r);
 *	int greylist_client_pass(const greylist_params_t *p, int64_t now,
 *		const client_record_t *old, client_record_t *upd);
 *	void greylist_tarpit_fail(int64_t now, const tarpit_record_t *old,
 *		tarpit_record_t *upd);
 *	void greylist_triplet_pass(int64_t now, const grey_record_t *old,
 *		grey_record_t *upd);
 *	int greylist_grey_expired(const greylist_params_t *p, int64_t now, const grey_record_t *r);
 *	int greylist_client_expired(const greylist_params_t *p, int64_t now, const client_record_t *r);
 *	int greylist_tarpit_expired(const greylist_params_t *p, int64_t now, const tarpit_record_t *r);
 *	int greylist_client_listed(const greylist_params_t *p, const client_record_t *r);
 *
 *	size_t greylist_sender_normalize(const char *sender, char *buf, size_t size);
 *	size_t greylist_net_key(const greylist_params_t *p, const addr_t *a, char *buf, size_t size);
 *	size_t greylist_triplet_key(const greylist_params_t *p, const addr_t *a,
 *		const char *sender, const char *recipient, char *buf, size_t size);
 *	size_t greylist_triplet_key_net(const char *net, const char *sender,
 *		const char *recipient, char *buf, size_t size);
 *	size_t greylist_addr_key(const addr_t *a, char *buf, size_t size);
 *	const char *greylist_verdict_name(greylist_verdict_t v);
 * DESCRIPTION
 *	Facts in, verdict out: no I/O, no clock, no locks. The store
 *	(store.c) reads the records, calls these functions and writes back
 *	what they return; targreyctl explain calls the same functions.
 *
 *	greylist_decide() applies the taRgrey table to a suspicious
 *	client at its first RCPT, in this order:
 *	  client auto-whitelisted (passes >= auto_whitelist_clients) -> PASS_AWL
 *	  triplet passed greylisting                    -> PASS_TRIPLET
 *	  client in the tarpit-failed list, or flags
 *	  has GREYLIST_NO_TARPIT (tarpit full)          -> greylist the triplet
 *	  otherwise                                     -> TARPIT
 *	Greylisting the triplet follows Postgrey: a new triplet, or one
 *	whose first attempt is older than retry_window without passing,
 *	starts over (GREYLIST "new"); an attempt less than delay after the
 *	first is an early retry (GREYLIST); an attempt at least delay
 *	after the first is a counted retry, and the one that makes
 *	retry_count counted retries passes (PASS_TRIPLET "retried"). With
 *	retry_count = 1 this is exactly Postgrey. Every pass (AWL,
 *	triplet) counts toward the client's auto-whitelisting, at most
 *	once an hour (greylist_client_pass()).
 *
 *	Expired records in the facts are treated as absent, so a verdict
 *	never depends on whether the expiry thread already ran.
 *
 *	R receives the verdict, a short reason for the log, the delay and
 *	retries still missing (for the 450 text) and the records to write:
 *	write_triplet / write_client are set when the corresponding
 *	updated record must be stored. The caller stores nothing else.
 *
 *	greylist_client_pass() counts one pass in UPD (from OLD, or NULL
 *	for none) and returns 1 when UPD must be written: a pass counts
 *	when it is at least an hour after the last counted one; otherwise
 *	only last_seen is refreshed, and at most once an hour.
 *	greylist_tarpit_fail() adds one failure; greylist_triplet_pass()
 *	makes a passed triplet record (used when the client reached DATA
 *	after a tarpit).
 *
 *	The *_expired() predicates implement expiry: passed triplets and
 *	clients live max_age since last seen; triplets that did not pass
 *	live retry_window since their last attempt; tarpit failures live
 *	tarpit_failed_max_age since the latest failure.
 *
 *	Keys are text. greylist_net_key() writes the client's network
 *	(IPv4 masked to ipv4_prefix, IPv6 to ipv6_prefix) as an address,
 *	"192.0.2.0" or "2001:db8::", the key of the clients database.
 *	greylist_triplet_key() writes "NET/SENDER/RECIPIENT", lower case,
 *	the sender normalised, angle brackets of the SMTP path removed
 *	("<>" is the empty sender), each address cut at GREYLIST_ADDR_MAX bytes
 *	(LMDB keys are at most 511 bytes). This is Postgrey's key form.
 *	greylist_triplet_key_net() does the same from a network key made
 *	by greylist_net_key() (one address formatting less per decision).
 *	greylist_addr_key() writes the full address, the tarpit key. They
 *	return the key length, or 0 when SIZE is too small (use
 *	GREYLIST_KEY_MAX).
 *
 *	greylist_sender_normalize() lower-cases SENDER and, in the local
 *	part: takes the address out of a BATV tag (prvs=TAG=user,
 *	prvs=user=TAG, msprvs1=TAG=user), drops the hash and time stamp of
 *	SRS (SRS0=HHH=TT=domain=user becomes srs0=domain=user, SRS1
 *	likewise), cuts a +extension, and replaces every run of digits
 *	that stands alone as a word by '#' (bounce-1234-5@ becomes
 *	bounce-#-#@). This is more than Postgrey 1.37 does: it strips
 *	only a lower-case "prvs=" tag, before lower-casing, and knows no
 *	SRS or msprvs1 (docs/migration.md, "What changes for a Postgrey
 *	user").
 * THREADS
 *	Pure functions; safe from any thread.
 */
#ifndef TG_GREYLIST_H
#define TG_GREYLIST_H

#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "config.h"
#include "record.h"

typedef enum {
	GREYLIST_PASS_AWL,		/* client auto-whitelisted or whitelisted */
	GREYLIST_PASS_TRIPLET,		/* triplet passed greylisting */
	GREYLIST_GREYLIST,		/* reply 450 4.7.1 */
	GREYLIST_TARPIT,		/* delay the RCPT reply */
	GREYLIST_UNAVAILABLE,		/* store failed: accept and log */
} greylist_verdict_t;

#define GREYLIST_NO_TARPIT	0x01	/* tarpit not possible: greylist instead */

typedef struct {
	int64_t	delay;			/* s: a retry counts after this */
	int64_t	retry_window;		/* s */
	int64_t	max_age;		/* s */
	int64_t	tarpit_max_age;		/* s */
	long	retry_count;
	long	awl_clients;		/* 0 = off */
	unsigned ipv4_prefix;
	unsigned ipv6_prefix;
} greylist_params_t;

typedef struct {
	const client_record_t *client;	/* NULL: absent */
	const grey_record_t *triplet;	/* NULL: absent */
	const tarpit_record_t *tarpit;	/* NULL: absent */
	int	whitelisted;		/* client in the manual whitelist */
} greylist_facts_t;

typedef struct {
	greylist_verdict_t verdict;
	const char *reason;		/* static text for the log */
	int64_t	remaining_delay;	/* s until the next retry counts */
	long	remaining_retries;	/* counted retries still needed */
	int	write_triplet;
	int	write_client;
	grey_record_t triplet;		/* valid when write_triplet */
	client_record_t client;		/* valid when write_client */
} greylist_result_t;

#define GREYLIST_ADDR_MAX	200
#define GREYLIST_KEY_MAX	(ADDR_TEXT_MAX + 2 * GREYLIST_ADDR_MAX + 4)
#define GREYLIST_HOUR		3600

void	greylist_params_init(greylist_params_t *p, const config_t *cfg);
void	greylist_decide(const greylist_params_t *p, int64_t now,
	    const greylist_facts_t *f, int flags, greylist_result_t *r);
int	greylist_client_pass(const greylist_params_t *p, int64_t now,
	    const client_record_t *old, client_record_t *upd);
void	greylist_tarpit_fail(int64_t now, const tarpit_record_t *old,
	    tarpit_record_t *upd);
void	greylist_triplet_pass(int64_t now, const grey_record_t *old,
	    grey_record_t *upd);
int	greylist_grey_expired(const greylist_params_t *p, int64_t now,
	    const grey_record_t *r);
int	greylist_client_expired(const greylist_params_t *p, int64_t now,
	    const client_record_t *r);
int	greylist_tarpit_expired(const greylist_params_t *p, int64_t now,
	    const tarpit_record_t *r);
int	greylist_client_listed(const greylist_params_t *p,
	    const client_record_t *r);

size_t	greylist_sender_normalize(const char *sender, char *buf, size_t size);
size_t	greylist_net_key(const greylist_params_t *p, const addr_t *a,
	    char *buf, size_t size);
size_t	greylist_triplet_key(const greylist_params_t *p, const addr_t *a,
	    const char *sender, const char *recipient, char *buf, size_t size);
size_t	greylist_triplet_key_net(const char *net, const char *sender,
	    const char *recipient, char *buf, size_t size);
size_t	greylist_addr_key(const addr_t *a, char *buf, size_t size);
const char *greylist_verdict_name(greylist_verdict_t v);

#endif
