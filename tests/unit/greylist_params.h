/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	greylist_params.h - the decision parameters the store and greylist
 *	unit tests share
 * DESCRIPTION
 *	T0 (a fixed "now"), DAY, and P: greylist_delay 300 s, retry window
 *	2 days, max ages 30 days, retry count 2, auto-whitelist after 5
 *	passes, prefixes /24 and /64.
 * DIAGNOSTICS
 *	None.
 */
#ifndef TG_GREYLIST_PARAMS_H
#define TG_GREYLIST_PARAMS_H

#include "greylist.h"

#define T0	1700000000LL
#define DAY	86400LL

static const greylist_params_t P = {
	.delay = 300, .retry_window = 2 * DAY, .max_age = 30 * DAY,
	.tarpit_max_age = 30 * DAY, .retry_count = 2, .awl_clients = 5,
	.ipv4_prefix = 24, .ipv6_prefix = 64,
};

#endif
