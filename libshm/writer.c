/*
 * writer.c - the producer: creating (or taking over) a ring and publishing.
 *
 * The producer is the only writer of the segment. It keeps private copies
 * of every hot header field, so it never reads shared state back except
 * its own old record headers (to advance the head) and the wait object's
 * sleeper flag. Publishing is O(1) whatever the number of readers.
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

#include "internal.h"

#define DEFAULT_CAP	((uint64_t)64 << 20)
#define DEFAULT_MSG	((uint32_t)1 << 20)
#define CREATE_TRIES	16
#define CLAIM_AHEAD	((uint64_t)64 << 10)
#define PREFETCH_W	1024	/* < the smallest claim-ahead, 4 KiB */

struct shmr_writer {
	struct seg_hdr		*hdr;
	unsigned char		*data;
	size_t			 map_len;
	uint64_t		 cap;
	uint64_t		 mask;
	uint32_t		 max_msg;
	int			 fd;
	struct wait_page	*wait;
	int			 wait_fd;
	struct waker		 wk;		/* wake-up rationing (wait.c) */

	/* Private copies of the shared hot fields (we are their only writer). */
	uint64_t		 intent;
	uint64_t		 sl;
	uint64_t		 tail;
	uint64_t		 next_seq;
	uint64_t		 head_pos;
	uint64_t		 head_seq;
	uint64_t		 last_pos;
	uint64_t		 bytes;

	bool			 wait_created;	/* remove it if creation fails */
	bool			 forked;	/* a child's copy: see fork_child() */
	struct shmr_writer	*live_next;	/* the list of this process's */
	bool			 mirror;	/* HDR_F_MIRROR: see mirror.c */
	bool			 reserved;
	uint64_t		 res_start;
	size_t			 res_len;

	dev_t			 dev;
	ino_t			 ino;
	char			 name[SHMR_NAME_MAX + 1];
};

/* ---- fork --------------------------------------------------------------- */

/*
 * The producer's lock is an open-file-description lock (lock_producer()),
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

static int
dont_fork(struct shmr_writer *w)
{
	if (madvise(w->hdr, w->map_len, MADV_DONTFORK) < 0)
		return -errno;
	return 0;
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

/* ---- publishing --------------------------------------------------------- */

