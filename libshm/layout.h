/*
 * layout.h - the shared-memory segment format and its protocol. Private to
 * libshm; the segment itself is the real ABI, versioned by LAYOUT_VERSION.
 *
 * A ring is the POSIX shm object "/shmring.NAME":
 *
 *	[0, 4096)		header (struct seg_hdr)
 *	[4096, 4096 + cap)	data area, cap a power of two
 *
 * Positions (tail, intent, head, cursors) are byte counts that only grow;
 * a position p lives at data[p & (cap - 1)]. The data area holds records,
 * each aligned to 8 bytes:
 *
 *	word 0	len (low 32 bits: 16 + payload length, or the pad length)
 *		| type << 32 (REC_DATA, REC_PAD or REC_GAP)
 *	word 1	sequence number (REC_DATA), next sequence number (REC_GAP)
 *	...	payload, then zero padding to a multiple of 8
 *
 * Sequence numbers grow by one per data record, except across a REC_GAP
 * record (always 16 bytes, no payload): only a mirror writes one, when
 * its upstream lost messages (see "Mirrors" below). Its word 1 is the
 * sequence number of the next data record; the messages in between are
 * lost, and a reader passing it reports SHMR_OVERRUN with exactly that
 * count, as for a lap. The producer's head accounting follows the same
 * rule: passing a data record, head_seq = its seq + 1; passing a gap,
 * head_seq = the gap's next sequence number.
 *
 * A record never wraps: when it does not fit before the end of the data
 * area, the producer fills the rest with one REC_PAD record (which may be
 * only 8 bytes long) and starts the record at offset 0.
 *
 * Producer protocol (the only writer; Boehm's seqlock recipe applied to
 * byte positions, as in Agrona's broadcast buffer):
 *
 *	1. intent = end of the bytes about to be written (relaxed store),
 *	   then a release fence: any reader that sees a byte written in
 *	   step 2 also sees the new intent after its acquire fence.
 *	2. write the records with relaxed atomic stores.
 *	3. under the header seqlock (sl odd, release fence, ..., sl even with
 *	   release): head, next_seq, counters, and tail (release store: the
 *	   records are visible to whoever sees the new tail).
 *	   A claim (step 1) never reaches more than half a ring plus the
 *	   claim-ahead past the published tail, and a batch publishes its
 *	   tail (step 3) after every such chunk: the head that a claim moves
 *	   forward therefore never passes the published tail.
 *	4. a seq_cst fence, then wake sleeping readers if the wait object's
 *	   flag says there are any (see wait.c).
 *
 * Reader protocol (read-only mapping; nothing in it is trusted):
 *
 *	t = tail (acquire); if the cursor is at t there is nothing new.
 *	If intent - pos > cap the record was overwritten: lapped.
 *	Load the record with relaxed atomic loads into private memory,
 *	bounds-check everything, then an acquire fence and re-load intent:
 *	if intent - pos > cap now, the copy may be torn, so it is discarded
 *	and the reader resynchronises at the head (the oldest record) from a
 *	seqlock snapshot, losing exactly head_seq - expected_seq messages.
 *	Only after that check are the bytes delivered; a record that fails a
 *	bounds check without a lap is corruption, never followed.
 *
 * Mirrors (layout version 2). A mirror ring is written by a relay that
 * copies another host's ring: it publishes at the upstream's sequence
 * numbers under the upstream's epoch (so EPOCH:SEQ names the same message
 * on every host), records upstream loss as REC_GAP records, and carries
 * HDR_F_MIRROR in flags plus the mirror lines (struct seg_mirror, at
 * MIRROR_OFF): a text naming the origin, and the newest upstream sequence
 * number it knows of (for "N behind"). The origin text is written before
 * state becomes LIVE; the upstream fields are relaxed, informational
 * stores (readers copy and bounds-check them; nothing is derived from
 * them). A mirror ring's next_seq - head_seq is not bounded by the
 * capacity (gaps), so readers skip that plausibility check for it.
 *
 * A mirror writer that died may be adopted by its successor when the
 * upstream epoch is the same: the object, its epoch and every cursor stay
 * valid (readers see no restart); the successor rebuilds its private
 * state from the header (or from the records, if the dead writer left the
 * seqlock odd), keeps intent, and goes on at the tail. Another upstream
 * epoch is a takeover as for any producer: a new object, readers see
 * SHMR_RESTART.
 *
 * Version 1 readers refuse version 2 segments (and the reverse) with
 * -EPROTO, "another layout version": they could not follow REC_GAP.
 *
 * Every field is accessed with C11 atomics so no access is a data race;
 * relaxed loads and stores compile to plain moves.
 */
#ifndef SHMR_LAYOUT_H
#define SHMR_LAYOUT_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#define SEG_MAGIC	UINT64_C(0x31474e49524d4853)	/* "SHMRING1" */
#define LAYOUT_VERSION	2
#define HDR_SIZE	4096
#define LINE		128	/* two x86 lines: adjacent-line prefetch */

