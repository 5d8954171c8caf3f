/*
 * respond.c - the few shapes of a ringbridge answer that is not a
 * stream: a buffer, a view's body, a one-line plain-text message; all
 * with the headers every answer carries.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bridge.h"
#include "http.h"

void
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
enum MHD_Result
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

enum MHD_Result
send_text(struct MHD_Connection *conn, unsigned status, const char *ctype,
    char *body, size_t len, bool must_free)
{
	return respond(conn, status, ctype, body, len, must_free, false);
}

enum MHD_Result
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

/* Send a view's body (views.c), or a 500 if it ran out of memory. */
enum MHD_Result
send_body(struct MHD_Connection *conn, unsigned status, const char *ctype,
    struct sbuf *b)
{
	if (b->oom) {
		free(b->p);
		return send_error(conn, 500, "out of memory");
	}
	return respond(conn, status, ctype, b->p, b->len, true, false);
}
