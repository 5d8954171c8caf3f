/*
 * writer.c - the producer's handle: creating a ring or a mirror (its
 * segment, its wait object, its epoch), fork(), info, close. Replacing a
 * dead producer is in takeover.c, the lock and the mapping in object.c,
 * publishing in publish.c, a mirror's own calls in mirror.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "producer.h"

#define DEFAULT_CAP	((uint64_t)64 << 20)
#define DEFAULT_MSG	((uint32_t)1 << 20)
#define CREATE_TRIES	16

/* ---- fork --------------------------------------------------------------- */

/*
 * The producer's lock is an open-file-description lock (object_lock()),
 * which lives as long as any descriptor to that description, and fork()
 * copies descriptors: a child would keep the ring looking alive, and a
 * new producer out, after the parent closed or died. So the writers of
 * this process are listed, and in a child each closes its descriptor
 * (the lock stays the parent's) and refuses to write (-ECHILD): one ring,
 * one writer. A shared mapping holds the description too, so the ring is
 * mapped MADV_DONTFORK: the child does not get it at all (fork() also
 * stops copying the page tables of a large ring). The child may still
 * close its copy of the handle, which only frees it.
 */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct shmr_writer *live;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void
fork_prepare(void)
{
	pthread_mutex_lock(&live_mu);
}

static void
fork_parent(void)
{
	pthread_mutex_unlock(&live_mu);
}

static void
fork_child(void)
{
	for (struct shmr_writer *w = live; w != NULL; w = w->live_next) {
		if (w->fd >= 0)
			close(w->fd);
		w->fd = -1;
		w->forked = true;
	}
	/* The child has one thread, the one that forked and holds it. */
	pthread_mutex_unlock(&live_mu);
}

