/*
 * bench_ring.h - private to bench_ring: the transport table, the shared
 * page between the producer and its readers, and the measurement driver.
 *
 * A transport is one bench/transport_<name>.c defining a struct transport
 * plus one row in bench/transports.c; the driver (ring_run.c) forks the
 * readers, calls the transport's hooks and measures, the report
 * (ring_report.c) iterates the table. Nothing else knows a transport by
 * name except the sections about shmring itself and the busy-poll target
 * measured against the minimal seqlock ring.
 */
#ifndef BENCH_RING_H
#define BENCH_RING_H

#include <sys/types.h>

#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "shmring.h"

#define PROG		"bench_ring"
#define MAX_READERS	16
#define MAX_BATCH	64
#define RBATCH		64		/* messages per shmr_cursor_read_batch */
#define NAME_MAX_LEN	64		/* job_name, see below */

/* One measurement. */
struct job {
	const struct transport *tp;
	int		spin;		/* readers busy-poll instead of blocking */
	int		nap;		/* paced producer sleeps between sends */
	int		batch;		/* shmring: messages per publish_batch */
	int		rbatch;		/* shmring: messages per read_batch */
	int		nreaders;
	size_t		size;		/* payload bytes, >= 8 (>= 16 for latency) */
	double		secs;		/* how long the producer sends */
	uint64_t	rate;		/* 0: flat out; else paced messages/s */
};

/* What one reader reports back (lives in the shared page). */
struct rstat {
	uint64_t	msgs;
	uint64_t	bytes;
	uint64_t	lost;		/* TP_COUNTS_LOST: the transport's count */
	uint64_t	gaps;		/* sequence numbers missing in payloads */
	uint64_t	disorder;	/* sequence went backwards or repeated */
	uint64_t	t_end;		/* CLOCK_MONOTONIC at end of stream */
	uint64_t	lat[4];		/* p50, p90, p99, max in ns */
	uint64_t	nlat;
	uint64_t	cpu_ns;		/* user + system time of the reader */
	int		rc;		/* 0 or -errno */
	char		err[160];
	_Atomic int	probed;		/* zmq: subscription is live */
	_Atomic int	finished;
};

/* The page shared by the producer and its readers. */
struct ctl {
	_Atomic int	created;	/* the transport exists */
	_Atomic int	ready;		/* readers attached */
	_Atomic int	go;
	_Atomic int	abort;
	uint64_t	t_start;
	uint64_t	t_end;
	uint64_t	sent;
	struct rstat	r[MAX_READERS];
};

/* The outcome of a job as the tables need it. */
struct result {
	int		ok;
	char		err[200];
	uint64_t	sent;
	double		send_secs;	/* producer's sending time */
	double		rx_secs;	/* start to the slowest reader's end */
	uint64_t	msgs;		/* sum over readers */
	uint64_t	min_msgs;
	uint64_t	lost;		/* sum over readers */
	uint64_t	gaps;
	uint64_t	disorder;
	uint64_t	lat[4];		/* worst reader's percentiles */
	uint64_t	nlat;
	double		cpu;		/* busiest reader's CPU use, 0..1 */
	uint64_t	instr;		/* perf: instructions in the send loop */
	uint64_t	futex;		/* perf: producer's futex calls, same */
};

/*
 * Producer side of a transport. The driver owns fds (one per reader, from
 * the transport's pair hook) and closes them after the run, which is the
 * end of stream for fd transports; priv is the transport's own state,
 * set by open and released (and cleared) by close.
 */
struct tx {
	const struct job *job;
	int		fds[MAX_READERS];
	int		nfds;
	void		*priv;
};

/* A reader's running counts; on_msg() fills them. */
struct rd {
	const struct job *job;
	struct rstat	*st;
	uint64_t	 expect;
	uint64_t	 msgs;
	uint64_t	 bytes;
	uint64_t	 gaps;
	uint64_t	 disorder;
	uint64_t	*lat;		/* NULL unless the job is paced */
	size_t		 nlat;
	size_t		 maxlat;
};

#define TP_COUNTS_LOST	0x1	/* readers report loss (rstat.lost) */
#define TP_SPIN_ONLY	0x2	/* no blocking readers: busy-poll rows only */

/*
 * One transport. Hooks left NULL are not needed by it. Order of calls in
 * one job: pair (per reader, before the fork), fork, read in each child;
 * in the producer open, start, send or send_batch until the time is up,
 * finish, close. unlink may run from a signal handler.
 */
