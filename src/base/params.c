/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	params - the one table of targrey-milter parameters
 * DESCRIPTION
 *	See params.h. To add a parameter: add a field to config_t (config.h)
 *	and one entry here; the parser, -n/-d, the sample configuration and
 *	the man page pick it up from this table. Time values are kept in
 *	milliseconds; a bare number means seconds.
 */
#include <limits.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "config.h"
#include "params.h"

#define OFF(f)	offsetof(config_t, f)
#define SEC	1000L
#define MIN	(60 * SEC)
#define HOUR	(60 * MIN)
#define DAY	(24 * HOUR)

static const char *const helo_reject_words[] =
	{"fail", "softfail", "not_pass", "null", "no", "no_check", NULL};
static const char *const mail_reject_words[] =
	{"fail", "softfail", "not_pass", "no", NULL};
static const char *const spf_header_words[] =
	{"received_spf", "authentication_results", "both", "none", NULL};
static const char *const reverse_words[] = {"auto", "yes", "no", NULL};
static const char *const pipelining_words[] = {"fail", "ignore", NULL};
static const char *const corrupt_words[] = {"rebuild", "refuse", NULL};
static const char *const backend_words[] = {"lmdb", "redis", NULL};

/* An entry; a trailing START_ONLY marks a parameter read once at start. */
#define P_ENTRY(n, t, d, lo, hi, w, g, text, ...) {.name = #n, .type = t, .def = d, \
	.min = lo, .max = hi, .words = w, .offset = OFF(n), .group = g, .doc = text, __VA_ARGS__}
#define START_ONLY		.start_only = 1
#define SECRET			.secret = 1
#define P_BOOL(n, d, g, ...)	P_ENTRY(n, PARAM_BOOL, d, 0, 1, NULL, g, __VA_ARGS__)
#define P_INT(n, d, lo, hi, g, ...) P_ENTRY(n, PARAM_INT, d, lo, hi, NULL, g, __VA_ARGS__)
#define P_TIME(n, d, lo, hi, g, ...) P_ENTRY(n, PARAM_TIME, d, lo, hi, NULL, g, __VA_ARGS__)
#define P_SIZE(n, d, lo, hi, g, ...) P_ENTRY(n, PARAM_SIZE, d, lo, hi, NULL, g, __VA_ARGS__)
#define P_STR(n, d, g, ...)	P_ENTRY(n, PARAM_STR, d, 0, 0, NULL, g, __VA_ARGS__)
#define P_LIST(n, d, g, ...)	P_ENTRY(n, PARAM_LIST, d, 0, 0, NULL, g, __VA_ARGS__)
#define P_ENUM(n, d, w, g, ...)	P_ENTRY(n, PARAM_ENUM, d, 0, 0, w, g, __VA_ARGS__)

