/*
 * format_raw.c - ?format=raw: length-prefixed binary frames. Each frame
 * is a 16-byte header, big-endian u32 length, u32 type, u64 seq, then
 * length bytes: a message's payload as is, or a control event's one
 * number (the loss of a gap or overrun, the new epoch of a restart;
 * nothing for eof and heartbeat).
 */
#include "format.h"

enum raw_type { RAW_MSG = 0, RAW_GAP = 1, RAW_OVERRUN = 2, RAW_EOF = 3,
    RAW_RESTART = 4, RAW_HEARTBEAT = 5 };
#define RAW_HDR_LEN	16

static const uint32_t ctl_type[] = {
	[CTL_GAP] = RAW_GAP,
	[CTL_OVERRUN] = RAW_OVERRUN,
	[CTL_EOF] = RAW_EOF,
	[CTL_RESTART] = RAW_RESTART,
};

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
put_be64(unsigned char *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static void
raw_hdr(unsigned char *p, uint32_t len, uint32_t type, uint64_t seq)
{
	put_be32(p, len);
	put_be32(p + 4, type);
	put_be64(p + 8, seq);
}

static void
raw_frame(struct msg_frame *f, const struct shmr_msg *m, uint64_t epoch,
    enum stream_enc enc)
{
	(void)epoch;
	(void)enc;
	f->body = BODY_TEXT;
	raw_hdr((unsigned char *)f->pre, (uint32_t)m->len, RAW_MSG, m->seq);
	f->pre_len = RAW_HDR_LEN;
	f->suf_len = 0;
}

static int
raw_ctl(char *buf, size_t size, const struct ctl_event *ev)
{
	unsigned char hdr[RAW_HDR_LEN + 8];
	uint32_t len = ev->kind == CTL_EOF ? 0 : 8;

	raw_hdr(hdr, len, ctl_type[ev->kind], ev->seq);
	put_be64(hdr + RAW_HDR_LEN, ev->num);
	return format_put(buf, size, hdr, RAW_HDR_LEN + len);
}

static int
raw_heartbeat(char *buf, size_t size, uint64_t seq)
{
	unsigned char hdr[RAW_HDR_LEN];

	raw_hdr(hdr, 0, RAW_HEARTBEAT, seq);
	return format_put(buf, size, hdr, sizeof(hdr));
}

static const char *const raw_accept[] = { "application/octet-stream", NULL };

const struct stream_format format_raw = {
	.name = "raw",
	.ctype = "application/octet-stream",
	.accept = raw_accept,
	.ctl = raw_ctl,
	.heartbeat = raw_heartbeat,
	.frame = raw_frame,
};
