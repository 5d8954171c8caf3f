/*
 * reader.c - cursors over a read-only ring, waiting, and the convenience
 * reader. The protocol is explained in layout.h; in short, a record is
 * delivered only if, after it was copied, an acquire fence and a fresh
 * load of intent show that the producer had not yet claimed its bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* Resynchronisations without loss in one call before calling it corrupt. */
#define RESYNC_MAX	1024
/* Bound on one read's loop, whatever a hostile segment does. */
#define LOOP_MAX	(1L << 20)
#define CACHE_LINE	64
/* Most bytes one read_batch copies between two lap checks. */
#define BATCH_BYTES	(64 << 10)
/* How long a blocking wait spins before it sleeps. */
#define WAIT_SPIN_NS	10000
/* Longest futex sleep before re-checking the ring by other means. */
#define WAIT_SLICE_MS	100
/* Most pause instructions between two polls of the tail while spinning. */
#define SPIN_BACKOFF	32
/* Time between two polls of the tail while a blocking wait spins. */
#define WAIT_POLL_NS	1000
/* How far a streaming producer may get ahead of a blocking wait. */
#define WAIT_LAG	(64 << 10)

/*
 * Sequence numbers start at 0 in every epoch and grow by one per message:
 * they cannot wrap in practice (2^64 messages), so they are compared as
 * plain unsigned numbers; a smaller one where a larger is due means
 * corruption.
 */
enum view { COPY, PEEK };

/* Has the producer claimed the bytes at pos since we looked? */
static inline int
lapped(const struct shmr_ring *r, uint64_t pos)
{
	return atomic_load_explicit(&r->hdr->intent, memory_order_relaxed) -
	    pos > r->cap;
}

/* Copy a payload out with relaxed word loads; never writes past len. */
static void
copy_out(unsigned char *dst, const unsigned char *src, size_t len)
{
	size_t i;
	uint64_t v;

	for (i = 0; i + 8 <= len; i += 8) {
		v = word_load(src + i);
		memcpy(dst + i, &v, 8);
	}
	if (i < len) {
		v = word_load(src + i);	/* records are padded to 8 bytes */
		memcpy(dst + i, &v, len - i);
	}
}

/*
 * The cursor was lapped: jump to the oldest intact record. The loss is
 * exact because head_seq is the sequence number of the record at head_pos.
 */
static int
resync(const struct shmr_ring *r, struct shmr_cursor *c, struct shmr_msg *m)
{
	struct hot h;
	int rc;

	if ((rc = ring_hot(r, &h)) < 0)
		return rc;
	CHAOS("resync: snapshot taken");
	if (h.head_seq < c->seq)
		return -EBADMSG;	/* the head went backwards */
	m->lost = h.head_seq - c->seq;
	m->seq = h.head_seq;
	c->pos = h.head_pos;
	c->seq = h.head_seq;
	c->tail = h.tail;
	return m->lost > 0 ? SHMR_OVERRUN : SHMR_EMPTY;
}

/* Nothing at the cursor: is that the end, a restart, or just quiet? */
static int
idle(const struct shmr_ring *r, const struct shmr_cursor *c)
{
	/* acquire: pairs with the release store of CLOSED/REPLACED; every
	 * tail the producer stored before it is visible below */
	uint32_t st = atomic_load_explicit(&r->hdr->state,
	    memory_order_acquire);

	/* acquire: pairs with the release store of tail in publish_hot() */
	if (atomic_load_explicit(&r->hdr->tail, memory_order_acquire) !=
	    c->pos)
		return -EAGAIN;		/* it moved: read again */
	if (st == SHMR_STATE_CLOSED)
		return SHMR_EOF;
	if (st == SHMR_STATE_REPLACED)
		return SHMR_RESTART;
	return SHMR_EMPTY;
}

