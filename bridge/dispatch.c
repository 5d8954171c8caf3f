/*
 * dispatch.c - ringbridge's HTTP server: the libmicrohttpd daemons (one
 * per event loop, see loop.c), their callbacks, and the request handler:
 * framing checks, methods, routes, the bearer token, then the view
 * (views.c), the dashboard (dashboard.c) or the stream (stream_open.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "bridge.h"
#include "http.h"
#include "log.h"

static int g_marker;		/* *req_cls of requests that are not streams */
static int g_first;		/* *req_cls before the first handler call */
static int g_nul_target;	/* the same, for a target with %00 */

struct hdr_count {
	unsigned	host, clen, tenc;
};

static bool
authorized(struct MHD_Connection *conn)
{
	const char *h, *t;

	if (conf.token == NULL)
		return true;
	h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Authorization");
	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0)
		t = h + 7;
	else	/* EventSource cannot set headers. */
		t = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
		    "access_token");
	if (t == NULL)
		return false;
	return ct_equal(t, strlen(t), conf.token, strlen(conf.token));
}

/*
 * Called with the raw request target before libmicrohttpd decodes it in
 * place: a decoded %00 would silently cut the path (or a parameter)
 * short. Its result is the request's first *req_cls.
 */
static void *
uri_seen(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	(void)conn;
	return strstr(uri, "%00") != NULL ? &g_nul_target : &g_first;
}

static enum MHD_Result
count_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct hdr_count *n = cls;

	(void)kind;
	(void)value;
	if (strcasecmp(key, "Host") == 0)
		n->host++;
	else if (strcasecmp(key, "Content-Length") == 0)
		n->clen++;
	else if (strcasecmp(key, "Transfer-Encoding") == 0)
		n->tenc++;
	return MHD_YES;
}

/*
 * Framing that RFC 9112 says to refuse, and that libmicrohttpd 0.9.75
 * accepts: Content-Length with Transfer-Encoding (section 6.1: the shape
 * of request smuggling), repeated Content-Length or Transfer-Encoding,
 * and no or several Host fields in HTTP/1.1 (section 3.2). NULL if fine.
 */
static const char *
framing_error(struct MHD_Connection *conn, const char *version)
{
	struct hdr_count n = { 0 };

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &n);
	if (n.clen > 0 && n.tenc > 0)
		return "both Content-Length and Transfer-Encoding";
	if (n.clen > 1 || n.tenc > 1)
		return "repeated Content-Length or Transfer-Encoding";
	if (n.host > 1)
		return "more than one Host";
	if (n.host == 0 && strcmp(version, MHD_HTTP_VERSION_1_1) == 0)
		return "HTTP/1.1 request without Host";
	return NULL;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	char name[SHMR_NAME_MAX + 2];
	const struct dash_asset *asset;
	struct sbuf b = { 0 };
	struct ring_ent *e;
	enum route rt;
	unsigned status;
	int rc;

	(void)upload_data;
	if (*req_cls == &g_first || *req_cls == &g_nul_target) {
		/*
		 * The headers are in, the body (if any) not yet. A refusal
		 * here closes the connection: what follows on it cannot be
		 * trusted to be a request of its own.
		 */
		const char *why = *req_cls == &g_nul_target ?
		    "NUL byte (%00) in the request target" :
		    framing_error(conn, version);

		*req_cls = &g_marker;
		guard_head_done(&((struct loop *)cls)->guard, conn);
		if (why != NULL)
			return send_msg(conn, 400, true, "%s", why);
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	atomic_fetch_add(&g_requests, 1);
	if (strcmp(method, "OPTIONS") == 0) {
		struct MHD_Response *r = MHD_create_response_from_buffer(0,
		    NULL, MHD_RESPMEM_PERSISTENT);
		enum MHD_Result ret;

		if (r == NULL)
			return MHD_NO;
		add_common_headers(r);
		MHD_add_response_header(r, "Allow", "GET, HEAD, OPTIONS");
		if (conf.cors != NULL) {
			MHD_add_response_header(r,
			    "Access-Control-Allow-Methods",
			    "GET, HEAD, OPTIONS");
			MHD_add_response_header(r,
			    "Access-Control-Allow-Headers",
			    "Authorization, Last-Event-ID");
			MHD_add_response_header(r, "Access-Control-Max-Age",
			    "600");
		}
		ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method %s not allowed", method);
	url = target_path(url);
	/* The dashboard's files are public; its data requests are not. */
	if ((asset = dash_find(url)) != NULL)
		return dash_serve(conn, asset);
	rc = route_parse(url, &rt, name, sizeof(name));
	if (rc == 0 && rt == ROUTE_HEALTHZ)
		return send_error(conn, 200, "ok");
	if (!authorized(conn)) {
		atomic_fetch_add(&g_rejected_auth, 1);
		return send_error(conn, MHD_HTTP_UNAUTHORIZED,
		    "missing or wrong bearer token");
	}
	if (rc == -EINVAL)
		return send_error(conn, 400, "invalid ring name");
	if (rc == -ENAMETOOLONG)
		return send_error(conn, 400, "ring name longer than %d bytes",
		    SHMR_NAME_MAX);
	if (rc != 0)
		return send_error(conn, 404, "no such resource");
	switch (rt) {
	case ROUTE_RINGS:
		view_rings(&b);
		return send_body(conn, 200, "application/json", &b);
	case ROUTE_METRICS:
		view_metrics(&b);
		return send_body(conn, 200, "text/plain; version=0.0.4", &b);
	default:
		break;
	}
	if ((e = ring_find(name)) == NULL || !ring_listed(e))
		return send_error(conn, 404, "ring %s is not served", name);
	if (rt == ROUTE_STREAM)
		return serve_stream(conn, e, strcmp(method, "HEAD") == 0,
		    ((struct loop *)cls)->idx, req_cls);
	/* Stalled: 503 + Retry-After, what is known, at once. */
	status = view_ring(&b, e) != 0 ? MHD_HTTP_SERVICE_UNAVAILABLE : 200;
	sb_printf(&b, "\n");
	return send_body(conn, status, "application/json", &b);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct client *c;

	guard_request_done(&((struct loop *)cls)->guard, conn);
	/* Not a stream: ended before or without the handler's choice. */
	if (*req_cls == NULL || *req_cls == &g_marker ||
	    *req_cls == &g_first || *req_cls == &g_nul_target)
		return;
	c = *req_cls;
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED) {
		atomic_fetch_add(&c->ent->evictions, 1);
		log_info("ring %s: evicted a client that stopped reading "
		    "(at seq %" PRIu64 ")", c->ent->name, c->cur.seq);
	}
	*req_cls = NULL;
}

