/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	nullmilter - a libmilter milter that continues on everything
 * SYNOPSIS
 *	nullmilter -s inet:PORT@HOST|unix:PATH [-n] [-p PIDFILE] [-S] [-r MS [-m TEXT]]
 * DESCRIPTION
 *	The baseline for milterload: every callback returns SMFIS_CONTINUE
 *	and the end-of-message callback adds one header ("X-Null-Milter")
 *	first, so the MTA receives two small packets in a row there, the
 *	pattern that meets Nagle's algorithm on a TCP socket.
 *
 *	-n sets TCP_NODELAY on the listening socket (accepted sockets inherit
 *	it on Linux). libmilter does not expose its listening descriptor, so
 *	after smfi_opensocket() the listening TCP socket is found among the
 *	process's descriptors (SO_ACCEPTCONN).
 *	-S requests {daemon_addr} {daemon_port} at connect with setsymlist,
 *	to exercise the driver's macro negotiation.
 *	-r MS holds each RCPT reply for MS milliseconds, sending a progress
 *	packet every 200 ms (a blind stand-in for a tarpit); with -m TEXT
 *	only for clients whose name contains TEXT.
 *	-p writes the pid to a file once the socket is open.
 * DIAGNOSTICS
 *	Exits 1 when the socket cannot be opened.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <libmilter/mfapi.h>

static int null_symlist;
static long null_rcpt_ms;
static const char *null_match;
static int null_hold = 1;		/* a non-NULL private-data marker */

/* null_negotiate - accept the MTA's offer; optionally ask for macros */
static sfsistat
null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)f1; (void)f2; (void)f3;
	*pf0 = SMFIF_ADDHDRS | (null_symlist ? SMFIF_SETSYMLIST : 0);
	*pf1 = 0;
	*pf2 = *pf3 = 0;
	if ((f0 & *pf0) != *pf0)
		return SMFIS_REJECT;
	if (null_symlist && smfi_setsymlist(ctx, SMFIM_CONNECT,
	    "{daemon_addr} {daemon_port} {client_addr}") != MI_SUCCESS)
		return SMFIS_REJECT;
	return SMFIS_CONTINUE;
}

/* null_connect - check the macros asked for when -S is given */
static sfsistat
null_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)sa;
	smfi_setpriv(ctx, null_match == NULL || strstr(host, null_match) ?
	    &null_hold : NULL);
	if (null_symlist && (smfi_getsymval(ctx, "{daemon_port}") == NULL
	    || smfi_getsymval(ctx, "{client_addr}") == NULL))
		return SMFIS_TEMPFAIL;
	return SMFIS_CONTINUE;
}

/* null_rcpt - optionally hold the reply, with progress packets */
static sfsistat
null_rcpt(SMFICTX *ctx, char **argv)
{
	long left;

	(void)argv;
	if (smfi_getpriv(ctx) == NULL)
		return SMFIS_CONTINUE;
	for (left = null_rcpt_ms; left > 0; left -= 200) {
		usleep((useconds_t)(left < 200 ? left : 200) * 1000);
		if (left > 200)
			smfi_progress(ctx);
	}
	return SMFIS_CONTINUE;
}

/* null_close - forget the per-connection marker */
static sfsistat
null_close(SMFICTX *ctx)
{
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

/* null_eom - add one header, then continue */
static sfsistat
null_eom(SMFICTX *ctx)
{
	smfi_addheader(ctx, "X-Null-Milter", "yes");
	return SMFIS_CONTINUE;
}

static struct smfiDesc null_desc = {
	.xxfi_name = "nullmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS,
	.xxfi_connect = null_connect,
	.xxfi_envrcpt = null_rcpt,
	.xxfi_eom = null_eom,
	.xxfi_close = null_close,
	.xxfi_negotiate = null_negotiate,
};

/* null_set_nodelay - TCP_NODELAY on every listening TCP socket we own */
static int
null_set_nodelay(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fd, acc, one = 1, n = 0;
	socklen_t len;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		fd = atoi(e->d_name);
		len = sizeof(acc);
		if (e->d_name[0] == '.' || getsockopt(fd, SOL_SOCKET,
		    SO_ACCEPTCONN, &acc, &len) < 0 || !acc)
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one)) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	const char *sock = NULL, *pidfile = NULL;
	int ch, nodelay = 0;
	FILE *f;

	while ((ch = getopt(argc, argv, "s:np:Sr:m:")) != -1) {
		switch (ch) {
		case 's': sock = optarg; break;
		case 'n': nodelay = 1; break;
		case 'p': pidfile = optarg; break;
		case 'S': null_symlist = 1; break;
		case 'r': null_rcpt_ms = atol(optarg); break;
		case 'm': null_match = optarg; break;
		default: sock = NULL; optind = argc; break;
		}
	}
	if (sock == NULL) {
		fprintf(stderr, "usage: nullmilter -s SOCKET [-n] [-p PIDFILE] [-S] [-r MS [-m TEXT]]\n");
		return 2;
	}
	if (smfi_setconn((char *)sock) != MI_SUCCESS
	    || smfi_register(null_desc) != MI_SUCCESS
	    || smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot open %s\n", sock);
		return 1;
	}
	if (nodelay && null_set_nodelay() < 1) {
		fprintf(stderr, "nullmilter: no TCP listening socket for -n\n");
		return 1;
	}
	if (pidfile && (f = fopen(pidfile, "w")) != NULL) {
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
