/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_redis_conn - connections to Redis: one per thread, back-off, Sentinel
 * DESCRIPTION
 *	See store_redis_conn.h. The back-off is one atomic deadline shared by the
 *	threads: after a failure, the first thread to find it passed tries
 *	to connect; the others fail at once until then, so a dead server
 *	costs a decision no time and the server is not hammered. The link
 *	reports to metrics_redis.c: each store command's round trip and
 *	failure, each connection attempt and a new master named by Sentinel
 *	(a few atomics per command; the link's state follows from them).
 * DIAGNOSTICS
 *	"redis: connect HOST: REASON", "redis: WHAT: REASON" (no connection,
 *	no reply), "redis: WHAT: ERROR" (an error reply, e.g. a refused
 *	command of an ACL user), "redis: HOST:PORT: AUTH failed (ERROR)" (also
 *	SELECT; "not the master (ROLE)"; never the password), each kind at
 *	most once a minute
 *	(log_limit.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "log_limit.h"
#include "monotime.h"
#include "metrics.h"
#include "metrics_redis.h"
#include "store_redis_conn.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	2000
#define HOST_MAX	512

struct redis_link {
	redis_conf_t conf;
	char   *strings;		/* the copied strings of conf */
	pthread_key_t key;		/* this thread's redisContext */
	_Atomic long long retry_at;	/* monotonic ms: no connect before */
	_Atomic long backoff;		/* ms */
	pthread_mutex_t sha_lock;	/* guards the sha buffers of callers */
	pthread_mutex_t master_lock;	/* guards master_at */
	char	master_at[HOST_MAX + 8];	/* Sentinel's last master, for the metrics */
};

static log_limit_t conn_lim = LOG_LIMIT_INIT, cmd_lim = LOG_LIMIT_INIT, err_lim = LOG_LIMIT_INIT;

static void
ctx_free(void *c)
{
	redisFree(c);
}

/* Copy S after *P in the buffer; return the copy. */
static const char *
dup_into(char **p, const char *s)
{
	char   *d = *p;
	size_t	n = strlen(s ? s : "") + 1;

	memcpy(d, s ? s : "", n);
	*p += n;
	return d;
}

redis_link_t *
redis_link_new(const redis_conf_t *c)
{
	redis_link_t *l;
	size_t	n = 0;
	const char *s[] = {c->server, c->password, c->username, c->sentinels, c->master};
	char   *p;

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		n += strlen(s[i] ? s[i] : "") + 1;
	if ((l = calloc(1, sizeof(*l))) == NULL || (l->strings = malloc(n)) == NULL) {
		free(l);
		return NULL;
	}
	if (pthread_key_create(&l->key, ctx_free) != 0) {
		free(l->strings);
		free(l);
		return NULL;
	}
	p = l->strings;
	l->conf = *c;
	l->conf.server = dup_into(&p, c->server);
	l->conf.password = dup_into(&p, c->password);
	l->conf.username = dup_into(&p, c->username);
	l->conf.sentinels = dup_into(&p, c->sentinels);
	l->conf.master = dup_into(&p, c->master);
	l->backoff = BACKOFF_MIN_MS;
	pthread_mutex_init(&l->sha_lock, NULL);
	pthread_mutex_init(&l->master_lock, NULL);
	metrics_redis_link(METRICS_REDIS_CONNECTING);
	return l;
}

/* Only the calling thread's connection is closed here; other threads'
 * close when they exit. Call after every other call has returned. */
redis_link_t *
redis_link_free(redis_link_t *l)
{
	redisContext *c;

	if (l == NULL)
		return NULL;
	if ((c = pthread_getspecific(l->key)) != NULL)
		redisFree(c);
	pthread_setspecific(l->key, NULL);
	pthread_key_delete(l->key);
	pthread_mutex_destroy(&l->sha_lock);
	pthread_mutex_destroy(&l->master_lock);
	free(l->strings);
	free(l);
	return NULL;
}

int
redis_parse_server(const char *spec, char *host, size_t size, int *port)
{
	const char *colon, *h = spec;
	size_t	hl;
	char   *end;
	long	v;

	if (strncmp(spec, "unix:", 5) == 0) {
		*port = 0;
		return snprintf(host, size, "%s", spec + 5) < (int) size && spec[5] ? 0 : -1;
	}
	if (*spec == '[') {
		if ((colon = strstr(spec, "]:")) == NULL)
			return -1;
		h = spec + 1;
		hl = (size_t) (colon - h);
		colon++;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL || memchr(spec, ':', (size_t) (colon - spec)))
			return -1;
		hl = (size_t) (colon - spec);
	}
	v = strtol(colon + 1, &end, 10);
	if (hl == 0 || hl >= size || *end || end == colon + 1 || v < 1 || v > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int) v;
	return 0;
}

/* Connect to SPEC within the timeout; NULL (logged) on failure. */
static redisContext *
conn_open(const redis_link_t *l, const char *host, int port)
{
	struct timeval tv = {l->conf.timeout_ms / 1000, (l->conf.timeout_ms % 1000) * 1000};
	redisContext *c;
	unsigned long sup;

	c = port ? redisConnectWithTimeout(host, port, tv) : redisConnectUnixWithTimeout(host, tv);
	if (c == NULL || c->err || redisSetTimeout(c, tv) != REDIS_OK) {
		if (log_limit_due(&conn_lim, LOG_LIMIT_INTERVAL, &sup))
			log_warning("redis: connect %s%s%d: %s; retrying in the background%s",
			    host, port ? ":" : "", port, c ? c->errstr : "out of memory",
			    sup ? " (and earlier lines not logged)" : "");
		if (c)
			redisFree(c);
		return NULL;
	}
	return c;
}

/* Send one command on C; the reply, or NULL (C is then unusable). */
static redisReply *
conn_argv(redisContext *c, int argc, const char **argv, const size_t *lens)
{
	return redisCommandArgv(c, argc, argv, lens);
}

/* Ask the sentinels for the master's address. */
static int
conn_sentinel(const redis_link_t *l, char *host, size_t size, int *port)
{
	char	list[1024], one[HOST_MAX];
	char   *save = NULL, *tok;
	const char *av[] = {"SENTINEL", "get-master-addr-by-name", l->conf.master};
	int	sport, found = -1;

	snprintf(list, sizeof(list), "%s", l->conf.sentinels);
	for (tok = strtok_r(list, ", \t", &save); tok && found < 0; tok = strtok_r(NULL, ", \t", &save)) {
		redisContext *c;
		redisReply *r;

		if (redis_parse_server(tok, one, sizeof(one), &sport) != 0 || sport == 0)
			continue;
		if ((c = conn_open(l, one, sport)) == NULL)
			continue;
		r = conn_argv(c, 3, av, NULL);
		if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2
		    && r->element[0]->type == REDIS_REPLY_STRING
		    && r->element[1]->type == REDIS_REPLY_STRING
		    && snprintf(host, size, "%s", r->element[0]->str) < (int) size) {
			*port = atoi(r->element[1]->str);
			found = 0;
		}
		if (r)
			freeReplyObject(r);
		redisFree(c);
	}
	return found;
}

