/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_lib - below the SPF files: libspf2's handlers, result names
 * DESCRIPTION
 *	See spf_int.h and spf.h. libspf2's SPF_error() handler ends in
 *	abort(); ours jumps back through spf_jump to spf_guarded(), the one
 *	place that arms it around libspf2 calls (spf.c, spf_check.c); the
 *	caller turns that into a failed start or a temperror.
 *	spf_lib_handlers() installs the handlers once, before the first
 *	server is made.
 * DIAGNOSTICS
 *	libspf2 errors and warnings are logged with the prefix "libspf2:".
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdio.h>
#include <unistd.h>
#include <spf2/spf.h>
#include "log.h"
#include "spf.h"
#include "spf_int.h"
#include "words.h"

__thread sigjmp_buf *spf_jump;	/* armed by spf_guarded() */

/* libspf2 error handler: never returns into libspf2, never aborts. */
__attribute__((noreturn)) static void
spf_lib_error(const char *file, int line, const char *msg)
{
	log_error("libspf2: error at %s:%d: %s", file ? file : "?", line,
	    msg ? msg : "?");
	if (spf_jump)
		siglongjmp(*spf_jump, 1);
	/* Only reachable from a libspf2 call outside spf_guarded(). */
	log_error("libspf2: fatal error outside a check");
	_exit(70);
}

static void
spf_lib_warning(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	log_debug(1, "libspf2: %s", msg ? msg : "?");
}

static void
spf_lib_quiet(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	log_debug(3, "libspf2: %s", msg ? msg : "?");
}

/*
 * Run FN(ARG) with libspf2's error handler armed to come back here.
 * sigsetjmp() is called in this function's own frame, and that frame
 * stays alive for as long as FN runs (FN is called from it), so the
 * handler's siglongjmp() always lands in a live frame. (A helper that
 * called sigsetjmp() and returned before the libspf2 call would leave a
 * dead frame behind: that is why the calls are passed in as FN.) Only
 * PREV, set before sigsetjmp() and never changed after it, is read on
 * the way back; whatever FN wrote through ARG is in memory, not in this
 * frame's registers, so the caller sees it. The previous spf_jump is
 * restored either way, so guards may nest.
 */
int
spf_guarded(int (*fn)(void *), void *arg)
{
	sigjmp_buf *const prev = spf_jump;
	sigjmp_buf jb;
	int	rc;

	if (sigsetjmp(jb, 0)) {
		spf_jump = prev;
		return SPF_GUARD_CAUGHT;
	}
	spf_jump = &jb;
	rc = fn(arg);
	spf_jump = prev;
	return rc;
}

const char *
spf_result_name(spf_res_t r)
{
	static const char *const names[] = {W_NONE, W_NEUTRAL, W_PASS, W_FAIL,
	    W_SOFTFAIL, W_TEMPERROR, W_PERMERROR};

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : W_PERMERROR;
}

/* Route libspf2's error, warning, info and debug output to ours. */
void
spf_lib_handlers(void)
{
	SPF_error_handler = spf_lib_error;
	SPF_warning_handler = spf_lib_warning;
	SPF_info_handler = spf_lib_quiet;
	SPF_debug_handler = spf_lib_quiet;
}
