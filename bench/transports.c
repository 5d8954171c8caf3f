/*
 * transports.c - the transports bench_ring compares, in report order:
 * shmring first (the subject), then its peers. A new transport is one
 * bench/transport_<name>.c and, here, its declaration and one row.
 */
#include "bench_ring.h"

extern const struct transport transport_pipe;
extern const struct transport transport_stream;
extern const struct transport transport_seqpacket;
extern const struct transport transport_zmq;

const struct transport *const transports[] = {
	&transport_shmring,
	&transport_pipe,
	&transport_stream,
	&transport_seqpacket,
	&transport_zmq,
	&transport_seqlock,
};
const size_t ntransports = sizeof(transports) / sizeof(transports[0]);

unsigned transport_mask = ~0u;

int
transport_wanted(const struct transport *tp)
{
	size_t i;

	for (i = 0; i < ntransports; i++)
		if (transports[i] == tp)
			return (transport_mask & 1u << i) != 0 &&
			    tp->available;
	return 0;
}

/* Whether the transport's readers can block (rows with blocking readers). */
int
transport_blocks(const struct transport *tp)
{
	return (tp->flags & TP_SPIN_ONLY) == 0;
}
