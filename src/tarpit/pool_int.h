/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	pool_int - handoff sessions, shared by pool.c and pool_watch.c
 * SYNOPSIS
 *	#include "pool_int.h"
 *
 *	int pool_session_open(pool_session_t *ps);
 *	short pool_session_events(const pool_session_t *ps);
 *	int pool_session_step(pool_session_t *ps);
 *	int pool_session_close(pool_session_t *ps, int rc);
 *	int pool_session_run(void);
 *	int64_t pool_now_us(void);
 *	int pool_ready(void);
 * DESCRIPTION
 *	pool_session_open() starts a nonblocking connection to the milter
 *	socket (the QUIT packet goes out as soon as it is connected) and
 *	sets PS->deadline_us. Poll PS->fd for pool_session_events() and
 *	call pool_session_step() when it is ready: 1 when libmilter closed
 *	the session (a worker is free), 0 not yet, or -errno.
 *	pool_session_close() closes and counts the session as confirmed
 *	(RC 0) or failed, and returns RC. pool_session_run() does all of it
 *	for one session, waiting at most POOL_HANDOFF_TIMEOUT_MS.
 *	pool_ready() says whether pool_init() has succeeded.
 *	Internal to the pool module: not for other modules.
 */
#ifndef TG_POOL_INT_H
#define TG_POOL_INT_H

#include <stdint.h>

typedef struct {
	int	fd;
	int	waiting;	/* QUIT sent: waiting for libmilter to close */
	int64_t	start_us;
	int64_t	deadline_us;
} pool_session_t;

int	pool_session_open(pool_session_t *ps);
short	pool_session_events(const pool_session_t *ps);
int	pool_session_step(pool_session_t *ps);
int	pool_session_close(pool_session_t *ps, int rc);
int	pool_session_run(void);
int64_t	pool_now_us(void);
int	pool_ready(void);

#endif
