/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	ml.h - shared declarations of the milterload load driver
 * SYNOPSIS
 *	#include "ml.h"
 * DESCRIPTION
 *	milterload speaks the MTA side of the Sendmail milter protocol,
 *	version 6, the way Postfix 3.7 does, to measure a milter under load.
 *	The modules:
 *	ml_proto.c	packet encoding, negotiation, reading replies
 *	ml_macro.c	macro lists (Postfix defaults, setsymlist) and values
 *	ml_session.c	one SMTP session: loopback client socket and events
 *	ml_wait.c	waiting for a reply: progress, client behaviour, take probe
 *	ml_diag.c	NETLINK_SOCK_DIAG probe of the milter's socket
 *	ml_stats.c	latency histograms, reply counts, /proc figures
 *	milterload.c	options, worker threads, the report
 *
 *	Every worker thread runs one session at a time with blocking I/O;
 *	the concurrency is the number of threads.
 */
#ifndef ML_H
#define ML_H

#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* Milter protocol (libmilter/mfdef.h), spelled out like Postfix does. */
#define ML_VERSION	6
#define ML_ACTIONS	0x1ffU		/* all SMFIF_* Postfix offers */
#define ML_PROTOCOL	0x1fffffU	/* all SMFIP_* of version 6 */
#define ML_CHUNK	65535		/* body chunk, MILTER_CHUNK_SIZE */
#define ML_MAXPKT	(1 << 20)	/* largest reply we accept */

#define SMFIP_NOCONNECT	0x1U
#define SMFIP_NOHELO	0x2U
#define SMFIP_NOMAIL	0x4U
#define SMFIP_NORCPT	0x8U
#define SMFIP_NOBODY	0x10U
#define SMFIP_NOHDRS	0x20U
#define SMFIP_NOEOH	0x40U
#define SMFIP_NR_HDR	0x80U
#define SMFIP_NODATA	0x200U
#define SMFIP_NR_CONN	0x1000U
#define SMFIP_NR_HELO	0x2000U
#define SMFIP_NR_MAIL	0x4000U
#define SMFIP_NR_RCPT	0x8000U
#define SMFIP_NR_DATA	0x10000U
#define SMFIP_NR_EOH	0x40000U
#define SMFIP_NR_BODY	0x80000U
#define SMFIP_HDR_LEADSPC 0x100000U

/* Stages: one latency histogram and reply counters each. */
typedef enum {
	ML_ST_OPTNEG,			/* TCP/unix connect + SMFIC_OPTNEG */
	ML_ST_CONNECT,
	ML_ST_HELO,
	ML_ST_MAIL,
	ML_ST_RCPT,
	ML_ST_DATA,
	ML_ST_HEADER,
	ML_ST_EOH,
	ML_ST_BODY,
	ML_ST_EOM,
	ML_ST_SESSION,			/* whole session, for the report */
	ML_ST_COUNT
} ml_stage_t;

/* Macro classes (SMFIM_*), the index into the per-stage name lists. */
enum { ML_M_CONNECT, ML_M_HELO, ML_M_MAIL, ML_M_RCPT, ML_M_DATA,
	ML_M_EOM, ML_M_EOH, ML_M_COUNT };

/* Reply kinds counted per stage. */
typedef enum {
	ML_R_CONTINUE, ML_R_ACCEPT, ML_R_REJECT, ML_R_TEMPFAIL,
	ML_R_REPLY4, ML_R_REPLY5, ML_R_DISCARD, ML_R_SKIP, ML_R_SHUTDOWN,
	ML_R_CONNFAIL, ML_R_PROGRESS, ML_R_ADDHEADER, ML_R_INSHEADER,
	ML_R_CHGHEADER, ML_R_OTHERMOD, ML_R_TIMEOUT, ML_R_ERROR, ML_R_COUNT
} ml_reply_t;

/* Client behaviour during the first RCPT. */
typedef enum {
	ML_B_WAIT, ML_B_DISCONNECT, ML_B_RESET, ML_B_PIPELINE
} ml_behave_t;

/* An address range a.b.c.d-a.b.c.e (IPv6: varying in the low 32 bits),
 * cycled through. */
typedef struct {
	int	family;
	struct in6_addr first6;
	uint32_t first4;
	uint32_t count;
} ml_range_t;

