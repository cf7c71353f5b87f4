/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_sockdiag - sockdiag_probe() against real loopback TCP sockets
 * DESCRIPTION
 *	Each case opens a fresh connection on 127.0.0.1 or ::1, does one
 *	thing to the client end (nothing, write, FIN, RST, RST after the
 *	listener is gone) and checks what the kernel reports about the
 *	accepted ("smtpd") socket. The kernel may apply a change a moment
 *	after the system call returns, so each case probes until the wanted
 *	answer appears or one second has passed, then compares.
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "loopconn.h"
#include "sockdiag.h"

enum { ACT_NONE, ACT_WRITE, ACT_FIN, ACT_RST, ACT_RST_NOLISTEN };

typedef struct {
	const char *name;
	int	family;
	int	action;
	int	rc;		/* want: probe return */
	int	state;		/* want: TCP state (when rc == 0) */
	int	same_inode;	/* want: inode of the first probe */
	unsigned rqueue;	/* want: unread bytes (ESTABLISHED only) */
} probe_case_t;

static const probe_case_t probe_cases[] = {
	{"v4 idle", AF_INET, ACT_NONE, 0, SOCKDIAG_ESTABLISHED, 1, 0},
	{"v4 client writes", AF_INET, ACT_WRITE, 0, SOCKDIAG_ESTABLISHED, 1, 10},
	{"v4 client FIN", AF_INET, ACT_FIN, 0, SOCKDIAG_CLOSE_WAIT, 1, 0},
	{"v4 client RST", AF_INET, ACT_RST, 0, SOCKDIAG_LISTEN, 0, 0},
	{"v4 RST, no listener", AF_INET, ACT_RST_NOLISTEN, -ENOENT, 0, 0, 0},
	{"v6 idle", AF_INET6, ACT_NONE, 0, SOCKDIAG_ESTABLISHED, 1, 0},
	{"v6 client writes", AF_INET6, ACT_WRITE, 0, SOCKDIAG_ESTABLISHED, 1, 10},
	{"v6 client FIN", AF_INET6, ACT_FIN, 0, SOCKDIAG_CLOSE_WAIT, 1, 0},
	{"v6 client RST", AF_INET6, ACT_RST, 0, SOCKDIAG_LISTEN, 0, 0},
	{"v6 RST, no listener", AF_INET6, ACT_RST_NOLISTEN, -ENOENT, 0, 0, 0},
};

/* act - do the case's thing to the client end */
static void
act(loopconn_t *lc, int action)
{
	switch (action) {
	case ACT_WRITE:
		assert_int_equal(write(lc->client, "0123456789", 10), 10);
		break;
	case ACT_FIN:
		assert_int_equal(shutdown(lc->client, SHUT_WR), 0);
		break;
	case ACT_RST_NOLISTEN:
		close(lc->listener);
		lc->listener = -1;
		/* FALLTHROUGH */
	case ACT_RST:
		loopconn_reset(lc);
		break;
	}
}

/* matches - the probe answer is the one the case wants */
static int
matches(const probe_case_t *c, int rc, const sockdiag_info_t *info,
	unsigned long inode)
{
	if (rc != c->rc)
		return 0;
	if (rc < 0)
		return 1;
	return info->state == c->state && (info->inode == inode) == c->same_inode
	    && (c->state != SOCKDIAG_ESTABLISHED || info->rqueue == c->rqueue);
}

