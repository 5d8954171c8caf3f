/*
 * framing.c - ringd's stream framers (framing.h):
 *
 *   lines   one message per line; the '\n' is stripped (a '\r' before it
 *           is kept: it is payload). An unterminated last line at end of
 *           input is still a message. A line longer than max_msg is
 *           rejected whole and reading resumes after its newline.
 *   len32   a 4-byte big-endian length, then that many payload bytes. A
 *           length above max_msg is rejected and its payload skipped; a
 *           length above max(max_msg, 64 MiB) means the stream is corrupt
 *           (or not len32 at all) and the input is closed.
 *   fixed:N records of exactly N bytes.
 */
#include <string.h>

#include "framing.h"

static uint32_t
get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static enum frame_ev
next_line(struct framer *f, const unsigned char *buf, size_t len,
    size_t *pos, struct frame *fr)
{
	const unsigned char *p = buf + *pos, *q;

	q = memchr(p, '\n', len - *pos);
	if (f->skipping) {
		if (q == NULL) {
			f->skipped += len - *pos;
			*pos = len;
			return FRAME_MORE;
		}
		f->skipped += (uint64_t)(q - p);
		f->skipping = false;
		*pos = (size_t)(q + 1 - buf);
		fr->data = NULL;
		fr->len = f->skipped;
		return FRAME_OVERSIZE;
	}
	if (q == NULL) {
		if (len - *pos > f->max) {
			/* Cannot become a valid line: drop it now. */
			f->skipping = true;
			f->skipped = len - *pos;
			*pos = len;
		}
		return FRAME_MORE;
	}
	*pos = (size_t)(q + 1 - buf);
	fr->data = p;
	fr->len = (uint64_t)(q - p);
	return fr->len > f->max ? FRAME_OVERSIZE : FRAME_RECORD;
}

static enum frame_ev
next_len32(struct framer *f, const unsigned char *buf, size_t len,
    size_t *pos, struct frame *fr)
{
	uint32_t l;

	if (f->skip_left > 0) {
		size_t d = len - *pos;

		if (d > f->skip_left)
			d = (size_t)f->skip_left;
		*pos += d;
		f->skip_left -= d;
		if (f->skip_left > 0)
			return FRAME_MORE;
	}
	if (len - *pos < 4)
		return FRAME_MORE;
	l = get_be32(buf + *pos);
	fr->data = NULL;
	fr->len = l;
	if (l > f->max) {
		if (l > LEN32_ABSURD)
			return FRAME_CORRUPT;
		f->skip_left = l;
		*pos += 4;
		return FRAME_OVERSIZE;
	}
	if (len - *pos - 4 < l)
		return FRAME_MORE;
	fr->data = buf + *pos + 4;
	*pos += 4 + (size_t)l;
	return FRAME_RECORD;
}

enum frame_ev
framer_next(struct framer *f, const unsigned char *buf, size_t len,
    size_t *pos, struct frame *fr)
{
	switch (f->kind) {
	case FRAME_LINES:
		return next_line(f, buf, len, pos, fr);
	case FRAME_LEN32:
		return next_len32(f, buf, len, pos, fr);
	case FRAME_FIXED:
		if (len - *pos < f->fixed_len)
			return FRAME_MORE;
		fr->data = buf + *pos;
		fr->len = f->fixed_len;
		*pos += f->fixed_len;
		return FRAME_RECORD;
	}
	return FRAME_MORE;
}

enum frame_ev
framer_end(struct framer *f, const unsigned char *buf, size_t len,
    struct frame *fr)
{
	enum frame_ev ev = FRAME_MORE;

	fr->data = buf;
	fr->len = len;
	switch (f->kind) {
	case FRAME_LINES:
		if (f->skipping) {
			fr->data = NULL;
			fr->len = f->skipped;
			ev = FRAME_OVERSIZE;
		} else if (len > 0)
			ev = FRAME_RECORD;
		break;
	case FRAME_LEN32:
		if (f->skip_left > 0 || len > 0)
			ev = FRAME_PARTIAL;
		break;
	case FRAME_FIXED:
		if (len > 0)
			ev = FRAME_PARTIAL;
		break;
	}
	return ev;
}

void
framer_reset(struct framer *f)
{
	f->skipping = false;
	f->skipped = 0;
	f->skip_left = 0;
}

bool
framer_pending(const struct framer *f, size_t len)
{
	return len > 0 || f->skipping || f->skip_left > 0;
}
