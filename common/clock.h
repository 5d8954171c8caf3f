/*
 * clock.h - the clocks the programs read: CLOCK_MONOTONIC for intervals
 * and deadlines, CLOCK_REALTIME for what is shown or sent as a time of
 * day. Neither call can fail on Linux for these clocks.
 */
#ifndef SHMRING_CLOCK_H
#define SHMRING_CLOCK_H

#include <stdint.h>

uint64_t	mono_ns(void);
uint64_t	mono_ms(void);
double		mono_s(void);	/* seconds, for rates and timeouts */
uint64_t	real_ns(void);

#endif
