/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	fuzz_addr - libFuzzer harness for address parsing and greylist keys
 * DESCRIPTION
 *	The input is split at the first two newlines into an address or
 *	network text, a sender and a recipient. Addresses that parse are
 *	formatted and parsed back (the round trip must give the same
 *	address); networks are checked for containing their own address;
 *	the sender is normalised and the net, address and triplet keys are
 *	built with the default parameters.
 */
#include <assert.h>
#include "fuzz_common.h"
#include "config.h"
#include "greylist.h"

/* Format A, parse it back and require the same address. */
static void
fuzz_addr_roundtrip(const addr_t *a)
{
	char text[ADDR_TEXT_MAX];
	addr_t b;

	assert(addr_format(a, text, sizeof(text)) > 0);
	assert(addr_parse(text, &b) == 0);
	assert(b.family == a->family);
	assert(memcmp(b.bytes, a->bytes, a->family == AF_INET ? 4 : 16) == 0);
}

/* Build every greylist key from the three fields. */
static void
fuzz_addr_keys(const greylist_params_t *p, const addr_t *a,
    const char *sender, const char *rcpt)
{
	char key[GREYLIST_KEY_MAX], norm[GREYLIST_ADDR_MAX + 1];
	char net[ADDR_TEXT_MAX + 8];

	greylist_sender_normalize(sender, norm, sizeof(norm));
	greylist_sender_normalize(sender, norm, 8);
	greylist_net_key(p, a, net, sizeof(net));
	greylist_addr_key(a, key, sizeof(key));
	greylist_triplet_key(p, a, sender, rcpt, key, sizeof(key));
	greylist_triplet_key(p, a, sender, rcpt, key, 16);
	greylist_triplet_key_net(net, sender, rcpt, key, sizeof(key));
}

/* One input: "address-or-net\nsender\nrecipient". */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static greylist_params_t params;
	static config_t *cfg;	/* kept for the life of the process */
	char *text, *sender = "", *rcpt = "", *nl;
	addr_t a;
	net_t n;

	if (cfg == NULL) {
		fuzz_quiet();
		if ((cfg = config_load(NULL, 1, stderr)) == NULL)
			abort();
		greylist_params_init(&params, cfg);
	}
	if ((text = fuzz_cstring(data, size)) == NULL)
		return 0;
	if ((nl = strchr(text, '\n')) != NULL) {
		*nl = '\0';
		sender = nl + 1;
		if ((nl = strchr(sender, '\n')) != NULL) {
			*nl = '\0';
			rcpt = nl + 1;
		}
	}
	if (addr_parse(text, &a) == 0)
		fuzz_addr_roundtrip(&a);
	else
		addr_parse("192.0.2.1", &a);
	if (net_parse(text, &n) == 0)
		assert(net_contains(&n, &n.addr));
	fuzz_addr_keys(&params, &a, sender, rcpt);
	free(text);
	return 0;
}