static uint64_t
coarse_ns(void)
{
	struct timespec ts;

	/* Coarse: a vDSO read, no syscall; jiffy resolution is enough here. */
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Where a record of ral bytes starting its search at pos lands: records do
 * not wrap, so it may first need a pad to the end of the data area.
 */
static uint64_t
place(const struct shmr_writer *w, uint64_t pos, uint64_t ral)
{
	uint64_t off = pos & w->mask;

	return w->cap - off < ral ? pos + (w->cap - off) : pos;
}

/*
 * Claim the bytes up to end: first move the head past every record that
 * the claim will overwrite (reading back our own record headers), then
 * announce the new intent, both inside the header seqlock so a snapshot
 * never shows a head older than intent - cap. A producer that dies here
 * leaves head and intent consistent for readers.
 */
static void
claim(struct shmr_writer *w, uint64_t end)
{
	struct seg_hdr *h = w->hdr;

	if (end <= w->intent)
		return;
	/*
	 * Claim ahead (up to 1/16 of the ring, at most 64 KiB): the header
	 * line is then written once per claim, not once per publish, and
	 * readers checking intent find it in their cache. The price is that
	 * readers are declared lapped up to that much earlier.
	 */
	end += w->cap / 16 < CLAIM_AHEAD ? w->cap / 16 : CLAIM_AHEAD;
	while (end - w->head_pos > w->cap) {
		uint64_t w0 = word_load(w->data + (w->head_pos & w->mask));
		uint32_t len = (uint32_t)w0;

		if (len < PAD_MIN || w->head_pos + align8(len) > w->tail) {
			/* Only our own memory corruption gets here. */
			w->head_pos = w->tail;
			w->head_seq = w->next_seq;
			break;
		}
		if ((uint32_t)(w0 >> 32) == REC_DATA)
			w->head_seq++;
		else if ((uint32_t)(w0 >> 32) == REC_GAP)	/* mirrors */
			w->head_seq = word_load(w->data +
			    ((w->head_pos + 8) & w->mask));
		w->head_pos += align8(len);
	}
	if (end - w->head_pos > w->cap) {
		/* The claim overlaps even the tail: nothing old survives. */
		w->head_pos = end - w->cap;
	}
	w->intent = end;
	CHAOS("claim: before sl odd");
	atomic_store_explicit(&h->sl, ++w->sl, memory_order_relaxed);
	/* release: sl odd is visible before the fields below; pairs with the
	 * acquire fence in ring_hot() */
	atomic_thread_fence(memory_order_release);
	CHAOS("claim: sl odd");
	atomic_store_explicit(&h->head_pos, w->head_pos, memory_order_relaxed);
	atomic_store_explicit(&h->head_seq, w->head_seq, memory_order_relaxed);
	CHAOS("claim: head moved, intent not yet");
	atomic_store_explicit(&h->intent, end, memory_order_relaxed);
	CHAOS("claim: intent stored, sl odd");
	/* release: pairs with the acquire load of sl in ring_hot() */
	atomic_store_explicit(&h->sl, ++w->sl, memory_order_release);
	/*
	 * release: the intent store above is ordered before the record
	 * stores that follow; pairs with the acquire fence a reader issues
	 * after copying and before re-loading intent (reader.c).
	 */
	atomic_thread_fence(memory_order_release);
	CHAOS("claim: done, records not yet written");
}

static void
write_pad(struct shmr_writer *w, uint64_t pos)
{
	uint64_t off = pos & w->mask;

	word_store(w->data + off, rec_word0((uint32_t)(w->cap - off),
	    REC_PAD));
}

/* Copy a payload into the ring with relaxed word stores, zero-padded. */
static void
copy_in(unsigned char *dst, const unsigned char *src, size_t len)
{
	size_t i;
	uint64_t v;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&v, src + i, 8);
		word_store(dst + i, v);
	}
	if (i < len) {
		v = 0;
		memcpy(&v, src + i, len - i);
		word_store(dst + i, v);
	}
}

/* Write one data record at pos (already claimed); return its end. */
static uint64_t
put(struct shmr_writer *w, uint64_t pos, const void *data, size_t len)
{
	uint64_t ral = align8(REC_HDR + len);
	uint64_t start = place(w, pos, ral);
	unsigned char *p;

	if (start != pos) {
		write_pad(w, pos);
		CHAOS("put: pad written");
	}
	p = w->data + (start & w->mask);
	/*
	 * Ask for the line 1 KiB ahead for writing now: with a ring larger
	 * than the cache every new line is a miss, and this overlaps it
	 * with the records in between (8-12 % on 64-byte publishes here).
	 * Those bytes are already claimed, so no reader may use them. A
	 * builtin of gcc and clang; a hint, not a memory access.
	 */
	__builtin_prefetch(w->data + ((start + PREFETCH_W) & w->mask), 1);
	word_store(p, rec_word0((uint32_t)(REC_HDR + len), REC_DATA));
	CHAOS("put: length written, seq not yet");
	word_store(p + 8, w->next_seq++);
	CHAOS("put: seq written, payload not yet");
	copy_in(p + REC_HDR, data, len);
	CHAOS("put: record written");
	w->last_pos = start;
	w->bytes += len;
	return start + ral;
}

/*
 * Make everything up to w->tail visible. A batch calls this once per
 * claimed chunk: the claim moves the head, so a published tail left
 * behind would let the head pass it (readers would see an absurd header).
 */