static int
next(const struct shmr_ring *r, struct shmr_cursor *c, void *buf,
    size_t buflen, struct shmr_msg *m, enum view view)
{
	int resyncs = 0, rc;
	long iter;

	m->data = NULL;
	m->len = 0;
	m->lost = 0;
	m->seq = c->seq;
	if (c->epoch != r->epoch)
		return -ESTALE;
	if ((c->pos & 7) != 0)
		return -EINVAL;
	/* Bounded: a hostile tail flipping under us cannot hold us here. */
	for (iter = 0; iter < LOOP_MAX; iter++) {
		uint64_t t, off, w0, seq;
		uint32_t len, type;
		int sane;

		/*
		 * Records below a tail we already acquired are published:
		 * load the shared tail (a cache line the producer writes on
		 * every publish) only when we have caught up with our copy.
		 */
		t = c->tail;
		if (t == c->pos || t - c->pos > r->cap) {
			/* acquire: pairs with the release store of tail in
			 * publish_hot() */
			t = atomic_load_explicit(&r->hdr->tail,
			    memory_order_acquire);
			c->tail = t;
			CHAOS("next: tail loaded");
		}
		if (t == c->pos) {
			if ((rc = idle(r, c)) != -EAGAIN)
				return rc;
			continue;
		}
		if (t - c->pos > r->cap || lapped(r, c->pos)) {
			if (t - c->pos > ((uint64_t)1 << 62) &&
			    !lapped(r, c->pos))
				return -EBADMSG;	/* tail behind us */
			if ((rc = resync(r, c, m)) != SHMR_EMPTY)
				return rc;
			if (++resyncs > RESYNC_MAX)
				return -EBADMSG;
			continue;
		}
		off = c->pos & r->mask;
		w0 = word_load(r->data + off);
		CHAOS("next: record length loaded");
		len = (uint32_t)w0;
		type = (uint32_t)(w0 >> 32);
		seq = 0;
		if (type == REC_PAD) {
			sane = len == r->cap - off && len <= t - c->pos;
		} else if (type == REC_GAP) {
			/* a mirror's record of upstream loss (layout.h) */
			sane = len == REC_HDR && off + REC_HDR <= r->cap &&
			    REC_HDR <= t - c->pos;
			if (sane)
				seq = word_load(r->data + off + 8);
		} else {
			sane = type == REC_DATA && len >= REC_HDR &&
			    len - REC_HDR <= r->max_msg &&
			    off + align8(len) <= r->cap &&
			    align8(len) <= t - c->pos;
			if (sane) {
				seq = word_load(r->data + off + 8);
				/* Unreachable (2^64 messages): a cursor
				 * past it would wrap to 0. */
				sane = seq != UINT64_MAX;
				m->len = len - REC_HDR;
				if (view == COPY && m->len <= buflen)
					copy_out(buf, r->data + off + REC_HDR,
					    m->len);
				CHAOS("next: copied, intent not re-checked");
			}
		}
		/*
		 * acquire: orders the loads above before the intent re-load;
		 * pairs with the producer's release fence after its intent
		 * store in publish_claim(). If any byte we read was written
		 * after that fence, we see the new intent here.
		 */
		atomic_thread_fence(memory_order_acquire);
		CHAOS("next: fenced, intent not re-loaded");
		if (lapped(r, c->pos)) {
			m->len = 0;
			continue;	/* torn: resync at the top */
		}
		if (!sane)
			return -EBADMSG;
		if (type == REC_PAD) {
			c->pos += len;
			continue;
		}
		if (type == REC_GAP) {
			if (seq < c->seq)
				return -EBADMSG;	/* went backwards */
			c->pos += REC_HDR;
			if (seq == c->seq)
				continue;	/* a seek already counted it */
			m->lost = seq - c->seq;
			m->seq = c->seq = seq;
			return SHMR_OVERRUN;
		}
		if (seq != c->seq) {
			if (seq < c->seq)
				return -EBADMSG;	/* went backwards */
			m->lost = seq - c->seq;
			m->seq = c->seq = seq;
			m->len = 0;
			return SHMR_OVERRUN;
		}
		m->seq = seq;
		if (view == PEEK) {
			m->data = r->data + off + REC_HDR;
			return SHMR_MSG;
		}
		if (m->len > buflen)
			return -ENOBUFS;
		m->data = buf;
		c->pos += align8(len);
		c->seq++;
		return SHMR_MSG;
	}
	return SHMR_EMPTY;
}

int
shmr_cursor_read(const struct shmr_ring *r, struct shmr_cursor *c, void *buf,
    size_t buflen, struct shmr_msg *m)
{
	return next(r, c, buf, buflen, m, COPY);
}

int
shmr_cursor_peek(const struct shmr_ring *r, struct shmr_cursor *c,
    struct shmr_msg *m)
{
	return next(r, c, NULL, 0, m, PEEK);
}

