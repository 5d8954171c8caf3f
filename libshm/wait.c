/*
 * wait.c - sleeping readers and the producer's wake-up.
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
 * so a hostile writer delays them by at most that much). Readers that
 * cannot open it read-write poll with a short sleep instead.
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

int
futex_wait(_Atomic uint32_t *word, uint32_t val, int timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000,
	    (long)(timeout_ms % 1000) * 1000000 };

	/* Shared (not _PRIVATE): the word lives in a MAP_SHARED object. */
	if (syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0) < 0)
		return -errno;
	return 0;
}

int
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