static void
publish_hot(struct shmr_writer *w)
{
	struct seg_hdr *h = w->hdr;
	/* Read the clock before the update: keep the odd-sl window short. */
	uint64_t ns = coarse_ns();

	atomic_store_explicit(&h->sl, ++w->sl, memory_order_relaxed);
	/* release: sl odd before the fields; pairs with ring_hot()'s fence */
	atomic_thread_fence(memory_order_release);
	CHAOS("finish: sl odd");
	atomic_store_explicit(&h->next_seq, w->next_seq, memory_order_relaxed);
	atomic_store_explicit(&h->last_pos, w->last_pos, memory_order_relaxed);
	atomic_store_explicit(&h->bytes, w->bytes, memory_order_relaxed);
	atomic_store_explicit(&h->last_ns, ns, memory_order_relaxed);
	/*
	 * release: the records written before are visible to any reader
	 * that sees this tail; pairs with the acquire load of tail in
	 * shmr_cursor_read() and friends.
	 */
	atomic_store_explicit(&h->tail, w->tail, memory_order_release);
	CHAOS("finish: tail published, sl odd");
	/* release: pairs with the acquire load of sl in ring_hot() */
	atomic_store_explicit(&h->sl, ++w->sl, memory_order_release);
	CHAOS("finish: sl even, sleepers not yet checked");
}

/* Make everything up to w->tail visible and wake sleepers if any. */
static void
finish(struct shmr_writer *w)
{
	publish_hot(w);
	wait_wake(w->wait, w->hdr, &w->wk);
}

int
shmr_writer_publish(struct shmr_writer *w, const void *data, size_t len,
    uint64_t *seq)
{
	uint64_t ral, end;

	if (len > w->max_msg)
		return -EMSGSIZE;
	if (len > 0 && data == NULL)
		return -EINVAL;
	if (w->reserved | w->forked)
		return w->forked ? -ECHILD : -EALREADY;
	ral = align8(REC_HDR + len);
	end = place(w, w->tail, ral) + ral;
	claim(w, end);
	if (seq != NULL)
		*seq = w->next_seq;
	w->tail = put(w, w->tail, data, len);
	finish(w);
	return 0;
}

int
shmr_writer_publish_batch(struct shmr_writer *w, const struct shmr_iov *m,
    size_t n, uint64_t *first_seq)
{
	size_t i, j;

	if (w->reserved | w->forked)
		return w->forked ? -ECHILD : -EALREADY;
	for (i = 0; i < n; i++) {
		if (m[i].len > w->max_msg)
			return -EMSGSIZE;
		if (m[i].len > 0 && m[i].data == NULL)
			return -EINVAL;
	}
	if (first_seq != NULL)
		*first_seq = w->next_seq;
	/*
	 * One claim per chunk of at most half the ring (a claim must never
	 * span more than the ring), then that chunk's tail update: the next
	 * claim moves the head, which must never pass the published tail.
	 * One wake-up per batch.
	 */
	for (i = 0; i < n; i = j) {
		uint64_t end = w->tail;

		for (j = i; j < n; j++) {
			uint64_t ral = align8(REC_HDR + m[j].len);
			uint64_t e = place(w, end, ral) + ral;

			if (j > i && e - w->tail > w->cap / 2)
				break;
			end = e;
		}
		claim(w, end);
		for (size_t k = i; k < j; k++)
			w->tail = put(w, w->tail, m[k].data, m[k].len);
		CHAOS("batch: chunk written, tail not published");
		publish_hot(w);
	}
	if (n > 0)
		wait_wake(w->wait, w->hdr, &w->wk);
	return 0;
}

int
shmr_writer_reserve(struct shmr_writer *w, size_t len, void **buf)
{
	uint64_t ral, start;

	if (w->reserved | w->forked)
		return w->forked ? -ECHILD : -EALREADY;
	if (len > w->max_msg)
		return -EMSGSIZE;
	ral = align8(REC_HDR + len);
	start = place(w, w->tail, ral);
	claim(w, start + ral);
	if (start != w->tail)
		write_pad(w, w->tail);
	w->reserved = true;
	w->res_start = start;
	w->res_len = len;
	*buf = w->data + (start & w->mask) + REC_HDR;
	return 0;
}

