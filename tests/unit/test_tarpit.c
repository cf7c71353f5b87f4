/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_tarpit - tarpit_wait() against real loopback TCP connections
 * DESCRIPTION
 *	Each case opens a connection on loopback; the accepted socket plays
 *	smtpd's socket. What the "client" does during the wait it does from
 *	inside the first progress callback, with the poll and progress
 *	intervals equal: the next probe and the second progress call then
 *	fall due at the same moment, and probes are handled first. So
 *	"detected within one poll interval" shows as exactly one progress
 *	call, whatever the load of the machine - no timing asserts.
 *	A wait that must run to its deadline is checked to last at least
 *	the delay (a deadline cannot end early).
 */
#include "autoconfig.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "loopconn.h"
#include "tarpit.h"

enum { DO_NONE, DO_FIN, DO_RST, DO_WRITE, DO_WRITE_FIN, DO_FAIL };	/* client actions */
enum { T_REAL, T_NULL, T_NOTFOUND, T_LISTENER };		/* tuple given */

typedef struct {
	const char *name;
	int	before;		/* client action before the wait */
	int	during;		/* client action at the first progress call */
	int	tuple;
	int	stop_on_pipelining;
	long	delay_ms, poll_ms, progress_ms;
	tarpit_outcome_t outcome;	/* want */
	int	progress_calls;	/* want, -1: any */
	int	probe_error;	/* want */
	int	pipelined;	/* want */
	int	last_state;	/* want, -1: any */
	long	grace_ms;	/* tarpit_pipelining_grace (0 if not given) */
} wait_case_t;

static const wait_case_t wait_cases[] = {
	{"patient client", DO_NONE, DO_NONE, T_REAL, 1, 300, 50, 1000,
	 TARPIT_PASSED, 0, 0, 0, SOCKDIAG_ESTABLISHED},
	{"client FIN", DO_NONE, DO_FIN, T_REAL, 1, 5000, 100, 100,
	 TARPIT_DISCONNECTED, 1, 0, 0, SOCKDIAG_CLOSE_WAIT},
	{"client RST", DO_NONE, DO_RST, T_REAL, 1, 5000, 100, 100,
	 TARPIT_DISCONNECTED, 1, 0, 0, SOCKDIAG_LISTEN},
	{"client pipelines, fail", DO_NONE, DO_WRITE, T_REAL, 1, 5000, 100, 100,
	 TARPIT_PIPELINING, 1, 0, 1, SOCKDIAG_ESTABLISHED},
	{"client pipelines, ignore", DO_NONE, DO_WRITE, T_REAL, 0, 400, 100, 100,
	 TARPIT_PASSED, -1, 0, 1, SOCKDIAG_ESTABLISHED},
	{"client half-closed before (Exim, BDAT)", DO_FIN, DO_NONE, T_REAL, 1, 300, 50, 1000,
	 TARPIT_HALF_CLOSED, 0, 0, 0, SOCKDIAG_CLOSE_WAIT},
	{"half-closed, then reset", DO_FIN, DO_RST, T_REAL, 1, 5000, 100, 100,
	 TARPIT_DISCONNECTED, 1, 0, 0, SOCKDIAG_LISTEN},
	{"batch tail within the grace", DO_NONE, DO_WRITE, T_REAL, 1, 400, 100, 100,
	 TARPIT_PASSED, -1, 0, 0, SOCKDIAG_ESTABLISHED, 1000},
	{"write after the grace", DO_NONE, DO_WRITE, T_REAL, 1, 5000, 100, 100,
	 TARPIT_PIPELINING, 1, 0, 1, SOCKDIAG_ESTABLISHED, 50},
	{"batch tail and FIN within the grace", DO_NONE, DO_WRITE_FIN, T_REAL, 1, 400, 100, 100,
	 TARPIT_HALF_CLOSED, -1, 0, 0, SOCKDIAG_CLOSE_WAIT, 1000},
	{"FIN alone within the grace", DO_NONE, DO_FIN, T_REAL, 1, 5000, 100, 100,
	 TARPIT_DISCONNECTED, 1, 0, 0, SOCKDIAG_CLOSE_WAIT, 1000},
	{"no tuple", DO_NONE, DO_NONE, T_NULL, 1, 200, 50, 1000,
	 TARPIT_NO_PROBE, 0, -EINVAL, 0, 0},
	{"socket not found", DO_NONE, DO_NONE, T_NOTFOUND, 1, 200, 50, 1000,
	 TARPIT_NO_PROBE, 0, -ENOENT, 0, 0},
	{"only a listener matches", DO_NONE, DO_NONE, T_LISTENER, 1, 200, 50, 1000,
	 TARPIT_NO_PROBE, 0, -EADDRNOTAVAIL, 0, SOCKDIAG_LISTEN},
	{"progress count", DO_NONE, DO_NONE, T_REAL, 1, 1000, 50, 400,
	 TARPIT_PASSED, 2, 0, 0, SOCKDIAG_ESTABLISHED},
	{"progress fails", DO_NONE, DO_FAIL, T_REAL, 1, 5000, 100, 100,
	 TARPIT_ABORTED, 1, 0, 0, SOCKDIAG_ESTABLISHED},
};

