/*
 * chaos.h - schedule perturbation for the chaos build (make SAN=chaos).
 *
 * CHAOS("point") marks a step of a concurrent protocol where another
 * thread or process may run in between: the producer's intent, record,
 * seqlock and tail stores, a reader's loads, copies and re-checks, the
 * wait path, the bridge's suspend and resume. Built with -DSHMR_CHAOS,
 * each point, with probability SHMR_CHAOS per mille (default 10), yields
 * the CPU, spins a little or sleeps a few microseconds, so interleavings
 * that need a preemption at exactly that step happen thousands of times
 * a second instead of once a day. Without the flag it compiles to
 * nothing. Private to libshm and ringbridge: never installed.
 *
 *	SHMR_CHAOS=N		probability per point, per mille (0: off)
 *	SHMR_CHAOS_SEED=S	base seed; the pid and thread id are mixed in
 *	SHMR_CHAOS_STATS=1	print the points and delays taken at exit
 */
#ifndef SHMR_CHAOS_H
#define SHMR_CHAOS_H

#ifdef SHMR_CHAOS
/* Visible: ringbridge's CHAOS() points call it through libshm.a. */
__attribute__((visibility("default"))) void shmr_chaos(const char *point);
#define CHAOS(point)	shmr_chaos(point)
#else
#define CHAOS(point)	((void)0)
#endif

#endif /* SHMR_CHAOS_H */
