/*
 * format_ndjson.c - ?format=ndjson: one JSON object per line, a message
 * as {"epoch","seq","data"} ("data_b64" for a payload that is not UTF-8),
 * a control event as {"event":NAME,...}, a heartbeat as an empty line.
 */
#include <string.h>

#include "enc.h"
#include "format.h"

static void
ndjson_frame(struct msg_frame *f, const struct shmr_msg *m, uint64_t epoch,
    enum stream_enc enc)
{
	static const char key_json[] = ",\"data\":\"";
	static const char key_b64[] = ",\"data_b64\":\"";
	int k = 0;

	f->body = enc == ENC_AUTO && enc_utf8_valid(m->data, m->len) ?
	    BODY_JSON : BODY_B64;
	/* The hot path: no printf (at most 9 + 20 + 7 + 20 + 13 bytes). */
	memcpy(f->pre, "{\"epoch\":", 9);
	k = 9 + format_u64(f->pre + 9, epoch);
	memcpy(f->pre + k, ",\"seq\":", 7);
	k += 7;
	k += format_u64(f->pre + k, m->seq);
	if (f->body == BODY_JSON) {
		memcpy(f->pre + k, key_json, sizeof(key_json) - 1);
		k += (int)sizeof(key_json) - 1;
	} else {
		memcpy(f->pre + k, key_b64, sizeof(key_b64) - 1);
		k += (int)sizeof(key_b64) - 1;
	}
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