#define REC_DATA	UINT32_C(0x44)	/* 'D' */
#define REC_PAD		UINT32_C(0x50)	/* 'P' */
#define REC_GAP		UINT32_C(0x47)	/* 'G': mirrors only */
#define REC_HDR		16		/* word 0 + sequence number */
#define PAD_MIN		8

#define SHM_PREFIX	"shmring."
#define WAIT_PREFIX	"shmring-wait."
#define LOCK_PREFIX	"shmring-lock."	/* takeovers only, see takeover.c */
#define SHM_DIR		"/dev/shm/"

typedef _Atomic uint64_t aword;

struct seg_hdr {
	/*
	 * Line 0: constant for the life of the object, written before state
	 * becomes LIVE (release), read by readers once at open.
	 */
	aword		magic;
	_Atomic uint32_t layout_version;
	_Atomic uint32_t hdr_size;
	aword		capacity;
	_Atomic uint32_t max_msg;
	_Atomic int32_t	pid;
	aword		epoch;
	aword		created_ns;
	_Atomic uint32_t flags;		/* HDR_F_* */
	char		pad0[LINE - 52];

	/* Line 1: enum shmr_state, changes a few times per life. */
	_Atomic uint32_t state;
	/*
	 * Nonzero while the producer rations its wake-ups (wait.c): readers
	 * then sleep in short slices. Written on entering and leaving that
	 * mode only. Zero in rings of producers that predate it, which is
	 * what readers assume of the padding.
	 */
	_Atomic uint32_t throttled;
	char		pad1[LINE - 8];

	/*
	 * Lines 2-4 are written on every publish. They are apart so that a
	 * reader spinning on tail, or checking intent after a copy, does not
	 * pull the line the producer is writing statistics into: each
	 * reader load of a line costs the producer's next store to it a
	 * cache-line transfer. intent is outside the seqlock (see the
	 * protocol above); tail and the statistics are read consistently
	 * through sl.
	 */
	aword		intent;
	char		pad2[LINE - 8];
	aword		tail;
	char		pad3[LINE - 8];
	aword		sl;
	aword		next_seq;
	aword		head_pos;	/* oldest record still intact */
	aword		head_seq;	/* its sequence number */
	aword		last_pos;	/* newest data record */
	aword		bytes;		/* payload bytes this epoch */
	aword		last_ns;	/* CLOCK_REALTIME_COARSE of last publish */
	char		pad4[LINE - 56];
};

_Static_assert(sizeof(struct seg_hdr) == 5 * LINE, "header lines");

#define HDR_F_MIRROR	0x1u	/* written by a mirror: see "Mirrors" */

/* Mirror lines, after the header lines; only meaningful with HDR_F_MIRROR. */
#define MIRROR_OFF	(5 * LINE)
#define ORIGIN_LEN	256
struct seg_mirror {
	aword		upstream_next;	/* newest upstream seq known + 1 */
	aword		upstream_ns;	/* CLOCK_REALTIME of that news */
	aword		token;		/* the mirror program's resume point */
	char		pad0[LINE - 24];
	_Atomic uint64_t origin[ORIGIN_LEN / 8];	/* NUL-padded text */
};

_Static_assert(MIRROR_OFF + sizeof(struct seg_mirror) <= HDR_SIZE,
    "mirror lines fit the header page");
_Static_assert(sizeof(struct seg_hdr) <= HDR_SIZE, "header fits a page");
_Static_assert(sizeof(aword) == 8, "lock-free 64-bit atomics");

/* The small read-write object readers use to ask for a wake-up. */
struct wait_page {
	/* futex word: the producer bumps it before FUTEX_WAKE */
	_Atomic uint32_t notify;
	char		pad0[LINE - 4];
	/* set by a reader about to sleep, cleared by the producer */
	_Atomic uint32_t sleepers;
	char		pad1[LINE - 4];
	/*
	 * Unused. Producers before issue 12 kept the last epoch here; any
	 * reader may write this object, so nothing a producer relies on
	 * lives in it (epochs come from the clock: new_epoch() in
	 * writer.c). Kept so that the object keeps its size for readers
	 * of the first release.
	 */
	aword		unused;
	char		pad2[LINE - 8];
};

static inline uint64_t
align8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

static inline uint64_t
word_load(const unsigned char *p)
{
	/* relaxed: ordering comes from the fences around the whole copy */
	return atomic_load_explicit((const aword *)(const void *)p,
	    memory_order_relaxed);
}

static inline void
word_store(unsigned char *p, uint64_t v)
{
	atomic_store_explicit((aword *)(void *)p, v, memory_order_relaxed);
}

static inline uint64_t
rec_word0(uint32_t len, uint32_t type)
{
	return (uint64_t)type << 32 | len;
}

#endif /* SHMR_LAYOUT_H */
