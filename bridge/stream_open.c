/*
 * stream_open.c - GET (and HEAD) /rings/NAME/stream: the request's
 * parameters (format, encoding, on_overrun, from, Last-Event-ID), where
 * the stream starts, the response and the client's lifetime. The body
 * is stream.c's content reader.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "http.h"

static void
client_free(void *cls)
{
	struct client *c = cls;
	struct ring_ent *e = c->ent;

	pthread_mutex_lock(&e->lp[c->loop].lock);
	if (c->waiting) {
		/* Only reachable if the daemon closed it while suspended. */
		if (c->wprev != NULL)
			c->wprev->wnext = c->wnext;
		else
			e->lp[c->loop].waiters = c->wnext;
		if (c->wnext != NULL)
			c->wnext->wprev = c->wprev;
	}
	pthread_mutex_unlock(&e->lp[c->loop].lock);
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

enum MHD_Result
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
	} else if (from_s != NULL && (from_parse(from_s, &from, &seq) != 0 ||
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
		    ring_error(rc));
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
