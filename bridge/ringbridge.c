/*
 * ringbridge - serve shmring rings to HTTP clients as long-lived streams
 * (Server-Sent Events, NDJSON or length-prefixed raw frames).
 *
 * Every ring is mapped once, read-only; an HTTP client is a cursor into
 * that mapping plus small fixed buffers (stream.c). Idle streams are
 * suspended connections; one pump thread per ring blocks in
 * shmr_cursor_wait() and resumes the waiting clients of its ring once per
 * wake-up, however many messages arrived. The main thread handles
 * signals and, once a second, heartbeats, message rates and the --all
 * scan. See ringbridge(8).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "bridge.h"
#include "../libshm/chaos.h"	/* CHAOS(): empty unless SAN=chaos */
#include "cli.h"
#include "enc.h"
#include "log.h"

static int g_marker;		/* *req_cls of requests that are not streams */
static int g_first;		/* *req_cls before the first handler call */
static int g_nul_target;	/* the same, for a target with %00 */

/* ---- response helpers -------------------------------------------------- */

static void
add_common_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	if (conf.cors != NULL)
		MHD_add_response_header(r, "Access-Control-Allow-Origin",
		    conf.cors);
}

/*
 * Queue a response. close: "Connection: close", after which libmicrohttpd
 * closes the connection; for 503 always, so that a refused client gives
 * its connection back instead of holding it idle.
 */
static enum MHD_Result
respond(struct MHD_Connection *conn, unsigned status, const char *ctype,
    char *body, size_t len, bool must_free, bool close)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, must_free ?
	    MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
	if (r == NULL) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", ctype);
	add_common_headers(r);
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE) {
		MHD_add_response_header(r, "Retry-After", "2");
		close = true;
	}
	if (close)
		MHD_add_response_header(r, "Connection", "close");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, "Allow", "GET, HEAD, OPTIONS");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate",
		    "Bearer realm=\"ringbridge\"");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
send_text(struct MHD_Connection *conn, unsigned status, const char *ctype,
    char *body, size_t len, bool must_free)
{
	return respond(conn, status, ctype, body, len, must_free, false);
}

static enum MHD_Result send_msg(struct MHD_Connection *conn,
    unsigned status, bool close, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum MHD_Result
send_msg(struct MHD_Connection *conn, unsigned status, bool close,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	msg[n++] = '\n';
	msg[n] = '\0';
	return respond(conn, status, "text/plain; charset=utf-8", msg,
	    (size_t)n, false, close);
}

/* A plain-text error (or "ok"); the connection stays open unless 503. */
#define send_error(conn, status, ...) \
	send_msg(conn, status, false, __VA_ARGS__)

/* Send a view's body (views.c), or a 500 if it ran out of memory. */
static enum MHD_Result
send_body(struct MHD_Connection *conn, unsigned status, const char *ctype,
    struct sbuf *b)
{
	if (b->oom) {
		free(b->p);
		return send_error(conn, 500, "out of memory");
	}
	return respond(conn, status, ctype, b->p, b->len, true, false);
}

/* ---- streams ----------------------------------------------------------- */

static void
client_free(void *cls)
{
	struct client *c = cls;
	struct ring_ent *e = c->ent;

	pthread_mutex_lock(&e->lock);
	if (c->waiting) {
		/* Only reachable if the daemon closed it while suspended. */
		if (c->wprev != NULL)
			c->wprev->wnext = c->wnext;
		else
			e->lp[c->loop].waiters = c->wnext;
		if (c->wnext != NULL)
			c->wnext->wprev = c->wprev;
	}
	pthread_mutex_unlock(&e->lock);
	mapref_put(c->map);
	atomic_fetch_sub(&e->lp[c->loop].streams, 1);
	atomic_fetch_sub(&e->clients, 1);
	atomic_fetch_sub(&g_streams, 1);
	free(c);
}

/* Ends the body at once: the answer to a HEAD request. */
static ssize_t
no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	(void)pos;
	(void)buf;
	(void)max;
	return MHD_CONTENT_READER_END_OF_STREAM;
}

