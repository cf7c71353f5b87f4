/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	redis_fixture - a private redis-server on a free loopback port, for tests
 * DESCRIPTION
 *	See redis_fixture.h.
 * DIAGNOSTICS
 *	"redis_fixture: ..." on stderr.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include "redis_fixture.h"

/* A port the kernel says is free on 127.0.0.1. */
static int
free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int	fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == 0
	    && getsockname(fd, (struct sockaddr *) &sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Does the server answer PING? */
static int
answers(int port)
{
	struct timeval tv = {0, 200000};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
	redisReply *r = c && !c->err ? redisCommand(c, "PING") : NULL;
	int	ok = r && r->type == REDIS_REPLY_STATUS;

	if (r)
		freeReplyObject(r);
	if (c)
		redisFree(c);
	return ok;
}

int
redis_fixture_start(redis_fixture_t *rf, int port)
{
	char	p[16];

	rf->port = port ? port : free_port();
	snprintf(rf->dir, sizeof(rf->dir), "/tmp/tg-redis.XXXXXX");
	if (rf->port <= 0 || mkdtemp(rf->dir) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%d", rf->port);
	if ((rf->pid = fork()) == 0) {
		int	null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execlp("redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1",
		    "--dir", rf->dir, "--save", "", "--appendonly", "no",
		    "--daemonize", "no", (char *) NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && rf->pid > 0; i++) {
		if (answers(rf->port))
			return 0;
		if (waitpid(rf->pid, NULL, WNOHANG) == rf->pid)
			break;
		usleep(50000);
	}
	fprintf(stderr, "redis_fixture: redis-server on port %d did not start\n", rf->port);
	redis_fixture_stop(rf);
	return -1;
}

void
redis_fixture_stop(redis_fixture_t *rf)
{
	char	cmd[128];

	if (rf->pid > 0) {
		kill(rf->pid, SIGKILL);
		waitpid(rf->pid, NULL, 0);
		rf->pid = 0;
	}
	if (rf->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rf->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "redis_fixture: cannot remove %s\n", rf->dir);
		rf->dir[0] = '\0';
	}
}
