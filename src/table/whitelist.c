/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	whitelist - client, sender and recipient whitelists over tables
 * DESCRIPTION
 *	See whitelist.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "s25r.h"
#include "whitelist.h"

struct whitelist {
	tablelist_t *client;
	tablelist_t *sender;
	tablelist_t *recipient;
};

/* Open the three whitelist parameters' tables. */
whitelist_t *
whitelist_create(const config_t *cfg, int *nerrors, char *why, size_t whylen)
{
	whitelist_t *w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if ((w->client = tablelist_open(&cfg->client_whitelist, nerrors, why, whylen)) == NULL
	    || (w->sender = tablelist_open(&cfg->sender_whitelist, nerrors, why, whylen)) == NULL
	    || (w->recipient = tablelist_open(&cfg->recipient_whitelist, nerrors, why, whylen)) == NULL)
		return whitelist_free(w);
	return w;
}

/* Free the whitelists; returns NULL. */
whitelist_t *
whitelist_free(whitelist_t *w)
{
	if (w == NULL)
		return NULL;
	tablelist_free(w->client);
	tablelist_free(w->sender);
	tablelist_free(w->recipient);
	free(w);
	return NULL;
}

/* Is the client whitelisted? */
int
whitelist_client(const whitelist_t *w, const char *name, const addr_t *addr, table_answer_t *a)
{
	char	key[S25R_KEY_MAX];
	table_query_t q = { NULL, addr, NULL };

	q.name = s25r_client_key(name, addr, key, sizeof(key));
	return tablelist_lookup(w->client, &q, a) && s25r_answer_is_ok(a->text);
}

/* Look up an envelope address, without its angle brackets. */
static int
whitelist_mail(const tablelist_t *l, const char *mail, table_answer_t *a)
{
	char	buf[1024];
	size_t	len = mail ? strlen(mail) : 0;
	table_query_t q = { NULL, NULL, buf };

	if (len >= 2 && mail[0] == '<' && mail[len - 1] == '>') {
		mail++;
		len -= 2;
	}
	if (len >= sizeof(buf))		/* never match a cut address */
		return 0;
	if (len == 0)
		snprintf(buf, sizeof(buf), "<>");
	else
		snprintf(buf, sizeof(buf), "%.*s", (int) len, mail);
	return tablelist_lookup(l, &q, a) && s25r_answer_is_ok(a->text);
}

/* Is the envelope sender whitelisted? */
int
whitelist_sender(const whitelist_t *w, const char *sender, table_answer_t *a)
{
	return whitelist_mail(w->sender, sender, a);
}

/* Is the recipient whitelisted? */
int
whitelist_recipient(const whitelist_t *w, const char *rcpt, table_answer_t *a)
{
	return whitelist_mail(w->recipient, rcpt, a);
}