int
shmr_cursor_consume(const struct shmr_ring *r, struct shmr_cursor *c,
    const struct shmr_msg *m)
{
	if (c->epoch != r->epoch || m->seq != c->seq)
		return -EINVAL;
	CHAOS("consume: view used, not yet checked");
	/* acquire: the caller's reads of the view happen before the intent
	 * re-load; pairs with the release fence in publish_claim() */
	atomic_thread_fence(memory_order_acquire);
	if (lapped(r, c->pos))
		return -ESTALE;
	c->pos += align8(REC_HDR + m->len);
	c->seq++;
	return 0;
}

int
shmr_cursor_read_batch(const struct shmr_ring *r, struct shmr_cursor *c,
    void *buf, size_t buflen, struct shmr_msg *m, size_t n, size_t *count)
{
	unsigned char *out = buf;
	struct shmr_cursor t0;
	size_t used, k = 1;
	uint64_t t;
	int rc;

	*count = 0;
	if (n == 0)
		return -EINVAL;
	/* The first message takes the careful path (overrun, end, pad...). */
	if ((rc = next(r, c, buf, buflen, &m[0], COPY)) != SHMR_MSG)
		return rc;
	used = align8(m[0].len);
	t0 = *c;
	/*
	 * The rest are copied with one tail load before and one intent
	 * check after: intent only grows, so if the first of them was
	 * intact when we re-load it, all later ones were too. On a lap they
	 * are dropped and the next call reports the exact loss.
	 */
	/* acquire: pairs with the release store of tail in publish_hot() */
	t = atomic_load_explicit(&r->hdr->tail, memory_order_acquire);
	if (t - c->pos > r->cap)
		t = c->pos;
	c->tail = t;
	/* Bound the copy between two lap checks: the longer it takes, the
	 * likelier a fast producer laps it and the work is thrown away. */
	if (buflen > BATCH_BYTES)
		buflen = BATCH_BYTES;
	/*
	 * Stop short of the cache line the producer is filling: reading it
	 * now would pull it away from the producer once per record. The
	 * next call delivers the rest (its first record takes the careful
	 * path, which reads up to the tail), so nothing waits for the
	 * producer to move on.
	 */
	if ((t & ~(uint64_t)(CACHE_LINE - 1)) - c->pos <= t - c->pos)
		t &= ~(uint64_t)(CACHE_LINE - 1);
	while (k < n && c->pos != t && used < buflen) {
		uint64_t off = c->pos & r->mask;
		uint64_t w0 = word_load(r->data + off);
		uint32_t len = (uint32_t)w0, type = (uint32_t)(w0 >> 32);
		size_t plen;

		if (type == REC_PAD && len == r->cap - off &&
		    len <= t - c->pos) {
			c->pos += len;
			continue;
		}
		if (type != REC_DATA || len < REC_HDR ||
		    len - REC_HDR > r->max_msg || off + align8(len) > r->cap ||
		    align8(len) > t - c->pos ||
		    word_load(r->data + off + 8) != c->seq ||
		    c->seq == UINT64_MAX)
			break;	/* let the careful path look at it */
		plen = len - REC_HDR;
		if (plen > buflen - used)
			break;
		copy_out(out + used, r->data + off + REC_HDR, plen);
		m[k].seq = c->seq;
		m[k].data = out + used;
		m[k].len = plen;
		m[k].lost = 0;
		used += align8(plen) < buflen - used ? align8(plen) :
		    buflen - used;
		c->pos += align8(len);
		c->seq++;
		k++;
	}
	CHAOS("read_batch: copied, intent not re-checked");
	/* acquire: see next(); pairs with publish_claim()'s release fence */
	atomic_thread_fence(memory_order_acquire);
	if (k > 1 && lapped(r, t0.pos)) {
		*c = t0;
		k = 1;
	}
	*count = k;
	return SHMR_MSG;
}

