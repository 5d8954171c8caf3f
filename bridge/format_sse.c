/*
 * format_sse.c - ?format=sse, Server-Sent Events (the default): one event
 * per message with the id EPOCH:SEQ that a resume sends back as
 * Last-Event-ID; payloads that are not one line of UTF-8 in base64.
 */
#include <string.h>

#include "enc.h"
#include "format.h"

/* Append to a prefix buffer known to be large enough (96 bytes). */
static int
put_str(char *b, int k, const char *s)
{
	size_t n = strlen(s);

	memcpy(b + k, s, n);
	return k + (int)n;
}

static void
sse_frame(struct msg_frame *f, const struct shmr_msg *m, uint64_t epoch,
    enum stream_enc enc)
{
	int k;

	if (enc == ENC_BASE64)
		f->body = BODY_B64;
	else
		/* As is if it is UTF-8 with no CR, LF or NUL. */
		f->body = enc_utf8_line(m->data, m->len) ? BODY_TEXT :
		    BODY_B64;
	/* The hot path: no printf. */
	k = put_str(f->pre, 0, "id: ");
	k += format_u64(f->pre + k, epoch);
	f->pre[k++] = ':';
	k += format_u64(f->pre + k, m->seq);
	f->pre[k++] = '\n';
	if (f->body == BODY_B64 && enc == ENC_AUTO)
		k = put_str(f->pre, k, "event: base64\n");
	k = put_str(f->pre, k, "data: ");
	f->pre_len = (uint8_t)k;
	memcpy(f->suf, "\n\n", 2);
	f->suf_len = 2;
}

static int
sse_ctl(char *buf, size_t size, const struct ctl_event *ev)
{
	if (ev->id != NULL)
		return format_printf(buf, size, "id: %s\nevent: %s\n"
		    "data: %s\n\n", ev->id, ev->name, ev->json);
	return format_printf(buf, size, "event: %s\ndata: %s\n\n", ev->name,
	    ev->json);
}

static int
sse_heartbeat(char *buf, size_t size, uint64_t seq)
{
	(void)seq;
	return format_put(buf, size, ": hb\n\n", 6);
}

static const char *const sse_accept[] = { "text/event-stream", NULL };

const struct stream_format format_sse = {
	.name = "sse",
	.ctype = "text/event-stream; charset=utf-8",
	.accept = sse_accept,
	/* Reconnect after 2 s; the comment makes the stream start at once. */
	.preamble = "retry: 2000\n: ok\n\n",
	.ctl = sse_ctl,
	.heartbeat = sse_heartbeat,
	.frame = sse_frame,
};
