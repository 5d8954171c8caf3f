/*
 * fuzz_segment.c - libFuzzer target for the reader's open/validate path,
 * the header snapshot (shmr_ring_info, the seqlock reader ringctl uses),
 * every cursor start, every read call and the whole-ring check, over
 * arbitrary segment bytes.
 *
 * The input is a segment image: a 4096-byte header followed by the data
 * area, exactly as /dev/shm/shmring.NAME holds it, so a copy of a real
 * ring is a valid seed. The image is copied into an 8-byte aligned buffer
 * of 4096 + the capacity the header claims (when that is at most 1 MiB;
 * missing bytes are zero, so seeds can drop a ring's trailing zeros), or
 * of the input's own length.
 *
 * libshm never reads header bytes past struct seg_hdr and the mirror
 * lines (layout.h), so the fuzzer's
 * own parameters live there, in a control block at CTL_OFF (all zero in a
 * real ring, which selects the defaults):
 *
 *	+0	flags: CTL_STEP, CTL_THREAD, CTL_EXACT
 *	+1	read buffer length selector (see buf_len())
 *	+2	batch size for shmr_cursor_read_batch (0: 8)
 *	+3	calls per loop (0: 64)
 *	+8	sequence number for SHMR_FROM_SEQ (little endian)
 *	+16	NMUT mutations of MUT_SIZE bytes: selector, 16-bit offset,
 *		64-bit value (see mutate())
 *
 * CTL_STEP applies one mutation between any two library calls; CTL_THREAD
 * runs a second thread that applies them over and over while the reads
 * run: the "header changes between two reads" cases. Besides not
 * crashing, the target checks what the library promises: only documented
 * return codes, lengths within max_msg and the caller's buffer, views
 * inside the data area, sequence numbers that only grow.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CTL_OFF		2048
#define CTL_STEP	0x01
#define CTL_THREAD	0x02
#define CTL_EXACT	0x04
#define NMUT		8
#define MUT_SIZE	11
#define CAP_FUZZ_MAX	((uint64_t)1 << 20)
#define THREAD_ROUNDS	2000

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

_Static_assert(sizeof(struct seg_hdr) <= CTL_OFF, "control block is free");
_Static_assert(MIRROR_OFF + sizeof(struct seg_mirror) <= CTL_OFF,
    "control block is past the mirror lines");
_Static_assert(CTL_OFF + 16 + NMUT * MUT_SIZE <= HDR_SIZE, "control fits");

/* Header words a mutation can hit: constants, state, the hot lines. */
static const size_t hdr_words[] = {
	offsetof(struct seg_hdr, magic),
	offsetof(struct seg_hdr, layout_version),
	offsetof(struct seg_hdr, capacity),
	offsetof(struct seg_hdr, max_msg),
	offsetof(struct seg_hdr, epoch),
	offsetof(struct seg_hdr, state),
	offsetof(struct seg_hdr, intent),
	offsetof(struct seg_hdr, tail),
	offsetof(struct seg_hdr, sl),
	offsetof(struct seg_hdr, next_seq),
	offsetof(struct seg_hdr, head_pos),
	offsetof(struct seg_hdr, head_seq),
	offsetof(struct seg_hdr, last_pos),
	offsetof(struct seg_hdr, bytes),
	offsetof(struct seg_hdr, flags),	/* HDR_F_MIRROR */
};
#define NHDR_WORDS	(sizeof(hdr_words) / sizeof(hdr_words[0]))

struct mut {
	uint8_t		sel;	/* bit 0: data word; bit 1: add, not store */
	uint16_t	off;
	uint64_t	val;
};

struct fuzz {
	unsigned char	*seg;	/* the aligned segment image */
	size_t		 len;
	uint8_t		 flags;
	size_t		 buflen;
	size_t		 batch;
	int		 calls;
	uint64_t	 seq;
	struct mut	 mut[NMUT];
	int		 nmut;
	int		 next_mut;
	_Atomic int	 stop;
};

static uint64_t
le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
fail(const char *what, int rc)
{
	fprintf(stderr, "fuzz_segment: broken promise: %s (rc %d: %s)\n",
	    what, rc, shmr_strerror(rc));
	abort();
}

/*
 * Apply mutation m. Every access to the image is a 64-bit atomic store
 * at an 8-byte aligned offset, like the producer's, so the mutating
 * thread races with the library's atomic loads without a data race.
 */
