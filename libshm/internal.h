/*
 * internal.h - definitions shared by the libshm sources. Nothing here is
 * exported: the library is built with -fvisibility=hidden and a version
 * script, so these names are visible only to libshm itself and to tests
 * that link the static archive.
 */
#ifndef SHMR_INTERNAL_H
#define SHMR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shmring.h"
#include "layout.h"
#include "chaos.h"

/* A read-only view of a ring; the constants were validated at open. */
struct shmr_ring {
	const struct seg_hdr	*hdr;
	const unsigned char	*data;
	void			*map;
	size_t			 map_len;
	uint64_t		 cap;
	uint64_t		 mask;
	uint32_t		 max_msg;
	uint64_t		 epoch;
	pid_t			 pid;
	uint64_t		 created_ns;
	bool			 mirror;	/* HDR_F_MIRROR at open */
	int			 fd;		/* -1 for rings over memory */
	dev_t			 dev;
	ino_t			 ino;
	uid_t			 uid;
	mode_t			 mode;
	struct wait_page	*wait;		/* NULL: poll instead */
	int			 wait_fd;
	char			 name[SHMR_NAME_MAX + 1];
};

/* A record header as read from the (untrusted) mapping by rec_read(). */
struct rec {
	uint32_t	type;	/* REC_DATA, REC_PAD or REC_GAP */
	uint32_t	len;	/* word 0's length: 16 + payload, or the pad's */
	uint64_t	size;	/* bytes to the next record: align8(len) */
	uint64_t	seq;	/* word 1: a data record's sequence number, a
				 * gap's next one; 0 for a pad */
};

/*
 * The one check of a record header against the mapping (layout.h,
 * "Records"), for every reader of records: reads, batches, seeks, the
 * whole-ring check and the repair of a dead producer's header. Loads the
 * record at pos, of which avail bytes are published (tail - pos), and
 * returns NULL if it may be followed, else what is wrong with it. The
 * loads are relaxed: the caller believes neither answer before its
 * acquire fence and intent re-check say the bytes were not overwritten
 * meanwhile (layout.h, "Reader protocol"). Sequence continuity is the
 * caller's: it knows which number is due. Inline: it is on every read.
 */
static inline const char *
rec_read(const struct shmr_ring *r, uint64_t pos, uint64_t avail,
    struct rec *rec)
{
	uint64_t off = pos & r->mask;
	uint64_t w0 = word_load(r->data + off);

	rec->len = (uint32_t)w0;
	rec->type = (uint32_t)(w0 >> 32);
	rec->size = align8(rec->len);
	rec->seq = 0;
	switch (rec->type) {
	case REC_PAD:
		/* From an 8-aligned offset to the end: at least PAD_MIN. */
		if (rec->len != r->cap - off)
			return "pad record does not reach the end";
		break;
	case REC_GAP:
		if (rec->len != REC_HDR)
			return "gap record of a wrong length";
		if (off + REC_HDR > r->cap)
			return "record crosses the end of the ring";
		rec->seq = word_load(r->data + off + 8);
		break;
	case REC_DATA:
		if (rec->len < REC_HDR || rec->len - REC_HDR > r->max_msg)
			return "record length out of range";
		if (off + rec->size > r->cap)
			return "record crosses the end of the ring";
		rec->seq = word_load(r->data + off + 8);
		/* Unreachable (2^64 messages): a cursor past it would wrap
		 * to 0. */
		if (rec->seq == UINT64_MAX)
			return "sequence number out of range";
		break;
	default:
		return "unknown record type";
	}
	if (rec->size > avail)
		return "record extends past the tail";
	return NULL;
}

/* A consistent copy of the seqlock-protected header fields. */
struct hot {
	uint64_t	tail;
	uint64_t	next_seq;
	uint64_t	head_pos;
	uint64_t	head_seq;
	uint64_t	last_pos;
	uint64_t	bytes;
	uint64_t	last_ns;
};

/* util.c */
int	shm_path(char *buf, size_t len, const char *prefix, const char *name);
uint64_t realtime_ns(void);
uint64_t mono_ns(void);
uint64_t mono_ms(void);
bool	resv_zero(const uint64_t *reserved, size_t n);

/* object.c: a ring's object and the producer's lock on it */
/* Take the producer's lock on fd: 0, -EBUSY (held) or -errno. */
int	object_lock(int fd);
/* Does someone hold the producer's lock on fd (1), or not (0)? */
int	object_locked(int fd);
/* Does the name at path still refer to the object open on fd? */
int	object_same(const char *path, int fd);

/* ring.c */
int	ring_hot(const struct shmr_ring *r, struct hot *h);
int	ring_open_mem(const void *base, size_t len, struct shmr_ring **out);

/* mirror.c */
void	mirror_origin(struct seg_hdr *h, const char *origin);
void	mirror_init(struct seg_hdr *h, const struct shmr_mirror_opts *mo,
	    uint64_t *next_seq, uint64_t *head_seq);
void	mirror_upstream(struct seg_hdr *h, uint64_t upstream_next,
	    uint64_t token);
void	mirror_read(const struct seg_hdr *h, uint64_t next_seq,
	    struct shmr_mirror_info *mi);

/* predecessor.c */
struct pred {
	uint64_t	epoch, end_seq;
	uint32_t	flags;
};
void	pred_capture(const struct seg_hdr *old, struct pred *p);
void	pred_init(struct seg_hdr *h, const struct pred *p);

/* wait.c */

/*
 * The producer's half of the wake-up protocol: its private state. Zero
 * is the initial state.
 */
struct waker {
	uint64_t	woke_ns;	/* mono_ns() of the last FUTEX_WAKE */
	uint64_t	defer_ns;	/* of the last wake-up put off */
	uint32_t	skip;		/* publishes left before the next look */
	uint32_t	step;		/* the skip after the next put-off */
	bool		on;		/* what we last stored in hdr->throttled */
};

int	wait_open(const char *name, uid_t owner, struct wait_page **out,
	    int *fd);
void	wait_close(struct wait_page *w, int fd);
void	wait_wake(struct wait_page *wp, struct seg_hdr *h, struct waker *k);
void	wait_wake_all(struct wait_page *wp);
void	cpu_relax(void);

#endif /* SHMR_INTERNAL_H */
