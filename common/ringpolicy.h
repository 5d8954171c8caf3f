/*
 * ringpolicy.h - the one rule for the rings the programs create (ringd,
 * ringctl create, ringrelay pull): size, largest message and mode, each
 * 0 for its default. The defaults are libshm's, written out here so that
 * a program can check its own limits (ringd's fixed:N framing) against
 * the value the ring will have.
 */
#ifndef SHMRING_RINGPOLICY_H
#define SHMRING_RINGPOLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shmring.h"

#define RING_SIZE_DEFAULT	((uint64_t)64 << 20)
#define RING_MAX_MSG_CAP	((uint64_t)1 << 20)	/* default at most */
#define RING_MODE_DEFAULT	0600

/*
 * Set o's capacity, max_msg and mode (the caller sets the rest) from what
 * was asked, 0 meaning the default:
 *   size     64 MiB; a power of two in [SHMR_CAP_MIN, SHMR_CAP_MAX]
 *   max_msg  min(size / 8, 1 MiB); at most size / 8
 *   mode     0600; the owner (the producer) reads and writes, and group
 *            and other may read but never write: readers refuse a ring
 *            others could write to
 * Returns 0, or -EINVAL with the reason in why (e.g. "--max-msg 9K: at
 * most size/8 = 8K"), named by the option it is about.
 */
int	ring_policy(struct shmr_create_opts *o, uint64_t size,
	    uint64_t max_msg, mode_t mode, char *why, size_t whylen);

#endif