static void
mutate(struct fuzz *f, const struct mut *m)
{
	size_t off;
	_Atomic uint64_t *w;

	if (m->sel & 1) {
		if (f->len <= HDR_SIZE)
			return;
		off = HDR_SIZE + ((size_t)m->off * 8) % (f->len - HDR_SIZE);
		off &= ~(size_t)7;
		if (off + 8 > f->len)
			return;
	} else {
		off = hdr_words[(m->sel >> 2) % NHDR_WORDS];
	}
	w = (_Atomic uint64_t *)(void *)(f->seg + off);
	if (m->sel & 2)
		atomic_fetch_add_explicit(w, m->val, memory_order_release);
	else
		atomic_store_explicit(w, m->val, memory_order_release);
}

/* CTL_STEP: one mutation between two library calls. */
static void
step(struct fuzz *f)
{
	if (!(f->flags & CTL_STEP) || f->nmut == 0)
		return;
	mutate(f, &f->mut[f->next_mut]);
	f->next_mut = (f->next_mut + 1) % f->nmut;
}

static void *
mutator(void *arg)
{
	struct fuzz *f = arg;
	int round, i;

	for (round = 0; round < THREAD_ROUNDS; round++) {
		for (i = 0; i < f->nmut; i++) {
			if (atomic_load_explicit(&f->stop,
			    memory_order_relaxed))
				return NULL;
			mutate(f, &f->mut[i]);
		}
	}
	return NULL;
}

/*
 * The caller's buffer: 0 means max_msg; 1..127 that many bytes (odd
 * sizes on purpose); 128..255 max_msg minus up to 127 bytes.
 */
static size_t
buf_len(uint8_t b, uint32_t max_msg)
{
	if (b == 0)
		return max_msg;
	if (b < 128)
		return b;
	return max_msg > (uint32_t)(b - 128) ? max_msg - (b - 128) : 0;
}

static int
is_status(int rc)
{
	return rc == SHMR_EMPTY || rc == SHMR_MSG || rc == SHMR_OVERRUN ||
	    rc == SHMR_EOF || rc == SHMR_RESTART;
}

/* The documented outcomes of a read; anything else is a bug. */
static void
check_read_rc(const char *call, int rc)
{
	if (is_status(rc) || rc == -ENOBUFS || rc == -EBADMSG ||
	    rc == -ESTALE || rc == -EINVAL || rc == -EAGAIN)
		return;
	fail(call, rc);
}

static void
check_info(const struct shmr_ring *r, struct fuzz *f)
{
	struct shmr_info info;
	int rc;

	rc = shmr_ring_info(r, &info);
	step(f);
	if (rc == -EBADMSG || rc == -EAGAIN)
		return;
	if (rc != 0)
		fail("shmr_ring_info return code", rc);
	if (info.capacity != r->cap || info.max_msg != r->max_msg ||
	    info.epoch != shmr_ring_epoch(r) ||
	    info.max_msg != shmr_ring_max_msg(r))
		fail("shmr_ring_info constants differ from open", 0);
	if (info.used > info.capacity)
		fail("shmr_ring_info: used > capacity", 0);
	/* A mirror's gaps skip numbers: only plain rings are bounded. */
	if (shmr_ring_mirror(r, NULL) == 0 &&
	    info.next_seq - info.oldest_seq > info.capacity / REC_HDR)
		fail("shmr_ring_info: more messages than fit", 0);
}

static void
check_msg(const struct shmr_ring *r, const struct shmr_msg *m,
    const unsigned char *buf, size_t buflen, const char *call)
{
	const unsigned char *d = m->data;

	if (m->len > r->max_msg)
		fail(call, SHMR_MSG);
	if (buf != NULL) {
		if (m->len > buflen || d < buf || (size_t)(d - buf) > buflen -
		    m->len)
			fail(call, SHMR_MSG);
	} else if (d < r->data || (size_t)(d - r->data) > r->cap ||
	    m->len > r->cap - (size_t)(d - r->data)) {
		fail(call, SHMR_MSG);
	}
}

