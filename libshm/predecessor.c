/*
 * predecessor.c - the predecessor line of the header (layout.h): a
 * producer that takes a name over records what the old ring was, so that
 * a reader that was not there when it was replaced (a relay restarted
 * after it) can still tell exactly what it missed, and whether the old
 * ring had ended by its producer's close.
 */
#include "internal.h"

static const struct seg_pred *
cline(const struct seg_hdr *h)
{
	return (const struct seg_pred *)(const void *)
	    ((const unsigned char *)h + PRED_OFF);
}

/*
 * What the old header says, read by a producer that holds the old ring's
 * lock (its producer is gone: nothing changes under us). A header of
 * another layout is not ours to interpret: nothing recorded. The end is
 * known only when the seqlock is even: a producer that died inside an
 * update may have moved next_seq without the tail that makes it so.
 */
void
pred_capture(const struct seg_hdr *old, struct pred *p)
{
	uint64_t s1, s2, next;
	uint32_t st;

	memset(p, 0, sizeof(*p));
	if (atomic_load_explicit(&old->magic, memory_order_relaxed) !=
	    SEG_MAGIC || atomic_load_explicit(&old->layout_version,
	    memory_order_relaxed) != LAYOUT_VERSION)
		return;
	/* acquire: pairs with the dead producer's last release of sl and
	 * of state; it is gone, so one consistent look suffices */
	st = atomic_load_explicit(&old->state, memory_order_acquire);
	s1 = atomic_load_explicit(&old->sl, memory_order_acquire);
	next = atomic_load_explicit(&old->next_seq, memory_order_relaxed);
	s2 = atomic_load_explicit(&old->sl, memory_order_relaxed);
	p->epoch = atomic_load_explicit(&old->epoch, memory_order_relaxed);
	if (st == SHMR_STATE_CLOSED)
		p->flags |= PRED_F_CLOSED;
	if ((s1 & 1) == 0 && s1 == s2) {
		p->flags |= PRED_F_END;
		p->end_seq = next;
	}
}

/* Into a new header, before state becomes LIVE (whose release store
 * publishes it). */
void
pred_init(struct seg_hdr *h, const struct pred *p)
{
	struct seg_pred *l = (struct seg_pred *)(void *)
	    ((unsigned char *)h + PRED_OFF);

	atomic_store_explicit(&l->epoch, p->epoch, memory_order_relaxed);
	atomic_store_explicit(&l->end_seq, p->end_seq, memory_order_relaxed);
	atomic_store_explicit(&l->flags, p->flags, memory_order_relaxed);
}

int
shmr_ring_predecessor(const struct shmr_ring *r, struct shmr_predecessor *p)
{
	const struct seg_pred *l = cline(r->hdr);
	uint64_t epoch;
	uint32_t flags;

	/* relaxed: constant since before LIVE, which ring.c acquired at
	 * open; untrusted like all of the header, but only copied out */
	epoch = atomic_load_explicit(&l->epoch, memory_order_relaxed);
	if (epoch == 0)
		return 0;
	if (p == NULL)
		return 1;
	flags = atomic_load_explicit(&l->flags, memory_order_relaxed);
	memset(p, 0, sizeof(*p));
	p->epoch = epoch;
	p->closed = (flags & PRED_F_CLOSED) != 0;
	p->end_known = (flags & PRED_F_END) != 0;
	p->end_seq = p->end_known ? atomic_load_explicit(&l->end_seq,
	    memory_order_relaxed) : 0;
	return 1;
}
