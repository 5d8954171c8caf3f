/*
 * shmring.h - the public interface of libshm, a shared-memory broadcast ring.
 *
 * One producer (a "writer") publishes variable-length messages into a named
 * POSIX shared-memory object. Any number of readers, in other processes,
 * map the same object read-only and follow it at their own pace. Every
 * message carries a 64-bit sequence number that grows by one per message.
 * The writer never waits for, never tracks and is never slowed by readers:
 * when the ring is full the oldest messages are overwritten, and a reader
 * that was lapped learns exactly how many messages it lost.
 *
 * Conventions: functions return 0 (or a non-negative count or status) on
 * success and a negative errno value on failure; objects come back through
 * out-parameters; nothing sets errno. The libshm(3) man page documents every
 * function and every return code.
 */
#ifndef SHMRING_H
#define SHMRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SHMR_API __attribute__((visibility("default")))
#else
#define SHMR_API
#endif

#define SHMR_VERSION_MAJOR	0
#define SHMR_VERSION_MINOR	1

/* Ring names: 1..SHMR_NAME_MAX of [A-Za-z0-9._-], not starting with '.'. */
#define SHMR_NAME_MAX		128
/* Capacity of the data area: a power of two in [SHMR_CAP_MIN, SHMR_CAP_MAX]. */
#define SHMR_CAP_MIN		((uint64_t)64 << 10)
#define SHMR_CAP_MAX		((uint64_t)1 << 40)
/* Largest max_msg allowed: capacity / 8, and never above SHMR_MSG_LIMIT. */
#define SHMR_MSG_LIMIT		((uint32_t)1 << 30)

struct shmr_writer;	/* the producer's handle (read-write mapping) */
struct shmr_ring;	/* a read-only mapping of a ring, shared by cursors */
struct shmr_reader;	/* convenience: a ring + one cursor + a copy buffer */

/* Outcomes of a read. Errors are negative errno values. */
enum shmr_status {
	SHMR_EMPTY = 0,		/* nothing new yet */
	SHMR_MSG = 1,		/* a message: seq, data, len */
	SHMR_OVERRUN = 2,	/* lost exactly msg.lost messages; next is msg.seq */
	SHMR_EOF = 3,		/* producer closed the ring; everything was read */
	SHMR_RESTART = 4	/* a new producer replaced the ring (new epoch) */
};

/* Where a cursor starts. */
enum shmr_from {
	SHMR_FROM_OLDEST = 0,	/* oldest message still in the ring */
	SHMR_FROM_LATEST = 1,	/* newest message already published */
	SHMR_FROM_END = 2,	/* only messages published from now on */
	SHMR_FROM_SEQ = 3	/* the message with a given sequence number */
};

/* Producer state as recorded in the ring header. */
enum shmr_state {
	SHMR_STATE_INIT = 0,	/* being created; readers refuse it */
	SHMR_STATE_LIVE = 1,
	SHMR_STATE_CLOSED = 2,	/* producer closed it: end of stream */
	SHMR_STATE_REPLACED = 3	/* a new producer took the name over */
};

struct shmr_msg {
	uint64_t	 seq;	/* SHMR_MSG: its sequence number;
				 * SHMR_OVERRUN/RESTART: next sequence number */
	const void	*data;	/* SHMR_MSG: the payload */
	size_t		 len;	/* SHMR_MSG: payload length in bytes */
	uint64_t	 lost;	/* SHMR_OVERRUN: messages lost, exactly */
};

/*
 * Room to grow: the ABI rule for every struct a caller allocates. Each has
 * reserved words, so that a later 0.x release can add a field without
 * moving another or changing a size:
 *  - options (shmr_create_opts, shmr_open_opts, shmr_mirror_opts):
 *    zero-initialise the whole struct, then set the fields you need. Zero
 *    means the default for every field, and the reserved words must stay
 *    zero (-EINVAL otherwise): a program that sets a field of a later
 *    release is refused by an older library, never silently ignored.
 *  - results (shmr_info, shmr_mirror_info): the library fills the whole
 *    struct, reserved words included (zero today).
 *  - shmr_cursor: written only by the library (shmr_cursor_init() zeroes
 *    its reserved words, reads keep them).
 * shmr_msg and shmr_iov are the elements of batch arrays, like struct
 * iovec: they keep their layout for the life of the 0.x ABI, and what
 * they cannot carry comes through new calls.
 */

/*
 * A cursor: a reader's private position. Plain data, cheap to keep many
 * and to copy; set it only with shmr_cursor_init() and the read calls.
 */
struct shmr_cursor {
	uint64_t	pos;	/* byte position of the next record */
	uint64_t	seq;	/* sequence number expected there */
	uint64_t	epoch;	/* epoch of the ring the cursor belongs to */
	uint64_t	tail;	/* the producer's tail when last looked at */
	uint64_t	reserved[4];	/* the library's (see above) */
};

