/* ringpolicy.c - size, max message and mode of a new ring (ringpolicy.h). */
#include <errno.h>
#include <stdio.h>

#include "ringpolicy.h"
#include "sizes.h"

int
ring_policy(struct shmr_create_opts *o, uint64_t size, uint64_t max_msg,
    mode_t mode, char *why, size_t whylen)
{
	char h[SIZE_FORMAT_LEN];

	if (size == 0)
		size = RING_SIZE_DEFAULT;
	if (size < SHMR_CAP_MIN || size > SHMR_CAP_MAX ||
	    (size & (size - 1)) != 0) {
		snprintf(why, whylen, "--size %llu: a power of two from 64K "
		    "to 1T", (unsigned long long)size);
		return -EINVAL;
	}
	if (max_msg == 0)
		max_msg = size / 8 < RING_MAX_MSG_CAP ? size / 8 :
		    RING_MAX_MSG_CAP;
	if (max_msg > size / 8) {
		snprintf(why, whylen, "--max-msg %llu: at most size/8 = %s",
		    (unsigned long long)max_msg,
		    size_format(h, sizeof(h), size / 8));
		return -EINVAL;
	}
	if (mode == 0)
		mode = RING_MODE_DEFAULT;
	if ((mode & 0600) != 0600) {
		snprintf(why, whylen, "--mode %04o: the owner needs read and "
		    "write", (unsigned)mode);
		return -EINVAL;
	}
	if ((mode & 022) != 0) {
		snprintf(why, whylen, "--mode %04o: readers refuse rings "
		    "writable by group or other", (unsigned)mode);
		return -EINVAL;
	}
	o->capacity = size;
	o->max_msg = (uint32_t)max_msg;
	o->mode = mode;
	return 0;
}