/* test_probe_cases - every case of the table */
static void
test_probe_cases(void **state)
{
	const struct timespec pause = {0, 1000000};
	sockdiag_info_t info;
	size_t	i;
	int	rc, tries;

	(void) state;
	for (i = 0; i < sizeof(probe_cases) / sizeof(probe_cases[0]); i++) {
		const probe_case_t *c = probe_cases + i;
		loopconn_t lc;
		unsigned long inode;

		assert_int_equal(loopconn_open(&lc, c->family), 0);
		rc = sockdiag_probe(&lc.tuple, &info);
		if (rc != 0 || info.state != SOCKDIAG_ESTABLISHED || info.inode == 0)
			fail_msg("%s: first probe: got rc %d state %s, want 0 ESTABLISHED",
				 c->name, rc, sockdiag_state_name(info.state));
		inode = info.inode;
		act(&lc, c->action);
		for (tries = 0; tries < 1000; tries++) {
			memset(&info, 0, sizeof(info));
			rc = sockdiag_probe(&lc.tuple, &info);
			if (matches(c, rc, &info, inode))
				break;
			nanosleep(&pause, NULL);
		}
		if (!matches(c, rc, &info, inode))
			fail_msg("%s: got rc %d state %s same inode %d rqueue %u, "
				 "want rc %d state %s same inode %d rqueue %u",
				 c->name, rc, sockdiag_state_name(info.state),
				 info.inode == inode, info.rqueue, c->rc,
				 sockdiag_state_name(c->state), c->same_inode, c->rqueue);
		if (rc == 0 && sockdiag_alive(&info, inode) != (c->action <= ACT_WRITE))
			fail_msg("%s: alive: got %d, want %d", c->name,
				 sockdiag_alive(&info, inode), c->action <= ACT_WRITE);
		loopconn_close(&lc);
	}
}

/* test_families - mixed families refused, IPv4-mapped taken as IPv4 */
static void
test_families(void **state)
{
	static const unsigned char mapped[12] =
	    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	sockdiag_tuple_t t;
	sockdiag_info_t info;
	loopconn_t lc;
	int	rc;

	(void) state;
	assert_int_equal(loopconn_open(&lc, AF_INET), 0);
	t = lc.tuple;
	memcpy(t.remote.bytes + 12, t.remote.bytes, 4);
	memcpy(t.remote.bytes, mapped, 12);
	t.remote.family = AF_INET6;
	if ((rc = sockdiag_probe(&t, &info)) != 0 || info.state != SOCKDIAG_ESTABLISHED)
		fail_msg("mapped remote: got rc %d state %s, want 0 ESTABLISHED",
			 rc, sockdiag_state_name(info.state));
	t.remote.family = AF_INET6;
	memset(t.remote.bytes, 0, 16);
	t.remote.bytes[15] = 1;		/* ::1 against a 127.0.0.1 local end */
	if ((rc = sockdiag_probe(&t, &info)) != -EAFNOSUPPORT)
		fail_msg("mixed families: got %d, want %d", rc, -EAFNOSUPPORT);
	t = lc.tuple;
	t.local_port = 70000;
	if ((rc = sockdiag_probe(&t, &info)) != -EINVAL)
		fail_msg("port 70000: got %d, want %d", rc, -EINVAL);
	if ((rc = sockdiag_probe(NULL, &info)) != -EINVAL)
		fail_msg("null tuple: got %d, want %d", rc, -EINVAL);
	loopconn_close(&lc);
}

#define THREADS	8
#define PROBES	500

/* probe_many - a thread that probes one socket PROBES times */
static void *
probe_many(void *arg)
{
	const sockdiag_tuple_t *t = arg;
	sockdiag_info_t info;
	intptr_t good = 0;
	int	i;

	for (i = 0; i < PROBES; i++)
		if (sockdiag_probe(t, &info) == 0 && info.state == SOCKDIAG_ESTABLISHED)
			good++;
	return (void *) good;
}

/* count_fds - open descriptors of this process */
static int
count_fds(void)
{
	DIR    *d = opendir("/proc/self/fd");
	int	n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* test_threads - parallel probes all succeed; thread exit closes sockets */
static void
test_threads(void **state)
{
	pthread_t tid[THREADS];
	loopconn_t lc;
	void   *good;
	int	i, before, after;

	(void) state;
	assert_int_equal(loopconn_open(&lc, AF_INET), 0);
	before = count_fds();
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(tid + i, NULL, probe_many, &lc.tuple), 0);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(tid[i], &good), 0);
		if ((intptr_t) good != PROBES)
			fail_msg("thread %d: got %ld good probes, want %d", i,
				 (long) (intptr_t) good, PROBES);
	}
	after = count_fds();
	if (after != before)
		fail_msg("open descriptors after the threads ended: got %d, want %d",
			 after, before);
	loopconn_close(&lc);
}