static void
atfork_init(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static void
live_add(struct shmr_writer *w)
{
	pthread_once(&atfork_once, atfork_init);
	pthread_mutex_lock(&live_mu);
	w->live_next = live;
	live = w;
	pthread_mutex_unlock(&live_mu);
}

static void
live_remove(struct shmr_writer *w)
{
	pthread_mutex_lock(&live_mu);
	for (struct shmr_writer **pp = &live; *pp != NULL;
	    pp = &(*pp)->live_next) {
		if (*pp == w) {
			*pp = w->live_next;
			break;
		}
	}
	pthread_mutex_unlock(&live_mu);
}

int
shmr_writer_info(const struct shmr_writer *w, struct shmr_info *info)
{
	const struct seg_hdr *h = w->hdr;
	struct stat st;

	if (w->forked)
		return -ECHILD;	/* not mapped here: see "fork" in writer.c */
	memset(info, 0, sizeof(*info));
	info->layout_version = LAYOUT_VERSION;
	info->max_msg = w->max_msg;
	info->capacity = w->cap;
	info->epoch = atomic_load_explicit(&h->epoch, memory_order_relaxed);
	info->pid = atomic_load_explicit(&h->pid, memory_order_relaxed);
	info->state = atomic_load_explicit(&h->state, memory_order_relaxed);
	info->next_seq = w->next_seq;
	info->oldest_seq = w->head_seq;
	info->messages = w->next_seq;
	info->bytes = w->bytes;
	info->used = w->tail - w->head_pos;
	info->created_ns = atomic_load_explicit(&h->created_ns,
	    memory_order_relaxed);
	info->last_publish_ns = atomic_load_explicit(&h->last_ns,
	    memory_order_relaxed);
	if (fstat(w->fd, &st) == 0) {
		info->uid = st.st_uid;
		info->mode = st.st_mode & 07777;
	}
	return 0;
}

/* ---- creation and close ------------------------------------------------- */

/*
 * Map the wait object of NAME read-write, creating it if needed, without
 * changing it: a live producer may still own it (we do not know yet).
 */
static int
attach_wait(struct shmr_writer *w)
{
	char path[SHMR_NAME_MAX + 32];
	struct stat st;
	void *p;
	int fd, rc;

	if ((rc = shm_path(path, sizeof(path), WAIT_PREFIX, w->name)) < 0)
		return rc;
	fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	w->wait_created = fd >= 0;
	if (fd < 0 && (errno != EEXIST || (fd = shm_open(path, O_RDWR |
	    O_NOFOLLOW | O_CLOEXEC, 0)) < 0))
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid()) {
		close(fd);
		return -EPERM;
	}
	if ((size_t)st.st_size < sizeof(struct wait_page) &&
	    ftruncate(fd, sizeof(struct wait_page)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	p = mmap(NULL, sizeof(struct wait_page), PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		close(fd);
		return rc;
	}
	w->wait = p;
	w->wait_fd = fd;
	return 0;
}

/* Once the ring is ours: whoever may read it may ask to be woken. */
static void
own_wait(struct shmr_writer *w, mode_t mode, gid_t gid)
{
	if (w->wait == NULL)
		return;
	if (fchmod(w->wait_fd, mode | ((mode & 0444) >> 1)) < 0 ||
	    (gid != (gid_t)-1 && fchown(w->wait_fd, (uid_t)-1, gid) < 0)) {
		/* Readers would not be able to use it: let them poll. */
		wait_close(w->wait, w->wait_fd);
		w->wait = NULL;
		w->wait_fd = -1;
	}
}

static int
check_opts(const struct shmr_create_opts *o, uint64_t *cap, uint32_t *msg,
    mode_t *mode)
{
	if (o != NULL && !resv_zero(o->reserved, sizeof(o->reserved) / 8))
		return -EINVAL;
	*cap = o != NULL && o->capacity != 0 ? o->capacity : DEFAULT_CAP;
	if (*cap < SHMR_CAP_MIN || *cap > SHMR_CAP_MAX ||
	    (*cap & (*cap - 1)) != 0)
		return -EINVAL;
	*msg = o != NULL && o->max_msg != 0 ? o->max_msg :
	    (uint32_t)(*cap / 8 < DEFAULT_MSG ? *cap / 8 : DEFAULT_MSG);
	if (*msg > *cap / 8 || *msg > SHMR_MSG_LIMIT)
		return -EINVAL;
	*mode = o != NULL && o->mode != 0 ? o->mode : 0600;
	/* Readers refuse objects that others could write. */
	if ((*mode & ~(mode_t)0755) != 0 || (*mode & 0400) == 0)
		return -EINVAL;
	return 0;
}

/*
 * An epoch names one ring for good: a client that resumes at (epoch, seq)
 * must never land in another ring that reuses the number. Nothing of a
 * ring survives a clean close with unlink (nor a reboot), so the epoch is
 * the creation time in microseconds of CLOCK_REALTIME, and at least one
 * more than the previous ring's when that is still visible (a takeover; a
 * clock stepped back). Microseconds stay below 2^53 until the year 2255,
 * so JSON and JavaScript clients keep it exact. It is kept nowhere a
 * reader could write (the wait object is reader-writable).
 */
static uint64_t
new_epoch(uint64_t prev)
{
	uint64_t now = realtime_ns() / 1000;

	return now > prev ? now : prev + 1;
}

static int
init_segment(struct shmr_writer *w, mode_t mode, gid_t gid, uint64_t epoch,
    const struct shmr_mirror_opts *mo, const struct pred *pred)
{
	struct seg_hdr *h;
	int rc;

	if (fchmod(w->fd, mode) < 0 ||
	    (gid != (gid_t)-1 && fchown(w->fd, (uid_t)-1, gid) < 0))
		return -errno;
	/* Reserve every page now: a full /dev/shm fails here, not later
	 * with SIGBUS in the middle of a publish. */
	if ((rc = posix_fallocate(w->fd, 0, (off_t)w->map_len)) != 0)
		return rc == EFBIG ? -ENOSPC : -rc;
	if ((rc = object_map(w)) < 0)
		return rc;
	h = w->hdr;
	atomic_store_explicit(&h->magic, SEG_MAGIC, memory_order_relaxed);
	atomic_store_explicit(&h->layout_version, LAYOUT_VERSION,
	    memory_order_relaxed);
	atomic_store_explicit(&h->hdr_size, HDR_SIZE, memory_order_relaxed);
	atomic_store_explicit(&h->capacity, w->cap, memory_order_relaxed);
	atomic_store_explicit(&h->max_msg, w->max_msg, memory_order_relaxed);
	atomic_store_explicit(&h->pid, (int32_t)getpid(),
	    memory_order_relaxed);
	atomic_store_explicit(&h->epoch, epoch, memory_order_relaxed);
	atomic_store_explicit(&h->created_ns, realtime_ns(),
	    memory_order_relaxed);
	if (mo != NULL)
		mirror_init(h, mo, &w->next_seq, &w->head_seq);
	pred_init(h, pred);
	w->mirror = mo != NULL;
	/* release: readers that see LIVE see the constants above; pairs
	 * with the acquire load of state in ring.c validate() */
	atomic_store_explicit(&h->state, SHMR_STATE_LIVE,
	    memory_order_release);
	return 0;
}

static void
writer_free(struct shmr_writer *w)
{
	live_remove(w);
	if (w->hdr != NULL)
		munmap(w->hdr, w->map_len);
	wait_close(w->wait, w->wait_fd);
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}

/*
 * Create (or take over) ring NAME; a mirror (mo != NULL) gets the given
 * epoch and first sequence number, or adopts a dead mirror of that epoch
 * (returns 1).
 */
static int
writer_create(const char *name, const struct shmr_create_opts *opts,
    const struct shmr_mirror_opts *mo, struct shmr_writer **out)
{
	char path[SHMR_NAME_MAX + 32];
	struct shmr_writer *w;
	struct stat st;
	uint64_t cap, epoch = 0;
	uint32_t max_msg;
	mode_t mode;
	/*
	 * Zero means default here as everywhere: 0 and (gid_t)-1 leave the
	 * group alone. Giving a ring to group root is what creating it as
	 * root already does.
	 */
	gid_t gid = opts != NULL && opts->gid != 0 ? opts->gid : (gid_t)-1;
	void *old_map = NULL;
	struct pred pred;
	int old_fd = -1, lock_fd = -1, rc, tries;

	*out = NULL;
	if ((rc = shm_path(path, sizeof(path), SHM_PREFIX, name)) < 0)
		return rc;
	if ((rc = check_opts(opts, &cap, &max_msg, &mode)) < 0)
		return rc;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	w->fd = w->wait_fd = -1;
	w->cap = cap;
	w->mask = cap - 1;
	w->max_msg = max_msg;
	w->map_len = HDR_SIZE + cap;
	strcpy(w->name, name);

	/* Without a wait object readers poll; the ring works regardless. */
	(void)attach_wait(w);
	if (mo != NULL && (rc = takeover_adopt(w, path, opts, mo)) != 0) {
		if (rc < 0)
			goto fail;
		own_wait(w, mode, gid);
		live_add(w);
		*out = w;
		return 1;
	}
	for (tries = 0; tries < CREATE_TRIES; tries++) {
		w->fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (w->fd >= 0) {
			if (object_lock(w->fd) == 0 &&
			    object_same(path, w->fd))
				break;
			/* Someone grabbed our fresh object: look again. */
			close(w->fd);
			w->fd = -1;
			continue;
		}
		if (errno != EEXIST) {
			rc = -errno;
			goto fail;
		}
		if (old_fd >= 0)
			continue;	/* already took one over: racing */
		if (lock_fd < 0 && (rc = takeover_lock(name, &lock_fd)) < 0) {
			if (rc == -EAGAIN)
				continue;
			goto fail;
		}
		rc = takeover_replace(path, &epoch, &old_fd, &old_map);
		if (rc < 0 && rc != -EAGAIN)
			goto fail;
	}
	if (w->fd < 0) {
		rc = -EBUSY;
		goto fail;
	}
	/* a mirror has its upstream's epoch; a new ring, the clock's */
	epoch = mo != NULL ? mo->epoch : new_epoch(epoch);
	/* what the ring we replace was, for readers that missed its end */
	memset(&pred, 0, sizeof(pred));
	if (old_map != NULL)
		pred_capture(old_map, &pred);
	if ((rc = init_segment(w, mode, gid, epoch, mo, &pred)) < 0) {
		shm_unlink(path);
		goto fail;
	}
	fstat(w->fd, &st);
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	own_wait(w, mode, gid);
	if (old_map != NULL) {
		/* release: readers of the old ring drain it, then see this */
		atomic_store_explicit(&((struct seg_hdr *)old_map)->state,
		    SHMR_STATE_REPLACED, memory_order_release);
		munmap(old_map, HDR_SIZE);
		wait_wake_all(w->wait);
	}
	if (old_fd >= 0)
		close(old_fd);
	takeover_unlock(name, lock_fd);
	live_add(w);
	*out = w;
	return 0;
fail:
	if (old_map != NULL)
		munmap(old_map, HDR_SIZE);
	if (old_fd >= 0)
		close(old_fd);
	takeover_unlock(name, lock_fd);
	if (w->wait_created && shm_path(path, sizeof(path), WAIT_PREFIX,
	    name) == 0)
		shm_unlink(path);
	writer_free(w);
	return rc;
}

int
shmr_writer_close(struct shmr_writer *w, unsigned flags)
{
	char path[SHMR_NAME_MAX + 32];
	int rc = 0;

	if (w == NULL)
		return 0;
	if ((flags & SHMR_CLOSE_ABANDON) || w->forked) {
		/* As if we died: the lock goes with the descriptor. */
		writer_free(w);
		return 0;
	}
	/* release: every tail store before is visible to a reader that
	 * sees CLOSED; pairs with the acquire load of state in reader.c */
	atomic_store_explicit(&w->hdr->state, SHMR_STATE_CLOSED,
	    memory_order_release);
	wait_wake_all(w->wait);
	if (flags & SHMR_CLOSE_UNLINK) {
		shm_path(path, sizeof(path), SHM_PREFIX, w->name);
		/* Only our own object: a successor may own the name now. */
		if (object_same(path, w->fd))
			rc = shmr_unlink(w->name);
	}
	writer_free(w);
	return rc;
}

int
shmr_writer_create(const char *name, const struct shmr_create_opts *opts,
    struct shmr_writer **out)
{
	return writer_create(name, opts, NULL, out);
}

int
shmr_writer_create_mirror(const char *name,
    const struct shmr_create_opts *opts, const struct shmr_mirror_opts *mo,
    struct shmr_writer **out)
{
	*out = NULL;
	if (mo == NULL || mo->epoch == 0 || mo->start_seq == UINT64_MAX ||
	    (mo->origin != NULL && strlen(mo->origin) > SHMR_ORIGIN_MAX) ||
	    !resv_zero(mo->reserved, sizeof(mo->reserved) / 8))
		return -EINVAL;
	return writer_create(name, opts, mo, out);
}
