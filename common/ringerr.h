/*
 * ringerr.h - how the programs word a failure to use a ring, and the
 * exit status it gives: one place, so that ringd, ringctl, ringbridge and
 * ringrelay say the same thing for the same code.
 */
#ifndef SHMRING_RINGERR_H
#define SHMRING_RINGERR_H

#include <stddef.h>

/*
 * rc (a -errno or libshm code) worded for operators: the codes opening or
 * creating a ring returns get a sentence about the ring ("no such ring",
 * "a live producer owns the ring", "not enough room in /dev/shm"), the
 * rest shmr_strerror()'s text.
 */
const char	*ring_error(int rc);
/*
 * ring_error(), and for an object too small to be any ring (a valid one
 * is at least SHMR_CAP_MIN bytes) its size: truncated or foreign. Writes
 * into buf and returns it.
 */
const char	*ring_describe(const char *name, int rc, char *buf,
		    size_t len);
/* EXIT_NEG when rc is an answer about the ring, else EXIT_SYS. */
int		 ring_exit(int rc);

#endif
