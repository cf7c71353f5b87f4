/*
 * NAME
 *	pool - keep libmilter's worker pool serving while a callback waits
 * DESCRIPTION
 *	See pool.h for the mechanism and why it is safe. The handoff
 *	session speaks one packet of the milter protocol: length 1,
 *	command 'Q' (SMFIC_QUIT).
 * DIAGNOSTICS
 *	Negative errno values, see pool.h. This module does not log.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "pool.h"

static struct sockaddr_storage pool_addr;
static socklen_t pool_addrlen;
static atomic_ulong pool_handoffs, pool_failures;
static atomic_long pool_max_us;

/* one per thread that ever called pool_busy_begin(); watched by the watchdog */
typedef struct pool_slot {
	atomic_llong start_us;		/* start of the running callback, 0: none */
	atomic_llong handed_us;		/* start_us of the period handed off */
	struct pool_slot *prev, *next;
} pool_slot_t;

static pthread_mutex_t pool_slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pool_slot_t *pool_slots;		/* list, under pool_slots_lock */
static __thread pool_slot_t *pool_self;
static pthread_key_t pool_key;
static pthread_once_t pool_key_once = PTHREAD_ONCE_INIT;

static pthread_t pool_watch_tid;
static atomic_int pool_watch_run;
static long pool_watch_threshold_us;

/* pool_now_us - monotonic time in microseconds */
static int64_t
pool_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* pool_init_unix - a unix-domain socket path */
static int
pool_init_unix(const char *path)
{
	struct sockaddr_un *sun = (struct sockaddr_un *) &pool_addr;

	if (*path == 0 || strlen(path) >= sizeof(sun->sun_path))
		return -EINVAL;
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, path);
	pool_addrlen = sizeof(*sun);
	return 0;
}

/* pool_init_inet - PORT and HOST of FAMILY; wildcard or none is loopback */
static int
pool_init_inet(int family, const char *port, const char *host)
{
	struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV}, *res;
	char	*end;
	long	p = strtol(port, &end, 10);

	if (*port == 0 || *end != 0 || p < 1 || p > 65535)
		return -EINVAL;
	if (host == NULL || *host == 0 || strcmp(host, "0.0.0.0") == 0
	    || strcmp(host, "::") == 0 || strcasecmp(host, "INADDR_ANY") == 0)
		host = family == AF_INET ? "127.0.0.1" : "::1";
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -EHOSTUNREACH;
	memcpy(&pool_addr, res->ai_addr, res->ai_addrlen);
	pool_addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* pool_init - remember where the daemon's own milter socket is */
int
pool_init(const char *conn)
{
	char	buf[512], *port, *host, *colon;
	int	family;

	if (conn == NULL || strlen(conn) >= sizeof(buf))
		return -EINVAL;
	memset(&pool_addr, 0, sizeof(pool_addr));
	if (strncmp(conn, "unix:", 5) == 0 || strncmp(conn, "local:", 6) == 0)
		return pool_init_unix(strchr(conn, ':') + 1);
	if (*conn == '/')
		return pool_init_unix(conn);
	if (strncmp(conn, "inet:", 5) == 0)
		family = AF_INET;
	else if (strncmp(conn, "inet6:", 6) == 0)
		family = AF_INET6;
	else
		return -EINVAL;
	strcpy(buf, strchr(conn, ':') + 1);
	port = buf;
	if ((host = strchr(buf, '@')) != NULL) {
		*host++ = 0;			/* libmilter: PORT@HOST */
		if (*host == '[' && (colon = strchr(host, ']')) != NULL) {
			*colon = 0;
			host++;
		}
	} else if ((colon = strrchr(buf, ':')) != NULL) {
		*colon = 0;			/* Postfix: HOST:PORT */
		host = buf;
		port = colon + 1;
	}
	return pool_init_inet(family, port, host);
}

/* pool_wait_fd - poll FD for EVENTS until DEADLINE (us); 0 or -errno */
static int
pool_wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int64_t	left;
	int	rc;

	for (;;) {
		if ((left = deadline - pool_now_us()) <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int) ((left + 999) / 1000));
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -errno;
	}
}

/* pool_connect - nonblocking connect to the milter socket, bounded */
static int
pool_connect(int64_t deadline)
{
	int	fd, err = 0;
	socklen_t len = sizeof(err);

	fd = socket(pool_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *) &pool_addr, pool_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			err = -errno;
			goto fail;
		}
		if ((err = pool_wait_fd(fd, POLLOUT, deadline)) < 0)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
			err = -(err ? err : errno);
			goto fail;
		}
	}
	return fd;
fail:
	close(fd);
	return err;
}

/* pool_quit_session - send QUIT, wait until libmilter closes; 0 or -errno */
static int
pool_quit_session(int fd, int64_t deadline)
{
	static const char quit[5] = {0, 0, 0, 1, 'Q'};
	char	buf[64];
	ssize_t	n;
	int	rc;

	if (write(fd, quit, sizeof(quit)) != sizeof(quit))
		return errno ? -errno : -EIO;
	for (;;) {
		if ((rc = pool_wait_fd(fd, POLLIN, deadline)) < 0)
			return rc;
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return 0;			/* closed: a worker is free */
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return errno == ECONNRESET ? 0 : -errno;
	}
}

