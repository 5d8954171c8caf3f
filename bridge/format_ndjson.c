/*
 * format_ndjson.c - ?format=ndjson: one JSON object per line, a message
 * as {"epoch","seq","data"} ("data_b64" for a payload that is not UTF-8),
 * a control event as {"event":NAME,...}, a heartbeat as an empty line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "enc.h"
#include "format.h"

static void
ndjson_frame(struct msg_frame *f, const struct shmr_msg *m, uint64_t epoch,
    enum stream_enc enc)
{
	int k;

	f->body = enc == ENC_AUTO && enc_utf8_valid(m->data, m->len) ?
	    BODY_JSON : BODY_B64;
	k = snprintf(f->pre, sizeof(f->pre), "{\"epoch\":%" PRIu64
	    ",\"seq\":%" PRIu64 ",\"%s\":\"", epoch, m->seq,
	    f->body == BODY_JSON ? "data" : "data_b64");
	f->pre_len = (uint8_t)k;
	memcpy(f->suf, "\"}\n", 3);
	f->suf_len = 3;
}

static int
ndjson_ctl(char *buf, size_t size, const struct ctl_event *ev)
{
	/* The event's name goes first, then the members of its data. */
	return format_printf(buf, size, "{\"event\":\"%s\",%s\n", ev->name,
	    ev->json + 1);
}

static int
ndjson_heartbeat(char *buf, size_t size, uint64_t seq)
{
	(void)seq;
	return format_put(buf, size, "\n", 1);
}

static const char *const ndjson_accept[] = {
	"application/x-ndjson", "application/ndjson", NULL
};

const struct stream_format format_ndjson = {
	.name = "ndjson",
	.ctype = "application/x-ndjson",
	.accept = ndjson_accept,
	.ctl = ndjson_ctl,
	.heartbeat = ndjson_heartbeat,
	.frame = ndjson_frame,
};