typedef struct {
	const char *name;
	int	family;		/* of the client sockaddr */
	const char *client;	/* its address */
	unsigned client_port;
	const char *daemon_addr, *daemon_port;
	int	rc;		/* want */
	const char *local;	/* want, formatted */
	const char *remote;	/* want, formatted */
} tuple_case_t;

static const tuple_case_t tuple_cases[] = {
	{"ipv4", AF_INET, "192.0.2.1", 40000, "198.51.100.25", "25", 0,
	 "198.51.100.25", "192.0.2.1"},
	{"ipv6", AF_INET6, "2001:db8::1", 40001, "::1", "25", 0, "::1", "2001:db8::1"},
	{"ipv4-mapped client", AF_INET6, "::ffff:192.0.2.7", 40002, "127.0.0.1", "587",
	 0, "127.0.0.1", "192.0.2.7"},
	{"no daemon_port", AF_INET, "192.0.2.1", 40000, "127.0.0.1", "", -EINVAL, NULL, NULL},
	{"bad daemon_port", AF_INET, "192.0.2.1", 40000, "127.0.0.1", "25x", -EINVAL, NULL, NULL},
	{"port 0", AF_INET, "192.0.2.1", 40000, "127.0.0.1", "0", -EINVAL, NULL, NULL},
	{"bad daemon_addr", AF_INET, "192.0.2.1", 40000, "localhost", "25", -EINVAL, NULL, NULL},
	{"unix client", AF_UNIX, NULL, 0, "127.0.0.1", "25", -EINVAL, NULL, NULL},
};

/* test_tuple_set - the 4-tuple from hostaddr and the daemon macros */
static void
test_tuple_set(void **state)
{
	char	local[ADDR_TEXT_MAX], remote[ADDR_TEXT_MAX];
	size_t	i;

	(void) state;
	for (i = 0; i < sizeof(tuple_cases) / sizeof(tuple_cases[0]); i++) {
		const tuple_case_t *c = tuple_cases + i;
		struct sockaddr_storage ss;
		sockdiag_tuple_t t;
		int	rc;

		memset(&ss, 0, sizeof(ss));
		ss.ss_family = c->family;
		if (c->family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

			inet_pton(AF_INET, c->client, &sin->sin_addr);
			sin->sin_port = htons(c->client_port);
		} else if (c->family == AF_INET6) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

			inet_pton(AF_INET6, c->client, &sin6->sin6_addr);
			sin6->sin6_port = htons(c->client_port);
		}
		rc = sockdiag_tuple_set(&t, (struct sockaddr *) &ss, c->daemon_addr,
					c->daemon_port);
		if (rc != c->rc)
			fail_msg("%s: got %d, want %d", c->name, rc, c->rc);
		if (rc < 0)
			continue;
		addr_format(&t.local, local, sizeof(local));
		addr_format(&t.remote, remote, sizeof(remote));
		if (strcmp(local, c->local) != 0 || strcmp(remote, c->remote) != 0
		    || t.remote_port != c->client_port
		    || t.local_port != (unsigned) atoi(c->daemon_port))
			fail_msg("%s: got %s:%u <- %s:%u, want %s:%s <- %s:%u", c->name,
				 local, t.local_port, remote, t.remote_port, c->local,
				 c->daemon_port, c->remote, c->client_port);
	}
	assert_int_equal(sockdiag_tuple_set(NULL, NULL, NULL, NULL), -EINVAL);
}

/* test_state_names - names for known states, UNKNOWN otherwise */
static void
test_state_names(void **state)
{
	(void) state;
	assert_string_equal(sockdiag_state_name(SOCKDIAG_CLOSE_WAIT), "CLOSE_WAIT");
	assert_string_equal(sockdiag_state_name(SOCKDIAG_LISTEN), "LISTEN");
	assert_string_equal(sockdiag_state_name(99), "UNKNOWN");
	assert_string_equal(sockdiag_state_name(-1), "UNKNOWN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_cases),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_tuple_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
