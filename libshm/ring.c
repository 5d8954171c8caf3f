/*
 * ring.c - opening a ring read-only, validating it, header snapshots,
 * liveness, and the whole-segment check.
 *
 * Nothing in the segment is trusted. The constants (capacity, maximum
 * message size, epoch) are read once at open, validated, and kept in the
 * private struct shmr_ring; they are never read from shared memory again,
 * so a segment that changes under us cannot make us use a value we did not
 * check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* Seqlock polls before asking whether the producer is still alive. */
#define SL_SPINS	256
/*
 * Longest wait for an update that does not settle. An update is a few
 * stores; only a producer that is stopped (SIGSTOP, a debugger) or
 * descheduled inside one makes us wait, and callers such as ringbridge
 * read headers on their event-loop thread, so the wait is short.
 */
#define SL_STALL_NS	2000000

/* Validate the header at base (len bytes mapped, size the object size). */
static int
validate(const void *base, uint64_t size, struct shmr_ring *r)
{
	const struct seg_hdr *h = base;
	uint32_t state, ver, hsz, max_msg;
	uint64_t magic, cap;

	if (size == 0)
		return -EAGAIN;		/* created, not yet sized */
	if (size < HDR_SIZE)
		return -EPROTO;
	/* acquire: pairs with the release store of LIVE in init_segment(),
	 * so the constants read below are the ones written before it */
	state = atomic_load_explicit(&h->state, memory_order_acquire);
	magic = atomic_load_explicit(&h->magic, memory_order_relaxed);
	if (magic == 0 && state == SHMR_STATE_INIT)
		return -EAGAIN;		/* sized, header not yet written */
	if (magic != SEG_MAGIC)
		return -EPROTO;
	ver = atomic_load_explicit(&h->layout_version, memory_order_relaxed);
	hsz = atomic_load_explicit(&h->hdr_size, memory_order_relaxed);
	if (ver != LAYOUT_VERSION || hsz != HDR_SIZE)
		return -EPROTO;
	if (state == SHMR_STATE_INIT)
		return -EAGAIN;
	if (state > SHMR_STATE_REPLACED)
		return -EBADMSG;
	cap = atomic_load_explicit(&h->capacity, memory_order_relaxed);
	max_msg = atomic_load_explicit(&h->max_msg, memory_order_relaxed);
	if (cap < SHMR_CAP_MIN || cap > SHMR_CAP_MAX || (cap & (cap - 1)) ||
	    max_msg > cap / 8 || max_msg > SHMR_MSG_LIMIT)
		return -EBADMSG;
	if (size != HDR_SIZE + cap)
		return -EBADMSG;	/* truncated or padded object */
	r->hdr = h;
	r->data = (const unsigned char *)base + HDR_SIZE;
	r->cap = cap;
	r->mask = cap - 1;
	r->max_msg = max_msg;
	r->epoch = atomic_load_explicit(&h->epoch, memory_order_relaxed);
	r->pid = atomic_load_explicit(&h->pid, memory_order_relaxed);
	r->created_ns = atomic_load_explicit(&h->created_ns,
	    memory_order_relaxed);
	r->mirror = (atomic_load_explicit(&h->flags, memory_order_relaxed) &
	    HDR_F_MIRROR) != 0;
	return 0;
}

int
shmr_ring_open(const char *name, const struct shmr_open_opts *opts,
    struct shmr_ring **out)
{
	char path[SHMR_NAME_MAX + 32];
	struct shmr_ring *r;
	struct stat st;
	void *p;
	int rc;

