/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	dns_answer - answer blocks: packing, freeing, reading a record
 * DESCRIPTION
 *	See dns.h and dns_int.h. An answer is one allocation: the header,
 *	the record index, then each record's data with a NUL after it.
 *	Below dns.c, dns_net.c and dns_wire.c, which all build answers.
 * DIAGNOSTICS
 *	dns_answer_pack() returns NULL when memory runs out.
 */
#include <stdlib.h>
#include <string.h>
#include "dns_int.h"

dns_answer_t *
dns_answer_pack(dns_status_t st, int type, unsigned ttl, const dns_item_t *items,
    size_t n)
{
	dns_answer_t *a;
	size_t	i, size = sizeof(*a) + n * sizeof(dns_rr_t), off;

	for (i = 0; i < n; i++)
		size += items[i].len + 1;
	if ((a = calloc(1, size)) == NULL)
		return NULL;
	a->status = st;
	a->type = type;
	a->ttl = ttl;
	a->size = size;
	a->count = n;
	off = sizeof(*a) + n * sizeof(dns_rr_t);
	for (i = 0; i < n; i++) {
		a->rr[i].pref = items[i].pref;
		a->rr[i].off = (unsigned)off;
		a->rr[i].len = (unsigned)items[i].len;
		memcpy((char *)a + off, items[i].data, items[i].len);
		off += items[i].len + 1;
	}
	return a;
}

dns_answer_t *
dns_answer_free(dns_answer_t *ans)
{
	free(ans);
	return NULL;
}

const char *
dns_rr_data(const dns_answer_t *ans, size_t i)
{
	return (const char *)ans + ans->rr[i].off;
}
