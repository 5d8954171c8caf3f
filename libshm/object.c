/*
 * object.c - a producer's hold on a ring's shared-memory object: its lock
 * (the producer's, on byte 0, for its life), whether someone holds it,
 * whether the name still refers to the object, and the mapping a
 * producer writes through. Used by creation (writer.c), takeover and
 * adoption (takeover.c) and the readers' liveness probe (ring.c), which
 * is why it sits below all three (layout.h, "Liveness and takeover").
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "producer.h"

int
object_lock(int fd)
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

int
object_locked(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
	    .l_start = 0, .l_len = 1 };

	/*
	 * Only a write lock is a producer's: anyone who may read a ring can
	 * take a read lock (an O_RDONLY descriptor suffices), which must
	 * neither make a dead producer look alive nor keep its ring from
	 * being taken over. A write lock needs O_RDWR, which only the owner
	 * gets, and a read lock excludes it: a reader's lock is never
	 * mistaken for the producer's, nor coexists with it.
	 */
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	return fl.l_type == F_WRLCK;
}

int
object_same(const char *path, int fd)
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
 * MAP_POPULATE: take every page fault now, so that publishing never
 * stalls on one (tmpfs clears a page on its first fault). MADV_DONTFORK:
 * see "fork" in writer.c.
 */
int
object_map(struct shmr_writer *w)
{
	void *p;

	p = mmap(NULL, w->map_len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, w->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	w->hdr = p;
	w->data = (unsigned char *)p + HDR_SIZE;
	if (madvise(p, w->map_len, MADV_DONTFORK) < 0)
		return -errno;	/* unmapped by writer_free() */
	return 0;
}
