/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	metrics_topnet - the networks with the most suspicious clients, in
 *	bounded memory, for the hourly report
 * SYNOPSIS
 *	#include "metrics_topnet.h"
 *
 *	void metrics_topnet_add(const addr_t *client);
 *	size_t metrics_topnet_take(topnet_t out[TOPNET_KEEP]);
 *	void metrics_topnet_return(const topnet_t *nets, size_t n);
 *	size_t topnet_key(const addr_t *client, char *buf, size_t size);
 *	size_t topnet_merge(topnet_t *list, size_t n, size_t max,
 *		const char *net, uint32_t count);
 *	void topnet_sort(topnet_t *list, size_t n);
 * DESCRIPTION
 *	metrics_topnet_add() counts one suspicious (S25R) client against its
 *	network: the /24 of an IPv4 address, the /48 of an IPv6 one
 *	(topnet_key(): "192.0.2.0/24", "2001:db8:1::/48"). The counts live
 *	in a Space-Saving sketch of TOPNET_SLOTS slots: a network not in it
 *	takes the slot of the smallest count, plus one. Memory is fixed
 *	(TOPNET_SLOTS * sizeof(topnet_t), about 3.5 KB) whatever the
 *	traffic; a network whose clients make up more than 1/TOPNET_SLOTS of
 *	the hour's suspicious clients is always in it, and a count is never
 *	below the truth, above it by at most the smallest count.
 *	metrics_topnet_take() moves the TOPNET_KEEP largest out (sorted by
 *	count, then name) and empties the sketch; metrics_topnet_return()
 *	adds a list back (a flush that failed).
 *	topnet_merge() adds COUNT for NET to LIST[N] (at most MAX entries:
 *	when full, a new network replaces the smallest only if COUNT is
 *	larger) and returns the new N; topnet_sort() sorts a list as take does.
 * THREADS
 *	All functions may be called from any thread; the sketch has a
 *	mutex, held for a few comparisons.
 */
#ifndef TG_METRICS_TOPNET_H
#define TG_METRICS_TOPNET_H

#include <stddef.h>
#include <stdint.h>
#include "addr.h"

#define TOPNET_SLOTS	64	/* the sketch, per flush interval */
#define TOPNET_KEEP	20	/* networks kept per hour in the store */
#define TOPNET_NET_MAX	48	/* "xxxx:xxxx:xxxx::/48" and its NUL */

typedef struct {
	char	net[TOPNET_NET_MAX];
	uint32_t count;
} topnet_t;

void	metrics_topnet_add(const addr_t *client);
size_t	metrics_topnet_take(topnet_t out[TOPNET_KEEP]);
void	metrics_topnet_return(const topnet_t *nets, size_t n);
size_t	topnet_key(const addr_t *client, char *buf, size_t size);
size_t	topnet_merge(topnet_t *list, size_t n, size_t max, const char *net, uint32_t count);
void	topnet_sort(topnet_t *list, size_t n);

#endif
