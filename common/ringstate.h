/*
 * ringstate.h - one vocabulary for a ring's state, in every program's
 * text and JSON: the header's state, with a LIVE ring whose producer is
 * gone (its lock not held) called "dead". JSON output carries the word
 * as "state" and the lock probe as "alive" beside it.
 */
#ifndef SHMRING_RINGSTATE_H
#define SHMRING_RINGSTATE_H

#include <stdint.h>

/*
 * "init", "live", "dead", "closed", "replaced" or "unknown", for a header
 * state (SHMR_STATE_*) and shmr_ring_alive()'s answer (1: a producer
 * holds the ring).
 */
const char	*ring_state_name(uint32_t state, int alive);

#endif
