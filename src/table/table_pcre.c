/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	table_pcre - pcre: tables on PCRE2, JIT-compiled
 * DESCRIPTION
 *	Postfix pcre_table(5): patterns are compiled with PCRE2_CASELESS |
 *	PCRE2_DOTALL; the flags toggle CASELESS (i), MULTILINE (m), DOTALL
 *	(s), EXTENDED (x), ANCHORED (A), DOLLAR_ENDONLY (E) and UNGREEDY
 *	(U); X is obsolete and ignored with a warning. There is no second
 *	pattern. Match data is per thread (table_pcre_match_data()).
 * DIAGNOSTICS
 *	Compile errors name the offset and PCRE2's message.
 */
#include <pthread.h>
#include <stdlib.h>
#include "table_pattern.h"
#include "table_pcre.h"

typedef struct {
	pcre2_match_data *md;
	uint32_t pairs;
} pcre_tls_t;

static pthread_key_t pcre_tls_key;
static pthread_once_t pcre_tls_once = PTHREAD_ONCE_INIT;

/* Thread exit: free its match data. */
static void
pcre_tls_free(void *p)
{
	pcre_tls_t *tls = p;

	pcre2_match_data_free(tls->md);
	free(tls);
}

/* Once: the key of the per-thread match data. */
static void
pcre_tls_init(void)
{
	(void) pthread_key_create(&pcre_tls_key, pcre_tls_free);
}

/* The calling thread's match data, grown to PAIRS when needed. */
pcre2_match_data *
table_pcre_match_data(uint32_t pairs)
{
	pcre_tls_t *tls;

	pthread_once(&pcre_tls_once, pcre_tls_init);
	if ((tls = pthread_getspecific(pcre_tls_key)) == NULL) {
		if ((tls = calloc(1, sizeof(*tls))) == NULL)
			return NULL;
		if (pthread_setspecific(pcre_tls_key, tls) != 0) {
			free(tls);
			return NULL;
		}
	}
	if (tls->md == NULL || tls->pairs < pairs) {
		uint32_t want = pairs < 16 ? 16 : pairs;
		pcre2_match_data *md = pcre2_match_data_create(want, NULL);

		if (md == NULL)
			return NULL;
		pcre2_match_data_free(tls->md);
		tls->md = md;
		tls->pairs = want;
	}
	return tls->md;
}

/* The flag letters (Postfix pcre_table(5)); X is obsolete. */
static const pattern_flag_t pcre_flags[] = {
	{'i', PCRE2_CASELESS}, {'m', PCRE2_MULTILINE}, {'s', PCRE2_DOTALL},
	{'x', PCRE2_EXTENDED}, {'A', PCRE2_ANCHORED}, {'E', PCRE2_DOLLAR_ENDONLY},
	{'U', PCRE2_UNGREEDY}, {'X', 0}, {'\0', 0},
};

/* Compile and JIT one pattern; NULL with a warning when it is bad. */
static void *
pcre_compile_one(table_t *t, int line, const char *re, int options, int nosub, size_t *ncapt)
{
	pcre2_code *code;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	uint32_t count = 0;
	int	err;

	(void) nosub;
	code = pcre2_compile((PCRE2_SPTR) re, PCRE2_ZERO_TERMINATED, (uint32_t) options,
	    &err, &off, NULL);
	if (code == NULL) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		table_warn(t, line, "error in regex at offset %zu: %s: skipping this rule",
		    (size_t) off, (char *) msg);
		return NULL;
	}
	(void) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);	/* interpreter if no JIT */
	(void) pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &count);
	*ncapt = count;
	return code;
}

/* Match KEY with the thread's match data; fill NCAPS capture pairs. */
static int
pcre_match(const void *re, const char *key, size_t len, pattern_cap_t *caps, size_t ncaps)
{
	pcre2_match_data *md = table_pcre_match_data((uint32_t) ncaps + 1);
	PCRE2_SIZE *ov;
	int	rc;

	if (md == NULL)
		return -1;
	rc = pcre2_match(re, (PCRE2_SPTR) key, len, 0, 0, md, NULL);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0)
		return -1;
	ov = pcre2_get_ovector_pointer(md);
	for (size_t i = 0; i < ncaps; i++) {
		int	set = (i < (size_t) rc || rc == 0) && ov[2 * i] != PCRE2_UNSET;

		caps[i].so = set ? (long) ov[2 * i] : -1;
		caps[i].eo = set ? (long) ov[2 * i + 1] : -1;
	}
	return 1;
}

/* Free one compiled pattern. */
static void
pcre_free_one(void *re)
{
	pcre2_code_free(re);
}

/* The pcre: table is table_pattern.c's rule language over this engine. */
const pattern_engine_t pattern_pcre_engine = {
	0, PCRE2_CASELESS | PCRE2_DOTALL, pcre_flags,
	pcre_compile_one, pcre_match, pcre_free_one,
};
