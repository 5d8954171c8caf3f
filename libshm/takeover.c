/*
 * takeover.c - replacing a ring whose producer died, and a mirror's
 * successor adopting its dead predecessor's ring (layout.h, "Liveness
 * and takeover", "Epochs", "Mirrors").
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "producer.h"

/*
 * Takeovers of NAME are serialised by a write lock on "/shmring-lock.NAME",
 * an object of the producers' user that nobody else may open (0600). The
 * old ring's own lock cannot do it: a reader's read lock keeps every taker
 * from getting it, and two takers that both found its producer dead would
 * each remove the name and create a ring. The lock object is removed by
 * its holder when the takeover is over (while still holding the lock), so
 * a taker that locked an object removed meanwhile looks again (-EAGAIN).
 * One left behind by a taker that died is simply locked and used.
 */
int
takeover_lock(const char *name, int *out)
{
	char path[SHMR_NAME_MAX + 32];
	struct stat st;
	int fd, rc;

	*out = -1;
	if ((rc = shm_path(path, sizeof(path), LOCK_PREFIX, name)) < 0)
		return rc;
	fd = shm_open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EACCES ? -EPERM : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		close(fd);
		return -EPERM;	/* squatted: not ours to trust */
	}
	if ((rc = object_lock(fd)) < 0 || !object_same(path, fd)) {
		close(fd);
		/* busy: another takeover is under way */
		return rc == 0 || rc == -EBUSY ? -EAGAIN : rc;
	}
	*out = fd;
	return 0;
}

void
takeover_unlock(const char *name, int fd)
{
	char path[SHMR_NAME_MAX + 32];

	if (fd < 0)
		return;
	if (shm_path(path, sizeof(path), LOCK_PREFIX, name) == 0)
		shm_unlink(path);	/* still locked: nobody uses it now */
	close(fd);
}

/*
 * The object at path exists; the caller holds the takeover lock. If its
 * producer is alive, refuse. If it is dead (or closed), remember its
 * epoch, mark it replaced once the new ring exists (returned in
 * *old_map), and remove the name so we can create.
 */
