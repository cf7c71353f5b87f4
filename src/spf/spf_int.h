/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_int - the spf_t structure, shared by spf*.c (not a public API)
 * SYNOPSIS
 *	#include "spf_int.h"
 *
 *	int spf_guarded(int (*fn)(void *), void *arg);
 *	int spf_policy_setup(spf_t *spf, char *err, size_t len);
 * DESCRIPTION
 *	Everything in an spf_t is written by spf_create() and only read
 *	afterwards, so threads share it without a lock. spf_policy_setup()
 *	parses the spf_* network lists of the configuration.
 *
 *	spf_guarded() runs FN(ARG); spf.c and spf_check.c make the libspf2
 *	calls that set up, query and free the server through it (our DNS
 *	layer runs inside those). It returns what FN returns, or
 *	SPF_GUARD_CAUGHT when libspf2's error handler (SPF_error(), which
 *	would abort()) jumped out of FN: FN's own locals are then lost and
 *	what it allocated is leaked, so FN keeps what the caller must see
 *	or free in *ARG. FN must not return SPF_GUARD_CAUGHT itself.
 *	spf_jump is where the handler returns to (per thread, NULL outside
 *	spf_guarded()).
 *
 *	Text the SPF files quote is cleaned with text_clean() (text.h):
 *	TEXT_HEADER_COMMENT for facts, TEXT_PRINTABLE for explanations and
 *	reply texts.
 */
#ifndef TG_SPF_INT_H
#define TG_SPF_INT_H

#include <netinet/in.h>
#include <setjmp.h>
#include <spf2/spf.h>
#include "spf.h"

struct spf {
	const config_t *cfg;
	dns_t  *dns;
	int	own_dns;
	SPF_dns_server_t *layer;
	SPF_server_t *server;
	char	receiver[DNS_NAME_MAX + 1];
	net_t  *skip;
	size_t	nskip;
	net_t  *whitelist;
	size_t	nwhitelist;
};

#define SPF_GUARD_CAUGHT	(-1000)	/* libspf2 called SPF_error() */

extern __thread sigjmp_buf *spf_jump;	/* spf_lib.c */

void	spf_lib_handlers(void);
int	spf_guarded(int (*fn)(void *), void *arg);

int	spf_policy_setup(spf_t *spf, char *err, size_t len);

#endif
