/*
 * wait.c - sleeping readers and the producer's wake-up: both halves of the
 * protocol below, the reader's (shmr_cursor_wait()) and the producer's
 * (wait_wake(), after every publish).
 *
 * Readers map the ring read-only, so they cannot tell the producer that
 * they sleep through the ring itself. The producer therefore also creates
 * a one-page read-write object "/shmring-wait.NAME" (struct wait_page)
 * with a futex word and a sleeper flag. The protocol is Dekker's:
 *
 *	reader (shmr_cursor_wait)		producer (after each publish)
 *	seen = notify (acquire)			tail = t (release)
 *	sleepers = 1 (seq_cst)			fence (seq_cst)
 *	if tail (seq_cst) moved: return		if sleepers (relaxed) != 0:
 *	FUTEX_WAIT(notify, seen)		    sleepers = 0
 *						    notify += 1 (release)
 *						    FUTEX_WAKE(notify, all)
 *
 * Either the reader's tail load sees the new tail, or the producer's
 * sleeper load sees the flag (C11 7.17.4: the seq_cst fence orders the
 * producer's tail store before its sleeper load against the reader's
 * seq_cst operations). If the producer bumps notify after the reader read
 * it, FUTEX_WAIT returns at once. So no wake-up is lost, and the producer
 * makes no system call when nobody sleeps. A flag rather than a counter
 * means a reader killed while asleep costs one spare wake-up, not a
 * system call on every publish forever.
 *
 * Anyone who can write the wait object can only cause spurious wake-ups
 * (or none: readers sleep in slices of at most WAIT_SLICE_MS and re-check,
 * so a hostile writer delays them by at most that much), or hold the
 * flag set, which costs the producer a bounded amount (rationing, below).
 * Readers that cannot open it read-write poll with a short sleep instead.
 *
 * Rationing. Anyone who may read the ring may write this object, so a
 * hostile reader can keep `sleepers` set at every moment: the producer
 * would make a FUTEX_WAKE system call on every publish and fetch the
 * flag's cache line back from the hostile CPU on every one (measured:
 * 0.12x of the normal publish rate). So the producer wakes at most once
 * per WAKE_GAP_NS. A look that finds the flag set sooner puts the wake-up
 * off and moves the next look further away (1, 2, 4 ... WAKE_SKIP_MAX
 * publishes on); no fence, no shared load, no clock read in between.
 *
 * A wake-up put off is owed to a sleeper that may never see another
 * publish, so before putting off the first one the producer stores
 * hdr->throttled = 1 and wakes everyone, and while it is set readers
 * sleep at most THROTTLED_SLICE_NS at a time: that is the latency a
 * sleeping reader can lose to rationing. The reader loads throttled
 * after its acquire load of notify; the producer stores it before its
 * release increment of notify: either the reader sees 1, or its
 * FUTEX_WAIT on the old notify value returns at once or is woken. The
 * mode ends when a look finds the flag clear or nothing was put off for
 * THROTTLE_HOLD_NS; readers that then read 0 sleep long again, which is
 * safe because the producer looks after every publish until it puts a
 * wake-up off again, and that first happens with a wake-all.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define WAKE_GAP_NS		50000		/* one FUTEX_WAKE per 50 us */
#define WAKE_SKIP_MAX		256		/* publishes between looks */
#define THROTTLED_SLICE_NS	200000		/* readers' sleep, rationed */
#define THROTTLE_HOLD_NS	10000000	/* quiet this long: mode ends */

/* How long a blocking wait spins before it sleeps. */
#define WAIT_SPIN_NS	10000
/* Longest futex sleep before re-checking the ring by other means. */
#define WAIT_SLICE_MS	100
/* SHMR_WAIT_SPIN looks at the clock (for the deadline) this often. */
#define SPIN_CLOCK_EVERY 256
/* Time between two polls of the tail while a blocking wait spins. */
#define WAIT_POLL_NS	1000
/* How far a streaming producer may get ahead of a blocking wait. */
#define WAIT_LAG	(64 << 10)

static int
futex_wait(_Atomic uint32_t *word, uint32_t val, uint64_t timeout_ns)
{
	struct timespec ts = { (time_t)(timeout_ns / 1000000000u),
	    (long)(timeout_ns % 1000000000u) };

	/* Shared (not _PRIVATE): the word lives in a MAP_SHARED object. */
	if (syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0) < 0)
		return -errno;
	return 0;
}

static int
futex_wake(_Atomic uint32_t *word)
{
	if (syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0) < 0)
		return -errno;
	return 0;
}

/*
 * A spin-wait hint: lets the sibling hyperthread run and saves power. The
 * instructions are architecture-specific, hence the inline assembly.
 */
void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause");
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/*
 * Map the wait object read-write if we may. It must belong to the ring's
 * owner: an object squatted by someone else is ignored (we poll).
 */
