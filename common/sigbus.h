/*
 * sigbus.h - a ring truncated under a program's mapping (only its owner
 * or root can) raises SIGBUS at the next access to a lost page. There is
 * no safe way to unwind from there, so the programs say what happened
 * and exit with a status of their choosing instead of dumping core.
 */
#ifndef SHMRING_SIGBUS_H
#define SHMRING_SIGBUS_H

/*
 * Install the handler: it writes "PROG: RING: bus error reading the
 * ring (SIGBUS: truncated under its mapping by its owner)" (RING as last
 * given to sigbus_ring(), "a ring" without one) and _exit(status)s.
 * prog must stay valid.
 */
void	sigbus_exit(const char *prog, int status);
/* The ring the program reads now, for the message (truncated at 128). */
void	sigbus_ring(const char *name);

#endif
