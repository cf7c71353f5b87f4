/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	signals - SIGHUP reloads, SIGTERM drains, inside libmilter's signal thread
 * SYNOPSIS
 *	#include "signals.h"
 *
 *	void signals_install(void (*reload)(void), void (*drain)(void));
 *	int signals_draining(void);
 * DESCRIPTION
 *	libmilter blocks SIGHUP, SIGTERM and SIGINT in every thread and has
 *	one thread sigwait() for them; on any of them it stops the milter.
 *	Two sigwait()ing threads would race for a signal, so instead this
 *	module provides the process's sigwait(): the dynamic linker binds
 *	libmilter's call to it (a definition in the executable comes first).
 *	In that thread SIGHUP calls RELOAD and goes on waiting, so libmilter
 *	never sees it. SIGTERM and SIGINT set the draining flag, call DRAIN
 *	(which returns when the sessions have finished or a bound passed) and
 *	are then handed to libmilter, which stops.
 *
 *	signals_install() also blocks the three signals in the calling
 *	thread, so it must run before the daemon creates any thread (the
 *	state's expiry thread, the pool watchdog): a thread that did not
 *	block SIGTERM would take it with the default action.
 *
 *	signals_draining() is true once a stop signal arrived: new sessions
 *	are refused and running tarpits end early.
 */
#ifndef TG_SIGNALS_H
#define TG_SIGNALS_H

void	signals_install(void (*reload)(void), void (*drain)(void));
int	signals_draining(void);

#endif