int
shmr_writer_commit(struct shmr_writer *w, size_t len, uint64_t *seq)
{
	unsigned char *p;

	if (w->forked)
		return -ECHILD;
	if (!w->reserved)
		return -EINVAL;
	if (len > w->res_len)
		return -EMSGSIZE;
	p = w->data + (w->res_start & w->mask);
	word_store(p, rec_word0((uint32_t)(REC_HDR + len), REC_DATA));
	if (seq != NULL)
		*seq = w->next_seq;
	word_store(p + 8, w->next_seq++);
	w->last_pos = w->res_start;
	w->bytes += len;
	w->tail = w->res_start + align8(REC_HDR + len);
	w->reserved = false;
	finish(w);
	return 0;
}

void
shmr_writer_cancel(struct shmr_writer *w)
{
	/* The claim stays: readers may count those bytes as overwritten. */
	w->reserved = false;
}

int
shmr_writer_info(const struct shmr_writer *w, struct shmr_info *info)
{
	const struct seg_hdr *h = w->hdr;
	struct stat st;

	if (w->forked)
		return -ECHILD;	/* not mapped here: see fork_child() */
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

/* ---- creation, takeover, close ------------------------------------------ */

static int
lock_producer(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
	    .l_start = 0, .l_len = 1 };

	/*
	 * An open-file-description lock lives as long as our descriptor:
	 * the kernel drops it when the producer dies, which is how readers
	 * (F_OFD_GETLK) and the next producer tell a dead ring from a live
	 * one without heartbeats.
	 */
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0)
		return errno == EACCES || errno == EAGAIN ? -EBUSY : -errno;
	return 0;
}

/*
 * Does someone hold a write lock on byte 0 of fd (1), or not (0)? Only a
 * write lock is a producer's: anyone who may read a ring can take a read
 * lock on an O_RDONLY descriptor, and one taken on a dead producer's ring
 * must neither make it look alive nor keep it from being taken over.
 */
static int
write_locked(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
	    .l_start = 0, .l_len = 1 };

	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	return fl.l_type == F_WRLCK;
}

/* Does the name still refer to the object open on fd? */
static int
same_object(const char *path, int fd)
{
	struct stat a, b;
	int fd2, same;

	if ((fd2 = shm_open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0)) < 0)
		return 0;
	same = fstat(fd, &a) == 0 && fstat(fd2, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	close(fd2);
	return same;
}

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
static int
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
	if ((rc = lock_producer(fd)) < 0 || !same_object(path, fd)) {
		close(fd);
		/* busy: another takeover is under way */
		return rc == 0 || rc == -EBUSY ? -EAGAIN : rc;
	}
	*out = fd;
	return 0;
}

static void
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
static int
take_over(const char *path, uint64_t *epoch, int *old_fd, void **old_map)
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
	if ((rc = lock_producer(fd)) == -EBUSY &&
	    (rc = write_locked(fd)) == 1)
		rc = -EBUSY;
	if (rc < 0)
		goto fail;
	if (!same_object(path, fd)) {
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
    const struct shmr_mirror_opts *mo)
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
	/* MAP_POPULATE: take every page fault now, so that publishing
	 * never stalls on one (tmpfs clears a page on its first fault). */
	w->hdr = mmap(NULL, w->map_len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, w->fd, 0);
	if (w->hdr == MAP_FAILED) {
		w->hdr = NULL;
		return -errno;
	}
	if ((rc = dont_fork(w)) < 0)
		return rc;
	w->data = (unsigned char *)w->hdr + HDR_SIZE;
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
 * A mirror's successor: if NAME is a mirror of the same epoch whose writer
 * died (we get its lock), with the requested geometry and a header that
 * was left settled, continue that very object: readers keep their
 * cursors and see no restart. Returns 1 (adopted), 0 (nothing to adopt:
 * create or take over as usual) or -errno.
 */
