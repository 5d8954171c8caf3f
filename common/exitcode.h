/*
 * exitcode.h - the exit status every shmring program uses (ringd,
 * ringctl, ringbridge, ringrelay), s6-style: each man page's EXIT STATUS
 * lists these four. Before 0.1, ringctl used 2 for a usage error and 3
 * for a system error. ring_exit() (ringerr.h) picks EXIT_NEG or EXIT_SYS
 * for a failure to use a ring.
 */
#ifndef SHMRING_EXITCODE_H
#define SHMRING_EXITCODE_H

#define EXIT_OK		0	/* success, or stopped by a signal */
#define EXIT_NEG	1	/* negative answer: no such ring, corrupt,
				   owned by a live producer ... */
#define EXIT_USAGE	100	/* bad command line */
#define EXIT_SYS	111	/* system error: out of memory, I/O, ... */

#endif