/* Plain reads; sequence numbers must grow, lengths stay in bounds. */
static void
loop_read(const struct shmr_ring *r, struct shmr_cursor *c, struct fuzz *f)
{
	unsigned char *buf = malloc(f->buflen ? f->buflen : 1);
	struct shmr_msg m;
	uint64_t last = 0;
	int i, rc, have = 0;

	if (buf == NULL)
		return;
	for (i = 0; i < f->calls; i++) {
		rc = shmr_cursor_read(r, c, buf, f->buflen, &m);
		step(f);
		check_read_rc("shmr_cursor_read return code", rc);
		if (rc == SHMR_MSG) {
			check_msg(r, &m, buf, f->buflen, "shmr_cursor_read");
			if (have && m.seq != last + 1)
				fail("shmr_cursor_read: sequence skipped "
				    "without an overrun", rc);
			last = m.seq;
			have = 1;
		} else if (rc == SHMR_OVERRUN) {
			/* Sequence numbers do not wrap (libshm compares
			 * them as plain unsigned numbers). */
			if (m.lost == 0 || (have && m.seq <= last))
				fail("shmr_cursor_read: bad overrun", rc);
			last = m.seq - 1;
			have = 1;
		} else if (rc == -ENOBUFS) {
			if (m.len <= f->buflen || m.len > r->max_msg)
				fail("shmr_cursor_read: bad -ENOBUFS", rc);
			break;	/* it would say the same again */
		} else if (rc != SHMR_EMPTY || f->flags == 0) {
			break;
		}
	}
	free(buf);
}

static void
loop_batch(const struct shmr_ring *r, struct shmr_cursor *c, struct fuzz *f)
{
	unsigned char *buf = malloc(f->buflen ? f->buflen : 1);
	struct shmr_msg *m = calloc(f->batch, sizeof(*m));
	size_t k, count;
	int i, rc;

	if (buf == NULL || m == NULL)
		goto out;
	for (i = 0; i < f->calls; i++) {
		rc = shmr_cursor_read_batch(r, c, buf, f->buflen, m, f->batch,
		    &count);
		step(f);
		check_read_rc("shmr_cursor_read_batch return code", rc);
		if (rc != SHMR_MSG) {
			if (count != 0)
				fail("shmr_cursor_read_batch: count on a "
				    "non-message", rc);
			if (rc == SHMR_EMPTY && f->flags != 0)
				continue;
			break;
		}
		if (count < 1 || count > f->batch)
			fail("shmr_cursor_read_batch: count", rc);
		for (k = 0; k < count; k++) {
			check_msg(r, &m[k], buf, f->buflen,
			    "shmr_cursor_read_batch");
			if (k > 0 && m[k].seq != m[k - 1].seq + 1)
				fail("shmr_cursor_read_batch: sequence", rc);
		}
	}
out:
	free(m);
	free(buf);
}

static void
loop_peek(const struct shmr_ring *r, struct shmr_cursor *c, struct fuzz *f)
{
	const unsigned char *d;
	struct shmr_msg m;
	volatile unsigned sum = 0;
	size_t k;
	int i, rc;

	for (i = 0; i < f->calls; i++) {
		rc = shmr_cursor_peek(r, c, &m);
		step(f);
		check_read_rc("shmr_cursor_peek return code", rc);
		if (rc != SHMR_MSG) {
			if (rc == SHMR_OVERRUN ||
			    (rc == SHMR_EMPTY && f->flags != 0))
				continue;
			break;
		}
		check_msg(r, &m, NULL, 0, "shmr_cursor_peek");
		/* Touch the view the way a caller would (atomically: the
		 * mutating thread may be writing it). */
		d = m.data;
		for (k = 0; k + 8 <= m.len; k += 8)
			sum += (unsigned)word_load(d + k);
		rc = shmr_cursor_consume(r, c, &m);
		step(f);
		if (rc != 0 && rc != -ESTALE)
			fail("shmr_cursor_consume return code", rc);
	}
	(void)sum;
}

