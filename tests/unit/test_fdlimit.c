/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	test_fdlimit - unit tests for the descriptor limit and the tarpit cap
 * DESCRIPTION
 *	fdlimit_tarpits() over a table of limits; fdlimit_raise() brings a
 *	lowered soft limit back to the hard one; under a 64:64 limit (in a
 *	child process: the hard limit cannot be raised again) setup warns,
 *	8 tarpits enter, the 9th is refused with the log line, one leaving
 *	lets the next in, and a smaller tarpit_max_sessions still rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "fdlimit.h"
#include "log.h"
#include "tarpit.h"

static int warn_fit, warn_full;

static void
sink(int prio, const char *line, void *ctx)
{
	(void)prio;
	(void)ctx;
	warn_fit += strstr(line, "tarpit_max_sessions 500 does not fit the descriptor limit 64") != NULL;
	warn_full += strstr(line, "tarpit: 8 sessions tarpitted fill the descriptor limit 64") != NULL;
}

static void
test_tarpits(void **state)
{
	static const struct {
		long	nofile, want;
	} cases[] = {
		{0, 0}, {48, 0}, {49, 0}, {50, 1}, {64, 8}, {1024, 488},
		{65536, 32744}, {LONG_MAX, LONG_MAX},
	};
	size_t	i;
	long	got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if ((got = fdlimit_tarpits(cases[i].nofile)) != cases[i].want)
			fail_msg("fdlimit_tarpits(%ld): got %ld, want %ld", cases[i].nofile,
			    got, cases[i].want);
}

static void
test_raise(void **state)
{
	struct rlimit saved, rl;
	long	got;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	if (saved.rlim_max == RLIM_INFINITY || saved.rlim_max < 64)
		skip();
	rl = saved;
	rl.rlim_cur = 32;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	got = fdlimit_raise();
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (got != (long)saved.rlim_max || rl.rlim_cur != saved.rlim_max)
		fail_msg("soft limit after fdlimit_raise(): got %ld (returned %ld), want %ld",
		    (long)rl.rlim_cur, got, (long)saved.rlim_max);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
}

/* In a child under 64:64: the exit status is the number of the failed step. */
static int
cap_child(void)
{
	struct rlimit rl = {64, 64};
	int	i;

	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1;
	log_set_sink(sink, NULL);
	fdlimit_setup(500);
	if (warn_fit != 1)
		return 2;
	for (i = 0; i < 8; i++)
		if (!fdlimit_tarpit_enter(500))
			return 3;
	if (fdlimit_tarpit_enter(500) || warn_full != 1)
		return 4;
	tarpit_leave();
	if (!fdlimit_tarpit_enter(500))
		return 5;
	for (i = 0; i < 8; i++)
		tarpit_leave();
	for (i = 0; i < 5; i++)
		if (!fdlimit_tarpit_enter(5))
			return 6;
	if (fdlimit_tarpit_enter(5) || warn_full != 1)	/* the parameter's cap: no line */
		return 7;
	if (fdlimit_check(500) != 1 || fdlimit_check(8) != 0)
		return 8;
	return 0;
}

static void
test_cap(void **state)
{
	int	status;
	pid_t	pid;

	(void)state;
	if ((pid = fork()) == 0)
		_exit(cap_child());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("tarpit cap under 64 descriptors: got failed step %d, want 0",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tarpits),
		cmocka_unit_test(test_raise),
		cmocka_unit_test(test_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