const param_t params_table[] = {
	/* milter */
	P_STR(config_directory, TG_SYSCONFDIR, "milter",
	    "Directory of the configuration file and the tables shipped with it; "
	    "other parameters refer to it as $config_directory."),
	P_STR(milter_socket, "inet:8891@localhost", "milter",
	    "Where the milter listens: libmilter's form (inet:8891@localhost, "
	    "inet6:8891@[::1], unix:/path) or Postfix's form (inet:localhost:8891).", START_ONLY),
	P_STR(milter_socket_mode, "0660", "milter",
	    "Permission bits of a unix-domain milter socket, in octal.", START_ONLY),
	P_STR(milter_socket_group, "", "milter",
	    "Group of a unix-domain milter socket (empty: the daemon's group); set it to "
	    "Postfix's group, postfix, so that smtpd, which runs as postfix without "
	    "supplementary groups, may connect with mode 0660 (the daemon must start "
	    "as root, or its user must be a member of that group).", START_ONLY),
	P_TIME(milter_timeout, "7210s", 1 * SEC, 30 * DAY, "milter",
	    "How long libmilter waits for Postfix on an idle connection.", START_ONLY),
	P_STR(user, "targrey", "milter",
	    "Account the daemon runs as after binding its socket (when started as root).", START_ONLY),
	P_STR(group, "targrey", "milter",
	    "Group the daemon runs as after binding its socket (when started as root).", START_ONLY),
	P_STR(pid_file, TG_RUNSTATEDIR "/targrey-milter/targrey-milter.pid", "milter",
	    "File that holds the daemon's process id; empty for none.", START_ONLY),
	P_TIME(shutdown_timeout, "30s", 0, 1 * HOUR, "milter",
	    "On SIGTERM, how long running sessions may take to finish before the daemon exits.", START_ONLY),
	P_SIZE(thread_stack_size, "256k", 64 * 1024, 64L * 1024 * 1024, "milter",
	    "Stack size of every thread; small stacks keep thousands of tarpitted sessions cheap.", START_ONLY),
	P_LIST(trusted_networks, "127.0.0.0/8 [::1]/128", "milter",
	    "Clients in these networks skip every check."),
	P_BOOL(skip_authenticated, "yes", "milter",
	    "Clients that authenticated with SMTP AUTH skip every check."),
	P_BOOL(dry_run, "no", "milter",
	    "Log what would be done (would tarpit, would greylist, would reject) and accept everything."),
	/* logging */
	P_STR(syslog_facility, "mail", "logging",
	    "Syslog facility of the daemon's log lines.", START_ONLY),
	P_STR(syslog_name, "targrey-milter", "logging",
	    "Name the daemon logs under.", START_ONLY),
	P_INT(log_level, "0", 0, 3, "logging",
	    "0 logs decisions and problems; 1 adds skipped checks; 2 and 3 add protocol detail."),
	P_STR(log_file, "", "logging",
	    "Write the log lines to this file instead of syslog, in the format of Postfix's "
	    "maillog_file, for hosts without a syslog daemon (empty: syslog); the daemon's "
	    "user must be able to create it; SIGHUP opens it again (after logrotate).",
	    START_ONLY),
	/* metrics */
	P_STR(metrics_listen, "", "logging",
	    "Serve Prometheus metrics at http://ADDRESS:PORT/metrics (numeric, [IPV6]:PORT for "
	    "IPv6; empty: off). Use a loopback address or a firewalled one: the page is not "
	    "authenticated; the port is bound after the daemon dropped root (use one above 1023), "
	    "and one that cannot be bound is logged while the milter runs without metrics; "
	    "targrey-milter -t reports a malformed value or one it cannot bind now.",
	    START_ONLY),
	P_TIME(report_history, "35d", 1 * DAY, 400 * DAY, "logging",
	    "How long the hourly decision counters shown by targreyctl report are kept in the store."),
	/* DNS */
	P_LIST(dns_servers, "", "dns",
	    "Name servers to ask, as ADDRESS or ADDRESS:PORT; empty means those of /etc/resolv.conf."),
	P_INT(dns_cache_size, "10000", 0, 10000000, "dns",
	    "How many DNS answers the shared cache keeps; 0 turns the cache off."),
	P_TIME(dns_cache_max_ttl, "1h", 0, 7 * DAY, "dns",
	    "Longest time a DNS answer is cached, whatever its TTL."),
	P_TIME(dns_negative_ttl, "60s", 0, 1 * DAY, "dns",
	    "How long a failed lookup (timeout, server failure) is cached."),
	/* SPF */
	P_ENUM(spf_helo_reject, "fail", helo_reject_words, "spf",
	    "Which HELO check results are rejected: fail, softfail (and fail), not_pass, "
	    "null (only for the null sender), no (check and log only), no_check (do not check)."),
	P_ENUM(spf_mail_from_reject, "fail", mail_reject_words, "spf",
	    "Which MAIL FROM check results are rejected: fail, softfail (and fail), not_pass, no."),
	P_BOOL(spf_permerror_reject, "no", "spf",
	    "Reject when the sender's SPF record is broken (permerror)."),
	P_BOOL(spf_temperror_defer, "no", "spf",
	    "Defer with 451 4.7.24 when SPF cannot be checked because of a DNS error."),
	P_LIST(spf_skip_addresses, "127.0.0.0/8, ::ffff:127.0.0.0/104, ::1", "spf",
	    "Client networks that are not SPF checked and get no SPF header."),
	P_LIST(spf_whitelist, "", "spf",
	    "Client networks (or cidr: tables) whose mail is never rejected for SPF."),
	P_LIST(spf_domain_whitelist, "", "spf",
	    "Sender domains whose mail is never rejected for SPF."),
	P_LIST(spf_helo_whitelist, "", "spf",
	    "HELO names whose mail is never rejected for SPF."),
	P_ENUM(spf_header, "received_spf", spf_header_words, "spf",
	    "Header to add with the SPF result: received_spf, authentication_results, both or none."),
	P_STR(authserv_id, "", "spf",
	    "Authentication-Results authserv-id; empty means this host's name."),
	P_TIME(spf_lookup_time, "20s", 100, 5 * MIN, "spf",
	    "Longest time one SPF check may spend on DNS; then it is a temperror."),
	P_INT(spf_lookup_limit, "10", 1, 100, "spf",
	    "DNS-querying terms allowed in one check, nested includes counted (RFC 7208 4.6.4)."),
	P_INT(spf_void_limit, "2", 0, 100, "spf",
	    "Lookups with no answer allowed in one check (RFC 7208 4.6.4)."),
	/* S25R and whitelists */
	P_BOOL(s25r_builtin_rules, "yes", "s25r",
	    "Classify clients with the built-in S25R rules 0 to 6."),
	P_LIST(s25r_client_access, "", "s25r",
	    "Tables consulted with the client name before the built-in rules: OK or PERMIT "
	    "means not suspicious, any other answer suspicious."),
	P_LIST(s25r_whitelist, "builtin:s25r_whitelist", "s25r",
	    "Tables of client names that are never suspicious (big senders' outbound hosts)."),
	P_ENUM(s25r_reverse_lookup, "auto", reverse_words, "s25r",
	    "Do a forward-confirmed reverse lookup when Postfix did not: auto, yes or no."),
	P_BOOL(s25r_tempfail_is_unknown, "no", "s25r",
	    "A temporary DNS failure of the reverse lookup counts as S25R rule 0."),
	P_LIST(client_whitelist, "", "s25r",
	    "Tables of clients (names or addresses) that skip S25R, tarpit and greylisting."),
	P_LIST(sender_whitelist, "", "s25r",
	    "Tables of envelope senders that skip tarpit and greylisting."),
	P_LIST(recipient_whitelist, "", "s25r",
	    "Tables of recipients (e.g. postmaster@, abuse@) that skip tarpit and greylisting."),
	/* tarpit */
	P_TIME(tarpit_delay, "125s", 0, 1 * HOUR, "tarpit",
	    "How long the first RCPT reply of a suspicious client is delayed."),
	P_TIME(tarpit_poll_interval, "250ms", 10, 10 * SEC, "tarpit",
	    "How often the client's connection is probed during the tarpit."),
	P_TIME(tarpit_progress_interval, "10s", 1 * SEC, 5 * MIN, "tarpit",
	    "How often Postfix is told to keep waiting; must stay below its milter_command_timeout."),
	P_ENUM(tarpit_pipelining_action, "fail", pipelining_words, "tarpit",
	    "What a client that talks during the tarpit gets: fail (450 and marked failed) or ignore (logged)."),
	P_INT(tarpit_max_sessions, "500", 0, 100000, "tarpit",
	    "Most tarpits at once; further suspicious clients are greylisted instead."),
	P_TIME(tarpit_failed_max_age, "30d", 1 * HOUR, 3650 * DAY, "tarpit",
	    "How long a client that failed the tarpit is remembered."),
	P_TIME(tarpit_pipelining_grace, "2s", 0, 1 * MIN, "tarpit",
	    "Unread bytes that arrive this soon after the tarpit began are the rest of a "
	    "pipelined batch written in pieces; only later ones are talking out of turn."),
	P_INT(smtpd_process_limit, "0", 0, 100000, "tarpit",
	    "The smtpd processes that take mail through this milter (master.cf maxproc); "
	    "0: ask postconf at start and reload (the smtpd pass or smtp inet service), "
	    "else 100."),
	P_STR(postfix_config_directory, "", "tarpit",
	    "Postfix configuration directory postconf reads for smtpd_process_limit = 0 "
	    "(postconf -c); empty: Postfix's default."),
	P_INT(tarpit_max_share, "50", 0, 100, "tarpit",
	    "Percentage of smtpd_process_limit that tarpits may hold; further suspicious "
	    "clients are greylisted at once, so clean mail always finds an smtpd."),
	/* greylist */
	P_TIME(greylist_delay, "300s", 0, 1 * DAY, "greylist",
	    "A retry of a greylisted triplet counts only after this long."),
	P_INT(greylist_retry_count, "2", 1, 100, "greylist",
	    "Counted retries after which a greylisted triplet passes."),
	P_TIME(greylist_retry_window, "2d", 1 * MIN, 365 * DAY, "greylist",
	    "Time from the first attempt within which the retries must come."),
	P_TIME(greylist_max_age, "30d", 1 * HOUR, 3650 * DAY, "greylist",
	    "Passed triplets and auto-whitelisted clients are forgotten this long after last seen."),
	P_INT(auto_whitelist_clients, "5", 0, 1000000, "greylist",
	    "Passes, at least an hour apart, after which a client is whitelisted; 0 turns this off."),
	P_INT(greylist_ipv4_prefix, "24", 8, 32, "greylist",
	    "IPv4 clients are grouped by this prefix length."),
	P_INT(greylist_ipv6_prefix, "64", 16, 128, "greylist",
	    "IPv6 clients are grouped by this prefix length."),
	P_INT(greylist_rcpt_replies, "5", 0, 1000, "greylist",
	    "Greylisted recipients of one transaction answered 450 at RCPT; later ones are "
	    "recorded and accepted, and the message is deferred once at its end "
	    "(Postfix's smtpd_soft_error_limit is 10)."),
	P_STR(greylist_text, "Greylisted, please try again later", "greylist",
	    "Text of the 450 4.7.1 reply to a greylisted triplet."),
	/* state */
	P_STR(state_directory, TG_LOCALSTATEDIR "/lib/targrey-milter", "state",
	    "Directory of the LMDB state files.", START_ONLY),
	P_SIZE(state_max_size, "1g", 1024 * 1024, LONG_MAX, "state",
	    "Largest size the state map may grow to; new records stop at seven eighths "
	    "of it (logged as map full; mail then passes without greylisting) and the last "
	    "eighth stays free so that expiry and deletions can always empty a full map.", START_ONLY),
	P_TIME(state_expire_interval, "10m", 1 * SEC, 1 * DAY, "state",
	    "How often the background expiry walks the state."),
	P_ENUM(state_corrupt_action, "rebuild", corrupt_words, "state",
	    "What the daemon does at start with a state file it cannot open or walk (damaged, "
	    "or 0 bytes): rebuild moves it aside as data.mdb.corrupt-TIME and starts on a fresh "
	    "store (greylisting state only delays mail); refuse logs the cause and does not start.",
	    START_ONLY),
	/* state in Redis (store_redis.h) */
	P_ENUM(state_backend, "lmdb", backend_words, "state",
	    "Where the state is kept: lmdb (files in state_directory, one host) or redis "
	    "(one Redis server shared by several MX hosts; see the redis_* parameters).",
	    START_ONLY),
	P_STR(redis_server, "127.0.0.1:6379", "state",
	    "The Redis server with state_backend = redis: HOST:PORT, [IPV6]:PORT or unix:PATH "
	    "(unused when redis_sentinels is set).", START_ONLY),
	P_STR(redis_password, "", "state",
	    "Password sent with AUTH on every connection to Redis; empty: no AUTH. "
	    "targrey-milter -n prints it as (hidden), never in clear, and warns at start and "
	    "with -t when the file that sets it is readable by users other than root and the "
	    "daemon's group (keep it mode 0640, group root or the daemon's group).",
	    START_ONLY, SECRET),
	P_STR(redis_username, "", "state",
	    "ACL user name sent with AUTH (Redis 6 and later); empty: the default user.",
	    START_ONLY),
	P_INT(redis_database, "0", 0, 65535, "state",
	    "Redis database number selected on every connection.", START_ONLY),
	P_STR(redis_key_prefix, "tg:", "state",
	    "Prefix of every key this program writes in Redis (at most 100 bytes).", START_ONLY),
	P_TIME(redis_timeout, "500ms", 10, 30 * SEC, "state",
	    "Longest wait for a connection to Redis or for one reply; a decision that "
	    "cannot be made in time accepts the mail (logged).", START_ONLY),
	P_STR(redis_sentinels, "", "state",
	    "Sentinels (HOST:PORT, comma separated) asked for the address of the master "
	    "redis_sentinel_master on every connection; empty: use redis_server.", START_ONLY),
	P_STR(redis_sentinel_master, "mymaster", "state",
	    "Name of the master the sentinels monitor.", START_ONLY),
};

const size_t params_count = sizeof(params_table) / sizeof(params_table[0]);

/* Look up a parameter by name. */
const param_t *
params_find(const char *name)
{
	for (size_t i = 0; i < params_count; i++)
		if (strcmp(params_table[i].name, name) == 0)
			return &params_table[i];
	return NULL;
}

/* Edit distance, for "did you mean"; names are short. */
static size_t
params_distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), row[64], prev, tmp;

	if (lb >= sizeof(row) / sizeof(row[0]) || la >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = prev + (a[i - 1] != b[j - 1]);
			if (row[j] > row[j - 1] + 1)
				row[j] = row[j - 1] + 1;
			if (row[j] > tmp + 1)
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

/* The closest known name, if it is within a third of NAME's length. */
const char *
params_suggest(const char *name)
{
	const char *best = NULL;
	size_t	best_d = strlen(name) / 3 + 1, d;

	for (size_t i = 0; i < params_count; i++) {
		d = params_distance(name, params_table[i].name);
		if (d < best_d || (d == best_d && best == NULL && d <= 2)) {
			best = params_table[i].name;
			best_d = d;
		}
	}
	return best;
}