typedef struct {
	loopconn_t *lc;
	int	action;
	int	calls;
} client_t;

/* client_act - what the client does */
static int
client_act(loopconn_t *lc, int action)
{
	switch (action) {
	case DO_FIN:
		return shutdown(lc->client, SHUT_WR);
	case DO_RST:
		loopconn_reset(lc);
		return 0;
	case DO_WRITE:
		return write(lc->client, "DATA\r\n", 6) == 6 ? 0 : -1;
	case DO_WRITE_FIN:
		if (write(lc->client, "QUIT\r\n", 6) != 6)
			return -1;
		usleep(20000);		/* the tail is seen before the FIN */
		return shutdown(lc->client, SHUT_WR);
	case DO_FAIL:
		return -1;
	}
	return 0;
}

/* on_progress - the progress callback: the client acts at the first call */
static int
on_progress(void *arg)
{
	client_t *c = arg;

	if (++c->calls == 1)
		return client_act(c->lc, c->action);
	return 0;
}

/* unused_port - a port nothing listens on (bound and closed again) */
static unsigned
unused_port(void)
{
	loopconn_t lc;
	unsigned port;

	assert_int_equal(loopconn_open(&lc, AF_INET), 0);
	port = lc.tuple.local_port;
	loopconn_close(&lc);
	return port;
}

/* full_wait - outcomes that come only at the deadline */
static int
full_wait(tarpit_outcome_t o)
{
	return o == TARPIT_PASSED || o == TARPIT_NO_PROBE || o == TARPIT_HALF_CLOSED;
}

/* check_case - compare a result with the case */
static void
check_case(const wait_case_t *c, const tarpit_result_t *r)
{
	if (r->outcome != c->outcome)
		fail_msg("%s: outcome: got %s, want %s", c->name,
			 tarpit_outcome_name(r->outcome), tarpit_outcome_name(c->outcome));
	if (c->progress_calls >= 0 && r->progress_calls != c->progress_calls)
		fail_msg("%s: progress calls: got %d, want %d", c->name,
			 r->progress_calls, c->progress_calls);
	if (r->probe_error != c->probe_error)
		fail_msg("%s: probe error: got %d, want %d", c->name,
			 r->probe_error, c->probe_error);
	if (r->pipelined != c->pipelined)
		fail_msg("%s: pipelined: got %d, want %d", c->name,
			 r->pipelined, c->pipelined);
	if (c->last_state >= 0 && r->last_state != c->last_state)
		fail_msg("%s: last state: got %s, want %s", c->name,
			 sockdiag_state_name(r->last_state),
			 sockdiag_state_name(c->last_state));
	if (c->grace_ms > 0 && c->outcome != TARPIT_PIPELINING
	    && c->during != DO_FIN && r->grace_bytes == 0)
		fail_msg("%s: grace bytes: got 0, want the tail's", c->name);
	if (full_wait(c->outcome) && r->elapsed_ms < c->delay_ms)
		fail_msg("%s: elapsed: got %ld ms, want at least %ld", c->name,
			 r->elapsed_ms, c->delay_ms);
	if (!full_wait(c->outcome) && r->elapsed_ms >= c->delay_ms)
		fail_msg("%s: elapsed: got %ld ms, want less than %ld", c->name,
			 r->elapsed_ms, c->delay_ms);
}

/* test_wait_cases - every case of the table */
static void
test_wait_cases(void **state)
{
	size_t	i;

	(void) state;
	for (i = 0; i < sizeof(wait_cases) / sizeof(wait_cases[0]); i++) {
		const wait_case_t *c = wait_cases + i;
		sockdiag_tuple_t tuple;
		tarpit_result_t r;
		loopconn_t lc;
		client_t cl;
		tarpit_req_t req = {c->delay_ms, c->poll_ms, c->progress_ms,
			c->stop_on_pipelining, &tuple, on_progress, &cl, c->grace_ms};

		assert_int_equal(loopconn_open(&lc, AF_INET), 0);
		cl.lc = &lc;
		cl.action = c->during;
		cl.calls = 0;
		tuple = lc.tuple;
		if (c->tuple == T_NULL)
			req.tuple = NULL;
		else if (c->tuple == T_NOTFOUND)
			tuple.local_port = unused_port();
		else if (c->tuple == T_LISTENER)
			tuple.remote_port = unused_port();
		assert_int_equal(client_act(&lc, c->before), 0);
		if (c->before == DO_FIN)
			usleep(20000);		/* let the FIN arrive */
		assert_int_equal(tarpit_wait(&req, &r), 0);
		check_case(c, &r);
		loopconn_close(&lc);
	}
}

