/*
 * relay.h - what the parts of ringrelay(8) share: the options, the NATS
 * connection (stream.c), the carried headers (headers.c), and the two
 * commands (push.c, pull.c). ringrelay.c parses the command line.
 *
 * One stream message carries a run of ring messages (packed), or a marker:
 *
 *	Shmr-Kind	d (data), g (gap: the relay was lapped), r (a new epoch
 *			starts at Shmr-Seq), x (a message too large to carry),
 *			e (the origin's producer closed the ring: the epoch
 *			ends before Shmr-Seq)
 *	Shmr-Epoch	the origin ring's epoch
 *	Shmr-Seq	first sequence number (d), first lost (g, x), first of
 *			the epoch (r), the epoch's end (e)
 *	Shmr-Count	messages packed (d) or lost (g, x)
 *	Shmr-Head	the origin's next sequence number when sent (for lag)
 *	Shmr-Cap, Shmr-Max-Msg	the origin ring's geometry
 *	Nats-Msg-Id	EPOCH:SEQ:KIND, so a re-publish is dropped by the server
 *
 * The payload of a d message is, per ring message, a 4-byte little-endian
 * length and the bytes. Everything read from the stream is checked: a
 * message that does not parse is skipped with a warning, never trusted.
 */
#ifndef RELAY_H
#define RELAY_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <nats/nats.h>

#include "clock.h"
#include "exitcode.h"
#include "ringerr.h"

#define TRANSIENT_MS	30000	/* between "still retrying" lines */

struct relay_opts {
	const char	*ring;
	const char	*nats;
	char		 stream[160];
	char		 subject[200];
	int64_t		 max_bytes;
	int64_t		 max_msgs;
	int64_t		 max_age_s;
	int64_t		 replicas;
	bool		 memory;
	int64_t		 dup_s;
	uint64_t	 batch;
	uint64_t	 size;
	mode_t		 mode;
	bool		 quiet;
};

/* ringrelay.c */
extern struct relay_opts opt;
extern volatile sig_atomic_t stop;	/* SIGINT, SIGTERM */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* stream.c: the connection, the JetStream context, the stream */
extern natsConnection *nc;
extern jsCtx *js;
/* Set by the publish-error callback (a NATS thread), read by push. */
extern atomic_int pub_failed;
extern char pub_err[256];
void stream_connect(void);
const char *stream_why(natsStatus s, jsErrCode ec);
bool stream_transient(natsStatus s, jsErrCode ec);
void stream_ensure(bool create);

/* headers.c: the Shmr-* headers of a stream message */
struct hdr {
	char		kind;
	uint64_t	epoch, seq, count, head, cap, max_msg;
};

int hdr_parse(natsMsg *m, struct hdr *h);
uint64_t hdr_next(const struct hdr *h);

/* push.c, pull.c: the commands; 0 or exit */
int push_main(void);
int pull_main(void);

#endif
