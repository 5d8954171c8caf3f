/*
 * layout.h - the shared-memory segment format and its protocol. Private to
 * libshm; the segment itself is the real ABI, versioned by LAYOUT_VERSION.
 * This comment is the protocol, once; each step names the function that
 * does it.
 *
 * Objects. A ring NAME is three POSIX shm objects, all the producer's:
 *
 *	/shmring.NAME		the ring: header page + data area, mode of
 *				the creator's choice, never writable by
 *				group or other (readers refuse it then)
 *	/shmring-wait.NAME	struct wait_page: sleeping readers ask for a
 *				wake-up here (read-write for whoever may
 *				read the ring; protocol in wait.c)
 *	/shmring-lock.NAME	only during a takeover (below), or left by
 *				a taker that died (the next one reuses it)
 *
 * The ring object:
 *
 *	[0, 4096)		header (struct seg_hdr, then the mirror lines)
 *	[4096, 4096 + cap)	data area, cap a power of two
 *
 * Header lines (128 bytes each, below): 0 the constants, written once
 * before state becomes LIVE; 1 state and throttled; 2 intent; 3 tail;
 * 4 the seqlock sl and what it protects (next_seq, head_pos, head_seq,
 * last_pos, bytes, last_ns). Readers map the object read-only and trust
 * nothing in it: ring.c validates the constants once at open and keeps
 * its own copies; every later value is bounds-checked where it is used.
 *
 * Records. Positions (tail, intent, head, cursors) are byte counts that
 * only grow; a position p lives at data[p & (cap - 1)]. The data area
 * holds records, each aligned to 8 bytes:
 *
 *	word 0	len (low 32 bits: 16 + payload length, or the pad length)
 *		| type << 32 (REC_DATA, REC_PAD or REC_GAP)
 *	word 1	sequence number (REC_DATA), next sequence number (REC_GAP)
 *	...	payload, then zero padding to a multiple of 8
 *
 * A record never wraps: when it does not fit before the end of the data
 * area, the producer fills the rest with one REC_PAD record (which may be
 * only 8 bytes long: word 0 alone) and starts the record at offset 0.
 * Sequence numbers start at 0 in a new ring (a mirror: at the upstream's)
 * and grow by one per data record, except across a REC_GAP record (mirrors
 * only, see "Mirrors"). Every reader checks a record header the same way,
 * rec_read() in internal.h: type, length against max_msg and the end of
 * the data area, and that it ends at or before the tail.
 *
 * Head, intent, tail. [head_pos, tail) is the window of readable records;
 * head_pos is the oldest record still intact and head_seq its sequence
 * number (passing a data record, head_seq = its seq + 1; passing a gap,
 * head_seq = the gap's next sequence number). intent is the end of the
 * bytes the producer has claimed for writing: [intent - cap, intent) is
 * what the producer may be overwriting, so a reader at pos with
 * intent - pos > cap has been lapped. tail <= intent, always.
 *
 * Producer protocol (publish.c; the only writer: Boehm's seqlock recipe
 * applied to byte positions, as in Agrona's broadcast buffer):
 *
 *	1. Claim (publish_claim()), only when the records to write end past
 *	   the current intent. Claim ahead: the new intent is that end plus
 *	   min(cap / 16, 64 KiB), so the intent line is written once per
 *	   claim, not once per publish, and readers checking it find it in
 *	   their cache; the price is that readers are declared lapped up to
 *	   that much earlier. Move head_pos/head_seq past every record the
 *	   claim will overwrite (end - head_pos <= cap after it), reading
 *	   back the producer's own record headers. Then, under the header
 *	   seqlock (sl_begin(): sl odd, release fence; sl_end(): sl even,
 *	   release store), store head_pos, head_seq, then intent: a snapshot
 *	   never shows a head older than intent - cap. A release fence after
 *	   the claim orders the intent store before the record stores of
 *	   step 2: a reader that sees any byte written in step 2 sees the new
 *	   intent after its acquire fence.
 *	2. Write the records with relaxed atomic word stores
 *	   (publish_put(), publish_pad()).
 *	3. Publish (publish_hot()): under the seqlock, next_seq, last_pos,
 *	   bytes, last_ns, then tail with a release store: the records are
 *	   visible to whoever acquires the new tail.
 *	   A claim never reaches more than half a ring plus the claim-ahead
 *	   past the published tail (one message is at most cap / 8; a batch
 *	   is claimed and published in chunks of at most cap / 2), so the
 *	   head that a claim moves forward never passes the published tail.
 *	4. Wake sleeping readers (wait_wake(), wait.c): a seq_cst fence, then
 *	   one look at the wait object's sleeper flag; no system call when
 *	   nobody sleeps. One look per batch.
 *
 * A reservation (shmr_writer_reserve()) is steps 1 and 2 with the caller
 * writing the payload; commit is step 3 and 4. A cancelled one leaves its
 * claim: readers may count those bytes as overwritten.
 *
 * Reader protocol (next() in reader.c):
 *
 *	Records below a tail the cursor already acquired are published, so
 *	the shared tail (a line the producer writes on every publish) is
 *	loaded (acquire) only when the cursor has caught up with its copy.
 *	If intent - pos > cap the record was overwritten: lapped. Otherwise
 *	load the record with relaxed loads (rec_read()) and copy it into
 *	private memory, then an acquire fence and re-load intent: if
 *	intent - pos > cap now, the copy may be torn, so it is discarded and
 *	the reader resynchronises at the head (the oldest record) from a
 *	seqlock snapshot (ring_hot()), losing exactly head_seq - expected
 *	messages (SHMR_OVERRUN). Only after that check are the bytes
 *	delivered; a record that fails rec_read() without a lap is
 *	corruption (-EBADMSG), never followed. shmr_cursor_read_batch()
 *	reads its first record so, then copies the next ones with one tail
 *	load before and one intent check after (intent only grows: if the
 *	first of them is intact, all are), at most 64 KiB of payload in all
 *	(or the first message alone, if larger), and stops at the last
 *	64-byte boundary below the tail: the records in the cache line the
 *	producer is filling are left to the next call.
 *
 *	Header snapshots (ring_hot() in ring.c) are Boehm's seqlock reader:
 *	acquire load of sl, relaxed loads, acquire fence, relaxed re-load of
 *	sl; retry while sl is odd or changed.
 *
 * End of stream. The producer stores state CLOSED (release) after its
 * last tail store; a reader that finds nothing at its cursor acquires
 * state, then looks at the tail once more (idle() in reader.c): it reads
 * everything before it reports SHMR_EOF (or SHMR_RESTART, below).
 *
 * Liveness and takeover (object.c, takeover.c). The producer holds an
 * open-file-description write lock on byte 0 of the ring object for its
 * life; the kernel drops it when the producer dies, so readers
 * (shmr_ring_alive(): F_OFD_GETLK) and the next producer tell a dead ring
 * from a live one without heartbeats. Only a write lock counts: any reader
 * can take a read lock. A new producer that finds the name taken
 * serialises with other takers on /shmring-lock.NAME, takes the old
 * object's lock itself (refused by a write lock: the producer lives,
 * -EBUSY), reads the old epoch, removes the name and creates the new ring
 * (O_EXCL). Once the new ring is LIVE it stores REPLACED (release) into
 * the old header and wakes everyone: readers drain the old ring, then see
 * SHMR_RESTART; shmr_reader_next() follows the name to the new ring.
 *
 * Epochs. An epoch names one ring for good: a client resuming at
 * (epoch, seq) never lands in another ring that reuses the number. It
 * lives in the ring's own header (line 0), written before LIVE: the
 * creation time in microseconds of CLOCK_REALTIME, and at least one more
 * than the replaced ring's (new_epoch() in writer.c). Nothing of it is
 * kept in the wait object, which readers may write.
 *
 * Repair of a producer that died mid-update. A producer killed between
 * sl_begin() and sl_end() leaves sl odd for good. ring_hot() spins
 * (SL_SPINS), then asks whether the producer lives: if not, the values
 * are final and head_pos and tail are usable (each is stored whole, and
 * the tail only after the records it covers); next_seq, head_seq and
 * last_pos may be half written, so repair() rebuilds them from the
 * records in [head_pos, tail). A live producer stuck inside an update for
 * SL_STALL_NS (stopped, or in a debugger) gives -EDEADLK. Records past
 * the published tail are never looked at.
 *
 * Wake-ups and the throttled word (wait.c). Readers cannot write the ring,
 * so they ask for a wake-up in the wait object (Dekker: sleepers flag vs
 * tail). Anyone who may read may write that object, so a hostile reader
 * could keep the flag set and cost the producer a FUTEX_WAKE on every
 * publish; the producer therefore rations its wake-ups (at most one per
 * 50 us, looking at the flag every 1, 2, 4 ... 256 publishes while it
 * puts them off). While it rations, it sets throttled (header line 1: in
 * the ring, which no reader can write, unlike the wait object; stored
 * only on entering and leaving that mode, so it costs no store per
 * publish), and sleeping readers then sleep in short slices (200 us)
 * instead of waiting for a wake-up that may be put off.
 *
 * Mirrors (layout version 2; mirror.c). A mirror ring is written by a
 * relay that copies another host's ring: it publishes at the upstream's
 * sequence numbers (shmr_writer_publish_at()) under the upstream's epoch
 * (so EPOCH:SEQ names the same message on every host), records upstream
 * loss as a REC_GAP record (always 16 bytes, no payload, word 1 the
 * sequence number of the next data record: a reader passing it reports
 * SHMR_OVERRUN with exactly the messages in between), and carries
 * HDR_F_MIRROR in flags plus the mirror lines (struct seg_mirror, at
 * MIRROR_OFF): a text naming the origin, and the newest upstream
 * sequence number it knows of (for "N behind"). The origin text is
 * written before state becomes LIVE; the upstream fields are relaxed,
 * informational stores (readers copy and bounds-check them; nothing is
 * derived from them). A mirror ring's next_seq - head_seq is not bounded
 * by the capacity (gaps), so readers skip that plausibility check for it.
 *
 * A mirror writer that died may be adopted by its successor when the
 * upstream epoch is the same (takeover_adopt()): the object, its epoch
 * and every cursor stay valid (readers see no restart); the successor
 * takes the dead writer's lock, rebuilds its private state from the
 * header, keeps intent, and goes on at the tail. A header left mid-update
 * (sl odd), another geometry or another upstream epoch is a takeover as
 * for any producer: a new object, readers see SHMR_RESTART.
 *
 * Version 1 readers refuse version 2 segments (and the reverse) with
 * -EPROTO, "another layout version": they could not follow REC_GAP.
 *
 * The predecessor line (struct seg_pred, at PRED_OFF; predecessor.c). A
 * producer that takes a name over from a dead or closed producer records
 * what the old ring was: its epoch, whether its producer had closed it,
 * and where it ended (its next_seq, when the header was not left
 * mid-update). Written before state becomes LIVE, constant afterwards.
 * A reader that could not drain the old ring (a relay that was down while
 * it was replaced) learns from it what it missed. Rings written before
 * the line existed have zeros there: "unknown", which is what readers
 * assume; no layout version change.
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
	 * Lines 2-4 are the hot ones: intent and the head fields are
	 * written once per claim (claim-ahead: about every 64 KiB), tail
	 * and the statistics on every publish. They are apart so that a
	 * reader spinning on tail, or checking intent after a copy, does not
	 * pull the line the producer is writing statistics into: each
	 * reader load of a line costs the producer's next store to it a
	 * cache-line transfer. The producer stores all of them inside the
	 * seqlock; readers load intent and tail on their own as well (the
	 * lap check, the acquire of tail), the rest only through sl.
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

/* The predecessor line, after the mirror lines; epoch 0: none recorded. */
#define PRED_OFF	(MIRROR_OFF + sizeof(struct seg_mirror))
#define PRED_F_CLOSED	0x1u	/* its producer closed it */
#define PRED_F_END	0x2u	/* end_seq is known */
struct seg_pred {
	aword		epoch;
	aword		end_seq;	/* its next_seq when it was taken over */
	_Atomic uint32_t flags;		/* PRED_F_* */
	char		pad0[LINE - 20];
};

_Static_assert(PRED_OFF + sizeof(struct seg_pred) <= HDR_SIZE,
    "the predecessor line fits the header page");
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
