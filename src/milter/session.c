/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	session - per-connection state of one SMTP session
 * DESCRIPTION
 *	See session.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "metrics.h"
#include "metrics_hourly.h"
#include "session.h"

static atomic_uint session_count;

/* A new session holding RT (the caller's reference passes to it). */
session_t *
session_new(runtime_t *rt)
{
	session_t *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->rt = rt;
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	atomic_fetch_add(&session_count, 1);
	return s;
}

/* Free S and release its snapshot; returns NULL. */
session_t *
session_free(session_t *s)
{
	if (s == NULL)
		return NULL;
	session_reset_transaction(s);
	free(s->helo);
	runtime_release(s->rt);
	free(s);
	atomic_fetch_sub(&session_count, 1);
	return NULL;
}

unsigned
session_active(void)
{
	return atomic_load(&session_count);
}

/* Record the client's address, port and verified name. */
int
session_set_client(session_t *s, const struct sockaddr *sa, const char *name)
{
	size_t	len;

	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *) sa;

		s->client.family = AF_INET;
		memcpy(s->client.bytes, &in->sin_addr, 4);
		s->client_port = ntohs(in->sin_port);
		s->has_addr = 1;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
		char	text[ADDR_TEXT_MAX];

		inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
		s->has_addr = addr_parse(text, &s->client) == 0;	/* unmaps v4-mapped */
		s->client_port = ntohs(in6->sin6_port);
	}
	if (s->has_addr)
		addr_format(&s->client, s->client_addr, sizeof(s->client_addr));
	/* Postfix hands "[ADDR]" when there is no verified name. */
	len = name ? strlen(name) : 0;
	if (len == 0 || name[0] == '[' || len >= sizeof(s->client_name))
		s->client_name[0] = '\0';
	else
		memcpy(s->client_name, name, len + 1);
	return s->has_addr ? 0 : -1;
}

/* Replace *FIELD with a bounded copy of VALUE. */
int
session_set_text(char **field, const char *value)
{
	char   *copy = strndup(value ? value : "", SESSION_TEXT_MAX);

	if (copy == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

/* Forget the current transaction. */
void
session_reset_transaction(session_t *s)
{
	free(s->from);
	free(s->rcpt);
	s->from = s->rcpt = NULL;
	strlist_clear(&s->rcpts);
	s->rcpt_count = 0;
	s->rcpt_accepted = 0;
	s->grey_replied = s->grey_deferred = 0;
	s->queue_id[0] = '\0';
	s->spf_done = 0;
	s->tg_verdict = NULL;
}

/* Seconds since connect. */
double
session_elapsed(const session_t *s)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double) (now.tv_sec - s->started.tv_sec)
	    + (double) (now.tv_nsec - s->started.tv_nsec) / 1e9;
}

/* The decision line for S. */
void
session_log(const session_t *s, const char *stage, const char *action,
	    const char *reason, const char *extra)
{
	session_log_to(s, s->rcpt, stage, action, reason, extra);
}

/* The decision line for S about recipient TO. */
void
session_log_to(const session_t *s, const char *to, const char *stage,
	       const char *action, const char *reason, const char *extra)
{
	log_fields_t f = {
		.queue_id = s->queue_id,
		.action = action,
		.reason = reason,
		.client_name = s->client_name[0] ? s->client_name : "unknown",
		.client_addr = s->has_addr ? s->client_addr : "unknown",
		.helo = s->helo,
		.from = s->from,
		.to = to,
		.stage = stage,
		.delay = session_elapsed(s),
		.extra = extra,
	};

	log_decision(&f);
	metrics_count_decision(stage, action, reason);
	metrics_hour_count(stage, action, reason);
}
