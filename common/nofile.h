/*
 * nofile.h - raising RLIMIT_NOFILE: a program that holds a descriptor
 * per ring or per client raises its soft limit first instead of failing
 * with EMFILE at the default 1024.
 */
#ifndef SHMRING_NOFILE_H
#define SHMRING_NOFILE_H

#include <stdint.h>

/*
 * Raise the soft limit to want (0: to the hard limit), never above the
 * hard limit and never lower. Returns the soft limit now in force (0 if
 * getrlimit fails), which the caller compares with what it needs.
 */
uint64_t	nofile_raise(uint64_t want);

#endif