static void
run_ring(const struct shmr_ring *r, struct fuzz *f)
{
	static const enum shmr_from froms[] = { SHMR_FROM_OLDEST,
	    SHMR_FROM_LATEST, SHMR_FROM_END, SHMR_FROM_SEQ };
	struct shmr_cursor c, stale;
	struct shmr_msg m;
	char why[128];
	size_t fi;
	int rc;

	if (shmr_ring_alive(r) != 0 || shmr_ring_stale(r) != 0)
		fail("memory ring alive or stale", 0);
	if (strcmp(shmr_ring_name(r), "(memory)") != 0)
		fail("memory ring name", 0);
	check_info(r, f);

	f->buflen = buf_len(f->seg[CTL_OFF + 1], r->max_msg);
	for (fi = 0; fi < sizeof(froms) / sizeof(froms[0]); fi++) {
		rc = shmr_cursor_init(r, &c, froms[fi], f->seq);
		step(f);
		if (rc == -EBADMSG || rc == -EAGAIN ||
		    (rc == -ERANGE && froms[fi] == SHMR_FROM_SEQ))
			continue;
		if (rc != 0)
			fail("shmr_cursor_init return code", rc);
		rc = shmr_cursor_wait(r, &c, 0, 0);
		if (rc != 0 && rc != -ETIMEDOUT)
			fail("shmr_cursor_wait return code", rc);
		stale = c;
		loop_read(r, &c, f);
		c = stale;
		loop_batch(r, &c, f);
		c = stale;
		loop_peek(r, &c, f);
	}

	/* A cursor of another epoch and a misaligned one are refused. */
	if (shmr_cursor_init(r, &stale, SHMR_FROM_OLDEST, 0) == 0) {
		stale.epoch++;
		if ((rc = shmr_cursor_read(r, &stale, NULL, 0, &m)) != -ESTALE)
			fail("stale cursor accepted", rc);
		stale.epoch--;
		stale.pos |= 4;
		if ((rc = shmr_cursor_read(r, &stale, NULL, 0, &m)) != -EINVAL)
			fail("misaligned cursor accepted", rc);
	}

	why[0] = '\0';
	rc = shmr_ring_check(r, why, sizeof(why));
	if (rc != 0 && rc != -EBADMSG && rc != -EAGAIN)
		fail("shmr_ring_check return code", rc);
	if (memchr(why, '\0', sizeof(why)) == NULL)
		fail("shmr_ring_check: reason not terminated", rc);
	check_info(r, f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz f;
	struct shmr_ring *r;
	pthread_t th;
	const unsigned char *ctl;
	uint64_t cap = 0;
	size_t alloc, i;
	int rc, threaded = 0;

	if (size < 32)
		return 0;
	memset(&f, 0, sizeof(f));
	cap = le64(data + offsetof(struct seg_hdr, capacity));
	if (!(size > CTL_OFF && (data[CTL_OFF] & CTL_EXACT)) &&
	    cap <= CAP_FUZZ_MAX && size <= HDR_SIZE + CAP_FUZZ_MAX)
		f.len = HDR_SIZE + cap;
	else
		f.len = size < HDR_SIZE + CAP_FUZZ_MAX ? size :
		    HDR_SIZE + CAP_FUZZ_MAX;
	/*
	 * 64-byte alignment: at least what ring_open_mem needs (8). At least
	 * a header's worth is allocated (the control block lives there);
	 * a shorter CTL_EXACT image is passed with its own length.
	 */
	alloc = f.len < HDR_SIZE ? HDR_SIZE : (f.len + 63) & ~(size_t)63;
	f.seg = aligned_alloc(64, alloc);
	if (f.seg == NULL)
		return 0;
	memset(f.seg, 0, alloc);
	memcpy(f.seg, data, alloc < size ? alloc : size);
	ctl = f.seg + CTL_OFF;
	f.flags = ctl[0] & (CTL_STEP | CTL_THREAD);
	f.batch = ctl[2] ? (size_t)(ctl[2] % 32) + 1 : 8;
	f.calls = ctl[3] ? ctl[3] % 128 + 1 : 64;
	f.seq = le64(ctl + 8);
	for (i = 0; i < NMUT; i++) {
		const unsigned char *p = ctl + 16 + i * MUT_SIZE;

		if (p[0] == 0 && le64(p + 3) == 0)
			continue;	/* unused slot */
		f.mut[f.nmut].sel = p[0];
		f.mut[f.nmut].off = (uint16_t)(p[1] | p[2] << 8);
		f.mut[f.nmut].val = le64(p + 3);
		f.nmut++;
	}

	rc = ring_open_mem(f.seg, f.len, &r);
	if (rc != 0) {
		if (rc != -EPROTO && rc != -EBADMSG && rc != -EAGAIN)
			fail("ring_open_mem return code", rc);
		free(f.seg);
		return 0;
	}
	if (r->cap != f.len - HDR_SIZE || r->max_msg > r->cap / 8)
		fail("ring_open_mem accepted a bad geometry", 0);
	if ((f.flags & CTL_THREAD) && f.nmut > 0 &&
	    pthread_create(&th, NULL, mutator, &f) == 0)
		threaded = 1;
	run_ring(r, &f);
	if (threaded) {
		atomic_store_explicit(&f.stop, 1, memory_order_relaxed);
		pthread_join(th, NULL);
	}
	shmr_ring_close(r);
	free(f.seg);
	return 0;
}
