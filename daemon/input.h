/*
 * input.h - what a ringd input is and what it may call. Each input lives
 * in one file (daemon/ingest_*.c) that defines its struct input_ops; the
 * table in inputs.c maps an --input spec to it. Inputs call only the
 * services declared here (services.c) and common/ (the clocks of clock.h
 * among them), never the main loop.
 * Not installed.
 */
#ifndef RINGD_INPUT_H
#define RINGD_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "clock.h"
#include "framing.h"
#include "shmring.h"

/* Largest number of messages handed to one shmr_writer_publish_batch(). */
#define RINGD_BATCH		1024

struct ringd;
struct input;

struct input_stats {
	uint64_t	msgs;		/* published */
	uint64_t	bytes;		/* payload bytes published */
	uint64_t	oversize;	/* rejected: larger than max_msg */
	uint64_t	malformed;	/* bad framing, partial records */
};

/*
 * One kind of input. The loop polls in->fd when it is >= 0 and asks
 * timeout() when there is one; it calls ready() when the fd is readable or
 * the timeout has expired. Every function returning int gives 0, or a
 * negative errno value after which ringd stops (an input that merely ends
 * sets in->done instead).
 */
struct input_ops {
	/* arg: what follows the spec's prefix (NULL for "stdin"). */
	int	(*open)(struct ringd *rd, const char *arg,
		    struct input **out);
	/* Read what is there (or what is due at now_ns) and publish it. */
	int	(*ready)(struct ringd *rd, struct input *in, uint64_t now_ns);
	/* On shutdown: publish what was already accepted. May be NULL. */
	int	(*drain)(struct ringd *rd, struct input *in);
	void	(*free)(struct input *in);
	/* Nanoseconds until ready() is due; 0: now; -1: never. May be NULL. */
	int64_t	(*timeout)(struct input *in, uint64_t now_ns);
	/* Publishes nothing itself (a listener): left out of the counters. */
	bool	 listener;
};

struct input {
	const struct input_ops *ops;
	char		 name[96];	/* for log lines: "stdin", "unix:/x" */
	int		 fd;		/* -1 when closed or not polled */
	bool		 done;		/* ended; removed from the loop */
	struct input_stats st;
	void		*priv;		/* the input's own state */
};

/* Options shared by the inputs. */
struct ringd_conf {
	enum framing	 framing;
	size_t		 fixed_len;	/* FRAME_FIXED record size */
	mode_t		 socket_mode;	/* permission bits of socket files */
	uint64_t	 rate;		/* demo messages/s, 0: flat out */
	uint64_t	 count;		/* demo messages in all, 0: no end */
};

/* ---- services.c: what inputs may call --------------------------------- */

/* The ring's max_msg: the largest payload an input may publish. */
size_t	ringd_max_msg(const struct ringd *rd);
const struct ringd_conf *ringd_conf(const struct ringd *rd);
/*
 * Publish n messages (each <= max_msg) from one input with one wake-up of
 * the readers. 0 or a negative errno value, after which ringd stops.
 */
int	ringd_publish(struct ringd *rd, struct input *in,
	    const struct shmr_iov *msgs, size_t n);
/* Count a rejected message and log it, rate-limited. */
void	ringd_reject_oversize(struct ringd *rd, struct input *in,
	    uint64_t len);
/*
 * Count bad framing and log it: rate-limited as a warning, or as an error
 * every time when fatal (the input is being closed because of it).
 */
void	ringd_malformed(struct ringd *rd, struct input *in, bool fatal,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Add an input to the loop (accepted seqpacket connections). */
int	ringd_add_input(struct ringd *rd, struct input *in);

#endif