/* A consistent snapshot of the ring header (see shmr_ring_info()). */
struct shmr_info {
	uint32_t	layout_version;
	uint32_t	max_msg;	/* largest payload in bytes */
	uint64_t	capacity;	/* data area in bytes */
	uint64_t	epoch;		/* creation time, microseconds (unique) */
	pid_t		pid;		/* producer process */
	uint32_t	state;		/* enum shmr_state */
	uint64_t	next_seq;	/* sequence number of the next message */
	uint64_t	oldest_seq;	/* oldest message still readable */
	uint64_t	messages;	/* messages published in this epoch */
	uint64_t	bytes;		/* payload bytes published in this epoch */
	uint64_t	used;		/* bytes of the data area holding messages */
	uint64_t	created_ns;	/* CLOCK_REALTIME, nanoseconds */
	uint64_t	last_publish_ns; /* CLOCK_REALTIME (coarse), 0 if never */
	uid_t		uid;		/* owner of the shm object */
	mode_t		mode;		/* its permission bits */
	uint64_t	reserved[8];	/* zero (see above) */
};

struct shmr_create_opts {
	uint64_t	capacity;	/* 0: 64 MiB */
	uint32_t	max_msg;	/* 0: min(capacity / 8, 1 MiB) */
	mode_t		mode;		/* 0: 0600; readers need r */
	gid_t		gid;		/* 0 or (gid_t)-1: leave the group alone */
	uint64_t	reserved[5];	/* must be zero (see above) */
};

struct shmr_open_opts {
	/*
	 * Whose rings to trust. By default a reader accepts an object owned
	 * by its own effective uid or by root; set trust_any_owner to accept
	 * any owner (the object must still not be writable by group/other).
	 */
	bool		trust_any_owner;
	uint64_t	reserved[7];	/* must be zero (see above) */
};

/* A mirror writer (see shmr_writer_create_mirror()). */
#define SHMR_ORIGIN_MAX		255	/* longest origin text in bytes */
struct shmr_mirror_opts {
	uint64_t	 epoch;		/* the upstream ring's epoch, > 0 */
	uint64_t	 start_seq;	/* first sequence number of a new ring */
	const char	*origin;	/* "what this mirrors", may be NULL */
	uint64_t	 reserved[5];	/* must be zero (see above) */
};

/* What a mirror ring says about its upstream (shmr_ring_mirror()). */
struct shmr_mirror_info {
	char		origin[SHMR_ORIGIN_MAX + 1];	/* printable, NUL-ended */
	uint64_t	upstream_next_seq; /* newest upstream seq known + 1, 0:
					    * unknown */
	uint64_t	upstream_ns;	/* CLOCK_REALTIME of that, 0: never */
	uint64_t	behind;		/* upstream_next_seq - next_seq, or 0 */
	uint64_t	token;		/* the mirror program's resume point */
	uint64_t	reserved[4];	/* zero (see above) */
};

/*
 * The ring a producer took the name over from (shmr_ring_predecessor()):
 * what a reader that could not drain it (it was not running) missed.
 */
struct shmr_predecessor {
	uint64_t	epoch;		/* its epoch */
	uint64_t	end_seq;	/* it ended before this sequence number */
	bool		closed;		/* its producer closed it (end of
					 * stream); false: the producer died */
	bool		end_known;	/* false: the producer died inside a
					 * header update, end_seq is 0 */
	uint64_t	reserved[4];	/* zero (see above) */
};

/* A message for a batch publish. */
struct shmr_iov {
	const void	*data;
	size_t		 len;
};

/* wait flags */
#define SHMR_WAIT_SPIN	0x1	/* busy-poll: lowest latency, burns a core */

/* shmr_writer_close flags */
#define SHMR_CLOSE_UNLINK 0x1	/* also remove the name once closed */
#define SHMR_CLOSE_ABANDON 0x2	/* leave it as a dead producer would: not
				 * closed, so a mirror successor adopts it */

/* ---- library ---------------------------------------------------------- */

SHMR_API const char *shmr_version(void);
/* A static description of a status (>= 0) or a negative errno value. */
SHMR_API const char *shmr_strerror(int code);
/* 0 if name is a valid ring name, -EINVAL or -ENAMETOOLONG otherwise. */
SHMR_API int shmr_name_valid(const char *name);
/* Remove a ring's name (and its wait object). Open mappings stay valid. */
SHMR_API int shmr_unlink(const char *name);
/*
 * Call fn(name, arg) for every object in /dev/shm that is named like a
 * ring. Stops early and returns fn's value when it is non-zero.
 */
SHMR_API int shmr_list(int (*fn)(const char *name, void *arg), void *arg);