/* Options, read-only once the threads start. */
typedef struct {
	char	*socket_spec;		/* inet:PORT@HOST or unix:PATH */
	struct sockaddr_storage milter_sa;
	socklen_t milter_salen;
	int	concurrency;
	long	total;			/* sessions; 0 with duration */
	double	duration;		/* seconds; 0 with total */
	double	rate;			/* sessions/s; 0 = unbounded */
	ml_range_t bind_range;		/* real loopback client addresses */
	ml_range_t report_range;	/* addresses reported, if set */
	int	report_set;
	const char *name_tmpl;
	const char *helo_tmpl;
	const char *from_tmpl;
	const char *rcpt_tmpl;
	int	rcpts;			/* recipients per message */
	size_t	body_size;
	ml_behave_t behave;
	double	behave_after;		/* seconds after the first RCPT */
	double	timeout;		/* per-read, restarted by progress */
	int	pid;			/* milter pid for /proc figures */
	int	nodelay;		/* TCP_NODELAY on the driver side */
	int	probe;			/* measure the milter's take time */
	char	expect[ML_ST_COUNT];	/* expected final reply char, or 0 */
	const char *expect_text[ML_ST_COUNT]; /* 'y' reply text prefix, or NULL */
} ml_opts_t;

/* One session's milter connection. */
typedef struct {
	int	fd;
	uint32_t version;		/* negotiated */
	uint32_t actions;
	uint32_t protocol;		/* what the milter asked for */
	char	*macros[ML_M_COUNT];	/* overrides from setsymlist, or NULL */
	unsigned char *out;		/* buffered output, like VSTREAM */
	size_t	outlen, outcap;
	int	cmd;			/* last reply packet's command */
	unsigned char *in;		/* and its data, NUL-terminated */
	size_t	inlen, incap;
	unsigned char *rbuf;		/* bytes received, not yet parsed */
	size_t	roff, rlen, rcap;
	int	inet;			/* probe works only for TCP */
	struct sockaddr_in local, peer;	/* the 4-tuple, for the probe */
} ml_conn_t;

/* Values the macros expand to for one session. */
typedef struct {
	char	client_addr[64];
	char	client_port[8];
	char	client_name[256];
	char	daemon_addr[64];
	char	daemon_port[8];
	char	helo[256];
	char	from[256];
	char	rcpt[256];
	char	queue_id[16];
	int	have_qid;
	int	v6;			/* client_addr is IPv6 */
} ml_vars_t;

/* ml_proto.c */
int	ml_conn_open(ml_conn_t *, const ml_opts_t *);
void	ml_conn_close(ml_conn_t *);
void	ml_put_cmd(ml_conn_t *, int, const void *, size_t);
int	ml_flush(ml_conn_t *);
int	ml_recv_packet(ml_conn_t *, int *, size_t *);
void	ml_negotiate_put(ml_conn_t *);
int	ml_negotiate_parse(ml_conn_t *);

/* ml_macro.c */
void	ml_put_macros(ml_conn_t *, int, int, const ml_vars_t *);

/* ml_diag.c */
int	ml_diag_open(void);
int	ml_diag_rqueue(int, const struct sockaddr_in *, const struct sockaddr_in *);

/* ml_stats.c */
double	ml_now(void);
void	ml_stats_record(ml_stage_t, double);
void	ml_stats_take(ml_stage_t, double);
void	ml_stats_after(double);
void	ml_stats_reply(ml_stage_t, ml_reply_t);
void	ml_stats_count(const char *);
ml_reply_t ml_reply_kind(int, const unsigned char *, size_t);
const char *ml_stage_name(ml_stage_t);
const char *ml_reply_name(ml_reply_t);
void	ml_stats_report(double, long);
void	ml_proc_start(int);
void	ml_proc_report(int, long);
long	ml_stats_counter(const char *);

/* ml_session.c */
typedef struct ml_worker ml_worker_t;
ml_worker_t *ml_worker_new(const ml_opts_t *, int);
ml_worker_t *ml_worker_free(ml_worker_t *);
int	ml_session_run(ml_worker_t *, long);

/* ml_session.c and ml_wait.c: a worker and its session */
struct ml_worker {
	const ml_opts_t *o;
	int	idx;
	int	lfd;			/* the worker's "smtpd" listener */
	struct sockaddr_storage laddr;
	socklen_t llen;
	int	nl;			/* netlink socket for the take probe */
	char	*body;
	size_t	bodylen;
};

typedef struct {
	ml_worker_t *w;
	ml_conn_t c;
	ml_vars_t v;
	int	cfd, sfd;		/* client end, smtpd end */
	double	act_due;		/* behaviour time, 0 = none */
	double	act_at;			/* when the behaviour happened */
	int	reply_len;
} ml_sess_t;

/* ml_wait.c */
void	ml_close_rst(int *);
int	ml_wait_reply(ml_sess_t *, ml_stage_t, double);

#endif