/* Walk from the head to sequence number seq, validating as we go. */
static int
seek(const struct shmr_ring *r, struct shmr_cursor *c, uint64_t target)
{
	struct hot h;
	int rc, tries;

	for (tries = 0; tries < 16; tries++) {
		if ((rc = ring_hot(r, &h)) < 0)
			return rc;
		if (target > h.next_seq)
			return -ERANGE;
		c->pos = h.head_pos;
		c->seq = h.head_seq;
		if (target <= h.head_seq) {
			/* Gone already: the first read reports the gap. */
			c->seq = target;
			return 0;
		}
		if (target == h.next_seq) {
			c->pos = h.tail;
			c->seq = target;
			return 0;
		}
		while (c->seq != target && c->pos != h.tail) {
			uint64_t off = c->pos & r->mask;
			uint64_t w0 = word_load(r->data + off);
			uint32_t len = (uint32_t)w0, type = (uint32_t)(w0 >> 32);
			int sane = (type == REC_PAD && len == r->cap - off) ||
			    (type == REC_GAP && len == REC_HDR &&
			    off + REC_HDR <= r->cap) ||
			    (type == REC_DATA && len >= REC_HDR &&
			    len - REC_HDR <= r->max_msg &&
			    off + align8(len) <= r->cap);
			uint64_t next = type == REC_GAP ?
			    word_load(r->data + off + 8) : 0;

			sane = sane && align8(len) <= h.tail - c->pos;
			CHAOS("seek: record looked at");
			/* acquire: see next() */
			atomic_thread_fence(memory_order_acquire);
			if (lapped(r, c->pos))
				break;
			if (!sane)
				return -EBADMSG;
			if (type == REC_GAP && next > target) {
				/* target was lost upstream: the first read
				 * reports it from this gap record */
				c->seq = target;
				return 0;
			}
			if (type == REC_DATA)
				c->seq++;
			else if (type == REC_GAP)
				c->seq = next;
			c->pos += align8(len);
		}
		if (c->seq == target)
			return 0;
		if (c->pos == h.tail)
			return -EBADMSG;	/* records and header disagree */
	}
	/* Lapped on every try: start at the head; the read reports a gap. */
	if ((rc = ring_hot(r, &h)) < 0)
		return rc;
	c->pos = h.head_pos;
	c->seq = target < h.head_seq ? target : h.head_seq;
	return 0;
}

/*
 * A mirror's newest record may be a gap, after the newest message: is the
 * record at last_pos intact and the message next_seq - 1?
 */
static int
latest_is_data(const struct shmr_ring *r, const struct hot *h)
{
	uint64_t off = h->last_pos & r->mask, w0, seq;

	if (h->tail - h->last_pos > r->cap || off + REC_HDR > r->cap)
		return 0;
	w0 = word_load(r->data + off);
	seq = word_load(r->data + off + 8);
	/* acquire: see next(); pairs with publish_claim()'s release fence */
	atomic_thread_fence(memory_order_acquire);
	return !lapped(r, h->last_pos) && (uint32_t)(w0 >> 32) == REC_DATA &&
	    seq == h->next_seq - 1;
}

int
shmr_cursor_init(const struct shmr_ring *r, struct shmr_cursor *c,
    enum shmr_from from, uint64_t seq)
{
	struct hot h;
	int rc;

	c->epoch = r->epoch;
	c->tail = 0;
	if (from == SHMR_FROM_SEQ) {
		rc = seek(r, c, seq);
		c->tail = c->pos;	/* the first read looks at the ring */
		return rc;
	}
	if ((rc = ring_hot(r, &h)) < 0)
		return rc;
	c->tail = h.tail;
	switch (from) {
	case SHMR_FROM_OLDEST:
		c->pos = h.head_pos;
		c->seq = h.head_seq;
		return 0;
	case SHMR_FROM_LATEST:
		if (h.next_seq != h.head_seq && (!r->mirror ||
		    latest_is_data(r, &h))) {
			c->pos = h.last_pos;
			c->seq = h.next_seq - 1;
			return 0;
		}
		/* An empty ring: the latest is the next one. */
		c->pos = h.tail;
		c->seq = h.next_seq;
		return 0;
	case SHMR_FROM_END:
		c->pos = h.tail;
		c->seq = h.next_seq;
		return 0;
	default:
		return -EINVAL;
	}
}

/* ---- waiting ------------------------------------------------------------ */

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* seq_cst loads: the reader's half of the Dekker pair in wait.c. */
static int
ready(const struct shmr_ring *r, const struct shmr_cursor *c)
{
	return atomic_load_explicit(&r->hdr->tail, memory_order_seq_cst) !=
	    c->pos || atomic_load_explicit(&r->hdr->state,
	    memory_order_seq_cst) != SHMR_STATE_LIVE;
}

/*
 * The spinning part of a blocking wait. A reader at the producer's heels
 * (and its hardware prefetcher, a few lines further on) pulls away every
 * cache line the producer is about to write, and the producer then waits
 * for each line to come back: with one caught-up reader a 64-byte publish
 * took 160-300 ns instead of 25 ns on the development VM. So while the
 * producer is streaming, let it get WAIT_LAG bytes ahead before returning,
 * looking at the tail less and less often (1, 2, 4... us: each look costs
 * the producer a line); return when it pauses (the tail did not move
 * between two looks, so latency is what matters), when the lag has lasted
 * WAIT_SPIN_NS, or when the state changes. Nothing new for WAIT_SPIN_NS:
 * -EAGAIN, go to sleep.
 */