/* ---- producer --------------------------------------------------------- */

/*
 * Create ring NAME, or take it over when its previous producer died (the
 * old object is marked replaced). The epoch is the creation time in
 * microseconds, and more than the previous ring's: never reused. Memory
 * is reserved up front. -EBUSY: a live producer owns the ring; -ENOSPC:
 * /dev/shm is too small; -EINVAL: bad name, capacity or max_msg.
 */
SHMR_API int shmr_writer_create(const char *name,
    const struct shmr_create_opts *opts, struct shmr_writer **out);
/* Publish one message; *seq (may be NULL) receives its number. -EMSGSIZE. */
SHMR_API int shmr_writer_publish(struct shmr_writer *w, const void *data,
    size_t len, uint64_t *seq);
/*
 * Publish n messages with one wake-up. All or nothing: -EMSGSIZE if any is
 * too large. *first_seq receives the number of the first.
 */
SHMR_API int shmr_writer_publish_batch(struct shmr_writer *w,
    const struct shmr_iov *msgs, size_t n, uint64_t *first_seq);
/*
 * Zero copy: reserve room for up to len bytes, write the payload into
 * *buf, then commit the bytes actually used (<= len). A reservation
 * already counts as written for readers' overrun detection. Only one
 * reservation at a time; -EALREADY otherwise.
 */
SHMR_API int shmr_writer_reserve(struct shmr_writer *w, size_t len,
    void **buf);
SHMR_API int shmr_writer_commit(struct shmr_writer *w, size_t len,
    uint64_t *seq);
SHMR_API void shmr_writer_cancel(struct shmr_writer *w);
SHMR_API int shmr_writer_info(const struct shmr_writer *w,
    struct shmr_info *info);
/*
 * Mirrors: a writer that copies another ring, keeping its epoch and its
 * sequence numbers. Creates ring NAME with epoch mo->epoch whose first
 * message will be mo->start_seq, or adopts the existing ring NAME when its
 * producer died and it is a mirror of the same epoch (its readers see no
 * restart; opts->capacity and max_msg, when not 0, must match). Another
 * epoch replaces the ring as shmr_writer_create() does (readers see
 * SHMR_RESTART). Returns 0 (new ring) or 1 (adopted), or the errors of
 * shmr_writer_create().
 */
SHMR_API int shmr_writer_create_mirror(const char *name,
    const struct shmr_create_opts *opts, const struct shmr_mirror_opts *mo,
    struct shmr_writer **out);
/*
 * Publish at sequence number seq (>= the next one, else -ERANGE). A jump
 * records the messages in between as lost: readers get SHMR_OVERRUN with
 * that exact count. Mirror writers only (-EINVAL otherwise).
 */
SHMR_API int shmr_writer_publish_at(struct shmr_writer *w, uint64_t seq,
    const void *data, size_t len);
/* Record that the messages before next_seq are lost (mirrors only). */
SHMR_API int shmr_writer_gap(struct shmr_writer *w, uint64_t next_seq);
/*
 * Tell readers how far the upstream is (its next sequence number, 0 if
 * unknown) and store token, an opaque resume point for a successor that
 * adopts the ring (shmr_writer_mirror() gives it back).
 */
SHMR_API int shmr_writer_set_upstream(struct shmr_writer *w,
    uint64_t upstream_next_seq, uint64_t token);
/* The mirror lines of the writer's ring; -EINVAL if it is not a mirror. */
SHMR_API int shmr_writer_mirror(const struct shmr_writer *w,
    struct shmr_mirror_info *mi);
/* Mark the ring closed (readers see end of stream) and free the handle. */
SHMR_API int shmr_writer_close(struct shmr_writer *w, unsigned flags);

/* ---- read-only ring and cursors --------------------------------------- */

/*
 * Map ring NAME read-only after checking owner, mode and size, and
 * validating the header. opts may be NULL. -ENOENT: no such ring;
 * -EACCES: no permission; -EPERM: untrusted owner or writable by others;
 * -EPROTO: not a shmring ring or another layout version; -EBADMSG: corrupt
 * header; -EAGAIN: still being created.
 */
SHMR_API int shmr_ring_open(const char *name,
    const struct shmr_open_opts *opts, struct shmr_ring **out);
SHMR_API void shmr_ring_close(struct shmr_ring *ring);
SHMR_API const char *shmr_ring_name(const struct shmr_ring *ring);
SHMR_API uint64_t shmr_ring_epoch(const struct shmr_ring *ring);
SHMR_API uint32_t shmr_ring_max_msg(const struct shmr_ring *ring);
/* Consistent header snapshot via the seqlock; -EBADMSG if it is absurd. */
SHMR_API int shmr_ring_info(const struct shmr_ring *ring,
    struct shmr_info *info);
