/*
 * fuzz_framing.c - libFuzzer target for ringd's stream framers (lines,
 * len32, fixed:N), checked against a reference parser written here.
 *
 * The framer (daemon/ingest_stream.c) is compiled into this file so its
 * static parse()/finish() can be driven directly, with ringd's services
 * replaced by recorders. Input layout:
 *
 *	byte 0	framing (mod 3); for fixed:N, N = 1 + byte 1 % min(64, max_msg)
 *	byte 2	max_msg = 1 + byte 2 * 4 (so over-long records are common)
 *	byte 3	read size: the stream arrives in reads of 1 + byte 3 bytes
 *	...	the stream
 *
 * Promises checked: every published message is exactly the next record
 * the reference parser finds, never longer than max_msg, never
 * truncated; rejected counts match; nothing after a corrupt len32
 * header is published, and everything before it is.
 */
#include "../daemon/ingest_stream.c"

#include <stdarg.h>

struct ringd {
	struct ringd_conf	 conf;
	size_t			 max;
	const unsigned char	*ref;		/* the whole stream */
	size_t			 reflen;
	size_t			 refpos;	/* reference parser's position */
	uint64_t		 rejected;
	uint64_t		 malformed;
	bool			 closed;
};

#define PROMISE(c) do { if (!(c)) { fprintf(stderr, "fuzz_framing: " \
	"broken promise at line %d: %s\n", __LINE__, #c); abort(); } } \
	while (0)

size_t
ringd_max_msg(const struct ringd *rd)
{
	return rd->max;
}

const struct ringd_conf *
ringd_conf(const struct ringd *rd)
{
	return &rd->conf;
}

void
ringd_reject_oversize(struct ringd *rd, struct input *in, uint64_t len)
{
	(void)in;
	PROMISE(len > rd->max);
	rd->rejected++;
}

void
ringd_malformed(struct ringd *rd, struct input *in, bool fatal,
    const char *fmt, ...)
{
	(void)in;
	(void)fmt;
	rd->malformed++;
	if (fatal)
		rd->closed = true;
}

int
ringd_add_input(struct ringd *rd, struct input *in)
{
	(void)rd;
	(void)in;
	return 0;
}

/*
 * The reference: the next record at or after refpos, skipping (and
 * counting) records that are too long. Returns 1 and the record, or 0.
 */
static int
ref_next(struct ringd *rd, const unsigned char **p, size_t *len,
    uint64_t *skipped)
{
	const unsigned char *s = rd->ref;
	size_t n = rd->reflen;

	for (;;) {
		size_t at = rd->refpos, l;

		if (at >= n)
			return 0;
		switch (rd->conf.framing) {
		case FRAME_LINES: {
			const unsigned char *nl = memchr(s + at, '\n', n - at);

			l = nl != NULL ? (size_t)(nl - (s + at)) : n - at;
			rd->refpos = at + l + (nl != NULL);
			if (l > rd->max) {
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
			if (l > rd->max) {
				if (l > LEN32_ABSURD)
					return 0;
				(*skipped)++;
				rd->refpos = at + 4 + l > n ? n : at + 4 + l;
				continue;
			}
			if (n - at - 4 < l)
				return 0;
			rd->refpos = at + 4 + l;
			*p = s + at + 4;
			*len = l;
			return 1;
		default:
			l = rd->conf.fixed_len;
			if (n - at < l)
				return 0;
			rd->refpos = at + l;
			*p = s + at;
			*len = l;
			return 1;
		}
	}
}

static uint64_t ref_skipped;

int
ringd_publish(struct ringd *rd, struct input *in, const struct shmr_iov *m,
    size_t n)
{
	(void)in;
	/* Records before a corrupt len32 header are still published (they
	 * were accepted); the reference stops at the corruption, so nothing
	 * after it can pass the comparison below. */
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p;
		size_t len;

		PROMISE(m[i].len <= rd->max);
		PROMISE(ref_next(rd, &p, &len, &ref_skipped) == 1);
		PROMISE(len == m[i].len);
		PROMISE(len == 0 || memcmp(p, m[i].data, len) == 0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ringd rd = { .conf = { .framing = FRAME_LINES } };
	struct stream st = { 0 };
	struct input in = { .fd = -1, .name = "fuzz" };
	struct shmr_iov *iov;
	size_t chunk, off = 0;
	bool corrupt = false;

	if (size < 4)
		return 0;
	rd.conf.framing = data[0] % 3 == 0 ? FRAME_LINES : data[0] % 3 == 1 ?
	    FRAME_LEN32 : FRAME_FIXED;
	rd.max = 1 + (size_t)data[2] * 4;
	/* ringd refuses fixed:N above max_msg at startup. */
	rd.conf.fixed_len = 1 + data[1] % (rd.max < 64 ? rd.max : 64);
	chunk = 1 + (size_t)data[3];
	rd.ref = data + 4;
	rd.reflen = size - 4;
	ref_skipped = 0;

	/* As stream_open() sizes it: one largest record plus one read. */
	st.cap = rd.max + 256 + 4;
	st.buf = malloc(st.cap);
	iov = calloc(STREAM_BATCH, sizeof(*iov));
	if (st.buf == NULL || iov == NULL)
		abort();
	st.iov = iov;
	in.u.stream = &st;

	/* What stream_ready() does with each read. */
	while (off < rd.reflen && !corrupt) {
		size_t r = rd.reflen - off < chunk ? rd.reflen - off : chunk;
		long used;

		if (r > st.cap - st.len)
			r = st.cap - st.len;
		PROMISE(r > 0);
		memcpy(st.buf + st.len, rd.ref + off, r);
		off += r;
		st.len += r;
		used = parse(&rd, &in, &corrupt);
		PROMISE(used >= 0 && (size_t)used <= st.len);
		if (corrupt)
			break;
		st.len -= (size_t)used;
		if (st.len > 0 && used > 0)
			memmove(st.buf, st.buf + used, st.len);
	}
	if (corrupt) {
		/* Only len32 can be corrupt, and only for an absurd length. */
		PROMISE(rd.conf.framing == FRAME_LEN32 && rd.closed);
	} else {
		PROMISE(finish(&rd, &in) == 0);
		/* The reference has nothing left either. */
		{
			const unsigned char *p;
			size_t len;

			PROMISE(ref_next(&rd, &p, &len, &ref_skipped) == 0);
		}
		PROMISE(rd.rejected == ref_skipped);
	}
	free(st.buf);
	free(iov);
	return 0;
}