/* test_bad_args - refused requests */
static void
test_bad_args(void **state)
{
	tarpit_req_t req = {100, 50, 1000, 1, NULL, NULL, NULL, 0};
	tarpit_result_t r;

	(void) state;
	assert_int_equal(tarpit_wait(NULL, &r), -EINVAL);
	assert_int_equal(tarpit_wait(&req, NULL), -EINVAL);
	req.poll_ms = 0;
	assert_int_equal(tarpit_wait(&req, &r), -EINVAL);
	req.poll_ms = 50;
	req.delay_ms = -1;
	assert_int_equal(tarpit_wait(&req, &r), -EINVAL);
}

/* test_enter_leave - the session bound, single thread */
static void
test_enter_leave(void **state)
{
	(void) state;
	assert_int_equal(tarpit_try_enter(0), 0);
	assert_int_equal(tarpit_try_enter(2), 1);
	assert_int_equal(tarpit_try_enter(2), 1);
	assert_int_equal(tarpit_try_enter(2), 0);
	assert_int_equal(tarpit_active(), 2);
	tarpit_leave();
	assert_int_equal(tarpit_try_enter(2), 1);
	tarpit_leave();
	tarpit_leave();
	assert_int_equal(tarpit_active(), 0);
}

#define THREADS		8
#define ROUNDS		20000
#define MAX_TARPITS	3

static atomic_int inside, most_inside;

/* enter_many - enter and leave many times, tracking how many are inside */
static void *
enter_many(void *arg)
{
	intptr_t entered = 0;
	int	i, n, m;

	(void) arg;
	for (i = 0; i < ROUNDS; i++) {
		if (!tarpit_try_enter(MAX_TARPITS))
			continue;
		entered++;
		n = atomic_fetch_add(&inside, 1) + 1;
		m = atomic_load(&most_inside);
		while (n > m && !atomic_compare_exchange_weak(&most_inside, &m, n))
			;
		atomic_fetch_sub(&inside, 1);
		tarpit_leave();
	}
	return (void *) entered;
}

/* test_enter_threads - never more than the bound inside at once */
static void
test_enter_threads(void **state)
{
	pthread_t tid[THREADS];
	void   *entered;
	long	total = 0;
	int	i;

	(void) state;
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(tid + i, NULL, enter_many, NULL), 0);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(tid[i], &entered), 0);
		total += (long) (intptr_t) entered;
	}
	if (atomic_load(&most_inside) > MAX_TARPITS || atomic_load(&most_inside) < 1)
		fail_msg("most tarpits at once: got %d, want 1..%d",
			 atomic_load(&most_inside), MAX_TARPITS);
	if (tarpit_active() != 0)
		fail_msg("tarpits left: got %ld, want 0", tarpit_active());
	if (total < 1)
		fail_msg("entered: got %ld, want at least 1", total);
}

/* cancel_at_first - progress callback that cancels every tarpit */
static int
cancel_at_first(void *arg)
{
	(*(int *) arg)++;
	tarpit_cancel_all();
	return 0;
}

/* wait_long - a 10 s tarpit without progress calls, in another thread */
static void *
wait_long(void *arg)
{
	tarpit_req_t req = {10000, 50, 1000, 1, arg, NULL, NULL, 0};
	static tarpit_result_t r;

	r.outcome = TARPIT_PASSED;
	if (tarpit_wait(&req, &r) < 0)
		return NULL;
	return &r;
}

/* test_cancel_all - last: cancelling ends running and later waits */
static void
test_cancel_all(void **state)
{
	tarpit_req_t req = {10000, 50, 100, 1, NULL, cancel_at_first, NULL, 0};
	tarpit_result_t r, *other;
	loopconn_t lc;
	pthread_t tid;
	int	calls = 0;

	(void) state;
	assert_int_equal(loopconn_open(&lc, AF_INET), 0);
	req.tuple = &lc.tuple;
	req.progress_arg = &calls;
	assert_int_equal(pthread_create(&tid, NULL, wait_long, &lc.tuple), 0);
	assert_int_equal(tarpit_wait(&req, &r), 0);
	assert_int_equal(pthread_join(tid, (void **) &other), 0);
	if (r.outcome != TARPIT_ABORTED || calls != 1)
		fail_msg("cancelling tarpit: got %s after %d calls, want aborted after 1",
			 tarpit_outcome_name(r.outcome), calls);
	if (other == NULL || other->outcome != TARPIT_ABORTED)
		fail_msg("other tarpit: got %s, want aborted",
			 other ? tarpit_outcome_name(other->outcome) : "error");
	assert_int_equal(tarpit_wait(&req, &r), 0);
	if (r.outcome != TARPIT_ABORTED)
		fail_msg("tarpit after cancel: got %s, want aborted",
			 tarpit_outcome_name(r.outcome));
	loopconn_close(&lc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_cases),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_enter_leave),
		cmocka_unit_test(test_enter_threads),
		cmocka_unit_test(test_cancel_all),	/* last: cannot be undone */
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
