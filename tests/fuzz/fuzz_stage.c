/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	fuzz_stage - libFuzzer harness for sequences of milter stages
 * DESCRIPTION
 *	The input is a list of lines, each one event as milter.c would see
 *	it: "C<address> <name>" connect (a new session), "H<name>" HELO,
 *	"M<sender>" MAIL FROM, "R<recipient>" RCPT TO, "D" DATA, "E" end of
 *	message, "A" abort; other lines are ignored. Events run in any
 *	order, as libmilter may deliver them after a broken session. The
 *	runtime has tarpit_delay 0, no reverse lookups and SPF skipped for
 *	every address (no DNS traffic); the store lives in a new directory
 *	under $TMPDIR (t_fuzz_smoke.sh removes it). Each session references the
 *	published runtime, as milter.c's do.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include "fuzz_common.h"
#include "config.h"
#include "runtime.h"
#include "stage.h"
#include "store.h"

#define FUZZ_STAGE_EVENTS	64

static const char *const fuzz_stage_params[][2] = {
	{"tarpit_delay", "0"},
	{"s25r_reverse_lookup", "no"},
	{"spf_skip_addresses", "0.0.0.0/0, ::/0"},
	{"dns_servers", "127.0.0.1:9"},
	{"trusted_networks", "127.0.0.0/8"},
};

/* Build the runtime and the store once. */
static runtime_t *
fuzz_stage_runtime(void)
{
	static runtime_t *rt;
	static char dir[256];
	const char *tmp = getenv("TMPDIR");
	config_t *cfg;
	size_t	i;

	if (rt != NULL)
		return rt;
	fuzz_quiet();
	if ((cfg = config_load(NULL, 1, stderr)) == NULL)
		abort();
	for (i = 0; i < sizeof(fuzz_stage_params) / sizeof(fuzz_stage_params[0]); i++)
		if (config_set(cfg, fuzz_stage_params[i][0], fuzz_stage_params[i][1], stderr) < 0)
			abort();
	snprintf(dir, sizeof(dir), "%s/tg-fuzz-store-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if ((rt = runtime_build(cfg, stderr)) == NULL || mkdtemp(dir) == NULL)
		abort();
	runtime_publish(rt);	/* holds the build's reference for good */
	runtime_set_store(store_open(dir, 64 << 20));
	return rt;
}

/* Progress callback of the tarpit: the client is still there. */
static int
fuzz_stage_progress(void *arg)
{
	(void)arg;
	return 0;
}

/* Connect: a new session for "ADDRESS NAME". */
static session_t *
fuzz_stage_connect(runtime_t *rt, char *arg)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(2525)};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(2525)};
	char	*name = strchr(arg, ' ');
	session_t *s;
	addr_t	a;

	if (name != NULL)
		*name++ = '\0';
	if ((s = session_new(runtime_acquire())) == NULL) {
		runtime_release(rt);
		return NULL;
	}
	if (addr_parse(arg, &a) < 0)
		return s;
	if (a.family == AF_INET)
		memcpy(&sin.sin_addr, a.bytes, 4);
	else
		memcpy(&sin6.sin6_addr, a.bytes, 16);
	if (session_set_client(s, a.family == AF_INET ? (struct sockaddr *)&sin
	    : (struct sockaddr *)&sin6, name != NULL ? name : "unknown") < 0)
		return s;
	if (!netlist_contains(rt->trusted, rt->trusted_count, &s->client))
		stage_connect(s, name != NULL && *name != '[' ? "OK" : "FAIL");
	return s;
}

/* End of message: headers, summary, new transaction. */
static void
fuzz_stage_eom(session_t *s)
{
	spf_header_t hdrs[SPF_HEADERS_MAX];
	char	extra[512];

	stage_headers(s, hdrs);
	s->messages++;
	stage_summary(s, extra, sizeof(extra));
	session_reset_transaction(s);
}

/* Run one event line on S (S may be NULL before the first connect). */
static void
fuzz_stage_event(session_t *s, char *line)
{
	stage_waiter_t w = {fuzz_stage_progress, NULL};
	stage_reply_t r = {0};

	switch (line[0]) {
	case 'H':
		session_set_text(&s->helo, line + 1);
		break;
	case 'M':
		session_reset_transaction(s);
		session_set_text(&s->from, line + 1);
		stage_mail(s, &r);
		break;
	case 'R':
		if (s->rcpt_count++ == 0)
			session_set_text(&s->rcpt, line + 1);
		stage_rcpt(s, line + 1, &w, &r);
		break;
	case 'D':
		stage_data(s);
		break;
	case 'E':
		fuzz_stage_eom(s);
		break;
	case 'A':
		session_reset_transaction(s);
		break;
	}
}

/* One input: a list of event lines. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	runtime_t *rt = fuzz_stage_runtime();
	session_t *s = NULL;
	char	*text, *line, *next;
	int	n = 0;

	if ((text = fuzz_cstring(data, size)) == NULL)
		return 0;
	for (line = text; line != NULL && n < FUZZ_STAGE_EVENTS; line = next, n++) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == 'C') {
			session_free(s);
			s = fuzz_stage_connect(rt, line + 1);
		} else if (s != NULL && s->skip_reason == NULL) {
			fuzz_stage_event(s, line);
		}
	}
	session_free(s);
	free(text);
	return 0;
}
