/*
 * publish.c - the producer's publishing: claiming bytes ahead of the
 * records (and moving the head past what the claim overwrites), writing
 * records, the header seqlock, and publishing one message, a batch, or a
 * reservation. The protocol is explained in layout.h.
 *
 * The producer keeps private copies of every hot header field, so it
 * never reads shared state back except its own old record headers (to
 * advance the head) and the wait object's sleeper flag. Publishing is
 * O(1) whatever the number of readers.
 */
#include <string.h>
#include <time.h>

#include "producer.h"

#define CLAIM_AHEAD	((uint64_t)64 << 10)
#define PREFETCH_W	1024	/* < the smallest claim-ahead, 4 KiB */

static uint64_t
coarse_ns(void)
{
	struct timespec ts;

	/* Coarse: a vDSO read, no syscall; jiffy resolution is enough here. */
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Where a record of ral bytes starting its search at pos lands: records do
 * not wrap, so it may first need a pad to the end of the data area.
 */
uint64_t
publish_place(const struct shmr_writer *w, uint64_t pos, uint64_t ral)
{
	uint64_t off = pos & w->mask;

	return w->cap - off < ral ? pos + (w->cap - off) : pos;
}

/*
 * The header seqlock, writer side (Boehm's recipe; the reader side is
 * ring_hot() in ring.c): sl_begin() before the first field store of an
 * update, sl_end() after the last. Every header update goes through them:
 * a claim (head, intent) and a publish (tail and statistics).
 */
static inline void
sl_begin(struct shmr_writer *w)
{
	atomic_store_explicit(&w->hdr->sl, ++w->sl, memory_order_relaxed);
	/* release: sl odd is visible before the field stores that follow;
	 * pairs with the acquire fence in ring_hot() */
	atomic_thread_fence(memory_order_release);
}

static inline void
sl_end(struct shmr_writer *w)
{
	/* release: the field stores before it are visible to whoever sees
	 * this even sl; pairs with the acquire load of sl in ring_hot() */
	atomic_store_explicit(&w->hdr->sl, ++w->sl, memory_order_release);
}

/*
 * Claim the bytes up to end: first move the head past every record that
 * the claim will overwrite (reading back our own record headers), then
 * announce the new intent, both inside the header seqlock so a snapshot
 * never shows a head older than intent - cap. A producer that dies here
 * leaves head and intent consistent for readers.
 */
void
publish_claim(struct shmr_writer *w, uint64_t end)
{
	struct seg_hdr *h = w->hdr;

	if (end <= w->intent)
		return;
	/*
	 * Claim ahead (up to 1/16 of the ring, at most 64 KiB): the header
	 * line is then written once per claim, not once per publish, and
	 * readers checking intent find it in their cache. The price is that
	 * readers are declared lapped up to that much earlier.
	 */
	end += w->cap / 16 < CLAIM_AHEAD ? w->cap / 16 : CLAIM_AHEAD;
	while (end - w->head_pos > w->cap) {
		uint64_t w0 = word_load(w->data + (w->head_pos & w->mask));
		uint32_t len = (uint32_t)w0;

		if (len < PAD_MIN || w->head_pos + align8(len) > w->tail) {
			/* Only our own memory corruption gets here. */
			w->head_pos = w->tail;
			w->head_seq = w->next_seq;
			break;
		}
		if ((uint32_t)(w0 >> 32) == REC_DATA)
			w->head_seq++;
		else if ((uint32_t)(w0 >> 32) == REC_GAP)	/* mirrors */
			w->head_seq = word_load(w->data +
			    ((w->head_pos + 8) & w->mask));
		w->head_pos += align8(len);
	}
	if (end - w->head_pos > w->cap) {
		/* The claim overlaps even the tail: nothing old survives. */
		w->head_pos = end - w->cap;
	}
	w->intent = end;
	CHAOS("claim: before sl odd");
	sl_begin(w);
	CHAOS("claim: sl odd");
	atomic_store_explicit(&h->head_pos, w->head_pos, memory_order_relaxed);
	atomic_store_explicit(&h->head_seq, w->head_seq, memory_order_relaxed);
	CHAOS("claim: head moved, intent not yet");
	atomic_store_explicit(&h->intent, end, memory_order_relaxed);
	CHAOS("claim: intent stored, sl odd");
	sl_end(w);
	/*
	 * release: the intent store above is ordered before the record
	 * stores that follow; pairs with the acquire fence a reader issues
	 * after copying and before re-loading intent (next() in reader.c).
	 */
	atomic_thread_fence(memory_order_release);
	CHAOS("claim: done, records not yet written");
}

void
publish_pad(struct shmr_writer *w, uint64_t pos)
{
	uint64_t off = pos & w->mask;

	word_store(w->data + off, rec_word0((uint32_t)(w->cap - off),
	    REC_PAD));
}

/* Copy a payload into the ring with relaxed word stores, zero-padded. */
static void
copy_in(unsigned char *dst, const unsigned char *src, size_t len)
{
	size_t i;
	uint64_t v;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&v, src + i, 8);
		word_store(dst + i, v);
	}
	if (i < len) {
		v = 0;
		memcpy(&v, src + i, len - i);
		word_store(dst + i, v);
	}
}

