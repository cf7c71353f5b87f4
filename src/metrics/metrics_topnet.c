/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	metrics_topnet - the networks with the most suspicious clients
 * DESCRIPTION
 *	See metrics_topnet.h. The sketch is filled between two flushes of
 *	the report (a minute); the store merges the flushed tops of an hour
 *	into one list of TOPNET_KEEP (store_report_net.c).
 * DIAGNOSTICS
 *	None.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics_topnet.h"

static pthread_mutex_t topnet_lock = PTHREAD_MUTEX_INITIALIZER;
static topnet_t topnet_slots[TOPNET_SLOTS];
static size_t topnet_used;

size_t
topnet_key(const addr_t *client, char *buf, size_t size)
{
	addr_t	a = *client;
	char	text[ADDR_TEXT_MAX];
	unsigned prefix = a.family == AF_INET ? 24 : 48;

	addr_mask(&a, prefix);
	if (addr_format(&a, text, sizeof(text)) == 0)
		return 0;
	return (size_t) snprintf(buf, size, "%s/%u", text, prefix);
}

/* The index of NET in LIST[N], or N; *LOW: the index of the smallest. */
static size_t
topnet_find(const topnet_t *list, size_t n, const char *net, size_t *low)
{
	*low = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].net, net) == 0)
			return i;
		if (list[i].count < list[*low].count)
			*low = i;
	}
	return n;
}

size_t
topnet_merge(topnet_t *list, size_t n, size_t max, const char *net, uint32_t count)
{
	size_t	low, i = topnet_find(list, n, net, &low);

	if (i < n) {
		list[i].count += count;
		return n;
	}
	if (n < max)
		low = n++;
	else if (list[low].count >= count)
		return n;
	snprintf(list[low].net, sizeof(list[low].net), "%s", net);
	list[low].count = count;
	return n;
}

void
metrics_topnet_add(const addr_t *client)
{
	char	net[TOPNET_NET_MAX];
	size_t	low, i;

	if (client == NULL || topnet_key(client, net, sizeof(net)) == 0)
		return;
	pthread_mutex_lock(&topnet_lock);
	i = topnet_find(topnet_slots, topnet_used, net, &low);
	if (i == topnet_used) {
		/* Space-Saving: a new network takes the smallest slot, plus one */
		if (topnet_used < TOPNET_SLOTS)
			low = topnet_used++, topnet_slots[low].count = 0;
		memcpy(topnet_slots[low].net, net, sizeof(net));
		i = low;
	}
	topnet_slots[i].count++;
	pthread_mutex_unlock(&topnet_lock);
}

static int
topnet_cmp(const void *a, const void *b)
{
	const topnet_t *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->net, y->net);
}

void
topnet_sort(topnet_t *list, size_t n)
{
	qsort(list, n, sizeof(*list), topnet_cmp);
}

size_t
metrics_topnet_take(topnet_t out[TOPNET_KEEP])
{
	topnet_t all[TOPNET_SLOTS];
	size_t	n;

	pthread_mutex_lock(&topnet_lock);
	n = topnet_used;
	memcpy(all, topnet_slots, n * sizeof(*all));
	topnet_used = 0;
	pthread_mutex_unlock(&topnet_lock);
	topnet_sort(all, n);
	n = n < TOPNET_KEEP ? n : TOPNET_KEEP;
	memcpy(out, all, n * sizeof(*out));
	return n;
}

void
metrics_topnet_return(const topnet_t *nets, size_t n)
{
	pthread_mutex_lock(&topnet_lock);
	for (size_t i = 0; i < n; i++)
		topnet_used = topnet_merge(topnet_slots, topnet_used, TOPNET_SLOTS,
		    nets[i].net, nets[i].count);
	pthread_mutex_unlock(&topnet_lock);
}
