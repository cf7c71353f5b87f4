/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	whitelist - client, sender and recipient whitelists
 * SYNOPSIS
 *	#include "whitelist.h"
 *
 *	whitelist_t *whitelist_create(const config_t *cfg, int *nerrors, char *why, size_t whylen);
 *	whitelist_t *whitelist_free(whitelist_t *w);
 *	int whitelist_client(const whitelist_t *w, const char *name, const addr_t *addr,
 *	    table_answer_t *a);
 *	int whitelist_sender(const whitelist_t *w, const char *sender, table_answer_t *a);
 *	int whitelist_recipient(const whitelist_t *w, const char *rcpt, table_answer_t *a);
 * DESCRIPTION
 *	whitelist_create() opens the tables of client_whitelist,
 *	sender_whitelist and recipient_whitelist. Bad lines are logged and
 *	counted in *NERRORS; a table that cannot be opened makes it
 *	return NULL with the reason in WHY.
 *
 *	Each lookup returns 1 when the first table that answers says OK or
 *	PERMIT (A then names TABLE and LINE for the log), 0 otherwise (an
 *	answer such as DUNNO stops the search: a way to carve exceptions).
 *	whitelist_client() gives name tables NAME (one trailing dot
 *	removed), or "[ADDR]" when NAME is NULL, empty, "unknown" or
 *	already "[ADDR]" (see s25r_client_key()); cidr tables and the
 *	address entries of list tables get ADDR.
 *	whitelist_sender() and whitelist_recipient() take the envelope
 *	address with or without <>; the null sender is looked up as "<>";
 *	an address of 1024 bytes or more is never whitelisted.
 * THREADS
 *	Immutable after creation; lookups may run in any number of threads.
 */
#ifndef TG_WHITELIST_H
#define TG_WHITELIST_H

#include <stddef.h>
#include "addr.h"
#include "config.h"
#include "table.h"

typedef struct whitelist whitelist_t;

whitelist_t *whitelist_create(const config_t *cfg, int *nerrors, char *why, size_t whylen);
whitelist_t *whitelist_free(whitelist_t *w);
int	whitelist_client(const whitelist_t *w, const char *name, const addr_t *addr,
	    table_answer_t *a);
int	whitelist_sender(const whitelist_t *w, const char *sender, table_answer_t *a);
int	whitelist_recipient(const whitelist_t *w, const char *rcpt, table_answer_t *a);

#endif