/* Count a failover when Sentinel names a master other than the last one. */
static void
conn_note_master(redis_link_t *l, const char *host, int port)
{
	char	at[sizeof(l->master_at)];
	int	moved;

	snprintf(at, sizeof(at), "%s:%d", host, port);
	pthread_mutex_lock(&l->master_lock);
	moved = l->master_at[0] != 0 && strcmp(l->master_at, at) != 0;
	memcpy(l->master_at, at, sizeof(at));
	pthread_mutex_unlock(&l->master_lock);
	if (moved)
		metrics_redis_failover();
}

/* Send one setup command ARGV; 0 when the reply is of type WANT, else -1
 * with WHY = "STEP failed (the server's error)": never the arguments, the
 * password is one of them. */
static int
conn_step(redisContext *c, int argc, const char **argv, int want, const char *step,
    char *why, size_t len)
{
	redisReply *r = conn_argv(c, argc, argv, NULL);
	int	ok = r && r->type == want;

	if (!ok)
		snprintf(why, len, "%s failed (%s)", step, r == NULL ? "no reply"
		    : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

/* AUTH, SELECT and (behind Sentinel) ROLE on a fresh connection; WHY says
 * which failed. */
static int
conn_setup(const redis_link_t *l, redisContext *c, char *why, size_t len)
{
	char	db[24];
	const char *auth[] = {"AUTH", l->conf.username, l->conf.password};
	const char *sel[] = {"SELECT", db};
	const char *role[] = {"ROLE"};
	redisReply *r;
	int	ok;

	if (*l->conf.password) {
		int	n = *l->conf.username ? 3 : 2;

		if (n == 2)
			auth[1] = l->conf.password;
		if (conn_step(c, n, auth, REDIS_REPLY_STATUS, "AUTH", why, len) < 0)
			return -1;
	}
	snprintf(db, sizeof(db), "%ld", l->conf.database);
	if (l->conf.database
	    && conn_step(c, 2, sel, REDIS_REPLY_STATUS, "SELECT", why, len) < 0)
		return -1;
	if (!*l->conf.sentinels)
		return 0;
	r = conn_argv(c, 1, role, NULL);
	ok = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0
	    && r->element[0]->type == REDIS_REPLY_STRING
	    && strcmp(r->element[0]->str, "master") == 0;
	if (r)
		freeReplyObject(r);
	if (!ok)
		snprintf(why, len, "not the master (ROLE)");
	return ok ? 0 : -1;
}

/* This thread's connection, made when missing and the back-off allows. */
static redisContext *
conn_get(redis_link_t *l)
{
	redisContext *c = pthread_getspecific(l->key);
	char	host[HOST_MAX], why[256];
	int	port;
	unsigned long sup;
	long long at = atomic_load(&l->retry_at), now = monotime_ms();

	if (c)
		return c;
	if (now < at)
		return NULL;
	/* after a failure, one thread claims the retry; the others fail at once */
	if (at != 0 && !atomic_compare_exchange_strong(&l->retry_at, &at,
	    now + atomic_load(&l->backoff)))
		return NULL;
	if (*l->conf.sentinels ? conn_sentinel(l, host, sizeof(host), &port)
	    : redis_parse_server(l->conf.server, host, sizeof(host), &port))
		goto fail;
	if ((c = conn_open(l, host, port)) == NULL)
		goto fail;
	if (conn_setup(l, c, why, sizeof(why)) != 0) {
		if (log_limit_due(&conn_lim, LOG_LIMIT_INTERVAL, &sup))
			log_warning("redis: %s:%d: %s%s", host, port, why,
			    sup ? " (and earlier lines not logged)" : "");
		redisFree(c);
		goto fail;
	}
	pthread_setspecific(l->key, c);
	atomic_store(&l->retry_at, 0);		/* every thread may connect again */
	if (*l->conf.sentinels)
		conn_note_master(l, host, port);
	metrics_redis_connect(1);
	return c;
fail:
	metrics_redis_connect(0);
	{
		long	b = atomic_load(&l->backoff);

		atomic_store(&l->retry_at, monotime_ms() + b);
		atomic_store(&l->backoff, b * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b * 2);
	}
	return NULL;
}

/* Does this error reply mean the server cannot serve us now? */
static int
reply_unusable(const redisReply *r)
{
	return r->type == REDIS_REPLY_ERROR
	    && (strncmp(r->str, "READONLY", 8) == 0 || strncmp(r->str, "LOADING", 7) == 0
		|| strncmp(r->str, "MASTERDOWN", 10) == 0 || strncmp(r->str, "NOAUTH", 6) == 0);
}

/* conn_argv(), its round trip and result counted for the metrics. */
static redisReply *
conn_timed(redisContext *c, int argc, const char **argv, const size_t *lens)
{
	long long t0 = metrics_enabled() ? monotime_us() : -1;
	redisReply *r = conn_argv(c, argc, argv, lens);
	int	ok = r != NULL && !reply_unusable(r);

	metrics_redis_command(t0 >= 0 ? monotime_us() - t0 : 0, ok);
	return r;
}

redisReply *
redis_link_cmd(redis_link_t *l, const char *what, int argc, const char **argv,
	       const size_t *lens)
{
	redisContext *c = conn_get(l);
	redisReply *r;
	unsigned long sup;

	if (c == NULL)
		return NULL;
	errno = 0;
	r = conn_timed(c, argc, argv, lens);
	if (r && !reply_unusable(r)) {
		atomic_store(&l->backoff, BACKOFF_MIN_MS);
		if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) != 0
		    && log_limit_due(&err_lim, LOG_LIMIT_INTERVAL, &sup))
			log_warning("redis: %s: %s%s", what, r->str,
			    sup ? " (and earlier lines not logged)" : "");
		return r;
	}
	if (log_limit_due(&cmd_lim, LOG_LIMIT_INTERVAL, &sup))
		log_warning("redis: %s: %s; mail passes without greylisting until Redis answers%s",
		    what, r ? r->str : (errno == EAGAIN || errno == EWOULDBLOCK)
		    ? "no reply within redis_timeout" : c->errstr,
		    sup ? " (and earlier lines not logged)" : "");
	if (r)
		freeReplyObject(r);
	pthread_setspecific(l->key, NULL);
	redisFree(c);
	atomic_store(&l->retry_at, monotime_ms() + atomic_load(&l->backoff));
	return NULL;
}

