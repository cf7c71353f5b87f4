/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	addr - IP addresses and networks: parse, format, mask, match
 * SYNOPSIS
 *	#include "addr.h"
 *
 *	int addr_parse(const char *text, addr_t *a);
 *	size_t addr_format(const addr_t *a, char *buf, size_t size);
 *	void addr_mask(addr_t *a, unsigned prefix);
 *	int net_parse(const char *text, net_t *n);
 *	int net_contains(const net_t *n, const addr_t *a);
 *	int netlist_parse(const strlist_t *l, net_t **nets, size_t *count, char *err, size_t errlen);
 *	int netlist_contains(const net_t *nets, size_t count, const addr_t *a);
 * DESCRIPTION
 *	addr_parse() accepts "192.0.2.1", "2001:db8::1", the forms Postfix
 *	uses in macros ("IPv6:2001:db8::1") and brackets ("[2001:db8::1]").
 *	An IPv4-mapped IPv6 address (::ffff:192.0.2.1) becomes the IPv4
 *	address: it is the same client. Returns 0, or -1 for anything else.
 *
 *	addr_format() writes the usual text form (no brackets, no "IPv6:").
 *	addr_mask() clears every bit after the first PREFIX.
 *
 *	net_parse() accepts "ADDR", "ADDR/LEN", "[ADDR]/LEN" (Postfix's
 *	form for IPv6). An IPv4-mapped network of length 96 or more becomes
 *	the IPv4 network. Bits set after the prefix are an error, as in
 *	Postfix's cidr tables. Returns 0 or -1.
 *
 *	netlist_parse() converts a parameter list into an array (owned by
 *	the caller, free()); on error it names the bad item in ERR.
 */
#ifndef TG_ADDR_H
#define TG_ADDR_H

#include <stddef.h>
#include <sys/socket.h>
#include "strlist.h"

typedef struct {
	int	family;			/* AF_INET or AF_INET6 */
	unsigned char bytes[16];	/* network order; 4 used for AF_INET */
} addr_t;

typedef struct {
	addr_t	addr;
	unsigned prefix;
} net_t;

#define ADDR_TEXT_MAX	46	/* INET6_ADDRSTRLEN */

int	addr_parse(const char *text, addr_t *a);
size_t	addr_format(const addr_t *a, char *buf, size_t size);
void	addr_mask(addr_t *a, unsigned prefix);
int	net_parse(const char *text, net_t *n);
int	net_contains(const net_t *n, const addr_t *a);
int	netlist_parse(const strlist_t *l, net_t **nets, size_t *count, char *err, size_t errlen);
int	netlist_contains(const net_t *nets, size_t count, const addr_t *a);

#endif