/* 1 if the producer still holds its lock, 0 if it died or closed. */
SHMR_API int shmr_ring_alive(const struct shmr_ring *ring);
/*
 * 1 if the name now refers to another object (a new producer took over,
 * or the ring was removed), 0 if not.
 */
SHMR_API int shmr_ring_stale(const struct shmr_ring *ring);
/* 1 and *mi filled if the ring is a mirror, 0 if not (mi may be NULL). */
SHMR_API int shmr_ring_mirror(const struct shmr_ring *ring,
    struct shmr_mirror_info *mi);
/*
 * 1 and *p filled if the ring's producer took the name over from another
 * ring and recorded it (its epoch, end and whether it was closed), 0 if
 * not: a name created afresh, or a ring written before libshm recorded
 * predecessors.
 */
SHMR_API int shmr_ring_predecessor(const struct shmr_ring *ring,
    struct shmr_predecessor *p);
/*
 * Walk every record in the window: lengths, padding, sequence continuity.
 * 0 if sound, -EBADMSG with a description in why (may be NULL) if not.
 */
SHMR_API int shmr_ring_check(const struct shmr_ring *ring, char *why,
    size_t whylen);

/* Position a cursor. -ERANGE: seq is beyond the next sequence number. */
SHMR_API int shmr_cursor_init(const struct shmr_ring *ring,
    struct shmr_cursor *c, enum shmr_from from, uint64_t seq);
/*
 * Copy the next message into buf. Returns an enum shmr_status, -ENOBUFS
 * (msg->len says how much is needed; the cursor does not move), -EBADMSG
 * (corrupt record) or -ESTALE (cursor of another epoch).
 */
SHMR_API int shmr_cursor_read(const struct shmr_ring *ring,
    struct shmr_cursor *c, void *buf, size_t buflen, struct shmr_msg *msg);
/*
 * Copy up to n messages into buf, one after another (each 8-byte aligned),
 * with one synchronisation for the lot: the fastest way to drain a ring.
 * Returns SHMR_MSG with *count >= 1 messages in msgs[], or, when the very
 * next outcome is not a message, that outcome in msgs[0] as for
 * shmr_cursor_read(). At most 64 KiB of payload per call (or the first
 * message alone, if larger), and it stops short of the cache line the
 * producer is filling: those messages come with the next call.
 */
SHMR_API int shmr_cursor_read_batch(const struct shmr_ring *ring,
    struct shmr_cursor *c, void *buf, size_t buflen, struct shmr_msg *msgs,
    size_t n, size_t *count);
/*
 * Zero copy: msg->data points into the read-only mapping. The bytes may
 * be overwritten while you use them: call shmr_cursor_consume() after use;
 * it returns 0 and advances if the view stayed intact, -ESTALE if it was
 * overwritten (discard what you derived; the next read reports the loss).
 */
SHMR_API int shmr_cursor_peek(const struct shmr_ring *ring,
    struct shmr_cursor *c, struct shmr_msg *msg);
SHMR_API int shmr_cursor_consume(const struct shmr_ring *ring,
    struct shmr_cursor *c, const struct shmr_msg *msg);
/*
 * Wait until the ring moves past the cursor, its state changes, or
 * timeout_ms passes (-1: forever). 0: something to read; -ETIMEDOUT;
 * -EINTR. Blocking by default, no CPU while idle; SHMR_WAIT_SPIN polls.
 */
SHMR_API int shmr_cursor_wait(const struct shmr_ring *ring,
    const struct shmr_cursor *c, int timeout_ms, unsigned flags);

/* ---- convenience reader ----------------------------------------------- */

/*
 * A ring, a cursor and a buffer of max_msg bytes. shmr_reader_next()
 * follows a restart by itself: it drains the old ring, returns
 * SHMR_RESTART once, then continues with the new ring from its start.
 * shmr_reader_open() trusts as shmr_ring_open() does with no options;
 * shmr_reader_open_opts() takes the options of shmr_ring_open() (opts
 * may be NULL) and keeps them for the rings it follows.
 */
SHMR_API int shmr_reader_open(const char *name, enum shmr_from from,
    uint64_t seq, struct shmr_reader **out);
SHMR_API int shmr_reader_open_opts(const char *name, enum shmr_from from,
    uint64_t seq, const struct shmr_open_opts *opts,
    struct shmr_reader **out);
SHMR_API int shmr_reader_next(struct shmr_reader *r, struct shmr_msg *msg);
SHMR_API int shmr_reader_wait(struct shmr_reader *r, int timeout_ms,
    unsigned flags);
SHMR_API struct shmr_ring *shmr_reader_ring(struct shmr_reader *r);
SHMR_API void shmr_reader_close(struct shmr_reader *r);

#ifdef __cplusplus
}
#endif

#endif /* SHMRING_H */