static void
conn_notify(void *cls, struct MHD_Connection *conn, void **sock_ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	struct loop *lp = cls;
	const union MHD_ConnectionInfo *ci;
	int v;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		guard_close(&lp->guard, sock_ctx);
		return;
	}
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL) {
		guard_open(&lp->guard, conn, -1, sock_ctx);
		return;
	}
	guard_open(&lp->guard, conn, ci->connect_fd, sock_ctx);
	/* Cap what the kernel may hold for a client that stops reading. */
	v = (int)conf.sndbuf;
	if (v > 0)
		setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &v,
		    sizeof(v));
	/* Events are small and latency matters: no Nagle delay. */
	v = 1;
	setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v));
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_debug("libmicrohttpd: %s", line);
}

static enum MHD_Result
accept_ok(void *cls, const struct sockaddr *sa, socklen_t len)
{
	(void)cls;
	(void)len;
	return guard_accept_ok(sa) ? MHD_YES : MHD_NO;
}

/*
 * Start the event loops' daemons on conf.addr. With more than one, each
 * listens on its own SO_REUSEPORT socket of the same port (the first one
 * picks it if the port is 0) and the kernel spreads new connections over
 * them. *port: the port bound. 0 or an exit status.
 */
int
http_start(unsigned *port)
{
	unsigned flags, limit = conf.max_clients + 64;
	bool reuse = conf.reuseport || conf.nloops > 1;

	/* External epoll mode: loop_main() runs it (see request_wake()). */
	flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
	    MHD_USE_TURBO;
	if (conf.addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (conf.tls_cert != NULL)
		flags |= MHD_USE_TLS;
	for (unsigned l = 0; l < conf.nloops; l++) {
		struct loop *lp = &g_loops[l];
		const union MHD_DaemonInfo *di;

		lp->guard.limit = limit;
		lp->d = MHD_start_daemon(flags, 0, accept_ok, NULL, handler,
		    lp, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&conf.addr,
		    /*
		     * Only when sharing the port: the option given as 0
		     * also drops libmicrohttpd's default SO_REUSEADDR, and a
		     * restarted bridge then cannot bind while its old
		     * connections are in TIME_WAIT.
		     */
		    reuse ? MHD_OPTION_LISTENING_ADDRESS_REUSE :
		    MHD_OPTION_LISTEN_BACKLOG_SIZE, reuse ? 1u : 4096u,
		    MHD_OPTION_CONNECTION_LIMIT, limit,
		    MHD_OPTION_CONNECTION_TIMEOUT, conf.write_timeout,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		    (size_t)conf.conn_memory,
		    MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u,
		    MHD_OPTION_NOTIFY_COMPLETED, completed, lp,
		    MHD_OPTION_URI_LOG_CALLBACK, uri_seen, NULL,
		    MHD_OPTION_NOTIFY_CONNECTION, conn_notify, lp,
		    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		    conf.tls_cert != NULL ? MHD_OPTION_HTTPS_MEM_CERT :
		    MHD_OPTION_END, conf.tls_cert,
		    MHD_OPTION_HTTPS_MEM_KEY, conf.tls_key,
		    MHD_OPTION_END);
		if (lp->d == NULL) {
			log_err("cannot listen on %s (address in use, bad TLS "
			    "files, or no permission)", conf.listen);
			atomic_store(&g_stopping, true);
			return EXIT_SYS;
		}
		if (l > 0)
			continue;
		di = MHD_get_daemon_info(lp->d, MHD_DAEMON_INFO_BIND_PORT);
		*port = di != NULL ? di->port : 0;
		/* The others bind the port the first one got. */
		if (conf.addr.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&conf.addr)->sin6_port =
			    htons((uint16_t)*port);
		else
			((struct sockaddr_in *)&conf.addr)->sin_port =
			    htons((uint16_t)*port);
	}
	return 0;
}