/*
 * The response of a stream. reader NULL: for HEAD, the same header
 * fields and no body at all. libmicrohttpd 0.9.75 ends a chunked answer
 * to HEAD with the last chunk ("0\r\n\r\n", which a keep-alive client
 * then reads as the start of the next response), so a HEAD answer is
 * not chunked and closes the connection instead.
 */
static struct MHD_Response *
stream_response(struct client *c, MHD_ContentReaderCallback reader)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024,
	    reader != NULL ? reader : no_body, c,
	    reader != NULL ? client_free : NULL);
	if (r == NULL)
		return NULL;
	if (reader == NULL)
		MHD_set_response_options(r, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT,
		    MHD_RO_END);
	MHD_add_response_header(r, "Content-Type", c->fmt->ctype);
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	add_common_headers(r);
	return r;
}

static enum MHD_Result
serve_stream(struct MHD_Connection *conn, struct ring_ent *e, bool head,
    unsigned loop, void **req_cls)
{
	const char *fmt, *encs, *ovr, *from_s, *lei;
	struct MHD_Response *r;
	struct client *c;
	struct mapref *m;
	enum shmr_from from = SHMR_FROM_END;
	uint64_t seq = 0, epoch = 0, restart_from = 0;
	enum MHD_Result ret;
	int rc;

	fmt = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
	    "format");
	encs = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
	    "encoding");
	ovr = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
	    "on_overrun");
	from_s = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
	    "from");
	lei = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Last-Event-ID");
	if (lei == NULL || *lei == '\0')
		lei = MHD_lookup_connection_value(conn,
		    MHD_GET_ARGUMENT_KIND, "last_event_id");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return send_error(conn, 500, "out of memory");
	c->ent = e;
	c->conn = conn;
	c->loop = (uint8_t)loop;
	if (fmt == NULL) {
		/* Content negotiation; EventSource asks for SSE. */
		c->fmt = accept_format(MHD_lookup_connection_value(conn,
		    MHD_HEADER_KIND, "Accept"));
		if (c->fmt == NULL)
			c->fmt = stream_formats[0];
	} else if ((c->fmt = format_find(fmt)) == NULL) {
		char names[128];

		free(c);
		format_names(names, sizeof(names));
		return send_error(conn, 400, "bad format: use %s", names);
	}
	if (encs == NULL || strcmp(encs, "auto") == 0)
		c->enc = ENC_AUTO;
	else if (strcmp(encs, "base64") == 0)
		c->enc = ENC_BASE64;
	else {
		free(c);
		return send_error(conn, 400, "bad encoding: use auto or "
		    "base64");
	}
	if (ovr == NULL || strcmp(ovr, "close") == 0)
		c->skip = false;
	else if (strcmp(ovr, "skip") == 0)
		c->skip = true;
	else {
		free(c);
		return send_error(conn, 400, "bad on_overrun: use close or "
		    "skip");
	}
	if (lei != NULL && *lei != '\0') {
		if (parse_event_id(lei, &epoch, &seq) != 0 ||
		    seq == UINT64_MAX) {
			free(c);
			return send_error(conn, 400, "bad last event id: "
			    "expected EPOCH:SEQ");
		}
		from = SHMR_FROM_SEQ;
		seq++;
	} else if (from_s != NULL && (parse_from(from_s, &from, &seq) != 0 ||
	    seq == UINT64_MAX)) {
		/* UINT64_MAX: no message can have it (libshm would wrap). */
		free(c);
		return send_error(conn, 400, "bad from: use oldest, latest, "
		    "end or a sequence number");
	}
	if ((m = ring_current_map(e)) == NULL) {
		free(c);
		return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "ring %s is not available yet", e->name);
	}
	c->map = m;
	if (epoch != 0 && epoch != m->epoch) {
		if (epoch > m->epoch) {
			mapref_put(m);
			free(c);
			return send_error(conn, 400, "bad last event id: ring "
			    "%s has no epoch %" PRIu64 " yet", e->name, epoch);
		}
		/* An older epoch: say so, then start the new one. */
		restart_from = epoch;
		from = SHMR_FROM_OLDEST;
	}
	/*
	 * The producer stalled mid-update: the stream starts all the same
	 * and sets its cursor once the header reads sound (stream.c), so
	 * that a client (an EventSource gives up on any status but 200) is
	 * not turned away by a pause of its producer.
	 */
	if ((rc = atomic_load(&e->stalled)) == 0)
		rc = shmr_cursor_init(m->ring, &c->cur, from, seq);
	if (ring_transient(rc)) {
		ring_stall_set(e, rc);
		c->init_pending = c->stall_wait = true;
		c->init_from = (uint8_t)from;
		c->init_seq = seq;
		rc = 0;
	}
	/*
	 * A seek lapped on every try starts at the oldest message, which may
	 * be before seq: skip up to seq (the client has those already).
	 */
	if (from == SHMR_FROM_SEQ)
		c->from_seq = seq;
	if (rc != 0) {
		struct shmr_info in = { 0 };

		(void)ring_info_quick(e, m, &in);
		mapref_put(m);
		free(c);
		if (rc == -ERANGE)
			return send_error(conn, 400, "sequence %" PRIu64
			    " is beyond the next message of ring %s (%" PRIu64
			    ")", seq, e->name, in.next_seq);
		return send_error(conn, 500, "ring %s: %s", e->name,
		    shmr_strerror(rc));
	}
	{
		/*
		 * The producer closed the ring and nothing is left for this
		 * client: a 200 with an immediate eof would make an
		 * EventSource reconnect every 2 s forever; any other status
		 * makes it stop. Removed: 503 as for a ring not there (yet);
		 * still there: 204, nothing more will ever come.
		 */
		struct shmr_info in;

		if (!c->init_pending && ring_info_quick(e, m, &in) == 0 &&
		    in.state == SHMR_STATE_CLOSED &&
		    c->cur.seq >= in.next_seq) {
			bool removed = shmr_ring_stale(m->ring) == 1;

			mapref_put(m);
			free(c);
			if (removed)
				return send_error(conn,
				    MHD_HTTP_SERVICE_UNAVAILABLE, "ring %s was "
				    "removed by its producer", e->name);
			return send_text(conn, MHD_HTTP_NO_CONTENT,
			    "text/plain; charset=utf-8", NULL, 0, false);
		}
	}
	if (head) {
		/* What a GET would get, without the stream. */
		mapref_put(m);
		r = stream_response(c, NULL);
		free(c);
		if (r == NULL)
			return MHD_NO;
		ret = MHD_queue_response(conn, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (atomic_fetch_add(&g_streams, 1) >= conf.max_clients) {
		atomic_fetch_sub(&g_streams, 1);
		atomic_fetch_add(&g_rejected_limit, 1);
		mapref_put(m);
		free(c);
		return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "too many streams (limit %u)", conf.max_clients);
	}
	atomic_fetch_add(&e->lp[c->loop].streams, 1);
	atomic_fetch_add(&e->clients, 1);
	atomic_fetch_add(&e->clients_total, 1);
	c->hb_gen = atomic_load(&g_hb_gen);
	stream_start(c);
	c->restart_from = restart_from;
	if (restart_from != 0 && !c->init_pending)
		stream_ctl_restart(c, restart_from);
	if ((r = stream_response(c, stream_reader)) == NULL) {
		client_free(c);
		return MHD_NO;
	}
	*req_cls = c;
	ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- request dispatch -------------------------------------------------- */

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

struct hdr_count {
	unsigned	host, clen, tenc;
};

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

/* ---- setup ------------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ringbridge [-ahvV] [-l addr:port] [-r name]... "
	    "[--max-clients n]\n"
	    "                  [--per-ip n] [--heartbeat sec] "
	    "[--coalesce ms|auto]\n"
	    "                  [--write-timeout sec] [--header-timeout sec] "
	    "[--threads n]\n"
	    "                  [--slow-reserve n] [--slow-per-ip n]\n"
	    "                  [--sndbuf bytes] [--conn-memory bytes] "
	    "[--reuseport]\n"
	    "                  [--token-file path] [--tls-cert path "
	    "--tls-key path]\n"
	    "                  [--cors-origin origin] "
	    "[--trust-any-owner]\n");
}

static void
help(void)
{
	usage(stdout);
	printf("\nServe shmring rings as HTTP streams (SSE, NDJSON, raw).\n\n"
	    "  -l, --listen ADDR:PORT   address to listen on "
	    "(127.0.0.1:8080; port 0 picks one)\n"
	    "  -r, --ring NAME          serve ring NAME (repeatable)\n"
	    "  -a, --all                serve every ring, rescanned "
	    "every 2 s\n"
	    "      --max-clients N      concurrent streams (10000)\n"
	    "      --per-ip N           connections per client address "
	    "(0: no limit)\n"
	    "      --heartbeat SEC      comment on idle streams (15)\n"
	    "      --coalesce MS|auto   write to each client at most once "
	    "per MS (auto:\n"
	    "                           0 up to 100 clients of a ring on "
	    "a loop, then 24 us\n"
	    "                           per client, at most 12 ms)\n"
	    "      --write-timeout SEC  close clients without write "
	    "progress (30)\n"
	    "      --header-timeout SEC close connections without a request "
	    "head (5)\n"
	    "      --slow-reserve N     free slots per event loop kept by "
	    "cutting slow heads (16)\n"
	    "      --slow-per-ip N      slow heads per address before its "
	    "oldest are cut (16)\n"
	    "      --threads N          event loops (0: one per CPU, the "
	    "default)\n"
	    "      --sndbuf BYTES       SO_SNDBUF per connection (64K; 0: "
	    "kernel default)\n"
	    "      --conn-memory BYTES  libmicrohttpd pool per connection "
	    "(8K)\n"
	    "      --reuseport          SO_REUSEPORT: share the port with "
	    "other bridges\n"
	    "      --token-file PATH    require this bearer token\n"
	    "      --tls-cert PATH      serve HTTPS with this certificate "
	    "(PEM)\n"
	    "      --tls-key PATH       and this private key (PEM)\n"
	    "      --cors-origin ORIGIN send Access-Control-Allow-Origin\n"
	    "      --trust-any-owner    accept rings owned by other users\n"
	    "  -v, --verbose            more log output (repeatable)\n"
	    "  -h, --help               this help\n"
	    "  -V, --version            print the version\n");
}

static char *
read_small_file(const char *path, const char *what)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_err("%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || st.st_size > (1 << 20)) {
		log_err("%s %s: not a small regular file", what, path);
		close(fd);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		log_err("%s %s: %s", what, path, strerror(errno));
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static int
parse_listen(const char *s)
{
	struct addrinfo hints = { 0 }, *res;
	char host[256];
	const char *colon, *port, *h;
	size_t hl;
	int rc;

	colon = strrchr(s, ':');
	if (colon == NULL) {
		h = "127.0.0.1";
		port = s;
		hl = strlen(h);
	} else {
		h = s;
		hl = (size_t)(colon - s);
		port = colon + 1;
		if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
			h = s + 1;
			hl -= 2;
		}
	}
	if (hl == 0 || hl >= sizeof(host) || *port == '\0')
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return -EINVAL;
	memcpy(&conf.addr, res->ai_addr, res->ai_addrlen);
	conf.addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static unsigned
parse_uint_opt(const char *name, const char *s, uint64_t min, uint64_t max,
    bool size)
{
	const char *why = NULL;
	uint64_t v;
	int rc;

	rc = size ? cli_parse_size(s, min, max, &v, &why) :
	    cli_parse_u64(s, min, max, &v, &why);
	if (rc != 0) {
		fprintf(stderr, "ringbridge: --%s %s: %s\n", name, s,
		    why != NULL ? why : "invalid");
		exit(EXIT_USAGE);
	}
	return (unsigned)v;
}

/* Raise RLIMIT_NOFILE for the stream limit; lower the limit if we can't. */
static void
raise_nofile(void)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)conf.max_clients + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want <= rl.rlim_max ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < want) {
		unsigned lim = rl.rlim_cur > 512 ?
		    (unsigned)(rl.rlim_cur - 256) : 256;

		log_warn("RLIMIT_NOFILE is %llu: serving at most %u streams "
		    "instead of %u", (unsigned long long)rl.rlim_cur, lim,
		    conf.max_clients);
		conf.max_clients = lim;
	}
}