/* pool_handoff_raw - one handoff session, counted; 0 or -errno */
static int
pool_handoff_raw(void)
{
	int64_t	start = pool_now_us(), deadline, took;
	long	max;
	int	fd, rc;

	if (pool_addrlen == 0)
		return -ENOTCONN;
	deadline = start + POOL_HANDOFF_TIMEOUT_MS * 1000LL;
	if ((fd = pool_connect(deadline)) < 0) {
		atomic_fetch_add(&pool_failures, 1);
		return fd;
	}
	rc = pool_quit_session(fd, deadline);
	close(fd);
	if (rc < 0) {
		atomic_fetch_add(&pool_failures, 1);
		return rc;
	}
	atomic_fetch_add(&pool_handoffs, 1);
	took = pool_now_us() - start;
	max = atomic_load(&pool_max_us);
	while (took > max && !atomic_compare_exchange_weak(&pool_max_us, &max, took))
		;
	return 0;
}

/* pool_slot_claim - 1 if the caller is to hand off for SLOT's busy period */
static int
pool_slot_claim(pool_slot_t *slot)
{
	long long start = atomic_load(&slot->start_us);
	long long handed = atomic_load(&slot->handed_us);

	if (start == 0)
		return -1;			/* not inside a callback */
	if (handed == start)
		return 0;			/* done for this busy period */
	return atomic_compare_exchange_strong(&slot->handed_us, &handed, start);
}

/* pool_handoff - make a free libmilter worker take over the ready queue */
int
pool_handoff(void)
{
	if (pool_self != NULL && pool_slot_claim(pool_self) == 0)
		return 0;			/* the watchdog already did */
	return pool_handoff_raw();
}

/* pool_stats_get - copy the counters */
void
pool_stats_get(pool_stats_t *st)
{
	st->handoffs = atomic_load(&pool_handoffs);
	st->failures = atomic_load(&pool_failures);
	st->max_us = atomic_load(&pool_max_us);
}

/* pool_slot_free - unlink and free a thread's slot when the thread exits */
static void
pool_slot_free(void *arg)
{
	pool_slot_t *slot = arg;

	pthread_mutex_lock(&pool_slots_lock);
	if (slot->prev)
		slot->prev->next = slot->next;
	else
		pool_slots = slot->next;
	if (slot->next)
		slot->next->prev = slot->prev;
	pthread_mutex_unlock(&pool_slots_lock);
	free(slot);
}

/* pool_key_init - the key whose destructor frees a thread's slot */
static void
pool_key_init(void)
{
	(void) pthread_key_create(&pool_key, pool_slot_free);
}

/* pool_slot_get - this thread's slot, made and listed on first use */
static pool_slot_t *
pool_slot_get(void)
{
	pool_slot_t *slot;

	if (pool_self != NULL)
		return pool_self;
	(void) pthread_once(&pool_key_once, pool_key_init);
	if ((slot = calloc(1, sizeof(*slot))) == NULL)
		return NULL;
	if (pthread_setspecific(pool_key, slot) != 0) {
		free(slot);
		return NULL;
	}
	pthread_mutex_lock(&pool_slots_lock);
	slot->next = pool_slots;
	if (pool_slots)
		pool_slots->prev = slot;
	pool_slots = slot;
	pthread_mutex_unlock(&pool_slots_lock);
	return pool_self = slot;
}

/* pool_busy_begin - a callback starts on this thread */
void
pool_busy_begin(void)
{
	pool_slot_t *slot = pool_slot_get();
	long long now = pool_now_us();

	if (slot == NULL)
		return;
	if (now == atomic_load(&slot->handed_us))
		now++;				/* a new period, never "already handed" */
	atomic_store(&slot->start_us, now);
}

/* pool_busy_end - the callback on this thread returns */
void
pool_busy_end(void)
{
	if (pool_self != NULL)
		atomic_store(&pool_self->start_us, 0);
}

/* pool_watch_scan - claim every callback busy for too long; how many */
static int
pool_watch_scan(int64_t now)
{
	pool_slot_t *slot;
	long long start;
	int	n = 0;

	pthread_mutex_lock(&pool_slots_lock);
	for (slot = pool_slots; slot != NULL; slot = slot->next) {
		start = atomic_load(&slot->start_us);
		if (start != 0 && now - start >= pool_watch_threshold_us
		    && pool_slot_claim(slot) == 1)
			n++;
	}
	pthread_mutex_unlock(&pool_slots_lock);
	return n;
}

/* pool_watch_main - the watchdog: hand off for callbacks that block */
static void *
pool_watch_main(void *arg)
{
	struct timespec period;
	long	us = pool_watch_threshold_us / 2 > 1000 ? pool_watch_threshold_us / 2 : 1000;
	int	n;

	(void) arg;
	period.tv_sec = us / 1000000;
	period.tv_nsec = (us % 1000000) * 1000;
	while (atomic_load(&pool_watch_run)) {
		clock_nanosleep(CLOCK_MONOTONIC, 0, &period, NULL);
		for (n = pool_watch_scan(pool_now_us()); n > 0; n--)
			(void) pool_handoff_raw();
	}
	return NULL;
}

/* pool_watch_start - start the watchdog thread */
int
pool_watch_start(long threshold_ms)
{
	int	rc;

	if (threshold_ms < 1 || pool_addrlen == 0)
		return pool_addrlen == 0 ? -ENOTCONN : -EINVAL;
	if (atomic_exchange(&pool_watch_run, 1))
		return -EALREADY;
	pool_watch_threshold_us = threshold_ms * 1000;
	if ((rc = pthread_create(&pool_watch_tid, NULL, pool_watch_main, NULL)) != 0) {
		atomic_store(&pool_watch_run, 0);
		return -rc;
	}
	return 0;
}

/* pool_watch_stop - stop the watchdog thread and wait for it */
void
pool_watch_stop(void)
{
	if (atomic_exchange(&pool_watch_run, 0))
		pthread_join(pool_watch_tid, NULL);
}
