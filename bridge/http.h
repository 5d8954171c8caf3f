/*
 * http.h - ringbridge's libmicrohttpd side, for the files that talk to
 * it: answers (respond.c), the stream request (stream_open.c) and the
 * server (dispatch.c). bridge.h stays free of libmicrohttpd.
 */
#ifndef RINGBRIDGE_HTTP_H
#define RINGBRIDGE_HTTP_H

#include <microhttpd.h>

#include "bridge.h"

/* ---- respond.c ------------------------------------------------------- */

/* Cache-Control, and the CORS origin if --cors-origin. */
void	add_common_headers(struct MHD_Response *r);
/*
 * Queue a response. close: "Connection: close", after which libmicrohttpd
 * closes the connection; for 503 always, so that a refused client gives
 * its connection back instead of holding it idle. must_free: body was
 * malloc()ed and is freed by libmicrohttpd (or here on failure).
 */
enum MHD_Result respond(struct MHD_Connection *conn, unsigned status,
	    const char *ctype, char *body, size_t len, bool must_free,
	    bool close);
/* respond() keeping the connection open (unless 503). */
enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status,
	    const char *ctype, char *body, size_t len, bool must_free);
/* A one-line plain-text answer, printf-style. */
enum MHD_Result send_msg(struct MHD_Connection *conn, unsigned status,
	    bool close, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A plain-text error (or "ok"); the connection stays open unless 503. */
#define send_error(conn, status, ...) \
	send_msg(conn, status, false, __VA_ARGS__)
/* Send a view's body (views.c), or a 500 if it ran out of memory. */
enum MHD_Result send_body(struct MHD_Connection *conn, unsigned status,
	    const char *ctype, struct sbuf *b);

/* ---- stream_open.c --------------------------------------------------- */

/*
 * GET (head: HEAD) /rings/NAME/stream of ring e on event loop loop. On
 * success *req_cls becomes the struct client, which the response frees.
 */
enum MHD_Result serve_stream(struct MHD_Connection *conn,
	    struct ring_ent *e, bool head, unsigned loop, void **req_cls);

#endif /* RINGBRIDGE_HTTP_H */