static int
gather(const struct shmr_ring *r, const struct shmr_cursor *c,
    uint64_t spin_end, uint64_t deadline_ms)
{
	uint64_t lag = r->cap / 8 < WAIT_LAG ? r->cap / 8 : WAIT_LAG;
	uint64_t seen = c->pos, since = 0, gap = WAIT_POLL_NS, now, t;

	for (;;) {
		if (ready(r, c)) {
			/* relaxed: only a distance; the reads that follow
			 * the wait acquire the tail themselves */
			t = atomic_load_explicit(&r->hdr->tail,
			    memory_order_relaxed);
			now = mono_ns();
			if (since == 0)
				since = now;
			if (t == seen || t - c->pos >= lag ||
			    now - since >= WAIT_SPIN_NS ||
			    atomic_load_explicit(&r->hdr->state,
			    memory_order_relaxed) != SHMR_STATE_LIVE)
				return 0;
			/* Still streaming: each look costs the producer a
			 * line, so look less and less often. */
			if (seen != c->pos)
				gap *= 2;
			seen = t;
		} else {
			now = mono_ns();
			if (now >= spin_end)
				return -EAGAIN;
		}
		if (now / 1000000 >= deadline_ms)
			return ready(r, c) ? 0 : -ETIMEDOUT;
		/* Look again only after gap (WAIT_POLL_NS, doubling). */
		do {
			for (int k = 0; k < 8; k++)
				cpu_relax();
		} while (mono_ns() - now < gap);
	}
}

int
shmr_cursor_wait(const struct shmr_ring *r, const struct shmr_cursor *c,
    int timeout_ms, unsigned flags)
{
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX :
	    mono_ms() + (uint64_t)timeout_ms;
	long poll_us = 50;
	uint64_t spin_end;
	int i, rc;

	/*
	 * Spin first (for WAIT_SPIN_NS, or until the deadline with
	 * SHMR_WAIT_SPIN): a publish arriving now is seen at once instead of
	 * after a sleep and a wake-up (20-30 us here). Poll with a growing
	 * pause (up to SPIN_BACKOFF pause instructions, about a microsecond
	 * on current x86): each poll pulls the tail's cache line
	 * away from the producer, whose next publish then has to fetch it
	 * back, so a caught-up reader polling flat out slows the producer.
	 */
	spin_end = (flags & SHMR_WAIT_SPIN) ? UINT64_MAX :
	    mono_ns() + WAIT_SPIN_NS;
	if (!(flags & SHMR_WAIT_SPIN)) {
		if ((rc = gather(r, c, spin_end, deadline)) != -EAGAIN)
			return rc;
	} else {
		for (i = 0;; i++) {
			if (ready(r, c))
				return 0;
			for (int k = i < 6 ? 1 << i : SPIN_BACKOFF; k > 0; k--)
				cpu_relax();
			if ((i & 15) == 15 && mono_ns() / 1000000 >= deadline)
				return -ETIMEDOUT;
		}
	}
	for (;;) {
		uint64_t now = mono_ms();
		int slice;

		if (now >= deadline)
			return ready(r, c) ? 0 : -ETIMEDOUT;
		slice = deadline - now < WAIT_SLICE_MS ?
		    (int)(deadline - now) : WAIT_SLICE_MS;
		if (r->wait != NULL) {
			/* acquire: pairs with the producer's release
			 * increment of notify in wait_wake() */
			uint32_t seen = atomic_load_explicit(&r->wait->notify,
			    memory_order_acquire);

			/* seq_cst: Dekker with the producer (wait.c) */
			atomic_store_explicit(&r->wait->sleepers, 1,
			    memory_order_seq_cst);
			CHAOS("wait: sleepers set, tail not re-checked");
			if (ready(r, c))
				return 0;
			CHAOS("wait: about to sleep");
			rc = futex_wait(&r->wait->notify, seen,
			    wait_slice_ns(r->hdr, slice));
			if (rc == -EINTR)
				return -EINTR;
		} else {
			/* No wait object: poll, backing off to 1 ms. */
			struct timespec ts = { 0, poll_us * 1000 };

			if (poll_us * 1000 > (long)slice * 1000000)
				ts.tv_nsec = (long)slice * 1000000;
			if (nanosleep(&ts, NULL) < 0 && errno == EINTR)
				return -EINTR;
			if (poll_us < 1000)
				poll_us *= 2;
		}
		if (ready(r, c))
			return 0;
	}
}

