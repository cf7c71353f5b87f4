/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_pool - pool_init() parsing and pool_handoff() on the wire
 * DESCRIPTION
 *	A fake milter listener (one thread, one connection) does what
 *	libmilter does with a handoff session: accept, read the command,
 *	close. Each case checks that pool_init() understood the socket
 *	spec (the handoff reaches the listener at the expected address) and
 *	that exactly one QUIT packet was sent. A listener that never closes
 *	gives -ETIMEDOUT; nothing listening gives -ECONNREFUSED. The
 *	watchdog cases count handoff sessions at a fake listener that serves
 *	any number of them: one per busy period that lasts past the
 *	threshold, none without a busy period. An idle watchdog sleeps: the
 *	other threads of the test switch context at most a few times in
 *	half a second (it used to wake every THRESHOLD / 2), and a callback
 *	that blocks afterwards still gets its handoff. While the watchdog
 *	runs, pool_handoff() returns at once and a failure of the session
 *	the watchdog ran for it is told to the next caller. The proof
 *	against the real libmilter is tests/bench/pool_burst (run by
 *	t_pool_burst.sh).
 */
#include "autoconfig.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <dirent.h>
#include <stdatomic.h>
#include <cmocka.h>
#include "pool.h"
#include "pool_int.h"

typedef struct {
	int	fd;		/* listening socket */
	int	hold;		/* keep the connection open (never answer) */
	unsigned char got[16];
	ssize_t	len;		/* bytes received before EOF */
	int	accepted;
} fake_t;

/* fake_listen - listen on FAMILY's loopback (port 0) or on PATH */
static int
fake_listen(fake_t *f, int family, const char *path, unsigned *port)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(f, 0, sizeof(*f));
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = family;
	if (family == AF_UNIX) {
		strcpy(((struct sockaddr_un *) &ss)->sun_path, path);
		unlink(path);
		len = sizeof(struct sockaddr_un);
	} else if (family == AF_INET) {
		((struct sockaddr_in *) &ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *) &ss)->sin6_addr = in6addr_loopback;
		len = sizeof(struct sockaddr_in6);
	}
	if ((f->fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	    || bind(f->fd, (struct sockaddr *) &ss, len) < 0
	    || listen(f->fd, 4) < 0 || getsockname(f->fd, (struct sockaddr *) &ss, &len) < 0)
		return -1;
	if (family == AF_INET)
		*port = ntohs(((struct sockaddr_in *) &ss)->sin_port);
	else if (family == AF_INET6)
		*port = ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);
	return 0;
}

/* fake_serve - accept one connection, read until EOF or 5 bytes, close */
static void *
fake_serve(void *arg)
{
	fake_t *f = arg;
	struct pollfd pfd = {.fd = f->fd, .events = POLLIN};
	ssize_t	n;
	int	c;

	if (poll(&pfd, 1, 3000) != 1 || (c = accept(f->fd, NULL, NULL)) < 0)
		return NULL;
	f->accepted = 1;
	while (f->len < 5 && (n = read(c, f->got + f->len, sizeof(f->got) - f->len)) > 0)
		f->len += n;
	if (f->hold)
		usleep((POOL_HANDOFF_TIMEOUT_MS + 500) * 1000);
	close(c);
	return NULL;
}

typedef struct {
	const char *prefix;	/* spec: PREFIX, then the port or path, then SUFFIX */
	const char *suffix;
	int	family;		/* where the fake listens */
} init_case_t;

static const init_case_t good_cases[] = {
	{"inet:", "@127.0.0.1", AF_INET},
	{"inet:", "@localhost", AF_INET},
	{"inet:", "", AF_INET},			/* wildcard: loopback */
	{"inet:", "@0.0.0.0", AF_INET},
	{"inet:127.0.0.1:", "", AF_INET},	/* Postfix's form */
	{"inet6:", "@[::1]", AF_INET6},
	{"inet6:", "@::1", AF_INET6},
	{"inet6:", "", AF_INET6},
	{"unix:", "", AF_UNIX},
	{"local:", "", AF_UNIX},
	{"", "", AF_UNIX},
};

/* test_handoff_cases - every spec reaches the listener; one QUIT sent */
static void
test_handoff_cases(void **state)
{
	static const unsigned char quit[5] = {0, 0, 0, 1, 'Q'};
	char	path[64], spec[128];
	size_t	i;

	(void) state;
	snprintf(path, sizeof(path), "/tmp/test_pool.%ld.sock", (long) getpid());
	for (i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		const init_case_t *c = good_cases + i;
		pthread_t tid;
		fake_t	f;
		unsigned port = 0;
		int	rc;

		assert_int_equal(fake_listen(&f, c->family, path, &port), 0);
		if (c->family == AF_UNIX)
			snprintf(spec, sizeof(spec), "%s%s%s", c->prefix, path, c->suffix);
		else
			snprintf(spec, sizeof(spec), "%s%u%s", c->prefix, port, c->suffix);
		if ((rc = pool_init(spec)) != 0)
			fail_msg("pool_init(\"%s\"): got %d, want 0", spec, rc);
		assert_int_equal(pthread_create(&tid, NULL, fake_serve, &f), 0);
		rc = pool_handoff();
		assert_int_equal(pthread_join(tid, NULL), 0);
		if (rc != 0 || !f.accepted)
			fail_msg("%s: handoff: got %d accepted %d, want 0 accepted 1",
				 spec, rc, f.accepted);
		if (f.len != 5 || memcmp(f.got, quit, 5) != 0)
			fail_msg("%s: got %zd bytes, want the 5-byte QUIT packet", spec, f.len);
		close(f.fd);
	}
	unlink(path);
}