struct transport {
	const char	*name;		/* table and row name */
	const char	*opt;		/* its name for -t */
	const char	*label;		/* throughput row, NULL: name */
	unsigned	 flags;		/* TP_* */
	int		 available;	/* 0: not built in */
	/* fds[0] for the reader, fds[1] for the producer */
	int	(*pair)(int fds[2]);
	/* the reader: run until end of stream; 0 or -errno (rd_fail) */
	int	(*read)(struct rd *rd, const struct tx *tx, int fd);
	/* create the transport; on failure write why into err */
	int	(*open)(struct tx *tx, char *err, size_t errlen);
	/* after the readers are attached, before the first send */
	int	(*start)(struct tx *tx, char *err, size_t errlen);
	int	(*send)(struct tx *tx, const void *buf, size_t len);
	int	(*send_batch)(struct tx *tx, const struct shmr_iov *iov,
		    size_t n);
	/* after the last send, before close */
	void	(*finish)(struct tx *tx);
	int	(*close)(struct tx *tx);
	/* remove what open named after name (signal-safe enough) */
	void	(*unlink)(const char *name);
	/* "; libfoo x.y" for the report header, or NULL */
	void	(*version)(char *buf, size_t len);
};

/* transports.c */
extern const struct transport *const transports[];
extern const size_t ntransports;
extern unsigned transport_mask;		/* -t: bit i = transports[i] */
int	transport_wanted(const struct transport *);
int	transport_blocks(const struct transport *);

/* Named by the report: the subject, and the busy-poll floor. */
extern const struct transport transport_shmring;
extern const struct transport transport_seqlock;

/* transport_stream.c: also the pipe's */
int	stream_read(struct rd *, const struct tx *, int);
int	stream_send(struct tx *, const void *, size_t);
int	unix_pair(int, int[2]);

/* ring_run.c: the driver */
extern struct ctl *ctl;
extern int cpus[64];
extern int ncpus;
extern int use_pin;
extern int repeat;			/* -n: runs per row, best kept */
extern int failures;			/* rows where a transport failed */
extern int verbose;
extern char self_path[PATH_MAX];
extern char job_name[NAME_MAX_LEN];	/* "bench_ring.<pid>.<n>" */
extern uint64_t ring_size;		/* shmring capacity (-R) */
extern int perf_fd, futex_fd;

enum best { BEST_RX, BEST_TX, BEST_LAT };

void	sleep_ms(unsigned);
void	init_cpus(void);
void	pin(int);
int	write_full(int, const void *, size_t);
void	cleanup_names(void);
void	on_signal(int);
int	rd_fail(struct rd *, int, const char *);
int	rd_wait_created(struct rd *);
void	rd_ready(struct rd *);
int	perf_open(void);
int	futex_open(void);
void	run_job(const struct job *, struct result *);
void	run_best(const struct job *, struct result *, enum best);

/* ring_callgrind.c: instructions per call under valgrind */
int	attach_reader(const char *, int);
int	cg_loop(int, uint64_t, int, size_t);
double	callgrind_ipc(int, uint64_t, int, size_t);

/* ring_report.c: the sections */
struct sect {
	int		throughput, latency, fanout, publish, instr;
};

struct opts {
	double		secs;		/* throughput and fan-out runs */
	double		lat_secs;
	uint64_t	rate;		/* latency pacing */
	uint64_t	slow_rate;	/* the same, slow enough to sleep */
	size_t		sizes[8];
	int		nsizes;
	int		batch;
	uint64_t	cg_count;
	struct sect	s;
};

/* The numbers the targets are checked against. */
struct summary {
	double		shm64, peer64, shm1k_bps;
	const char	*shm64_row, *shm1k_row;
	uint64_t	p50_spin, p50_block, p50_block_fast, p50_block_apart;
	uint64_t	p50_spin_floor;	/* the minimal seqlock ring's */
	uint64_t	rate, slow_rate;
	double		cpu_block_fast;
	double		pub0, pub4, ipp0, ipp8;	/* pub4: paired ratio */
	int		have_ipp;
};

void	print_machine(void);
void	print_load(const char *);
void	sect_throughput(const struct opts *, struct summary *);
void	sect_latency(const struct opts *, struct summary *);
void	sect_fanout(const struct opts *);
void	sect_publish(const struct opts *, struct summary *);
void	sect_instr(const struct opts *, struct summary *);
void	print_targets(const struct opts *, const struct summary *);

static inline uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void
relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Account one delivered payload; p holds at least 8 bytes. */
static inline void
on_msg(struct rd *rd, const unsigned char *p, size_t len)
{
	uint64_t seq, ts, t;

	memcpy(&seq, p, sizeof(seq));
	if (seq != rd->expect) {
		if (seq > rd->expect)
			rd->gaps += seq - rd->expect;
		else
			rd->disorder++;
	}
	rd->expect = seq + 1;
	rd->msgs++;
	rd->bytes += len;
	if (rd->lat != NULL && len >= 16) {
		t = now_ns();
		memcpy(&ts, p + 8, sizeof(ts));
		if (rd->nlat < rd->maxlat)
			rd->lat[rd->nlat++] = t - ts;
	}
}

#endif
