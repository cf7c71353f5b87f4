/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	store_keys - keys and small encodings shared by the store backends
 * DESCRIPTION
 *	store_grey_keys() builds the client network, triplet and address
 *	keys of one decision into a store_facts_t. store_wl_key(),
 *	store_wl_encode() and store_wl_decode() make the key
 *	"whitelist/ADDR/LEN" of a manual whitelist entry and its value:
 *	version, family, prefix length, 16 address bytes, the time added (8
 *	bytes big-endian), STORE_WL_SIZE bytes. LMDB (store_grey.c,
 *	store_list.c) and Redis (store_redis*.c) use the same ones, so a
 *	dump of one loads into the other. Nothing here calls a backend.
 * DIAGNOSTICS
 *	None: -1 or 0 lengths for what does not fit.
 */
#include <stdio.h>
#include <sys/socket.h>
#include <string.h>
#include "store_impl.h"

#define WL_PREFIX	"whitelist/"
#define WL_SIZE		STORE_WL_SIZE

/* Build the three keys; -1 when they do not fit. */
int
store_grey_keys(const greylist_params_t *p, const addr_t *a, const char *sender,
	  const char *rcpt, store_facts_t *f)
{
	memset(f, 0, sizeof(*f));
	if (greylist_net_key(p, a, f->net_key, sizeof(f->net_key)) == 0
	    || greylist_addr_key(a, f->addr_key, sizeof(f->addr_key)) == 0)
		return -1;
	if (rcpt && greylist_triplet_key_net(f->net_key, sender ? sender : "", rcpt,
		f->triplet_key, sizeof(f->triplet_key)) == 0)
		return -1;
	return 0;
}

/* Key of a whitelist entry: "whitelist/ADDR/LEN". */
size_t
store_wl_key(const net_t *n, char *buf, size_t size)
{
	char	text[ADDR_TEXT_MAX];

	if (addr_format(&n->addr, text, sizeof(text)) == 0)
		return 0;
	return (size_t) snprintf(buf, size, WL_PREFIX "%s/%u", text, n->prefix);
}

/* The value of a whitelist entry: version, family, prefix length, 16
 * address bytes, the time added (8 bytes big-endian); WL_SIZE bytes. */
void
store_wl_encode(const net_t *net, int64_t now, unsigned char *val)
{
	uint64_t t = (uint64_t) now;

	memset(val, 0, WL_SIZE);
	val[0] = RECORD_VERSION;
	val[1] = net->addr.family == AF_INET ? 4 : 6;
	val[2] = (unsigned char) net->prefix;
	memcpy(val + 3, net->addr.bytes, 16);
	for (int b = 7; b >= 0; b--, t >>= 8)
		val[19 + b] = (unsigned char) (t & 0xff);
}

/* Decode a whitelist entry into NET: 0, or -1 for one this program
 * cannot read. */
int
store_wl_decode(const void *val, size_t len, net_t *net)
{
	const unsigned char *p = val;

	if (len < WL_SIZE || p[0] != RECORD_VERSION)
		return -1;
	memset(net, 0, sizeof(*net));
	net->addr.family = p[1] == 4 ? AF_INET : AF_INET6;
	net->prefix = p[2];
	memcpy(net->addr.bytes, p + 3, 16);
	return 0;
}