/* test_bad_specs - specs that pool_init() refuses */
static void
test_bad_specs(void **state)
{
	static const char *const bad[] = {
		"", "inet:", "inet:0", "inet:99999", "inet:25x@localhost",
		"tcp:25@localhost", "unix:", "inet6:@[::1]", "inet::",
	};
	size_t	i;
	int	rc;

	(void) state;
	assert_int_equal(pool_init(NULL), -EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if ((rc = pool_init(bad[i])) != -EINVAL)
			fail_msg("pool_init(\"%s\"): got %d, want %d", bad[i], rc, -EINVAL);
}

/* test_handoff_failures - refused, and a milter that never answers */
static void
test_handoff_failures(void **state)
{
	pool_stats_t before, after;
	pthread_t tid;
	char	spec[64];
	unsigned port = 0;
	fake_t	f;
	int	rc;

	(void) state;
	pool_stats_get(&before);
	assert_int_equal(fake_listen(&f, AF_INET, NULL, &port), 0);
	close(f.fd);				/* nothing listens there now */
	snprintf(spec, sizeof(spec), "inet:%u@127.0.0.1", port);
	assert_int_equal(pool_init(spec), 0);
	if ((rc = pool_handoff()) != -ECONNREFUSED)
		fail_msg("nothing listening: got %d, want %d", rc, -ECONNREFUSED);
	assert_int_equal(fake_listen(&f, AF_INET, NULL, &port), 0);
	f.hold = 1;
	snprintf(spec, sizeof(spec), "inet:%u@127.0.0.1", port);
	assert_int_equal(pool_init(spec), 0);
	assert_int_equal(pthread_create(&tid, NULL, fake_serve, &f), 0);
	rc = pool_handoff();
	assert_int_equal(pthread_join(tid, NULL), 0);
	close(f.fd);
	if (rc != -ETIMEDOUT)
		fail_msg("milter never closes: got %d, want %d", rc, -ETIMEDOUT);
	pool_stats_get(&after);
	if (after.failures != before.failures + 2 || after.handoffs != before.handoffs)
		fail_msg("stats: got %lu failures %lu handoffs, want %lu and %lu",
			 after.failures, after.handoffs, before.failures + 2, before.handoffs);
}

typedef struct {
	int	fd;
	atomic_int stop;
	atomic_int count;	/* handoff sessions served */
} multi_t;

/* multi_serve - serve handoff sessions until told to stop */
static void *
multi_serve(void *arg)
{
	multi_t *m = arg;
	struct pollfd pfd = {.fd = m->fd, .events = POLLIN};
	char	buf[16];
	int	c;

	while (!atomic_load(&m->stop)) {
		if (poll(&pfd, 1, 20) != 1 || (c = accept(m->fd, NULL, NULL)) < 0)
			continue;
		(void) !read(c, buf, sizeof(buf));	/* the QUIT packet */
		close(c);
		atomic_fetch_add(&m->count, 1);
	}
	return NULL;
}

/* multi_setup - a fake listener for any number of sessions; pool_init() */
static void
multi_setup(fake_t *f, multi_t *m)
{
	char	spec[64];
	unsigned port = 0;

	assert_int_equal(fake_listen(f, AF_INET, NULL, &port), 0);
	memset(m, 0, sizeof(*m));
	m->fd = f->fd;
	snprintf(spec, sizeof(spec), "inet:%u@127.0.0.1", port);
	assert_int_equal(pool_init(spec), 0);
}

/* multi_teardown - stop the watchdog, the listener thread SRV, close */
static void
multi_teardown(fake_t *f, multi_t *m, pthread_t srv)
{
	pool_watch_stop();
	atomic_store(&m->stop, 1);
	assert_int_equal(pthread_join(srv, NULL), 0);
	close(f->fd);
}

typedef struct {
	int	explicit_handoff;	/* call pool_handoff() inside */
	int	busy_ms;
} busy_t;

/* busy_thread - one callback that blocks for a while */
static void *
busy_thread(void *arg)
{
	busy_t *b = arg;

	pool_busy_begin();
	if (b->explicit_handoff)
		(void) pool_handoff();
	usleep(b->busy_ms * 1000);
	pool_busy_end();
	return NULL;
}

typedef struct {
	const char *name;
	int	threads;
	int	explicit_handoff;
	int	busy_ms;		/* 0: no busy period at all */
	int	want;			/* handoff sessions */
} watch_case_t;

static const watch_case_t watch_cases[] = {
	{"one callback blocks", 1, 0, 300, 1},
	{"blocks after an explicit handoff", 1, 1, 300, 1},
	{"two callbacks block", 2, 0, 300, 2},
	{"nothing runs", 0, 0, 0, 0},
};

/* test_watchdog - one handoff per blocking callback, whoever makes it */
static void
test_watchdog(void **state)
{
	pthread_t srv, tid[4];
	fake_t	f;
	multi_t	m;
	size_t	i;
	int	t;

	(void) state;
	multi_setup(&f, &m);
	assert_int_equal(pool_watch_start(0), -EINVAL);
	assert_int_equal(pool_watch_start(20), 0);
	assert_int_equal(pool_watch_start(20), -EALREADY);
	assert_int_equal(pthread_create(&srv, NULL, multi_serve, &m), 0);
	for (i = 0; i < sizeof(watch_cases) / sizeof(watch_cases[0]); i++) {
		const watch_case_t *c = watch_cases + i;
		busy_t	b = {c->explicit_handoff, c->busy_ms};

		atomic_store(&m.count, 0);
		for (t = 0; t < c->threads; t++)
			assert_int_equal(pthread_create(tid + t, NULL, busy_thread, &b), 0);
		for (t = 0; t < c->threads; t++)
			assert_int_equal(pthread_join(tid[t], NULL), 0);
		if (c->threads == 0)
			usleep(300000);
		usleep(100000);			/* let a last session be counted */
		if (atomic_load(&m.count) != c->want)
			fail_msg("%s: handoff sessions: got %d, want %d", c->name,
				 atomic_load(&m.count), c->want);
	}
	multi_teardown(&f, &m, srv);
}

/* other_switches - context switches of every thread but the caller */
static long
other_switches(void)
{
	char	path[300], line[256];
	long	self = (long) syscall(SYS_gettid), sum = 0, n;
	struct dirent *d;
	DIR	*dir = opendir("/proc/self/task");
	FILE	*fp;

	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.' || atol(d->d_name) == self)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", d->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;		/* the thread exited */
		while (fgets(line, sizeof(line), fp) != NULL)
			if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1
			    || sscanf(line, "nonvoluntary_ctxt_switches: %ld", &n) == 1)
				sum += n;
		fclose(fp);
	}
	closedir(dir);
	return sum;
}