int
wait_open(const char *name, uid_t owner, struct wait_page **out, int *fdp)
{
	char path[SHMR_NAME_MAX + 32];
	struct stat st;
	void *p;
	int fd, rc;

	*out = NULL;
	*fdp = -1;
	if ((rc = shm_path(path, sizeof(path), WAIT_PREFIX, name)) < 0)
		return rc;
	if ((fd = shm_open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != owner || (size_t)st.st_size < sizeof(**out)) {
		close(fd);
		return -EPERM;
	}
	p = mmap(NULL, sizeof(**out), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0);
	if (p == MAP_FAILED) {
		rc = -errno;
		close(fd);
		return rc;
	}
	*out = p;
	*fdp = fd;
	return 0;
}

void
wait_close(struct wait_page *w, int fd)
{
	if (w != NULL)
		munmap(w, sizeof(*w));
	if (fd >= 0)
		close(fd);
}

/* ---- the reader's half: waiting ---------------------------------------- */

/*
 * How long a reader may sleep before it looks again. Called after the
 * reader's acquire load of notify (see the top).
 */
static uint64_t
wait_slice_ns(const struct seg_hdr *h, int slice_ms)
{
	uint64_t ns = (uint64_t)slice_ms * 1000000u;

	if (atomic_load_explicit(&h->throttled, memory_order_relaxed) &&
	    ns > THROTTLED_SLICE_NS)
		ns = THROTTLED_SLICE_NS;
	return ns;
}

/* seq_cst loads: the reader's half of the Dekker pair (see the top). */
static int
ready(const struct shmr_ring *r, const struct shmr_cursor *c)
{
	return atomic_load_explicit(&r->hdr->tail, memory_order_seq_cst) !=
	    c->pos || atomic_load_explicit(&r->hdr->state,
	    memory_order_seq_cst) != SHMR_STATE_LIVE;
}

/*
 * The spinning part of a blocking wait. A reader at the producer's heels
 * (and its hardware prefetcher, a few lines further on) pulls away every
 * cache line the producer is about to write, and the producer then waits
 * for each line to come back: with one caught-up reader a 64-byte publish
 * took 160-300 ns instead of 25 ns on the development VM. So while the
 * producer is streaming, let it get WAIT_LAG bytes ahead before returning,
 * looking at the tail less and less often (1, 2, 4... us: each look costs
 * the producer a line); return when it pauses (the tail did not move
 * between two looks, so latency is what matters), when the lag has lasted
 * WAIT_SPIN_NS, or when the state changes. Nothing new for WAIT_SPIN_NS:
 * -EAGAIN, go to sleep.
 */
static int
gather(const struct shmr_ring *r, const struct shmr_cursor *c,
    uint64_t spin_end, uint64_t deadline_ms)
{
	uint64_t lag = r->cap / 8 < WAIT_LAG ? r->cap / 8 : WAIT_LAG;
	uint64_t seen = c->pos, since = 0, gap = WAIT_POLL_NS, now, t;

	for (;;) {
		if (ready(r, c)) {
			/* relaxed: only a distance; the reads that follow
			 * the wait acquire the tail themselves */
			t = atomic_load_explicit(&r->hdr->tail,
			    memory_order_relaxed);
			now = mono_ns();
			if (since == 0)
				since = now;
			if (t == seen || t - c->pos >= lag ||
			    now - since >= WAIT_SPIN_NS ||
			    atomic_load_explicit(&r->hdr->state,
			    memory_order_relaxed) != SHMR_STATE_LIVE)
				return 0;
			/* Still streaming: each look costs the producer a
			 * line, so look less and less often. */
			if (seen != c->pos)
				gap *= 2;
			seen = t;
		} else {
			now = mono_ns();
			if (now >= spin_end)
				return -EAGAIN;
		}
		if (now / 1000000 >= deadline_ms)
			return ready(r, c) ? 0 : -ETIMEDOUT;
		/* Look again only after gap (WAIT_POLL_NS, doubling). */
		do {
			for (int k = 0; k < 8; k++)
				cpu_relax();
		} while (mono_ns() - now < gap);
	}
}

/*
 * SHMR_WAIT_SPIN: look at the tail with one pause between looks until it
 * moves or the deadline passes. No back-off: the caller gave us the core
 * for the lowest latency, and a back-off of up to 32 pauses put about a
 * microsecond between looks (busy-poll p50 0.89 us where a minimal
 * seqlock ring got 0.39 us). Looking often costs the producer nothing
 * while the tail stands still: the line stays shared in both caches; a
 * publish fetches it back once, whoever looked how often.
 */
static int
spin(const struct shmr_ring *r, const struct shmr_cursor *c,
    uint64_t deadline_ms)
{
	unsigned i;

	for (i = 1;; i++) {
		if (ready(r, c))
			return 0;
		cpu_relax();
		if (i % SPIN_CLOCK_EVERY == 0 && deadline_ms != UINT64_MAX &&
		    mono_ms() >= deadline_ms)
			return ready(r, c) ? 0 : -ETIMEDOUT;
	}
}

int
shmr_cursor_wait(const struct shmr_ring *r, const struct shmr_cursor *c,
    int timeout_ms, unsigned flags)
{
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX :
	    mono_ms() + (uint64_t)timeout_ms;
	long poll_us = 50;
	uint64_t spin_end;
	int rc;

	/*
	 * Spin first (gather(), for WAIT_SPIN_NS; with SHMR_WAIT_SPIN
	 * spin() until the deadline): a publish arriving now is seen at
	 * once instead of after a sleep and a wake-up (20-30 us here).
	 */
	if (flags & SHMR_WAIT_SPIN)
		return spin(r, c, deadline);
	spin_end = mono_ns() + WAIT_SPIN_NS;
	if ((rc = gather(r, c, spin_end, deadline)) != -EAGAIN)
		return rc;
	for (;;) {
		uint64_t now = mono_ms();
		int slice;

		if (now >= deadline)
			return ready(r, c) ? 0 : -ETIMEDOUT;
		slice = deadline - now < WAIT_SLICE_MS ?
		    (int)(deadline - now) : WAIT_SLICE_MS;
		if (r->wait != NULL) {
			/* acquire: pairs with the producer's release
			 * increment of notify in wait_wake() */
			uint32_t seen = atomic_load_explicit(&r->wait->notify,
			    memory_order_acquire);

			/* seq_cst: Dekker with wait_wake() (see the top) */
			atomic_store_explicit(&r->wait->sleepers, 1,
			    memory_order_seq_cst);
			CHAOS("wait: sleepers set, tail not re-checked");
			if (ready(r, c))
				return 0;
			CHAOS("wait: about to sleep");
			rc = futex_wait(&r->wait->notify, seen,
			    wait_slice_ns(r->hdr, slice));
			if (rc == -EINTR)
				return -EINTR;
		} else {
			/* No wait object: poll, backing off to 1 ms. */
			struct timespec ts = { 0, poll_us * 1000 };

			if (poll_us * 1000 > (long)slice * 1000000)
				ts.tv_nsec = (long)slice * 1000000;
			if (nanosleep(&ts, NULL) < 0 && errno == EINTR)
				return -EINTR;
			if (poll_us < 1000)
				poll_us *= 2;
		}
		if (ready(r, c))
			return 0;
	}
}

/* ---- the producer's half: waking ---------------------------------------- */

static void
throttle(struct seg_hdr *h, struct waker *k, bool on)
{
	k->on = on;
	k->step = 1;
	/*
	 * relaxed: ordered for readers by the release increment of notify
	 * in wait_wake_all() (on), or not needed (off: see the top).
	 */
	atomic_store_explicit(&h->throttled, on, memory_order_relaxed);
}

/* After a publish (the tail store is done): wake sleepers if any asked. */
void
wait_wake(struct wait_page *wp, struct seg_hdr *h, struct waker *k)
{
	uint64_t now;

	if (wp == NULL)
		return;
	if (k->skip > 0) {	/* rationing: not looking yet */
		k->skip--;
		return;
	}
	/*
	 * seq_cst: Dekker with shmr_cursor_wait(): orders the tail store
	 * before the sleeper load below, against the reader's seq_cst
	 * sleeper store and tail load (see the top).
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load_explicit(&wp->sleepers, memory_order_relaxed)) {
		if (k->on)
			throttle(h, k, false);
		return;
	}
	now = mono_ns();
	if (now - k->woke_ns < WAKE_GAP_NS) {
		if (!k->on) {
			throttle(h, k, true);
			CHAOS("wake: throttled set, sleepers not woken");
			wait_wake_all(wp);
		}
		k->defer_ns = now;
		k->skip = k->step;
		if (k->step < WAKE_SKIP_MAX)
			k->step *= 2;
		return;
	}
	if (k->on) {
		if (now - k->defer_ns >= THROTTLE_HOLD_NS)
			throttle(h, k, false);
		else
			k->skip = k->step;
	}
	k->woke_ns = now;
	if (atomic_exchange_explicit(&wp->sleepers, 0, memory_order_relaxed)) {
		/* release: pairs with the reader's acquire load of notify */
		atomic_fetch_add_explicit(&wp->notify, 1, memory_order_release);
		CHAOS("finish: notify bumped, not yet woken");
		futex_wake(&wp->notify);
	}
}

/* Wake every sleeper unconditionally: the state changed. */
void
wait_wake_all(struct wait_page *wp)
{
	if (wp == NULL)
		return;
	/* release: the stores before are visible to woken readers */
	atomic_fetch_add_explicit(&wp->notify, 1, memory_order_release);
	futex_wake(&wp->notify);
}
