/*
 * mirror.c - what only mirror rings have (layout.h, "Mirrors"): the
 * mirror lines of the header (what the ring copies, how far behind its
 * upstream it is) and the mirror writer's calls, publishing at a given
 * sequence number and recording upstream loss as REC_GAP records. Readers
 * follow gap records in reader.c; a successor adopts a dead mirror in
 * takeover.c.
 */
#include <string.h>
#include <time.h>

#include "producer.h"

static struct seg_mirror *
lines(struct seg_hdr *h)
{
	return (struct seg_mirror *)(void *)((unsigned char *)h + MIRROR_OFF);
}

static const struct seg_mirror *
clines(const struct seg_hdr *h)
{
	return (const struct seg_mirror *)(const void *)
	    ((const unsigned char *)h + MIRROR_OFF);
}

/* Store the origin text, NUL-padded; the caller checked its length. */
void
mirror_origin(struct seg_hdr *h, const char *origin)
{
	struct seg_mirror *m = lines(h);
	char buf[ORIGIN_LEN];
	uint64_t v;
	size_t i;

	memset(buf, 0, sizeof(buf));
	if (origin != NULL)
		strncpy(buf, origin, sizeof(buf) - 1);
	for (i = 0; i < ORIGIN_LEN / 8; i++) {
		memcpy(&v, buf + 8 * i, 8);
		atomic_store_explicit(&m->origin[i], v, memory_order_relaxed);
	}
}

/*
 * A new mirror segment, before it becomes LIVE (whose release store
 * publishes these): the flag, the origin, and the first sequence number.
 */
void
mirror_init(struct seg_hdr *h, const struct shmr_mirror_opts *mo,
    uint64_t *next_seq, uint64_t *head_seq)
{
	atomic_store_explicit(&h->flags, HDR_F_MIRROR, memory_order_relaxed);
	mirror_origin(h, mo->origin);
	atomic_store_explicit(&h->next_seq, mo->start_seq,
	    memory_order_relaxed);
	atomic_store_explicit(&h->head_seq, mo->start_seq,
	    memory_order_relaxed);
	*next_seq = *head_seq = mo->start_seq;
}

void
mirror_upstream(struct seg_hdr *h, uint64_t upstream_next, uint64_t token)
{
	struct seg_mirror *m = lines(h);

	/* relaxed: informational; a reader may pair an old value with a
	 * new one, which only skews "behind" for one look */
	atomic_store_explicit(&m->upstream_next, upstream_next,
	    memory_order_relaxed);
	atomic_store_explicit(&m->upstream_ns, realtime_ns(),
	    memory_order_relaxed);
	atomic_store_explicit(&m->token, token, memory_order_relaxed);
}

/* Copy the mirror lines out; untrusted: the text is made printable. */
void
mirror_read(const struct seg_hdr *h, uint64_t next_seq,
    struct shmr_mirror_info *mi)
{
	const struct seg_mirror *m = clines(h);
	uint64_t v;
	size_t i;

	memset(mi, 0, sizeof(*mi));
	for (i = 0; i < ORIGIN_LEN / 8; i++) {
		v = atomic_load_explicit(&m->origin[i], memory_order_relaxed);
		memcpy(mi->origin + 8 * i, &v, 8);
	}
	mi->origin[SHMR_ORIGIN_MAX] = '\0';
	for (i = 0; mi->origin[i] != '\0'; i++)
		if ((unsigned char)mi->origin[i] < 0x20 ||
		    (unsigned char)mi->origin[i] > 0x7e)
			mi->origin[i] = '?';
	mi->upstream_next_seq = atomic_load_explicit(&m->upstream_next,
	    memory_order_relaxed);
	mi->upstream_ns = atomic_load_explicit(&m->upstream_ns,
	    memory_order_relaxed);
	mi->token = atomic_load_explicit(&m->token, memory_order_relaxed);
	mi->behind = mi->upstream_next_seq > next_seq ?
	    mi->upstream_next_seq - next_seq : 0;
}

int
shmr_ring_mirror(const struct shmr_ring *r, struct shmr_mirror_info *mi)
{
	struct hot h;
	int rc;

	if (!r->mirror)
		return 0;
	if (mi == NULL)
		return 1;
	if ((rc = ring_hot(r, &h)) < 0)
		return rc;
	mirror_read(r->hdr, h.next_seq, mi);
	return 1;
}

/* ---- the mirror writer --------------------------------------------------- */

/* Write a gap record at pos (already claimed); return its end. */
static uint64_t
put_gap(struct shmr_writer *w, uint64_t pos, uint64_t next)
{
	uint64_t start = publish_place(w, pos, REC_HDR);
	unsigned char *p;

	if (start != pos)
		publish_pad(w, pos);
	p = w->data + (start & w->mask);
	word_store(p, rec_word0(REC_HDR, REC_GAP));
	word_store(p + 8, next);
	w->next_seq = next;
	return start + REC_HDR;
}

/* Publish a gap up to seq (if seq is ahead) and then, if data, a message. */
static int
publish_at(struct shmr_writer *w, uint64_t seq, const void *data,
    size_t len, bool msg)
{
	uint64_t end = w->tail, ral = align8(REC_HDR + len);
	int rc;

	if (!w->mirror || (len > 0 && data == NULL))
		return -EINVAL;
	if (len > w->max_msg)
		return -EMSGSIZE;
	if ((rc = writer_busy(w)) < 0)
		return rc;
	if (seq < w->next_seq || seq == UINT64_MAX)
		return -ERANGE;
	if (seq > w->next_seq)
		end = publish_place(w, end, REC_HDR) + REC_HDR;
	if (msg)
		end = publish_place(w, end, ral) + ral;
	if (end == w->tail)
		return 0;
	/* At most a max_msg (<= cap / 8) and a gap: one claim suffices. */
	publish_claim(w, end);
	if (seq > w->next_seq)
		w->tail = put_gap(w, w->tail, seq);
	if (msg)
		w->tail = publish_put(w, w->tail, data, len);
	publish_finish(w);
	return 0;
}

int
shmr_writer_publish_at(struct shmr_writer *w, uint64_t seq, const void *data,
    size_t len)
{
	return publish_at(w, seq, data, len, true);
}

int
shmr_writer_gap(struct shmr_writer *w, uint64_t next_seq)
{
	return publish_at(w, next_seq, NULL, 0, false);
}

int
shmr_writer_set_upstream(struct shmr_writer *w, uint64_t upstream_next_seq,
    uint64_t token)
{
	if (!w->mirror)
		return -EINVAL;
	if (w->forked)
		return -ECHILD;
	mirror_upstream(w->hdr, upstream_next_seq, token);
	return 0;
}

int
shmr_writer_mirror(const struct shmr_writer *w, struct shmr_mirror_info *mi)
{
	if (!w->mirror)
		return -EINVAL;
	if (w->forked)
		return -ECHILD;
	mirror_read(w->hdr, w->next_seq, mi);
	return 0;
}
