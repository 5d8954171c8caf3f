/*
 * framing.h - ringd's stream framers (lines, len32, fixed:N) as pure
 * functions: they cut a buffer into records and keep the little state a
 * record split across reads needs, but read, publish and log nothing.
 * ingest_stream.c drives them from read(2); tests/fuzz_framing.c drives
 * them from fuzzer input and checks them against a reference parser.
 * Not installed.
 */
#ifndef RINGD_FRAMING_H
#define RINGD_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A len32 length above max(max_msg, this) means the stream is corrupt. */
#define LEN32_ABSURD	((uint64_t)64 << 20)

enum framing {
	FRAME_LINES,		/* one message per line, '\n' stripped */
	FRAME_LEN32,		/* 4-byte big-endian length, then payload */
	FRAME_FIXED		/* records of exactly fixed_len bytes */
};

struct framer {
	enum framing	 kind;
	size_t		 fixed_len;	/* FRAME_FIXED record size */
	size_t		 max;		/* largest record (max_msg) */
	bool		 skipping;	/* lines: inside an over-long line */
	uint64_t	 skipped;	/* lines: its length so far */
	uint64_t	 skip_left;	/* len32: oversize payload to drop */
};

/* What framer_next() and framer_end() found. */
enum frame_ev {
	FRAME_MORE,		/* no complete record left: read more */
	FRAME_RECORD,		/* a record: data, len */
	FRAME_OVERSIZE,		/* a record of len bytes, over max: dropped */
	FRAME_CORRUPT,		/* len32 length len is absurd: give up */
	FRAME_PARTIAL		/* framer_end(): an incomplete record */
};

struct frame {
	const unsigned char	*data;
	uint64_t		 len;
};

/*
 * The next event in buf[*pos, len), advancing *pos past what it used. Call
 * until FRAME_MORE (or FRAME_CORRUPT, after which the stream is beyond
 * repair and *pos is left at the bad header); then buf[*pos, len) is the
 * start of a record to keep and complete with the next read.
 */
enum frame_ev	framer_next(struct framer *f, const unsigned char *buf,
		    size_t len, size_t *pos, struct frame *fr);
/*
 * End of the stream with buf[0, len) left over: an unterminated last line
 * (FRAME_RECORD), the end of an over-long line (FRAME_OVERSIZE), an
 * incomplete len32 or fixed record (FRAME_PARTIAL) or nothing
 * (FRAME_MORE). framer_reset() then starts a new stream.
 */
enum frame_ev	framer_end(struct framer *f, const unsigned char *buf,
		    size_t len, struct frame *fr);
void		framer_reset(struct framer *f);
/* True when a record is under way (bytes buffered or to be skipped). */
bool		framer_pending(const struct framer *f, size_t len);

#endif
