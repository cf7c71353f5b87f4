/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	fuzz_spf_record - libFuzzer harness for the SPF record validator
 * DESCRIPTION
 *	Validates the input as a TXT record; a record that validates is
 *	rewritten for both address families and the rewrite must validate
 *	again (the rewrite only drops or splits terms). Also runs the macro
 *	and domain checks on the same bytes.
 */
#include <assert.h>
#include <sys/socket.h>
#include "fuzz_common.h"
#include "spf_record.h"

/* Rewrite a valid record for FAMILY and check the result. */
static void
fuzz_spf_rewrite(const char *text, int family)
{
	char out[SPF_RECORD_MAX * 2], why[256];

	if (spf_record_rewrite(text, family, out, sizeof(out)) == 0)
		assert(spf_record_is_spf(out, strlen(out)));
	(void)why;
}

/* One input: the text of one TXT record (any bytes). */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	char *text;

	spf_record_is_spf((const char *)data, size);
	spf_record_macro_ok((const char *)data, size, 0);
	spf_record_macro_ok((const char *)data, size, 1);
	if ((text = fuzz_cstring(data, size)) == NULL)
		return 0;
	spf_record_domain_ok(text);
	if (spf_record_validate((const char *)data, size, why, sizeof(why)) == 0
	    && strlen(text) == size) {
		fuzz_spf_rewrite(text, AF_INET);
		fuzz_spf_rewrite(text, AF_INET6);
	}
	free(text);
	return 0;
}
