/*
 * reader.c - cursors over a read-only ring and the convenience reader;
 * waiting is in wait.c. The protocol is explained in layout.h; in short,
 * a record is delivered only if, after it was copied, an acquire fence
 * and a fresh load of intent show that the producer had not yet claimed
 * its bytes.
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
		struct rec rec;
		uint64_t t;
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
		sane = rec_read(r, c->pos, t - c->pos, &rec) == NULL;
		CHAOS("next: record header loaded");
		if (sane && rec.type == REC_DATA) {
			m->len = rec.len - REC_HDR;
			if (view == COPY && m->len <= buflen)
				copy_out(buf, r->data + (c->pos & r->mask) +
				    REC_HDR, m->len);
			CHAOS("next: copied, intent not re-checked");
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
		if (rec.type == REC_PAD) {
			c->pos += rec.size;
			continue;
		}
		if (rec.type == REC_GAP) {
			/* a mirror's record of upstream loss (layout.h) */
			if (rec.seq < c->seq)
				return -EBADMSG;	/* went backwards */
			c->pos += REC_HDR;
			if (rec.seq == c->seq)
				continue;	/* a seek already counted it */
			m->lost = rec.seq - c->seq;
			m->seq = c->seq = rec.seq;
			return SHMR_OVERRUN;
		}
		if (rec.seq != c->seq) {
			if (rec.seq < c->seq)
				return -EBADMSG;	/* went backwards */
			m->lost = rec.seq - c->seq;
			m->seq = c->seq = rec.seq;
			m->len = 0;
			return SHMR_OVERRUN;
		}
		m->seq = rec.seq;
		if (view == PEEK) {
			m->data = r->data + (c->pos & r->mask) + REC_HDR;
			return SHMR_MSG;
		}
		if (m->len > buflen)
			return -ENOBUFS;
		m->data = buf;
		c->pos += rec.size;
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
		struct rec rec;
		size_t plen;

		if (rec_read(r, c->pos, t - c->pos, &rec) != NULL ||
		    rec.type == REC_GAP ||
		    (rec.type == REC_DATA && rec.seq != c->seq))
			break;	/* let the careful path look at it */
		if (rec.type == REC_PAD) {
			c->pos += rec.size;
			continue;
		}
		plen = rec.len - REC_HDR;
		if (plen > buflen - used)
			break;
		copy_out(out + used, r->data + (c->pos & r->mask) + REC_HDR,
		    plen);
		m[k].seq = c->seq;
		m[k].data = out + used;
		m[k].len = plen;
		m[k].lost = 0;
		used += align8(plen) < buflen - used ? align8(plen) :
		    buflen - used;
		c->pos += rec.size;
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
			struct rec rec;
			int sane = rec_read(r, c->pos, h.tail - c->pos,
			    &rec) == NULL;

			CHAOS("seek: record looked at");
			/* acquire: see next() */
			atomic_thread_fence(memory_order_acquire);
			if (lapped(r, c->pos))
				break;
			if (!sane)
				return -EBADMSG;
			if (rec.type == REC_GAP && rec.seq > target) {
				/* target was lost upstream: the first read
				 * reports it from this gap record */
				c->seq = target;
				return 0;
			}
			if (rec.type == REC_DATA)
				c->seq++;
			else if (rec.type == REC_GAP)
				c->seq = rec.seq;
			c->pos += rec.size;
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
	struct rec rec;
	int sane;

	if (h->tail - h->last_pos > r->cap)
		return 0;
	sane = rec_read(r, h->last_pos, h->tail - h->last_pos, &rec) == NULL;
	/* acquire: see next(); pairs with publish_claim()'s release fence */
	atomic_thread_fence(memory_order_acquire);
	return !lapped(r, h->last_pos) && sane && rec.type == REC_DATA &&
	    rec.seq == h->next_seq - 1;
}

int
shmr_cursor_init(const struct shmr_ring *r, struct shmr_cursor *c,
    enum shmr_from from, uint64_t seq)
{
	struct hot h;
	int rc;

	c->epoch = r->epoch;
	c->tail = 0;
	memset(c->reserved, 0, sizeof(c->reserved));
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

/* ---- convenience reader ------------------------------------------------- */

struct shmr_reader {
	struct shmr_ring	*ring;
	struct shmr_cursor	 cur;
	unsigned char		*buf;
	size_t			 buflen;
	struct shmr_open_opts	 opts;		/* for every ring it follows */
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

	if ((rc = shmr_ring_open(name, &r->opts, &ring)) < 0)
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
shmr_reader_open_opts(const char *name, enum shmr_from from, uint64_t seq,
    const struct shmr_open_opts *opts, struct shmr_reader **out)
{
	struct shmr_reader *r;
	int rc;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	if (opts != NULL)
		r->opts = *opts;	/* shmr_ring_open() checks them */
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
shmr_reader_open(const char *name, enum shmr_from from, uint64_t seq,
    struct shmr_reader **out)
{
	return shmr_reader_open_opts(name, from, seq, NULL, out);
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