int
takeover_replace(const char *path, uint64_t *epoch, int *old_fd, void **old_map)
{
	struct stat st;
	struct seg_hdr *h;
	int fd, rc;

	if ((fd = shm_open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0)) < 0)
		return errno == ENOENT ? -EAGAIN : -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		rc = -EPERM;	/* someone else's object: not ours to replace */
		goto fail;
	}
	/*
	 * Taking the producer's lock ourselves also keeps out a producer
	 * that created this object and has not locked it yet (it then
	 * starts over). If it is refused, a write lock is a live producer;
	 * read locks only are readers' (a producer's write lock and a read
	 * lock never coexist): its producer is gone.
	 */
	if ((rc = object_lock(fd)) == -EBUSY &&
	    (rc = object_locked(fd)) == 1)
		rc = -EBUSY;
	if (rc < 0)
		goto fail;
	if (!object_same(path, fd)) {
		rc = -EAGAIN;	/* replaced while we looked: start over */
		goto fail;
	}
	/* Its producer is gone and no other taker runs: it is ours. */
	*epoch = 0;
	*old_map = NULL;
	if ((size_t)st.st_size >= HDR_SIZE) {
		h = mmap(NULL, HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
		if (h != MAP_FAILED) {
			if (atomic_load_explicit(&h->magic,
			    memory_order_relaxed) == SEG_MAGIC)
				*epoch = atomic_load_explicit(&h->epoch,
				    memory_order_relaxed);
			*old_map = h;
		}
	}
	if (shm_unlink(path) < 0 && errno != ENOENT) {
		rc = -errno;
		if (*old_map != NULL)
			munmap(*old_map, HDR_SIZE);
		goto fail;
	}
	*old_fd = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

/*
 * A mirror's successor: if NAME is a mirror of the same epoch whose writer
 * died (we get its lock), with the requested geometry and a header that
 * was left settled, continue that very object: readers keep their
 * cursors and see no restart. Returns 1 (adopted), 0 (nothing to adopt:
 * create or take over as usual) or -errno.
 */
int
takeover_adopt(struct shmr_writer *w, const char *path,
    const struct shmr_create_opts *opts, const struct shmr_mirror_opts *mo)
{
	struct seg_hdr *h;
	struct stat st;
	uint64_t cap, sl;
	uint32_t max_msg;
	int fd, ok, rc;

	if ((fd = shm_open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0)) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() ||
	    (size_t)st.st_size < HDR_SIZE || object_lock(fd) < 0 ||
	    !object_same(path, fd)) {
		close(fd);
		return 0;	/* the usual path says why, if it fails */
	}
	h = mmap(NULL, HDR_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		close(fd);
		return 0;
	}
	cap = atomic_load_explicit(&h->capacity, memory_order_relaxed);
	max_msg = atomic_load_explicit(&h->max_msg, memory_order_relaxed);
	sl = atomic_load_explicit(&h->sl, memory_order_relaxed);
	/* Only our own dead writer's object, as it left it. */
	ok = atomic_load_explicit(&h->magic, memory_order_relaxed) ==
	    SEG_MAGIC &&
	    atomic_load_explicit(&h->layout_version, memory_order_relaxed) ==
	    LAYOUT_VERSION &&
	    atomic_load_explicit(&h->hdr_size, memory_order_relaxed) ==
	    HDR_SIZE &&
	    (atomic_load_explicit(&h->flags, memory_order_relaxed) &
	    HDR_F_MIRROR) != 0 &&
	    atomic_load_explicit(&h->epoch, memory_order_relaxed) ==
	    mo->epoch &&
	    atomic_load_explicit(&h->state, memory_order_relaxed) ==
	    SHMR_STATE_LIVE &&
	    cap >= SHMR_CAP_MIN && cap <= SHMR_CAP_MAX &&
	    (cap & (cap - 1)) == 0 && (uint64_t)st.st_size == HDR_SIZE + cap &&
	    max_msg <= cap / 8 &&
	    (opts == NULL || opts->capacity == 0 || opts->capacity == cap) &&
	    (opts == NULL || opts->max_msg == 0 || opts->max_msg == max_msg) &&
	    (sl & 1) == 0;	/* died mid-update: replace it instead */
	munmap(h, HDR_SIZE);
	if (!ok) {
		close(fd);
		return 0;
	}
	w->fd = fd;
	w->cap = cap;
	w->mask = cap - 1;
	w->max_msg = max_msg;
	w->map_len = HDR_SIZE + cap;
	if ((rc = object_map(w)) < 0)
		return rc;	/* w->fd is closed by writer_free() */
	h = w->hdr;
	/* Nobody else writes these any more: plain snapshots. */
	w->sl = sl;
	w->intent = atomic_load_explicit(&h->intent, memory_order_relaxed);
	w->tail = atomic_load_explicit(&h->tail, memory_order_relaxed);
	w->next_seq = atomic_load_explicit(&h->next_seq, memory_order_relaxed);
	w->head_pos = atomic_load_explicit(&h->head_pos, memory_order_relaxed);
	w->head_seq = atomic_load_explicit(&h->head_seq, memory_order_relaxed);
	w->last_pos = atomic_load_explicit(&h->last_pos, memory_order_relaxed);
	w->bytes = atomic_load_explicit(&h->bytes, memory_order_relaxed);
	if (((w->tail | w->head_pos | w->intent) & 7) != 0 ||
	    w->tail - w->head_pos > cap || w->intent - w->tail > cap ||
	    w->head_seq > w->next_seq)
		return -EBADMSG;
	w->mirror = true;
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	atomic_store_explicit(&h->pid, (int32_t)getpid(), memory_order_relaxed);
	mirror_origin(h, mo->origin);
	return 1;
}
