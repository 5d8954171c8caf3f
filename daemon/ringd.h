/*
 * ringd.h - internal interface between the parts of ringd: the main loop
 * (ringd.c) and the ingest sources (ingest_stream.c, ingest_sock.c,
 * ingest_demo.c). Not installed.
 */
#ifndef RINGD_H
#define RINGD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shmring.h"

/* Exit codes, documented in ringd.8 (EXIT STATUS). */
#define RINGD_EXIT_OK		0
#define RINGD_EXIT_BUSY		1	/* ring or pidfile held by a live process */
#define RINGD_EXIT_USAGE	100	/* bad command line */
#define RINGD_EXIT_SYSTEM	111	/* system error (shm, socket, I/O) */

/* Largest number of messages handed to one shmr_writer_publish_batch(). */
#define RINGD_BATCH		1024

enum framing {
	FRAME_LINES,		/* one message per line, '\n' stripped */
	FRAME_LEN32,		/* 4-byte big-endian length, then payload */
	FRAME_FIXED		/* records of exactly fixed_len bytes */
};

enum input_kind {
	IN_STREAM,		/* stdin, a file or a FIFO */
	IN_DGRAM,		/* a bound AF_UNIX SOCK_DGRAM socket */
	IN_SEQ_LISTEN,		/* a listening AF_UNIX SOCK_SEQPACKET socket */
	IN_SEQ_CONN,		/* one accepted seqpacket connection */
	IN_DEMO			/* a built-in demo feed, driven by the clock */
};

struct input_stats {
	uint64_t	msgs;		/* published */
	uint64_t	bytes;		/* payload bytes published */
	uint64_t	oversize;	/* rejected: larger than max_msg */
	uint64_t	malformed;	/* bad framing, partial records */
};

struct ringd;
struct stream;
struct sock;
struct demo;

struct input {
	enum input_kind	 kind;
	char		 name[96];	/* for log lines: "stdin", "unix:/x" */
	int		 fd;		/* -1 when closed or for demo feeds */
	bool		 done;		/* ended; removed from the loop */
	struct input_stats st;
	union {
		struct stream	*stream;
		struct sock	*sock;
		struct demo	*demo;
	} u;
};

/* Options shared by the ingest sources. */
struct ringd_conf {
	enum framing	 framing;
	size_t		 fixed_len;	/* FRAME_FIXED record size */
	mode_t		 socket_mode;	/* permission bits of socket files */
	uint64_t	 rate;		/* demo messages/s, 0: flat out */
	uint64_t	 count;		/* demo messages in all, 0: no end */
};

/* ---- ringd.c: services for the ingest sources ------------------------- */

/* The ring's max_msg: the largest payload a source may publish. */
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

/* ---- ingest_stream.c -------------------------------------------------- */

/* spec: "stdin" or a path (regular file, FIFO, character device). */
int	stream_open(struct ringd *rd, const char *spec, struct input **out);
/* Read once and publish every complete record. 0, or -errno if fatal. */
int	stream_ready(struct ringd *rd, struct input *in);
/*
 * On shutdown: log and drop an incomplete record still buffered. Records
 * already complete were published as they were read.
 */
void	stream_shutdown(struct ringd *rd, struct input *in);
void	stream_free(struct input *in);

/* ---- ingest_sock.c ---------------------------------------------------- */

/* Create and bind a socket at path (a stale socket file is replaced). */
int	sock_open(struct ringd *rd, const char *path, bool seqpacket,
	    struct input **out);
/* Receive what is queued (bounded) and publish it in batches. */
int	sock_ready(struct ringd *rd, struct input *in);
/*
 * On shutdown: publish every datagram or record the kernel already
 * accepted; a seqpacket listener accepts its pending connections (added
 * to the loop's inputs, for the caller to drain).
 */
int	sock_drain(struct ringd *rd, struct input *in);
void	sock_free(struct input *in);

/* ---- ingest_demo.c ---------------------------------------------------- */

/* which: "ticks" or "sine". */
int	demo_open(struct ringd *rd, const char *which, struct input **out);
/* Nanoseconds until the next message is due; 0: due now; -1: ended. */
int64_t	demo_timeout_ns(struct input *in, uint64_t now_ns);
/* Publish every message due at now_ns (at most one batch). */
int	demo_run(struct ringd *rd, struct input *in, uint64_t now_ns);
void	demo_free(struct input *in);

uint64_t ringd_now_ns(void);	/* CLOCK_MONOTONIC */

#endif