static int
adopt(struct shmr_writer *w, const char *path,
    const struct shmr_create_opts *opts, const struct shmr_mirror_opts *mo)
{
	struct seg_hdr *h;
	struct stat st;
	uint64_t cap, sl;
	uint32_t max_msg;
	int fd, ok;

	if ((fd = shm_open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0)) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() ||
	    (size_t)st.st_size < HDR_SIZE || lock_producer(fd) < 0 ||
	    !same_object(path, fd)) {
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
	w->hdr = mmap(NULL, w->map_len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, fd, 0);
	if (w->hdr == MAP_FAILED) {
		w->hdr = NULL;
		return -errno;	/* w->fd is closed by writer_free() */
	}
	if (dont_fork(w) < 0)
		return -errno;
	w->data = (unsigned char *)w->hdr + HDR_SIZE;
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
	if (mo != NULL && (rc = adopt(w, path, opts, mo)) != 0) {
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
			if (lock_producer(w->fd) == 0 &&
			    same_object(path, w->fd))
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
		rc = take_over(path, &epoch, &old_fd, &old_map);
		if (rc < 0 && rc != -EAGAIN)
			goto fail;
	}
	if (w->fd < 0) {
		rc = -EBUSY;
		goto fail;
	}
	/* a mirror has its upstream's epoch; a new ring, the clock's */
	epoch = mo != NULL ? mo->epoch : new_epoch(epoch);
	if ((rc = init_segment(w, mode, gid, epoch, mo)) < 0) {
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
		if (same_object(path, w->fd))
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

/* ---- mirrors (layout.h, "Mirrors") -------------------------------------- */

int
shmr_writer_create_mirror(const char *name,
    const struct shmr_create_opts *opts, const struct shmr_mirror_opts *mo,
    struct shmr_writer **out)
{
	*out = NULL;
	if (mo == NULL || mo->epoch == 0 || mo->start_seq == UINT64_MAX ||
	    (mo->origin != NULL && strlen(mo->origin) > SHMR_ORIGIN_MAX))
		return -EINVAL;
	return writer_create(name, opts, mo, out);
}

/* Write a gap record at pos (already claimed); return its end. */
static uint64_t
put_gap(struct shmr_writer *w, uint64_t pos, uint64_t next)
{
	uint64_t start = place(w, pos, REC_HDR);
	unsigned char *p;

	if (start != pos)
		write_pad(w, pos);
	p = w->data + (start & w->mask);
	word_store(p, rec_word0(REC_HDR, REC_GAP));
	word_store(p + 8, next);
	w->next_seq = next;
	return start + REC_HDR;
}

/* Publish a gap up to seq (if seq is ahead) and then, if data, a message. */
static int
publish_at(struct shmr_writer *w, uint64_t seq, const void *data,
    size_t len, bool msg)
{
	uint64_t end = w->tail, ral = align8(REC_HDR + len);

	if (!w->mirror || (len > 0 && data == NULL))
		return -EINVAL;
	if (len > w->max_msg)
		return -EMSGSIZE;
	if (w->reserved | w->forked)
		return w->forked ? -ECHILD : -EALREADY;
	if (seq < w->next_seq || seq == UINT64_MAX)
		return -ERANGE;
	if (seq > w->next_seq)
		end = place(w, end, REC_HDR) + REC_HDR;
	if (msg)
		end = place(w, end, ral) + ral;
	if (end == w->tail)
		return 0;
	/* At most a max_msg (<= cap / 8) and a gap: one claim suffices. */
	claim(w, end);
	if (seq > w->next_seq)
		w->tail = put_gap(w, w->tail, seq);
	if (msg)
		w->tail = put(w, w->tail, data, len);
	finish(w);
	return 0;
}

int
shmr_writer_publish_at(struct shmr_writer *w, uint64_t seq, const void *data,
    size_t len)
{
	return publish_at(w, seq, data, len, true);
}

int
shmr_writer_gap(struct shmr_writer *w, uint64_t next_seq)
{
	return publish_at(w, next_seq, NULL, 0, false);
}

int
shmr_writer_set_upstream(struct shmr_writer *w, uint64_t upstream_next_seq,
    uint64_t token)
{
	if (!w->mirror)
		return -EINVAL;
	if (w->forked)
		return -ECHILD;
	mirror_upstream(w->hdr, upstream_next_seq, token);
	return 0;
}

int
shmr_writer_mirror(const struct shmr_writer *w, struct shmr_mirror_info *mi)
{
	if (!w->mirror)
		return -EINVAL;
	if (w->forked)
		return -ECHILD;
	mirror_read(w->hdr, w->next_seq, mi);
	return 0;
}
