/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	http_metrics - the Prometheus endpoint (libmicrohttpd)
 * DESCRIPTION
 *	See http_metrics.h. The exposition is written into memory with
 *	open_memstream() on libmicrohttpd's thread and handed over to it to
 *	free; milter threads only ever touch the atomics in metrics.c.
 * DIAGNOSTICS
 *	"metrics: cannot listen on ADDR: WHY" at start; a scrape that runs
 *	out of memory gets 500. http_metrics_check() (-t) says why in its
 *	buffer: a malformed value, or the bind error.
 */
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "http_metrics.h"
#include "log.h"
#include "metrics.h"

#define HTTP_METRICS_CONNECTIONS	8	/* served at once */
#define HTTP_METRICS_TIMEOUT		10	/* seconds per idle connection */
#define HTTP_METRICS_TYPE		"text/plain; version=0.0.4; charset=utf-8"

static struct MHD_Daemon *http_metrics_daemon;

/* Queue a short plain-text answer with STATUS. */
static enum MHD_Result
http_metrics_plain(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text),
	    (void *) text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* One request: GET /metrics, or an error. */
static enum MHD_Result
http_metrics_answer(void *cls, struct MHD_Connection *c, const char *url,
		    const char *method, const char *version, const char *upload,
		    size_t *upload_size, void **con_cls)
{
	struct MHD_Response *r;
	enum MHD_Result rc;
	char   *text = NULL;
	size_t	len = 0;
	FILE   *out;

	(void) cls, (void) version, (void) upload, (void) upload_size, (void) con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return http_metrics_plain(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /metrics only\n");
	if (strcmp(url, "/metrics") != 0)
		return http_metrics_plain(c, MHD_HTTP_NOT_FOUND, "see /metrics\n");
	if ((out = open_memstream(&text, &len)) == NULL)
		return http_metrics_plain(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	if ((metrics_write(out) | fclose(out)) != 0) {
		free(text);
		return http_metrics_plain(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	if ((r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE)) == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, HTTP_METRICS_TYPE);
	rc = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

/* Whether PORT is a decimal port number from 1 to 65535. */
static int
http_metrics_port_ok(const char *port)
{
	long	n = 0;

	if (*port == 0 || strlen(port) > 5 || port[strspn(port, "0123456789")] != 0)
		return 0;
	n = strtol(port, NULL, 10);
	return n >= 1 && n <= 65535;
}

/* Parse "ADDR:PORT" or "[ADDR]:PORT" (numeric) into *RES; 0 or an EAI code. */
static int
http_metrics_parse(const char *listen, struct addrinfo **res)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
	char	host[256];
	const char *colon = strrchr(listen, ':');
	size_t	n;

	if (colon == NULL || colon == listen || colon[1] == 0)
		return EAI_NONAME;
	if (!http_metrics_port_ok(colon + 1))
		return EAI_SERVICE;
	n = (size_t) (colon - listen);
	if (listen[0] == '[' && colon[-1] == ']')
		listen++, n -= 2;
	if (n == 0 || n >= sizeof(host))
		return EAI_NONAME;
	memcpy(host, listen, n);
	host[n] = 0;
	return getaddrinfo(host, colon + 1, &hints, res);
}

/* The reason LISTEN does not parse (EAI code RC), for the messages. */
static void
http_metrics_parse_why(const char *listen, int rc, char *why, size_t len)
{
	if (strrchr(listen, ':') == NULL || strrchr(listen, ':')[1] == 0)
		snprintf(why, len, "\"%s\": no port (want ADDRESS:PORT or [IPV6]:PORT)", listen);
	else if (rc == EAI_SERVICE)
		snprintf(why, len, "\"%s\": the port is not a number from 1 to 65535", listen);
	else
		snprintf(why, len, "\"%s\": %s (want a numeric ADDRESS:PORT or [IPV6]:PORT)",
		    listen, gai_strerror(rc));
}

int
http_metrics_check(const char *listen, char *why, size_t len)
{
	struct addrinfo *ai = NULL;
	int	rc, fd, on = 1, err = 0;

	if (listen == NULL || *listen == 0)
		return 0;
	if ((rc = http_metrics_parse(listen, &ai)) != 0) {
		http_metrics_parse_why(listen, rc, why, len);
		return -1;
	}
	/* As libmicrohttpd binds it (SO_REUSEADDR), then let it go at once. */
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	    || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0
	    || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	if (err == 0)
		return 0;
	snprintf(why, len, "cannot bind %s: %s%s", listen, strerror(err),
	    err == EADDRNOTAVAIL ? " (not an address of this host)" : "");
	return -1;
}

int
http_metrics_start(const char *listen, metrics_collect_fn collect)
{
	struct addrinfo *ai = NULL;
	int	rc;

	if (listen == NULL || *listen == 0 || http_metrics_daemon != NULL)
		return 0;
	if ((rc = http_metrics_parse(listen, &ai)) != 0) {
		char	why[512];

		http_metrics_parse_why(listen, rc, why, sizeof(why));
		log_error("metrics: cannot listen on %s", why);
		return -1;
	}
	metrics_set_collector(collect);		/* before the thread starts */
	http_metrics_daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
	    http_metrics_answer, NULL,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned) HTTP_METRICS_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) HTTP_METRICS_TIMEOUT,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (http_metrics_daemon == NULL) {
		log_error("metrics: cannot listen on %s: address in use or not local", listen);
		return -1;
	}
	metrics_set_enabled(1);
	log_info("metrics: serving http://%s/metrics", listen);
	return 0;
}

void
http_metrics_stop(void)
{
	if (http_metrics_daemon != NULL)
		MHD_stop_daemon(http_metrics_daemon);
	http_metrics_daemon = NULL;
}
