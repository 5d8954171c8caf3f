/* ringstate.c - a ring's state in words (ringstate.h). */
#include "ringstate.h"
#include "shmring.h"

const char *
ring_state_name(uint32_t state, int alive)
{
	switch (state) {
	case SHMR_STATE_INIT:
		return "init";
	case SHMR_STATE_LIVE:
		return alive == 1 ? "live" : "dead";
	case SHMR_STATE_CLOSED:
		return "closed";
	case SHMR_STATE_REPLACED:
		return "replaced";
	default:
		return "unknown";
	}
}