/* test_watchdog_idle - no wake-ups while nothing runs, then a handoff */
static void
test_watchdog_idle(void **state)
{
	pthread_t srv, tid;
	busy_t	b = {0, 300};
	fake_t	f;
	multi_t	m;
	long	before, woke;

	(void) state;
	multi_setup(&f, &m);
	assert_int_equal(pool_watch_start(20), 0);
	usleep(100000);				/* let it settle */
	before = other_switches();
	usleep(500000);
	woke = other_switches() - before;
	if (woke > 5)
		fail_msg("idle watchdog: context switches in 0.5 s: got %ld, want <= 5", woke);
	assert_int_equal(pthread_create(&srv, NULL, multi_serve, &m), 0);
	assert_int_equal(pthread_create(&tid, NULL, busy_thread, &b), 0);
	assert_int_equal(pthread_join(tid, NULL), 0);
	usleep(100000);
	if (atomic_load(&m.count) != 1)
		fail_msg("after idle: handoff sessions: got %d, want 1", atomic_load(&m.count));
	multi_teardown(&f, &m, srv);
}

/* test_handoff_async - with the watchdog, the caller does not wait */
static void
test_handoff_async(void **state)
{
	pool_stats_t before, after;
	char	spec[64];
	unsigned port = 0;
	fake_t	f;
	int64_t	t0, took;
	int	rc, i;

	(void) state;
	assert_int_equal(fake_listen(&f, AF_INET, NULL, &port), 0);
	close(f.fd);				/* nothing listens there now */
	snprintf(spec, sizeof(spec), "inet:%u@127.0.0.1", port);
	assert_int_equal(pool_init(spec), 0);
	pool_stats_get(&before);
	assert_int_equal(pool_watch_start(20), 0);
	t0 = pool_now_us();
	rc = pool_handoff();
	took = pool_now_us() - t0;
	if (rc != 0 || took > 100000)
		fail_msg("queued handoff: got %d after %lld us, want 0 at once", rc, (long long) took);
	for (i = 0; i < 100; i++) {		/* the watchdog's try is refused */
		pool_stats_get(&after);
		if (after.failures > before.failures)
			break;
		usleep(10000);
	}
	if (after.failures != before.failures + 1)
		fail_msg("watchdog's session: got %lu failures, want %lu", after.failures,
			 before.failures + 1);
	if ((rc = pool_handoff()) != -ECONNREFUSED)
		fail_msg("next caller: got %d, want %d (the earlier failure)", rc, -ECONNREFUSED);
	pool_watch_stop();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handoff_cases),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_handoff_failures),
		cmocka_unit_test(test_watchdog),
		cmocka_unit_test(test_watchdog_idle),
		cmocka_unit_test(test_handoff_async),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
