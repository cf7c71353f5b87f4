/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	redis_fixture - a private redis-server on a free loopback port, for tests
 * SYNOPSIS
 *	#include "redis_fixture.h"
 *
 *	int redis_fixture_start(redis_fixture_t *rf, int port);
 *	void redis_fixture_stop(redis_fixture_t *rf);
 * DESCRIPTION
 *	redis_fixture_start() starts redis-server (no persistence, its own
 *	temporary directory, bound to 127.0.0.1) on PORT, or on a free port
 *	when PORT is 0, and waits (at most 10 s) until it answers PING.
 *	redis_fixture_stop() kills it, waits for it and removes the
 *	directory; start it again with the same port to simulate a restart.
 * DIAGNOSTICS
 *	-1 and a line on stderr when the server does not start.
 */
#ifndef TG_REDIS_FIXTURE_H
#define TG_REDIS_FIXTURE_H

#include <sys/types.h>

typedef struct {
	pid_t	pid;
	int	port;
	char	dir[64];
} redis_fixture_t;

int	redis_fixture_start(redis_fixture_t *rf, int port);
void	redis_fixture_stop(redis_fixture_t *rf);

#endif
