/*
 * internal.h - definitions shared by the libshm sources. Nothing here is
 * exported: the library is built with -fvisibility=hidden and a version
 * script, so these names are visible only to libshm itself and to tests
 * that link the static archive.
 */
#ifndef SHMR_INTERNAL_H
#define SHMR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shmring.h"
#include "layout.h"
#include "chaos.h"

/* A read-only view of a ring; the constants were validated at open. */
struct shmr_ring {
	const struct seg_hdr	*hdr;
	const unsigned char	*data;
	void			*map;
	size_t			 map_len;
	uint64_t		 cap;
	uint64_t		 mask;
	uint32_t		 max_msg;
	uint64_t		 epoch;
	pid_t			 pid;
	uint64_t		 created_ns;
	bool			 mirror;	/* HDR_F_MIRROR at open */
	int			 fd;		/* -1 for rings over memory */
	dev_t			 dev;
	ino_t			 ino;
	uid_t			 uid;
	mode_t			 mode;
	struct wait_page	*wait;		/* NULL: poll instead */
	int			 wait_fd;
	char			 name[SHMR_NAME_MAX + 1];
};

/* A consistent copy of the seqlock-protected header fields. */
struct hot {
	uint64_t	tail;
	uint64_t	next_seq;
	uint64_t	head_pos;
	uint64_t	head_seq;
	uint64_t	last_pos;
	uint64_t	bytes;
	uint64_t	last_ns;
};

/* util.c */
int	shm_path(char *buf, size_t len, const char *prefix, const char *name);
uint64_t realtime_ns(void);
uint64_t mono_ns(void);

/* ring.c */
int	ring_hot(const struct shmr_ring *r, struct hot *h);
int	ring_open_mem(const void *base, size_t len, struct shmr_ring **out);

/* mirror.c */
void	mirror_origin(struct seg_hdr *h, const char *origin);
void	mirror_init(struct seg_hdr *h, const struct shmr_mirror_opts *mo,
	    uint64_t *next_seq, uint64_t *head_seq);
void	mirror_upstream(struct seg_hdr *h, uint64_t upstream_next,
	    uint64_t token);
void	mirror_read(const struct seg_hdr *h, uint64_t next_seq,
	    struct shmr_mirror_info *mi);

/* wait.c */

/*
 * The producer's half of the wake-up protocol: its private state. Zero
 * is the initial state.
 */
struct waker {
	uint64_t	woke_ns;	/* mono_ns() of the last FUTEX_WAKE */
	uint64_t	defer_ns;	/* of the last wake-up put off */
	uint32_t	skip;		/* publishes left before the next look */
	uint32_t	step;		/* the skip after the next put-off */
	bool		on;		/* what we last stored in hdr->throttled */
};

int	wait_open(const char *name, uid_t owner, struct wait_page **out,
	    int *fd);
void	wait_close(struct wait_page *w, int fd);
void	wait_wake(struct wait_page *wp, struct seg_hdr *h, struct waker *k);
void	wait_wake_all(struct wait_page *wp);
uint64_t wait_slice_ns(const struct seg_hdr *h, int slice_ms);
int	futex_wait(_Atomic uint32_t *word, uint32_t val, uint64_t timeout_ns);
int	futex_wake(_Atomic uint32_t *word);
void	cpu_relax(void);

#endif /* SHMR_INTERNAL_H */