	*out = NULL;
	if ((rc = shm_path(path, sizeof(path), SHM_PREFIX, name)) < 0)
		return rc;
	if (opts != NULL && !resv_zero(opts->reserved,
	    sizeof(opts->reserved) / 8))
		return -EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	r->wait_fd = -1;
	strcpy(r->name, name);
	if ((r->fd = shm_open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0)) < 0) {
		rc = -errno;
		goto fail;
	}
	if (fstat(r->fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	/* Trust only regular objects of a trusted owner that nobody else
	 * can write: no name squatting in /dev/shm. */
	if (!S_ISREG(st.st_mode)) {
		rc = -EPROTO;
		goto fail;
	}
	if ((st.st_mode & 022) != 0 || ((opts == NULL ||
	    !opts->trust_any_owner) && st.st_uid != geteuid() &&
	    st.st_uid != 0)) {
		rc = -EPERM;
		goto fail;
	}
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->uid = st.st_uid;
	r->mode = st.st_mode & 07777;
	if ((uint64_t)st.st_size < HDR_SIZE) {
		rc = st.st_size == 0 ? -EAGAIN : -EPROTO;
		goto fail;
	}
	/* Map the header alone first: the size it claims is checked
	 * against the object before the data area is mapped. */
	p = mmap(NULL, HDR_SIZE, PROT_READ, MAP_SHARED, r->fd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	rc = validate(p, (uint64_t)st.st_size, r);
	munmap(p, HDR_SIZE);
	if (rc < 0)
		goto fail;
	r->map_len = HDR_SIZE + r->cap;
	p = mmap(NULL, r->map_len, PROT_READ, MAP_SHARED, r->fd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	r->map = p;
	/* The constants were validated above; re-validate on this mapping
	 * and keep those values (the header may have changed meanwhile). */
	if ((rc = validate(p, (uint64_t)st.st_size, r)) < 0)
		goto fail;
	(void)wait_open(name, st.st_uid, &r->wait, &r->wait_fd);
	*out = r;
	return 0;
fail:
	shmr_ring_close(r);
	return rc;
}

/* A ring over caller memory: used by the fuzzer and tests. */
int
ring_open_mem(const void *base, size_t len, struct shmr_ring **out)
{
	struct shmr_ring *r;
	int rc;

	*out = NULL;
	if (((uintptr_t)base & 7) != 0)
		return -EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	r->fd = r->wait_fd = -1;
	strcpy(r->name, "(memory)");
	if ((rc = validate(base, len, r)) < 0) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void
shmr_ring_close(struct shmr_ring *r)
{
	if (r == NULL)
		return;
	if (r->map != NULL)
		munmap(r->map, r->map_len);
	wait_close(r->wait, r->wait_fd);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

const char *
shmr_ring_name(const struct shmr_ring *r)
{
	return r->name;
}

uint64_t
shmr_ring_epoch(const struct shmr_ring *r)
{
	return r->epoch;
}

uint32_t
shmr_ring_max_msg(const struct shmr_ring *r)
{
	return r->max_msg;
}

int
shmr_ring_alive(const struct shmr_ring *r)
{
	/* The producer holds its lock on byte 0 for its life (object.c). */
	return r->fd < 0 ? 0 : object_locked(r->fd);
}

int
shmr_ring_stale(const struct shmr_ring *r)
{
	char path[SHMR_NAME_MAX + 32];
	struct stat st;
	int fd, rc;

	if (r->fd < 0)
		return 0;
	if ((rc = shm_path(path, sizeof(path), SHM_PREFIX, r->name)) < 0)
		return rc;
	if ((fd = shm_open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0)) < 0)
		return errno == ENOENT ? 1 : -errno;
	rc = fstat(fd, &st) < 0 ? -errno :
	    st.st_dev != r->dev || st.st_ino != r->ino;
	close(fd);
	return rc;
}

struct ring_hot_ctx {
	const struct shmr_ring *r;
};

/* Is the hot snapshot believable for this ring? */
static int
hot_valid(const struct shmr_ring *r, const struct hot *h)
{
	if (((h->tail | h->head_pos | h->last_pos) & 7) != 0)
		return 0;
	if (h->tail - h->head_pos > r->cap)
		return 0;
	if (h->next_seq < h->head_seq)
		return 0;
	/* A mirror's gaps skip sequence numbers: no bound from the size. */
	if (r->mirror)
		return 1;
	/* A record is at least 16 bytes. */
	if (h->next_seq - h->head_seq > r->cap / REC_HDR)
		return 0;
	if (h->next_seq != h->head_seq && (h->last_pos - h->head_pos >=
	    h->tail - h->head_pos))
		return 0;
	return 1;
}

/*
 * The producer died inside a header update (sl stays odd): head_pos and
 * tail are usable, the rest may be half written. Rebuild the sequence
 * fields from the records themselves; nothing changes any more.
 */
static int
repair(const struct ring_hot_ctx *x, struct hot *v)
{
	const struct shmr_ring *r = x->r;
	uint64_t pos = v->head_pos, n = 0, first = 0, last = 0, lastpos = 0;
	uint64_t gap = 0;	/* a mirror's gap: the next data seq */

	if (((v->tail | v->head_pos) & 7) != 0 ||
	    v->tail - v->head_pos > r->cap)
		return -EBADMSG;
	while (pos != v->tail) {
		struct rec rec;

		if (rec_read(r, pos, v->tail - pos, &rec) != NULL)
			return -EBADMSG;
		if (rec.type == REC_PAD) {
			pos += rec.size;
			continue;
		}
		if (rec.type == REC_GAP) {
			gap = rec.seq;
			if (n > 0 && gap <= last)
				return -EBADMSG;
			pos += REC_HDR;
			continue;
		}
		if (n == 0) {
			first = rec.seq;
			if (gap != 0 && gap != first)
				return -EBADMSG;
			/* a gap at the head: its start is in the header */
			if (gap == 0 || v->head_seq > first)
				v->head_seq = first;
		} else if (rec.seq != (gap != 0 ? gap : last + 1))
			return -EBADMSG;
		last = rec.seq;
		gap = 0;
		lastpos = pos;
		n++;
		pos += rec.size;
	}
	if (n > 0) {
		v->next_seq = gap != 0 ? gap : last + 1;
		v->last_pos = lastpos;
	} else if (gap != 0) {
		v->next_seq = gap;	/* only a gap: it starts at head_seq */
		if (v->head_seq > gap)
			v->head_seq = gap;
		v->last_pos = v->head_pos;
	} else {
		v->head_seq = v->next_seq;
		v->last_pos = v->head_pos;
	}
	return 0;
}

/*
 * Read the seqlock-protected fields consistently (Boehm's reader: acquire
 * load of sl, relaxed loads, acquire fence, relaxed re-load of sl). If sl
 * stays odd, the producer may have died inside its update: then the
 * values no longer change and are taken as they are, if they make sense.
 * If it stays odd at one value for SL_STALL_NS while the producer lives,
 * the producer is stopped inside the update: -EDEADLK, without waiting
 * longer (one liveness probe when the wait starts, one when it ends).
 */
int
ring_hot(const struct shmr_ring *r, struct hot *out)
{
	const struct seg_hdr *h = r->hdr;
	struct ring_hot_ctx x = { r };
	struct hot v;
	uint64_t s1, s2, stuck = 0, since = 0, first = 0, now;
	long tries;

	for (tries = 0;; tries++) {
		/* acquire: pairs with the producer's release store of sl */
		s1 = atomic_load_explicit(&h->sl, memory_order_acquire);
		CHAOS("ring_hot: sl loaded");
		v.tail = atomic_load_explicit(&h->tail, memory_order_relaxed);
		v.next_seq = atomic_load_explicit(&h->next_seq,
		    memory_order_relaxed);
		v.head_pos = atomic_load_explicit(&h->head_pos,
		    memory_order_relaxed);
		v.head_seq = atomic_load_explicit(&h->head_seq,
		    memory_order_relaxed);
		v.last_pos = atomic_load_explicit(&h->last_pos,
		    memory_order_relaxed);
		v.bytes = atomic_load_explicit(&h->bytes, memory_order_relaxed);
		v.last_ns = atomic_load_explicit(&h->last_ns,
		    memory_order_relaxed);
		/* acquire: keeps the loads above before the re-check; pairs
		 * with the release fence after the producer's odd sl store */
		atomic_thread_fence(memory_order_acquire);
		CHAOS("ring_hot: fields loaded, sl not re-loaded");
		s2 = atomic_load_explicit(&h->sl, memory_order_relaxed);
		if (s1 == s2 && (s1 & 1) == 0)
			break;
		if (tries < SL_SPINS) {
			cpu_relax();
			continue;
		}
		now = mono_ns();
		if (first == 0)
			first = now;
		if (s1 != s2 || s1 != stuck) {
			/* (Newly) stuck at an odd value: is anyone there?
			 * A dead producer's values are final but may be
			 * half written: rebuild them from the records. */
			if (s1 == s2 && shmr_ring_alive(r) <= 0) {
				if (repair(&x, &v) < 0)
					return -EBADMSG;
				break;
			}
			stuck = s1 == s2 ? s1 : 0;
			since = now;
		} else if (now - since >= SL_STALL_NS) {
			if (shmr_ring_alive(r) <= 0) {
				if (repair(&x, &v) < 0)
					return -EBADMSG;
				break;
			}
			return -EDEADLK;
		}
		/* Moving, but never caught even: a bound all the same. */
		if (now - first >= 4 * SL_STALL_NS)
			return -EAGAIN;
		/* Let a descheduled producer finish its update. */
		sched_yield();
	}
	if (!hot_valid(r, &v))
		return -EBADMSG;
	*out = v;
	return 0;
}

int
shmr_ring_info(const struct shmr_ring *r, struct shmr_info *info)
{
	struct hot h;
	int rc;

	if ((rc = ring_hot(r, &h)) < 0)
		return rc;
	memset(info, 0, sizeof(*info));
	info->layout_version = LAYOUT_VERSION;
	info->max_msg = r->max_msg;
	info->capacity = r->cap;
	info->epoch = r->epoch;
	info->pid = r->pid;
	info->state = atomic_load_explicit(&r->hdr->state,
	    memory_order_acquire);
	info->next_seq = h.next_seq;
	info->oldest_seq = h.head_seq;
	info->messages = h.next_seq;
	info->bytes = h.bytes;
	info->used = h.tail - h.head_pos;
	info->created_ns = r->created_ns;
	info->last_publish_ns = h.last_ns;
	info->uid = r->uid;
	info->mode = r->mode;
	return 0;
}

static int
why_fmt(char *why, size_t len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
why_fmt(char *why, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/*
 * Walk [head, tail) once. Returns 0 if sound, 1 if the producer lapped
 * the walk (try again), -EBADMSG with a reason otherwise.
 */
static int
walk(const struct shmr_ring *r, const struct hot *h, uint64_t *nrec,
    char *why, size_t whylen)
{
	const struct seg_hdr *hd = r->hdr;
	uint64_t pos = h->head_pos, seq = h->head_seq, last = UINT64_MAX;

	*nrec = 0;
	while (pos != h->tail) {
		struct rec rec;
		const char *bad = rec_read(r, pos, h->tail - pos, &rec);

		if (bad == NULL && rec.type == REC_GAP && rec.seq <= seq)
			bad = "gap record going backwards";
		else if (bad == NULL && rec.type == REC_DATA && rec.seq != seq)
			bad = "sequence number out of order";
		CHAOS("check: record looked at");
		/* acquire: pairs with the producer's release fence after
		 * its intent store; a lap means the bytes may be torn */
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&hd->intent, memory_order_relaxed) -
		    pos > r->cap)
			return 1;
		if (bad != NULL)
			return why_fmt(why, whylen, -EBADMSG,
			    "at position %llu (seq %llu): %s (length %u)",
			    (unsigned long long)pos, (unsigned long long)seq,
			    bad, rec.len);
		if (rec.type == REC_DATA) {
			last = pos;
			seq++;
			(*nrec)++;
		} else if (rec.type == REC_GAP) {
			seq = rec.seq;
		}
		pos += rec.size;
	}
	if (seq != h->next_seq)
		return why_fmt(why, whylen, -EBADMSG,
		    "header says next sequence %llu, records end at %llu",
		    (unsigned long long)h->next_seq, (unsigned long long)seq);
	if (last != UINT64_MAX && last != h->last_pos)
		return why_fmt(why, whylen, -EBADMSG,
		    "header's newest record at %llu, found at %llu",
		    (unsigned long long)h->last_pos, (unsigned long long)last);
	return 0;
}

int
shmr_ring_check(const struct shmr_ring *r, char *why, size_t whylen)
{
	const struct seg_hdr *hd = r->hdr;
	struct hot h;
	uint64_t nrec, intent;
	uint32_t state;
	int rc, tries;

	state = atomic_load_explicit(&hd->state, memory_order_acquire);
	if (state == SHMR_STATE_INIT || state > SHMR_STATE_REPLACED)
		return why_fmt(why, whylen, -EBADMSG, "bad state %u", state);
	if (r->epoch == 0)
		return why_fmt(why, whylen, -EBADMSG, "epoch is 0");
	for (tries = 0; tries < 16; tries++) {
		if ((rc = ring_hot(r, &h)) < 0)
			return why_fmt(why, whylen, rc, "header: %s",
			    rc == -EBADMSG ? "positions or sequence numbers "
			    "are inconsistent" : shmr_strerror(rc));
		CHAOS("check: header snapshot taken, intent not loaded");
		intent = atomic_load_explicit(&hd->intent,
		    memory_order_relaxed);
		/*
		 * Preempted between the snapshot and that load, we may see
		 * the intent of a producer that has lapped the snapshot
		 * since: only a tail that stayed put makes it corrupt.
		 * acquire: pairs with the release store of tail in
		 * publish_hot(), as any tail load.
		 */
		if (intent - h.tail > r->cap &&
		    atomic_load_explicit(&hd->tail, memory_order_acquire) !=
		    h.tail) {
			rc = 1;
			continue;
		}
		if (intent - h.tail > r->cap)
			return why_fmt(why, whylen, -EBADMSG,
			    "header: intent %llu is not within a ring of "
			    "tail %llu", (unsigned long long)intent,
			    (unsigned long long)h.tail);
		if ((rc = walk(r, &h, &nrec, why, whylen)) <= 0)
			break;
	}
	if (rc > 0)
		return why_fmt(why, whylen, 0, "producer lapped the check "
		    "16 times; records seen were sound");
	if (rc == 0)
		why_fmt(why, whylen, 0, "%llu records, sequence %llu..%llu",
		    (unsigned long long)nrec, (unsigned long long)h.head_seq,
		    (unsigned long long)h.next_seq);
	return rc;
}
