/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	spf_lib - below the SPF files: libspf2's handlers, result names,
 *	cleaning text we quote
 * DESCRIPTION
 *	See spf_int.h and spf.h. libspf2's SPF_error() handler ends in
 *	abort(); ours jumps back through spf_jump to the check that called
 *	libspf2 (spf.c, spf_check.c), which makes it a temperror.
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

__thread sigjmp_buf *spf_jump;	/* armed around every libspf2 call */

/* libspf2 error handler: never returns into libspf2, never aborts. */
__attribute__((noreturn)) static void
spf_lib_error(const char *file, int line, const char *msg)
{
	log_error("libspf2: error at %s:%d: %s", file ? file : "?", line,
	    msg ? msg : "?");
	if (spf_jump)
		siglongjmp(*spf_jump, 1);
	/* Only reachable from a libspf2 call outside spf.c: cannot go on. */
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

const char *
spf_result_name(spf_res_t r)
{
	static const char *const names[] = {W_NONE, W_NEUTRAL, W_PASS, W_FAIL,
	    W_SOFTFAIL, W_TEMPERROR, W_PERMERROR};

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : W_PERMERROR;
}

size_t
spf_clean(char *dst, size_t size, const char *src)
{
	size_t	n = 0;
	unsigned char c;

	if (size == 0)
		return 0;
	for (; src && *src && n + 1 < size; src++) {
		c = (unsigned char)*src;
		dst[n++] = (c < ' ' || c > 0x7e || c == '"' || c == '\\'
		    || c == '%' || c == ';' || c == '(' || c == ')') ? '?' : (char)c;
	}
	dst[n] = 0;
	return n;
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
