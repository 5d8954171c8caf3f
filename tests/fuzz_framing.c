/*
 * fuzz_framing.c - libFuzzer target for ringd's stream framers (lines,
 * len32, fixed:N; daemon/framing.c, linked in), checked against a
 * reference parser written here.
 *
 * The stream arrives in reads into a buffer sized as ingest_stream.c
 * sizes it (one largest record plus one read), consumed as it consumes
 * it. Input layout:
 *
 *	byte 0	framing (mod 3); for fixed:N, N = 1 + byte 1 % min(64, max_msg)
 *	byte 2	max_msg = 1 + byte 2 * 4 (so over-long records are common)
 *	byte 3	read size: the stream arrives in reads of 1 + byte 3 bytes
 *	...	the stream
 *
 * Promises checked: every record is exactly the next record the
 * reference parser finds, never longer than max_msg, never truncated;
 * rejected counts match; nothing after a corrupt len32 header is
 * returned, and everything before it is.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"

struct fuzz {
	struct framer		 fr;
	const unsigned char	*ref;		/* the whole stream */
	size_t			 reflen;
	size_t			 refpos;	/* reference parser's position */
	uint64_t		 rejected;	/* by the framer */
	uint64_t		 ref_skipped;	/* by the reference */
};

#define PROMISE(c) do { if (!(c)) { fprintf(stderr, "fuzz_framing: " \
	"broken promise at line %d: %s\n", __LINE__, #c); abort(); } } \
	while (0)

static uint32_t
get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * The reference: the next record at or after refpos, skipping (and
 * counting) records that are too long. Returns 1 and the record, or 0.
 */
static int
ref_next(struct fuzz *fz, const unsigned char **p, size_t *len,
    uint64_t *skipped)
{
	const unsigned char *s = fz->ref;
	size_t n = fz->reflen;

	for (;;) {
		size_t at = fz->refpos, l;

		if (at >= n)
			return 0;
		switch (fz->fr.kind) {
		case FRAME_LINES: {
			const unsigned char *nl = memchr(s + at, '\n', n - at);

			l = nl != NULL ? (size_t)(nl - (s + at)) : n - at;
			fz->refpos = at + l + (nl != NULL);
			if (l > fz->fr.max) {
				(*skipped)++;
				continue;
			}
			*p = s + at;
			*len = l;
			return 1;
		}
		case FRAME_LEN32:
			if (n - at < 4)
				return 0;
			l = get_be32(s + at);
			if (l > fz->fr.max) {
				if (l > LEN32_ABSURD)
					return 0;
				(*skipped)++;
				fz->refpos = at + 4 + l > n ? n : at + 4 + l;
				continue;
			}
			if (n - at - 4 < l)
				return 0;
			fz->refpos = at + 4 + l;
			*p = s + at + 4;
			*len = l;
			return 1;
		default:
			l = fz->fr.fixed_len;
			if (n - at < l)
				return 0;
			fz->refpos = at + l;
			*p = s + at;
			*len = l;
			return 1;
		}
	}
}

/* A record from the framer must be the reference's next one. */
static void
check_record(struct fuzz *fz, const struct frame *f)
{
	const unsigned char *p;
	size_t len;

	PROMISE(f->len <= fz->fr.max);
	PROMISE(ref_next(fz, &p, &len, &fz->ref_skipped) == 1);
	PROMISE(len == f->len);
	PROMISE(len == 0 || memcmp(p, f->data, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz fz = { .fr = { .kind = FRAME_LINES } };
	struct frame f;
	enum frame_ev ev;
	unsigned char *buf;
	size_t cap, len = 0, chunk, off = 0;
	bool corrupt = false;

	if (size < 4)
		return 0;
	fz.fr.kind = data[0] % 3 == 0 ? FRAME_LINES : data[0] % 3 == 1 ?
	    FRAME_LEN32 : FRAME_FIXED;
	fz.fr.max = 1 + (size_t)data[2] * 4;
	/* ringd refuses fixed:N above max_msg at startup. */
	fz.fr.fixed_len = 1 + data[1] % (fz.fr.max < 64 ? fz.fr.max : 64);
	chunk = 1 + (size_t)data[3];
	fz.ref = data + 4;
	fz.reflen = size - 4;

	/* As stream_open() sizes it: one largest record plus one read. */
	cap = fz.fr.max + 256 + 4;
	if ((buf = malloc(cap)) == NULL)
		abort();

	/* What stream_ready() does with each read. */
	while (off < fz.reflen && !corrupt) {
		size_t r = fz.reflen - off < chunk ? fz.reflen - off : chunk;
		size_t pos = 0;

		if (r > cap - len)
			r = cap - len;
		PROMISE(r > 0);
		memcpy(buf + len, fz.ref + off, r);
		off += r;
		len += r;
		while ((ev = framer_next(&fz.fr, buf, len, &pos, &f)) !=
		    FRAME_MORE) {
			PROMISE(pos <= len);
			if (ev == FRAME_RECORD)
				check_record(&fz, &f);
			else if (ev == FRAME_OVERSIZE) {
				PROMISE(f.len > fz.fr.max);
				fz.rejected++;
			} else {
				/* Only len32 is corrupt, by an absurd length. */
				PROMISE(ev == FRAME_CORRUPT);
				PROMISE(fz.fr.kind == FRAME_LEN32 &&
				    f.len > LEN32_ABSURD);
				corrupt = true;
				break;
			}
		}
		if (corrupt)
			break;
		PROMISE(pos <= len);
		len -= pos;
		if (len > 0 && pos > 0)
			memmove(buf, buf + pos, len);
	}
	if (!corrupt) {
		const unsigned char *p;
		size_t rlen;

		ev = framer_end(&fz.fr, buf, len, &f);
		if (ev == FRAME_RECORD)
			check_record(&fz, &f);
		else if (ev == FRAME_OVERSIZE) {
			PROMISE(f.len > fz.fr.max);
			fz.rejected++;
		} else if (ev == FRAME_PARTIAL)
			PROMISE(fz.fr.kind != FRAME_LINES);
		framer_reset(&fz.fr);
		PROMISE(!framer_pending(&fz.fr, 0));
		/* The reference has nothing left either. */
		PROMISE(ref_next(&fz, &p, &rlen, &fz.ref_skipped) == 0);
		PROMISE(fz.rejected == fz.ref_skipped);
	}
	free(buf);
	return 0;
}
