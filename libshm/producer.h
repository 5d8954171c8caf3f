/*
 * producer.h - the producer's private handle, shared by the files that
 * make up the producer: writer.c (creating, closing, fork), takeover.c
 * (replacing a dead producer, adopting a dead mirror), object.c (the lock
 * and the mapping of a ring's object), publish.c (claim, records,
 * seqlock, batches, reservations) and mirror.c (publishing at a given
 * sequence number, gap records). writer.c calls the others, takeover.c
 * and mirror.c call publish.c and object.c, and none calls back up.
 * Not installed.
 */
#ifndef SHMR_PRODUCER_H
#define SHMR_PRODUCER_H

#include <errno.h>

#include "internal.h"

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
	bool			 forked;	/* a child's copy: see writer.c */
	struct shmr_writer	*live_next;	/* the list of this process's */
	bool			 mirror;	/* HDR_F_MIRROR: see mirror.c */
	bool			 reserved;
	uint64_t		 res_start;
	size_t			 res_len;

	dev_t			 dev;
	ino_t			 ino;
	char			 name[SHMR_NAME_MAX + 1];
};

/*
 * May w publish now? -ECHILD: a copy inherited through fork() (writer.c);
 * -EALREADY: a reservation is open (shmr_writer_reserve()).
 */
static inline int
writer_busy(const struct shmr_writer *w)
{
	/* One test on the publish path: both are false there. */
	if (w->reserved | w->forked)
		return w->forked ? -ECHILD : -EALREADY;
	return 0;
}

/* object.c (object_lock(), object_locked(), object_same(): internal.h) */
/* Map w->fd (w->map_len bytes) read-write for publishing. */
int	object_map(struct shmr_writer *w);

/* takeover.c */
int	takeover_lock(const char *name, int *out);
void	takeover_unlock(const char *name, int fd);
int	takeover_replace(const char *path, uint64_t *epoch, int *old_fd,
	    void **old_map);
int	takeover_adopt(struct shmr_writer *w, const char *path,
	    const struct shmr_create_opts *opts,
	    const struct shmr_mirror_opts *mo);

/* publish.c */
uint64_t publish_place(const struct shmr_writer *w, uint64_t pos,
	    uint64_t ral);
void	publish_claim(struct shmr_writer *w, uint64_t end);
void	publish_pad(struct shmr_writer *w, uint64_t pos);
uint64_t publish_put(struct shmr_writer *w, uint64_t pos, const void *data,
	    size_t len);
void	publish_finish(struct shmr_writer *w);

#endif /* SHMR_PRODUCER_H */
