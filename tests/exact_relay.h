/*
 * exact_relay.h - the relay scenario of the exactness checker (exact.c,
 * issue 15): the producers write the origin ring, ringrelay push and pull
 * carry it through a nats-server of its own into the mirror ring, and
 * every reader of the checker reads the mirror. Faults are injected into
 * the relays between the driver's own (relay_fault()).
 */
#ifndef EXACT_RELAY_H
#define EXACT_RELAY_H

#include <stdint.h>

/*
 * Start nats-server (a free port, memory storage under a temporary
 * directory), push from origin and pull into mirror with ringrelay at
 * bin, and wait for the mirror ring to exist. 0, or -1 said on stderr.
 */
int	relay_start(const char *bin, const char *origin, const char *mirror);
/*
 * One fault picked by r: push killed with -9 and started again, push
 * stopped for a while (the origin laps it), pull killed with -9 and
 * started again, pull stopped (the mirror laps its readers when it
 * catches up). epoch is the live origin generation's: the push is killed
 * only once the mirror has reached it and is back inside it before this
 * returns (across a takeover: relay_push_down()). 0, or -1 when a relay
 * did not come back (said on stderr).
 */
int	relay_fault(uint64_t r, uint64_t epoch);
/*
 * The push down across a takeover: relay_push_down() kills it once the
 * mirror has reached epoch (1: killed, 0: not this time), the driver
 * closes that generation (kept, not unlinked: the next producer takes the
 * name over and records where it ended) and starts the next, and
 * relay_push_up() starts it again and waits until it follows next_epoch.
 * What it never read of the old epoch must reach the mirror's readers as
 * a loss with the exact count (libshm's predecessor record). 0, or -1
 * said on stderr.
 */
int	relay_push_down(uint64_t epoch);
int	relay_push_up(uint64_t next_epoch);
/* Wait up to ms for the mirror to end epoch as the origin did; 0 or -1. */
int	relay_wait_end(uint64_t epoch, unsigned ms);
/*
 * Stop the relays and the server, print what was injected and how often
 * the push was lapped; 1 if a relay died by itself or a log holds a
 * sanitizer report, else 0.
 */
int	relay_stop(void);

#endif