/*
 * Only a ring's owner (or root) can truncate it under our read-only
 * mapping, and then the next access to a lost page raises SIGBUS. There
 * is no safe way to unwind out of libmicrohttpd's loop, so say what
 * happened and stop with a system error instead of dumping core: clients
 * reconnect (to this bridge once restarted, or to another one), and a
 * truncated ring is refused at open (its size no longer matches).
 */
static void
on_sigbus(int sig)
{
	static const char msg[] = "ringbridge: error: SIGBUS: a ring was "
	    "truncated under its mapping by its owner; exiting\n";

	(void)sig;
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(111);
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
static int
start_loops(unsigned *port)
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

		lp->idx = (uint8_t)l;
		lp->guard.limit = limit;
		if ((lp->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) <
		    0) {
			log_err("eventfd: %s", strerror(errno));
			return EXIT_SYSTEM;
		}
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
			return EXIT_SYSTEM;
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

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "ring", required_argument, NULL, 'r' },
		{ "all", no_argument, NULL, 'a' },
		{ "max-clients", required_argument, NULL, 1 },
		{ "per-ip", required_argument, NULL, 2 },
		{ "heartbeat", required_argument, NULL, 3 },
		{ "coalesce", required_argument, NULL, 14 },
		{ "write-timeout", required_argument, NULL, 4 },
		{ "sndbuf", required_argument, NULL, 5 },
		{ "conn-memory", required_argument, NULL, 6 },
		{ "reuseport", no_argument, NULL, 8 },
		{ "threads", required_argument, NULL, 15 },
		{ "header-timeout", required_argument, NULL, 16 },
		{ "slow-reserve", required_argument, NULL, 17 },
		{ "slow-per-ip", required_argument, NULL, 18 },
		{ "token-file", required_argument, NULL, 9 },
		{ "tls-cert", required_argument, NULL, 10 },
		{ "tls-key", required_argument, NULL, 11 },
		{ "cors-origin", required_argument, NULL, 12 },
		{ "trust-any-owner", no_argument, NULL, 13 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *rings[256], *token_file = NULL, *cert = NULL, *key = NULL;
	size_t nrings = 0;
	int ch, rc, verbose = 0;
	unsigned port = 0;
	sigset_t set;
	siginfo_t si;
	struct timespec tick = { 1, 0 };
	double last_rate, last_hb, last_scan, now;

	while ((ch = getopt_long(argc, argv, "l:r:avhV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'l':
			conf.listen = optarg;
			break;
		case 'r':
			if (shmr_name_valid(optarg) != 0) {
				fprintf(stderr, "ringbridge: --ring %s: "
				    "invalid ring name\n", optarg);
				return EXIT_USAGE;
			}
			if (nrings == sizeof(rings) / sizeof(rings[0])) {
				fprintf(stderr, "ringbridge: at most %zu "
				    "--ring options\n", nrings);
				return EXIT_USAGE;
			}
			rings[nrings++] = optarg;
			break;
		case 'a':
			conf.all = true;
			break;
		case 1:
			conf.max_clients = parse_uint_opt("max-clients", optarg,
			    1, 1000000, false);
			break;
		case 2:
			conf.per_ip = parse_uint_opt("per-ip", optarg, 0,
			    1000000, false);
			break;
		case 3:
			conf.heartbeat = parse_uint_opt("heartbeat", optarg, 1,
			    3600, false);
			break;
		case 14:
			conf.coalesce_ms = strcmp(optarg, "auto") == 0 ?
			    COALESCE_AUTO : (int)parse_uint_opt("coalesce",
			    optarg, 0, 1000, false);
			break;
		case 4:
			conf.write_timeout = parse_uint_opt("write-timeout",
			    optarg, 1, 86400, false);
			break;
		case 5:
			conf.sndbuf = parse_uint_opt("sndbuf", optarg, 0,
			    64 << 20, true);
			break;
		case 6:
			conf.conn_memory = parse_uint_opt("conn-memory", optarg,
			    4096, 1 << 20, true);
			break;
		case 8:
			conf.reuseport = true;
			break;
		case 15:
			conf.nloops = parse_uint_opt("threads", optarg, 0,
			    LOOPS_MAX, false);
			break;
		case 16:
			g_header_timeout = parse_uint_opt("header-timeout",
			    optarg, 1, 3600, false);
			break;
		case 17:
			g_slow_reserve = parse_uint_opt("slow-reserve", optarg,
			    0, 1000000, false);
			break;
		case 18:
			g_slow_per_ip = parse_uint_opt("slow-per-ip", optarg,
			    1, 1000000, false);
			break;
		case 9:
			token_file = optarg;
			break;
		case 10:
			cert = optarg;
			break;
		case 11:
			key = optarg;
			break;
		case 12:
			conf.cors = optarg;
			break;
		case 13:
			conf.trust_any_owner = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			help();
			return 0;
		case 'V':
			printf("ringbridge %d.%d (libshm %s, libmicrohttpd "
			    "%s)\n", SHMR_VERSION_MAJOR, SHMR_VERSION_MINOR,
			    shmr_version(), MHD_get_version());
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ringbridge: unexpected argument %s\n",
		    argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (nrings == 0 && !conf.all) {
		fprintf(stderr, "ringbridge: name rings with --ring or use "
		    "--all\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((cert == NULL) != (key == NULL)) {
		fprintf(stderr, "ringbridge: --tls-cert and --tls-key go "
		    "together\n");
		return EXIT_USAGE;
	}
	if (parse_listen(conf.listen) != 0) {
		fprintf(stderr, "ringbridge: --listen %s: expected ADDR:PORT\n",
		    conf.listen);
		return EXIT_USAGE;
	}
	log_init("ringbridge", verbose);
	if (conf.nloops == 0)
		conf.nloops = loops_cpus();
	g_per_ip = conf.per_ip;
	if (token_file != NULL) {
		size_t n;

		if ((conf.token = read_small_file(token_file, "token file")) ==
		    NULL)
			return EXIT_SYSTEM;
		n = strlen(conf.token);
		while (n > 0 && (conf.token[n - 1] == '\n' ||
		    conf.token[n - 1] == '\r' || conf.token[n - 1] == ' '))
			conf.token[--n] = '\0';
		if (n == 0) {
			log_err("token file %s is empty", token_file);
			return EXIT_SYSTEM;
		}
	}
	if (cert != NULL && ((conf.tls_cert = read_small_file(cert,
	    "certificate")) == NULL || (conf.tls_key = read_small_file(key,
	    "key")) == NULL))
		return EXIT_SYSTEM;
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	{
		struct sigaction sa = { .sa_handler = on_sigbus };

		sigaction(SIGBUS, &sa, NULL);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Threads inherit the mask: only sigtimedwait() below sees them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	for (size_t i = 0; i < nrings; i++)
		if (ring_add(rings[i], true) != 0)
			return EXIT_SYSTEM;
	if (conf.all)
		rings_scan();
	if ((rc = start_loops(&port)) != 0)
		return rc;
	{
		char host[INET6_ADDRSTRLEN] = "?";

		if (conf.addr.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)
			    &conf.addr)->sin6_addr, host, sizeof(host));
		else
			inet_ntop(AF_INET, &((struct sockaddr_in *)
			    &conf.addr)->sin_addr, host, sizeof(host));
		printf("ringbridge: listening on http%s://%s%s%s:%u\n",
		    conf.tls_cert != NULL ? "s" : "",
		    conf.addr.ss_family == AF_INET6 ? "[" : "", host,
		    conf.addr.ss_family == AF_INET6 ? "]" : "", port);
		fflush(stdout);
	}
	if (loops_run() != 0)
		return EXIT_SYSTEM;
	last_rate = last_hb = last_scan = now_mono();
	for (;;) {
		int sig = sigtimedwait(&set, &si, &tick);

		if (sig == SIGTERM || sig == SIGINT)
			break;
		now = now_mono();
		if (now - last_hb >= conf.heartbeat) {
			struct ring_ent *e;

			atomic_fetch_add(&g_hb_gen, 1);
			for (e = atomic_load(&g_rings); e != NULL;
			    e = e->next)
				request_wake(e);
			last_hb = now;
		}
		if (now - last_rate >= 1.0) {
			rings_update_rates(now - last_rate);
			last_rate = now;
		}
		if (conf.all && now - last_scan >= 2.0) {
			rings_scan();
			last_scan = now;
		}
	}
	log_info("shutting down: ending %" PRIu64 " streams",
	    (uint64_t)atomic_load(&g_streams));
	loops_shutdown();
	rings_free();
	free(conf.token);
	free(conf.tls_cert);
	free(conf.tls_key);
	return 0;
}