/* Write one data record at pos (already claimed); return its end. */
uint64_t
publish_put(struct shmr_writer *w, uint64_t pos, const void *data,
    size_t len)
{
	uint64_t ral = align8(REC_HDR + len);
	uint64_t start = publish_place(w, pos, ral);
	unsigned char *p;

	if (start != pos) {
		publish_pad(w, pos);
		CHAOS("put: pad written");
	}
	p = w->data + (start & w->mask);
	/*
	 * Ask for the line 1 KiB ahead for writing now: with a ring larger
	 * than the cache every new line is a miss, and this overlaps it
	 * with the records in between (8-12 % on 64-byte publishes here).
	 * Those bytes are already claimed, so no reader may use them. A
	 * builtin of gcc and clang; a hint, not a memory access.
	 */
	__builtin_prefetch(w->data + ((start + PREFETCH_W) & w->mask), 1);
	word_store(p, rec_word0((uint32_t)(REC_HDR + len), REC_DATA));
	CHAOS("put: length written, seq not yet");
	word_store(p + 8, w->next_seq++);
	CHAOS("put: seq written, payload not yet");
	copy_in(p + REC_HDR, data, len);
	CHAOS("put: record written");
	w->last_pos = start;
	w->bytes += len;
	return start + ral;
}

/*
 * Make everything up to w->tail visible. A batch calls this once per
 * claimed chunk: the claim moves the head, so a published tail left
 * behind would let the head pass it (readers would see an absurd header).
 */
static void
publish_hot(struct shmr_writer *w)
{
	struct seg_hdr *h = w->hdr;
	/* Read the clock before the update: keep the odd-sl window short. */
	uint64_t ns = coarse_ns();

	sl_begin(w);
	CHAOS("finish: sl odd");
	atomic_store_explicit(&h->next_seq, w->next_seq, memory_order_relaxed);
	atomic_store_explicit(&h->last_pos, w->last_pos, memory_order_relaxed);
	atomic_store_explicit(&h->bytes, w->bytes, memory_order_relaxed);
	atomic_store_explicit(&h->last_ns, ns, memory_order_relaxed);
	/*
	 * release: the records written before are visible to any reader
	 * that sees this tail; pairs with the acquire load of tail in
	 * shmr_cursor_read() and friends.
	 */
	atomic_store_explicit(&h->tail, w->tail, memory_order_release);
	CHAOS("finish: tail published, sl odd");
	sl_end(w);
	CHAOS("finish: sl even, sleepers not yet checked");
}

/* Make everything up to w->tail visible and wake sleepers if any. */
void
publish_finish(struct shmr_writer *w)
{
	publish_hot(w);
	wait_wake(w->wait, w->hdr, &w->wk);
}

int
shmr_writer_publish(struct shmr_writer *w, const void *data, size_t len,
    uint64_t *seq)
{
	uint64_t ral, end;
	int rc;

	if (len > w->max_msg)
		return -EMSGSIZE;
	if (len > 0 && data == NULL)
		return -EINVAL;
	if ((rc = writer_busy(w)) < 0)
		return rc;
	ral = align8(REC_HDR + len);
	end = publish_place(w, w->tail, ral) + ral;
	publish_claim(w, end);
	if (seq != NULL)
		*seq = w->next_seq;
	w->tail = publish_put(w, w->tail, data, len);
	publish_finish(w);
	return 0;
}

int
shmr_writer_publish_batch(struct shmr_writer *w, const struct shmr_iov *m,
    size_t n, uint64_t *first_seq)
{
	size_t i, j;
	int rc;

	if ((rc = writer_busy(w)) < 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (m[i].len > w->max_msg)
			return -EMSGSIZE;
		if (m[i].len > 0 && m[i].data == NULL)
			return -EINVAL;
	}
	if (first_seq != NULL)
		*first_seq = w->next_seq;
	/*
	 * One claim per chunk of at most half the ring (a claim must never
	 * span more than the ring), then that chunk's tail update: the next
	 * claim moves the head, which must never pass the published tail.
	 * One wake-up per batch.
	 */
	for (i = 0; i < n; i = j) {
		uint64_t end = w->tail;

		for (j = i; j < n; j++) {
			uint64_t ral = align8(REC_HDR + m[j].len);
			uint64_t e = publish_place(w, end, ral) + ral;

			if (j > i && e - w->tail > w->cap / 2)
				break;
			end = e;
		}
		publish_claim(w, end);
		for (size_t k = i; k < j; k++)
			w->tail = publish_put(w, w->tail, m[k].data, m[k].len);
		CHAOS("batch: chunk written, tail not published");
		publish_hot(w);
	}
	if (n > 0)
		wait_wake(w->wait, w->hdr, &w->wk);
	return 0;
}

int
shmr_writer_reserve(struct shmr_writer *w, size_t len, void **buf)
{
	uint64_t ral, start;
	int rc;

	if ((rc = writer_busy(w)) < 0)
		return rc;
	if (len > w->max_msg)
		return -EMSGSIZE;
	ral = align8(REC_HDR + len);
	start = publish_place(w, w->tail, ral);
	publish_claim(w, start + ral);
	if (start != w->tail)
		publish_pad(w, w->tail);
	w->reserved = true;
	w->res_start = start;
	w->res_len = len;
	*buf = w->data + (start & w->mask) + REC_HDR;
	return 0;
}

int
shmr_writer_commit(struct shmr_writer *w, size_t len, uint64_t *seq)
{
	unsigned char *p;

	if (w->forked)
		return -ECHILD;
	if (!w->reserved)
		return -EINVAL;
	if (len > w->res_len)
		return -EMSGSIZE;
	p = w->data + (w->res_start & w->mask);
	word_store(p, rec_word0((uint32_t)(REC_HDR + len), REC_DATA));
	if (seq != NULL)
		*seq = w->next_seq;
	word_store(p + 8, w->next_seq++);
	w->last_pos = w->res_start;
	w->bytes += len;
	w->tail = w->res_start + align8(REC_HDR + len);
	w->reserved = false;
	publish_finish(w);
	return 0;
}

void
shmr_writer_cancel(struct shmr_writer *w)
{
	/* The claim stays: readers may count those bytes as overwritten. */
	w->reserved = false;
}
