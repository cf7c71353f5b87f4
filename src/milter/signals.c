/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	signals - SIGHUP reloads, SIGTERM drains, inside libmilter's signal thread
 * DESCRIPTION
 *	See signals.h. Only libmilter's signal thread calls sigwait() in this
 *	process; nothing else in targrey-milter does.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdatomic.h>
#include "signals.h"

static void (*signals_reload)(void);
static void (*signals_drain)(void);
static atomic_int signals_stopping;

/* Set the handlers and block the signals in this thread and every
 * thread created after it; only the sigwait() thread takes them. */
void
signals_install(void (*reload)(void), void (*drain)(void))
{
	sigset_t set;

	signals_reload = reload;
	signals_drain = drain;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int
signals_draining(void)
{
	return atomic_load(&signals_stopping);
}

/* The process's sigwait(): reload on SIGHUP, drain before a stop. */
int
sigwait(const sigset_t *set, int *sig)
{
	int	s;

	for (;;) {
		if ((s = sigwaitinfo(set, NULL)) < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (s == SIGHUP && signals_reload != NULL) {
			signals_reload();
			continue;
		}
		if ((s == SIGTERM || s == SIGINT) && !atomic_exchange(&signals_stopping, 1)
		    && signals_drain != NULL)
			signals_drain();
		*sig = s;
		return 0;
	}
}