/* ---- convenience reader ------------------------------------------------- */

struct shmr_reader {
	struct shmr_ring	*ring;
	struct shmr_cursor	 cur;
	unsigned char		*buf;
	size_t			 buflen;
	bool			 stale;		/* name now elsewhere */
	uint64_t		 last_check;	/* mono_ms of last liveness probe */
};

static int
attach(struct shmr_reader *r, const char *name, enum shmr_from from,
    uint64_t seq)
{
	struct shmr_ring *ring;
	struct shmr_cursor cur;
	unsigned char *buf;
	int rc;

	if ((rc = shmr_ring_open(name, NULL, &ring)) < 0)
		return rc;
	if (ring->max_msg > r->buflen || r->buf == NULL) {
		/* +1: a zero max_msg still gets a valid buffer */
		if ((buf = realloc(r->buf, ring->max_msg + 1)) == NULL) {
			shmr_ring_close(ring);
			return -ENOMEM;
		}
		r->buf = buf;
		r->buflen = ring->max_msg;
	}
	/* Into a copy: a failure (-EDEADLK, a stalled new producer) must
	 * leave the reader on its old ring with its old cursor. */
	if ((rc = shmr_cursor_init(ring, &cur, from, seq)) < 0) {
		shmr_ring_close(ring);
		return rc;
	}
	shmr_ring_close(r->ring);
	r->ring = ring;
	r->cur = cur;
	r->stale = false;
	return 0;
}

int
shmr_reader_open(const char *name, enum shmr_from from, uint64_t seq,
    struct shmr_reader **out)
{
	struct shmr_reader *r;
	int rc;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	if ((rc = attach(r, name, from, seq)) < 0) {
		free(r->buf);
		free(r);
		return rc;
	}
	r->last_check = mono_ms();
	*out = r;
	return 0;
}

int
shmr_reader_next(struct shmr_reader *r, struct shmr_msg *m)
{
	char name[SHMR_NAME_MAX + 1];
	int rc;

	rc = shmr_cursor_read(r->ring, &r->cur, r->buf, r->buflen, m);
	if (rc == SHMR_RESTART || (rc == SHMR_EMPTY && r->stale)) {
		/* Drained the old ring; continue with the new one. */
		strcpy(name, r->ring->name);
		if ((rc = attach(r, name, SHMR_FROM_OLDEST, 0)) < 0)
			return rc == -ENOENT || rc == -EAGAIN ?
			    SHMR_EMPTY : rc;
		m->seq = r->cur.seq;
		m->lost = 0;
		return SHMR_RESTART;
	}
	return rc;
}

int
shmr_reader_wait(struct shmr_reader *r, int timeout_ms, unsigned flags)
{
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX :
	    mono_ms() + (uint64_t)timeout_ms;
	int rc;

	for (;;) {
		uint64_t now = mono_ms();
		int slice = deadline - now < 1000 ? (int)(deadline - now) :
		    1000;

		if (r->stale) {
			/* The next read re-attaches; if the name is still
			 * missing, do not let callers spin on it. */
			struct timespec ts = { 0, 100 * 1000000L };

			if (slice < 100)
				ts.tv_nsec = (long)slice * 1000000L;
			nanosleep(&ts, NULL);
			return 0;
		}
		rc = shmr_cursor_wait(r->ring, &r->cur, slice, flags);
		if (rc != -ETIMEDOUT)
			return rc;
		/*
		 * Quiet for a while: if the producer died and the name now
		 * points to a new ring (one that did not mark ours
		 * replaced), report it as a restart on the next read.
		 */
		if (mono_ms() - r->last_check >= 1000) {
			r->last_check = mono_ms();
			if (shmr_ring_alive(r->ring) == 0 &&
			    shmr_ring_stale(r->ring) == 1) {
				r->stale = true;
				return 0;
			}
		}
		if (mono_ms() >= deadline)
			return -ETIMEDOUT;
	}
}

struct shmr_ring *
shmr_reader_ring(struct shmr_reader *r)
{
	return r->ring;
}

void
shmr_reader_close(struct shmr_reader *r)
{
	if (r == NULL)
		return;
	shmr_ring_close(r->ring);
	free(r->buf);
	free(r);
}