/* SCRIPT LOAD BODY into SHA once. */
static int
eval_load(redis_link_t *l, const char *body, char *sha)
{
	const char *av[] = {"SCRIPT", "LOAD", body};
	redisReply *r;
	int	rc = -1;

	pthread_mutex_lock(&l->sha_lock);
	if (*sha)
		rc = 0;
	pthread_mutex_unlock(&l->sha_lock);
	if (rc == 0 || (r = redis_link_cmd(l, "script load", 3, av, NULL)) == NULL)
		return rc;
	if (r->type == REDIS_REPLY_STRING && r->len == REDIS_SHA_SIZE - 1) {
		pthread_mutex_lock(&l->sha_lock);
		memcpy(sha, r->str, REDIS_SHA_SIZE);
		pthread_mutex_unlock(&l->sha_lock);
		rc = 0;
	}
	freeReplyObject(r);
	return rc;
}

redisReply *
redis_link_eval(redis_link_t *l, const char *what, const char *body, char *sha,
		int argc, const char **argv, const size_t *lens)
{
	const char **av;
	size_t *lv;
	redisReply *r;

	if (eval_load(l, body, sha) != 0)
		return NULL;
	av = malloc((size_t) (argc + 2) * sizeof(*av));
	lv = malloc((size_t) (argc + 2) * sizeof(*lv));
	if (av == NULL || lv == NULL) {
		free(av);
		free(lv);
		return NULL;
	}
	av[0] = "EVALSHA";
	pthread_mutex_lock(&l->sha_lock);
	av[1] = sha;
	pthread_mutex_unlock(&l->sha_lock);
	lv[0] = 7;
	lv[1] = REDIS_SHA_SIZE - 1;
	for (int i = 0; i < argc; i++) {
		av[i + 2] = argv[i];
		lv[i + 2] = lens ? lens[i] : strlen(argv[i]);
	}
	r = redis_link_cmd(l, what, argc + 2, av, lv);
	if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(r);
		av[0] = "EVAL";
		av[1] = body;
		lv[0] = 4;
		lv[1] = strlen(body);
		r = redis_link_cmd(l, what, argc + 2, av, lv);
	}
	free(av);
	free(lv);
	return r;
}
