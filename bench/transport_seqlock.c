/*
 * transport_seqlock.c - the floor for busy-poll latency: a minimal
 * single-producer ring of seqlocked slots in shared memory, no
 * validation, no wake-ups, no lap reporting. Message n goes to slot
 * n % NSLOTS, whose sequence word is odd while the producer writes it
 * and 2n + 2 once it holds message n. The reader spins on the word of
 * the slot it expects next with one pause per look, the policy
 * SHMR_WAIT_SPIN is measured against. Busy-poll rows only
 * (TP_SPIN_ONLY).
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "bench_ring.h"

#define NSLOTS		1024
#define SLOT_DATA	240

struct slot {
	_Atomic uint64_t seq;
	uint64_t	 len;
	unsigned char	 data[SLOT_DATA];
};

struct seqring {
	_Alignas(64) _Atomic uint64_t count;	/* messages sent, at eof */
	_Atomic int	 eof;
	_Alignas(64) struct slot slots[NSLOTS];
};

static void
seqlock_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "/%s.seqlock", name);
}

static struct seqring *
seqlock_map(int oflag, int *rc)
{
	char path[NAME_MAX_LEN + 16];
	struct seqring *r;
	int fd;

	seqlock_path(path, sizeof(path), job_name);
	if ((fd = shm_open(path, oflag, 0600)) < 0 || ((oflag & O_CREAT) &&
	    ftruncate(fd, sizeof(*r)) < 0)) {
		*rc = -errno;
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	*rc = r == MAP_FAILED ? -errno : 0;
	close(fd);
	return r == MAP_FAILED ? NULL : r;
}

/*
 * The slot's data is copied while the producer may be rewriting it; the
 * sequence word read again after an acquire fence tells whether the copy
 * is whole (the kernel's read_seqcount_retry).
 */
static int
seqlock_read(struct rd *rd, const struct tx *tx, int fd)
{
	unsigned char buf[SLOT_DATA];
	struct seqring *r;
	struct slot *s;
	uint64_t n = 0, s1, len;
	int rc;

	(void)tx;
	(void)fd;
	if ((rc = rd_wait_created(rd)) < 0)
		return rc;
	if ((r = seqlock_map(O_RDWR, &rc)) == NULL)
		return rd_fail(rd, rc, "shm_open");
	rd_ready(rd);
	for (;;) {
		s = &r->slots[n % NSLOTS];
		/* acquire: pairs with the producer's release store of 2n+2 */
		s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
		if (s1 == 2 * n + 2) {
			len = s->len < SLOT_DATA ? s->len : SLOT_DATA;
			memcpy(buf, s->data, len);
			/* acquire fence: the copy is done before the re-check */
			atomic_thread_fence(memory_order_acquire);
			if (atomic_load_explicit(&s->seq,
			    memory_order_relaxed) == s1) {
				if (len >= 8)
					on_msg(rd, buf, len);
				n++;
				continue;
			}
		}
		if (s1 > 2 * n + 2) {		/* lapped: go on at that one */
			n = (s1 - 1) / 2;
			continue;
		}
		/* acquire: pairs with the release store of eof */
		if (atomic_load_explicit(&r->eof, memory_order_acquire) &&
		    n >= atomic_load_explicit(&r->count,
		    memory_order_relaxed))
			break;
		relax();
	}
	rd->st->t_end = now_ns();
	munmap(r, sizeof(*r));
	return 0;
}

static uint64_t sent;		/* the producer's count, reset by open */

static int
seqlock_open(struct tx *tx, char *err, size_t errlen)
{
	int rc;

	sent = 0;
	if ((tx->priv = seqlock_map(O_RDWR | O_CREAT | O_EXCL, &rc)) == NULL) {
		snprintf(err, errlen, "seqlock ring: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

static int
seqlock_send(struct tx *tx, const void *buf, size_t len)
{
	struct seqring *r = tx->priv;
	struct slot *s = &r->slots[sent % NSLOTS];

	if (len > SLOT_DATA)
		return -EMSGSIZE;
	atomic_store_explicit(&s->seq, 2 * sent + 1, memory_order_relaxed);
	/* release fence: the odd word is visible before any new data */
	atomic_thread_fence(memory_order_release);
	s->len = len;
	memcpy(s->data, buf, len);
	/* release: publishes the data; pairs with the reader's acquire */
	atomic_store_explicit(&s->seq, 2 * sent + 2, memory_order_release);
	sent++;
	return 0;
}

static int
seqlock_close(struct tx *tx)
{
	struct seqring *r = tx->priv;

	atomic_store_explicit(&r->count, sent, memory_order_relaxed);
	/* release: count and the last slot before eof */
	atomic_store_explicit(&r->eof, 1, memory_order_release);
	munmap(r, sizeof(*r));
	tx->priv = NULL;
	return 0;
}

static void
seqlock_unlink(const char *name)
{
	char path[NAME_MAX_LEN + 16];

	seqlock_path(path, sizeof(path), name);
	(void)shm_unlink(path);
}

const struct transport transport_seqlock = {
	.name = "minimal seqlock ring",
	.opt = "seqlock",
	.flags = TP_SPIN_ONLY,
	.available = 1,
	.read = seqlock_read,
	.open = seqlock_open,
	.send = seqlock_send,
	.close = seqlock_close,
	.unlink = seqlock_unlink,
};
