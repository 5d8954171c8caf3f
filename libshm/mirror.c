/*
 * mirror.c - the mirror lines of the header: what a mirror ring copies,
 * and how far behind its upstream it is (layout.h, "Mirrors"). The
 * records themselves (REC_GAP) are written in writer.c and read in
 * reader.c; this file only formats and reads the informational fields.
 */
#include <string.h>
#include <time.h>

#include "internal.h"

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
