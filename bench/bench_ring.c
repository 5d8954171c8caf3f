/*
 * bench_ring.c - libshm side by side with a pipe, Unix domain sockets
 * (SOCK_STREAM and SOCK_SEQPACKET) and ZeroMQ PUB/SUB over ipc://, in one
 * run on one machine. A report, never a test: it exits non-zero only when
 * a transport fails outright, never because a number is low.
 *
 * Every measurement forks reader processes from the producer (the parent),
 * pins the producer and the readers to different CPUs when there are two
 * or more, and passes results back through a MAP_SHARED anonymous page.
 * Each message starts with its 64-bit sequence number (so every reader
 * counts gaps itself); latency runs add a CLOCK_MONOTONIC timestamp taken
 * just before the send.
 *
 * Sections: throughput to one reader, one-way latency at a paced rate
 * (busy-poll and blocking), fan-out to four readers, producer publish rate
 * with 0..8 readers attached, and instructions per publish (perf counter
 * when the machine has one, callgrind otherwise).
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <linux/perf_event.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef HAVE_ZMQ
#define HAVE_ZMQ 0
#endif
#if HAVE_ZMQ
#include <zmq.h>
#endif

#include "shmring.h"
#include "cli.h"

#define PROG		"bench_ring"
#define MAX_READERS	16
#define SEQ_PROBE	UINT64_MAX		/* zmq: subscription probe */
#define SEQ_END		(UINT64_MAX - 1)	/* zmq: end of the run */
#define STREAM_BUF	(256 * 1024)
#define MAX_BATCH	64
#define RBATCH		64		/* messages per shmr_cursor_read_batch */

enum kind { K_SHM, K_PIPE, K_STREAM, K_SEQPACKET, K_ZMQ };

static const char *const kind_name[] = {
	[K_SHM] = "shmring",
	[K_PIPE] = "pipe",
	[K_STREAM] = "unix stream",
	[K_SEQPACKET] = "unix seqpacket",
	[K_ZMQ] = "zmq pub/sub ipc",
};

/* One measurement. */
struct job {
	enum kind	kind;
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
	uint64_t	lost;		/* shmring: sum of msg.lost on OVERRUN */
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

/* Producer side of a transport. */
struct tx {
	struct shmr_writer *w;
	int		fds[MAX_READERS];
	int		nfds;
	void		*zctx;
	void		*zsock;
};

static struct ctl *ctl;
static int cpus[64];
static int ncpus;
static char self_path[PATH_MAX];
static char ring_name[SHMR_NAME_MAX + 1];
static char zmq_path[96];		/* the ipc socket file */
static char zmq_ep[104];	/* "ipc://" zmq_path */
static unsigned job_counter;
static uint64_t ring_size = (uint64_t)16 << 20;
static unsigned kind_mask = ~0u;	/* transports to run (-t) */
static int use_pin = 1;
static int failures;			/* rows where a transport failed */
static int verbose;

/* ---- small helpers ------------------------------------------------------ */

static int
wanted(enum kind k)
{
	return (kind_mask & 1u << k) != 0 && (HAVE_ZMQ || k != K_ZMQ);
}

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

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
init_cpus(void)
{
	cpu_set_t set;
	int i;

	ncpus = 0;
	if (sched_getaffinity(0, sizeof(set), &set) == -1)
		return;
	for (i = 0; i < CPU_SETSIZE && ncpus < (int)(sizeof(cpus) /
	    sizeof(cpus[0])); i++)
		if (CPU_ISSET(i, &set))
			cpus[ncpus++] = i;
}

/*
 * The producer takes the first allowed CPU, readers share the others
 * round-robin; with one CPU nobody is pinned. Pinning applies to the
 * calling thread only, so helper threads created earlier (ZeroMQ's I/O
 * threads) keep the full CPU set.
 */
static void
pin(int who)
{
	cpu_set_t set;
	int cpu;

	if (!use_pin || ncpus < 2)
		return;
	cpu = who < 0 ? cpus[0] : cpus[1 + who % (ncpus - 1)];
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)sched_setaffinity(0, sizeof(set), &set);
}

static void
unpin(void)
{
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	for (i = 0; i < ncpus; i++)
		CPU_SET(cpus[i], &set);
	if (ncpus > 0)
		(void)sched_setaffinity(0, sizeof(set), &set);
}

static int
write_full(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
cleanup_names(void)
{
	char path[PATH_MAX];

	if (ring_name[0] != '\0') {
		snprintf(path, sizeof(path), "/shmring.%s", ring_name);
		(void)shm_unlink(path);
		snprintf(path, sizeof(path), "/shmring-wait.%s", ring_name);
		(void)shm_unlink(path);
	}
	if (zmq_path[0] != '\0')
		(void)unlink(zmq_path);
}

static void
on_signal(int sig)
{
	cleanup_names();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- reader side -------------------------------------------------------- */

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

static int
rd_fail(struct rd *rd, int rc, const char *what)
{
	snprintf(rd->st->err, sizeof(rd->st->err), "reader: %s: %s", what,
	    rc < 0 ? strerror(-rc) : shmr_strerror(rc));
	return rc < 0 ? rc : -EPROTO;
}

static int
read_shm(struct rd *rd)
{
	const struct job *j = rd->job;
	struct shmr_ring *ring = NULL;
	struct shmr_cursor c;
	struct shmr_msg m, *ms = &m;
	unsigned char *buf;
	size_t buflen, n = j->rbatch > 1 ? (size_t)j->rbatch : 1, got, k;
	int rc, i;

	/* The producer creates the ring after the fork. */
	while (!atomic_load(&ctl->created)) {
		if (atomic_load(&ctl->abort))
			return rd_fail(rd, -ECANCELED, "aborted");
		sleep_ms(1);
	}
	for (i = 0; i < 2000; i++) {
		rc = shmr_ring_open(ring_name, NULL, &ring);
		if (rc != -ENOENT && rc != -EAGAIN)
			break;
		sleep_ms(1);
	}
	if (rc < 0)
		return rd_fail(rd, rc, "shmr_ring_open");
	/* read_batch packs messages 8-byte aligned into one buffer */
	buflen = ((size_t)shmr_ring_max_msg(ring) + 8) * n;
	buf = malloc(buflen);
	if (n > 1 && buf != NULL && (ms = calloc(n, sizeof(*ms))) == NULL) {
		free(buf);
		buf = NULL;
	}
	if (buf == NULL) {
		shmr_ring_close(ring);
		return rd_fail(rd, -ENOMEM, "malloc");
	}
	if ((rc = shmr_cursor_init(ring, &c, SHMR_FROM_OLDEST, 0)) < 0) {
		rc = rd_fail(rd, rc, "shmr_cursor_init");
		goto out;
	}
	pin((int)(rd->st - ctl->r));
	atomic_fetch_add(&ctl->ready, 1);
	for (;;) {
		if (n > 1) {
			rc = shmr_cursor_read_batch(ring, &c, buf, buflen, ms,
			    n, &got);
			if (rc == SHMR_MSG) {
				for (k = 0; k < got; k++)
					if (ms[k].len >= 8)
						on_msg(rd, ms[k].data,
						    ms[k].len);
				continue;
			}
			m = ms[0];
		} else {
			rc = shmr_cursor_read(ring, &c, buf, buflen, &m);
			if (rc == SHMR_MSG) {
				if (m.len >= 8)
					on_msg(rd, m.data, m.len);
				continue;
			}
		}
		if (rc == SHMR_EMPTY) {
			rc = shmr_cursor_wait(ring, &c, 100,
			    j->spin ? SHMR_WAIT_SPIN : 0);
			if (rc == -ETIMEDOUT || rc == -EINTR) {
				if (atomic_load(&ctl->abort)) {
					rc = rd_fail(rd, -ETIMEDOUT, "aborted");
					goto out;
				}
				continue;
			}
			if (rc < 0) {
				rc = rd_fail(rd, rc, "shmr_cursor_wait");
				goto out;
			}
			continue;
		}
		if (rc == SHMR_OVERRUN) {
			rd->st->lost += m.lost;
			continue;
		}
		if (rc == SHMR_EOF) {
			rc = 0;
			break;
		}
		rc = rd_fail(rd, rc, "shmr_cursor_read");
		goto out;
	}
out:
	rd->st->t_end = now_ns();
	if (ms != &m)
		free(ms);
	free(buf);
	shmr_ring_close(ring);
	return rc;
}

/* A pipe or a SOCK_STREAM socket: fixed-size messages in a byte stream. */
static int
read_stream(struct rd *rd, int fd)
{
	size_t sz = rd->job->size, have = 0, off;
	unsigned char *buf;
	ssize_t n;
	int rc = 0;

	if ((buf = malloc(STREAM_BUF + sz)) == NULL)
		return rd_fail(rd, -ENOMEM, "malloc");
	if (rd->job->spin)
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	pin((int)(rd->st - ctl->r));
	atomic_fetch_add(&ctl->ready, 1);
	for (;;) {
		n = read(fd, buf + have, STREAM_BUF + sz - have);
		if (n < 0) {
			if (errno == EAGAIN) {
				relax();
				continue;
			}
			if (errno == EINTR)
				continue;
			rc = rd_fail(rd, -errno, "read");
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		for (off = 0; have - off >= sz; off += sz)
			on_msg(rd, buf + off, sz);
		if (off > 0 && have > off)
			memmove(buf, buf + off, have - off);
		have -= off;
	}
	rd->st->t_end = now_ns();
	free(buf);
	return rc;
}

static int
read_seqpacket(struct rd *rd, int fd)
{
	size_t sz = rd->job->size;
	unsigned char *buf;
	ssize_t n;
	int rc = 0, flags = rd->job->spin ? MSG_DONTWAIT : 0;

	if ((buf = malloc(sz)) == NULL)
		return rd_fail(rd, -ENOMEM, "malloc");
	pin((int)(rd->st - ctl->r));
	atomic_fetch_add(&ctl->ready, 1);
	for (;;) {
		n = recv(fd, buf, sz, flags);
		if (n < 0) {
			if (errno == EAGAIN) {
				relax();
				continue;
			}
			if (errno == EINTR)
				continue;
			rc = rd_fail(rd, -errno, "recv");
			break;
		}
		if (n == 0)
			break;
		if (n >= 8)
			on_msg(rd, buf, (size_t)n);
	}
	rd->st->t_end = now_ns();
	free(buf);
	return rc;
}

#if HAVE_ZMQ
static int
read_zmq(struct rd *rd)
{
	size_t sz = rd->job->size;
	void *zctx, *s;
	unsigned char *buf;
	uint64_t seq;
	int n, rc = 0, flags = rd->job->spin ? ZMQ_DONTWAIT : 0;
	int tmo = 100;

	if ((buf = malloc(sz)) == NULL)
		return rd_fail(rd, -ENOMEM, "malloc");
	zctx = zmq_ctx_new();
	s = zctx != NULL ? zmq_socket(zctx, ZMQ_SUB) : NULL;
	if (s == NULL) {
		rc = rd_fail(rd, -zmq_errno(), "zmq_socket");
		goto out;
	}
	(void)zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
	(void)zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
	while (!atomic_load(&ctl->created)) {
		if (atomic_load(&ctl->abort)) {
			rc = rd_fail(rd, -ECANCELED, "aborted");
			goto out;
		}
		sleep_ms(1);
	}
	if (zmq_connect(s, zmq_ep) != 0) {
		rc = rd_fail(rd, -zmq_errno(), "zmq_connect");
		goto out;
	}
	pin((int)(rd->st - ctl->r));
	atomic_fetch_add(&ctl->ready, 1);
	for (;;) {
		n = zmq_recv(s, buf, sz, flags);
		if (n < 0) {
			if (zmq_errno() == EAGAIN) {
				if (atomic_load(&ctl->abort)) {
					rc = rd_fail(rd, -ETIMEDOUT, "aborted");
					break;
				}
				if (flags != 0)
					relax();
				continue;
			}
			if (zmq_errno() == EINTR)
				continue;
			rc = rd_fail(rd, -zmq_errno(), "zmq_recv");
			break;
		}
		if (n < 8)
			continue;
		memcpy(&seq, buf, sizeof(seq));
		if (seq == SEQ_PROBE) {
			atomic_store(&rd->st->probed, 1);
			continue;
		}
		if (seq == SEQ_END)
			break;
		on_msg(rd, buf, (size_t)n);
	}
	rd->st->t_end = now_ns();
out:
	if (s != NULL) {
		int zero = 0;

		(void)zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
		zmq_close(s);
	}
	if (zctx != NULL)
		zmq_ctx_term(zctx);
	free(buf);
	return rc;
}
#endif

static void
reader_main(const struct job *j, int idx, int fd)
{
	struct rusage ru;
	struct rd rd;
	int rc = -ENOTSUP;

	memset(&rd, 0, sizeof(rd));
	rd.job = j;
	rd.st = &ctl->r[idx];
	if (j->rate != 0) {
		rd.maxlat = (size_t)((double)j->rate * j->secs * 1.1) + 1024;
		rd.lat = malloc(rd.maxlat * sizeof(uint64_t));
	}
	switch (j->kind) {
	case K_SHM:
		rc = read_shm(&rd);
		break;
	case K_PIPE:
	case K_STREAM:
		rc = read_stream(&rd, fd);
		break;
	case K_SEQPACKET:
		rc = read_seqpacket(&rd, fd);
		break;
	case K_ZMQ:
#if HAVE_ZMQ
		rc = read_zmq(&rd);
#endif
		break;
	}
	rd.st->msgs = rd.msgs;
	rd.st->bytes = rd.bytes;
	rd.st->gaps = rd.gaps;
	rd.st->disorder = rd.disorder;
	if (rd.lat != NULL && rd.nlat > 0) {
		qsort(rd.lat, rd.nlat, sizeof(uint64_t), cmp_u64);
		rd.st->lat[0] = rd.lat[rd.nlat * 50 / 100];
		rd.st->lat[1] = rd.lat[rd.nlat * 90 / 100];
		rd.st->lat[2] = rd.lat[rd.nlat * 99 / 100];
		rd.st->lat[3] = rd.lat[rd.nlat - 1];
		rd.st->nlat = rd.nlat;
	}
	free(rd.lat);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		rd.st->cpu_ns = ((uint64_t)ru.ru_utime.tv_sec +
		    (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
		    ((uint64_t)ru.ru_utime.tv_usec +
		    (uint64_t)ru.ru_stime.tv_usec) * 1000u;
	rd.st->rc = rc;
	atomic_store(&rd.st->finished, 1);
	_exit(rc < 0 ? 1 : 0);
}

/* ---- producer side ------------------------------------------------------ */

static int perf_fd = -1;	/* instructions, user space */
static int futex_fd = -1;	/* futex(2) calls */

static int
perf_open_attr(struct perf_event_attr *a)
{
	long fd;

	a->size = sizeof(*a);
	a->disabled = 1;
	a->exclude_hv = 1;
	fd = syscall(SYS_perf_event_open, a, 0, -1, -1, 0);
	return fd < 0 ? -1 : (int)fd;
}

/* A user-space instruction counter for this thread, or -1. */
static int
perf_open(void)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_HARDWARE;
	a.config = PERF_COUNT_HW_INSTRUCTIONS;
	a.exclude_kernel = 1;
	return perf_open_attr(&a);
}

/* Counts this thread's futex(2) calls (the wake-ups it issues), or -1. */
static int
futex_open(void)
{
	static const char *const ids[] = {
		"/sys/kernel/tracing/events/syscalls/sys_enter_futex/id",
		"/sys/kernel/debug/tracing/events/syscalls/sys_enter_futex/id",
	};
	struct perf_event_attr a;
	unsigned long long id = 0;
	FILE *f;
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]) && id == 0; i++) {
		if ((f = fopen(ids[i], "r")) == NULL)
			continue;
		if (fscanf(f, "%llu", &id) != 1)
			id = 0;
		fclose(f);
	}
	if (id == 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_TRACEPOINT;
	a.config = id;
	return perf_open_attr(&a);
}

static void
counters(int on)
{
	int fds[2] = { perf_fd, futex_fd }, i;

	for (i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		if (on)
			(void)ioctl(fds[i], PERF_EVENT_IOC_RESET, 0);
		(void)ioctl(fds[i], on ? PERF_EVENT_IOC_ENABLE :
		    PERF_EVENT_IOC_DISABLE, 0);
	}
}

static uint64_t
counter_read(int fd)
{
	uint64_t v = 0;

	if (fd < 0 || read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 0;
	return v;
}

static int
tx_open(const struct job *j, struct tx *tx, char *err, size_t errlen)
{
	struct shmr_create_opts o;
	int rc;

	switch (j->kind) {
	case K_SHM:
		memset(&o, 0, sizeof(o));
		o.capacity = ring_size;
		o.max_msg = (uint32_t)(j->size < 1024 ? 1024 : j->size);
		o.gid = (gid_t)-1;
		rc = shmr_writer_create(ring_name, &o, &tx->w);
		if (rc < 0) {
			snprintf(err, errlen, "shmr_writer_create %s: %s",
			    ring_name, shmr_strerror(rc));
			return rc;
		}
		return 0;
	case K_ZMQ:
#if HAVE_ZMQ
		tx->zctx = zmq_ctx_new();
		tx->zsock = tx->zctx != NULL ?
		    zmq_socket(tx->zctx, ZMQ_PUB) : NULL;
		if (tx->zsock == NULL || zmq_bind(tx->zsock, zmq_ep) != 0) {
			snprintf(err, errlen, "zmq bind %s: %s", zmq_path,
			    zmq_strerror(zmq_errno()));
			return -EIO;
		}
		return 0;
#else
		snprintf(err, errlen, "built without ZeroMQ");
		return -ENOTSUP;
#endif
	default:
		return 0;
	}
}

static int
tx_close(const struct job *j, struct tx *tx)
{
	int i, rc = 0;

	switch (j->kind) {
	case K_SHM:
		if (tx->w != NULL)
			rc = shmr_writer_close(tx->w, SHMR_CLOSE_UNLINK);
		tx->w = NULL;
		break;
	case K_ZMQ:
#if HAVE_ZMQ
		if (tx->zsock != NULL) {
			int zero = 0;

			(void)zmq_setsockopt(tx->zsock, ZMQ_LINGER, &zero,
			    sizeof(zero));
			zmq_close(tx->zsock);
		}
		if (tx->zctx != NULL)
			zmq_ctx_term(tx->zctx);
		(void)unlink(zmq_path);
#endif
		break;
	default:
		for (i = 0; i < tx->nfds; i++)
			if (tx->fds[i] >= 0)
				close(tx->fds[i]);
		tx->nfds = 0;
		break;
	}
	return rc;
}

static inline int
tx_send(const struct job *j, struct tx *tx, const void *buf, size_t len)
{
	int i, rc = 0;

	switch (j->kind) {
	case K_SHM:
		return shmr_writer_publish(tx->w, buf, len, NULL);
	case K_PIPE:
	case K_STREAM:
		for (i = 0; i < tx->nfds && rc == 0; i++)
			rc = write_full(tx->fds[i], buf, len);
		return rc;
	case K_SEQPACKET:
		for (i = 0; i < tx->nfds; i++)
			while (send(tx->fds[i], buf, len, MSG_NOSIGNAL) < 0)
				if (errno != EINTR)
					return -errno;
		return 0;
	case K_ZMQ:
#if HAVE_ZMQ
		while (zmq_send(tx->zsock, buf, len, 0) < 0)
			if (zmq_errno() != EINTR)
				return -zmq_errno();
#endif
		return 0;
	}
	return -ENOTSUP;
}

#if HAVE_ZMQ
/*
 * PUB/SUB drops everything sent before a subscription reaches the
 * publisher, so probe until every reader has seen a probe.
 */
static int
zmq_sync(const struct job *j, struct tx *tx, uint64_t marker, int which)
{
	unsigned char buf[16];
	uint64_t deadline = now_ns() + 10000000000ull;
	int i, all;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, &marker, sizeof(marker));
	while (now_ns() < deadline) {
		(void)zmq_send(tx->zsock, buf, sizeof(buf) < j->size ?
		    sizeof(buf) : j->size, ZMQ_DONTWAIT);
		sleep_ms(1);
		for (i = 0, all = 1; i < j->nreaders; i++)
			if (which == 0 ? !atomic_load(&ctl->r[i].probed) :
			    !atomic_load(&ctl->r[i].finished))
				all = 0;
		if (all)
			return 0;
	}
	return -ETIMEDOUT;
}
#endif

/* Send for j->secs seconds, flat out or paced; fills ctl->sent etc. */
static int
produce(const struct job *j, struct tx *tx, unsigned char *msgs,
    struct result *res)
{
	struct shmr_iov iov[MAX_BATCH];
	uint64_t i, t, t0, deadline, period, next, mask, cnt;
	int batch = j->batch > 1 ? j->batch : 1;
	int k, rc = 0;

	period = j->rate != 0 ? 1000000000ull / j->rate : 0;
	mask = j->size >= 16384 ? 3 : j->size >= 1024 ? 255 : 4095;
	for (k = 0; k < batch; k++) {
		iov[k].data = msgs + (size_t)k * j->size;
		iov[k].len = j->size;
	}
	counters(1);
	t0 = now_ns();
	deadline = t0 + (uint64_t)(j->secs * 1e9);
	ctl->t_start = t0;
	for (i = 0, cnt = 0; rc == 0; i++) {
		if (period != 0) {
			next = t0 + i * period;
			/*
			 * Yield rather than spin so that helper threads
			 * (ZeroMQ's I/O thread) can use this CPU; the
			 * timestamp is taken after the wait anyway.
			 */
			while ((t = now_ns()) < next) {
				struct timespec ts = { (time_t)(next /
				    1000000000u), (long)(next % 1000000000u) };

				if (j->nap)
					clock_nanosleep(CLOCK_MONOTONIC,
					    TIMER_ABSTIME, &ts, NULL);
				else
					sched_yield();
			}
			if (t >= deadline)
				break;
			t = now_ns();
			memcpy(msgs + 8, &t, sizeof(t));
		} else if ((i & mask) == 0 && now_ns() >= deadline)
			break;
		if (batch > 1) {
			for (k = 0; k < batch; k++) {
				uint64_t s = cnt + (uint64_t)k;

				memcpy(msgs + (size_t)k * j->size, &s,
				    sizeof(s));
			}
			rc = shmr_writer_publish_batch(tx->w, iov,
			    (size_t)batch, NULL);
			cnt += (uint64_t)batch;
			continue;
		}
		memcpy(msgs, &cnt, sizeof(cnt));
		rc = tx_send(j, tx, msgs, j->size);
		cnt++;
	}
	ctl->t_end = now_ns();
	counters(0);
	res->instr = counter_read(perf_fd);
	res->futex = counter_read(futex_fd);
	ctl->sent = rc == 0 ? cnt : cnt - (uint64_t)batch;
	if (rc < 0)
		snprintf(res->err, sizeof(res->err), "%s: send: %s",
		    kind_name[j->kind], shmr_strerror(rc));
	return rc;
}

/* Wait for the readers with a deadline, then kill stragglers by pid. */
static void
reap(pid_t *pids, int n, unsigned timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
	int i, left, status;

	for (;;) {
		for (i = 0, left = 0; i < n; i++) {
			if (pids[i] <= 0)
				continue;
			if (waitpid(pids[i], &status, WNOHANG) == pids[i])
				pids[i] = 0;
			else
				left++;
		}
		if (left == 0)
			return;
		if (now_ns() > deadline)
			break;
		sleep_ms(2);
	}
	atomic_store(&ctl->abort, 1);
	sleep_ms(300);
	for (i = 0; i < n; i++)
		if (pids[i] > 0) {
			(void)kill(pids[i], SIGKILL);
			(void)waitpid(pids[i], &status, 0);
			pids[i] = 0;
		}
}

static void
run_job(const struct job *j, struct result *res)
{
	struct tx tx;
	pid_t pids[MAX_READERS];
	int rfd[MAX_READERS], sv[2], i, k, rc;
	unsigned char *msgs;
	uint64_t deadline, tmax;
	int batch = j->batch > 1 ? j->batch : 1;

	memset(res, 0, sizeof(*res));
	memset(ctl, 0, sizeof(*ctl));
	memset(&tx, 0, sizeof(tx));
	memset(pids, 0, sizeof(pids));
	job_counter++;
	snprintf(ring_name, sizeof(ring_name), "bench_ring.%ld.%u",
	    (long)getpid(), job_counter);
	snprintf(zmq_path, sizeof(zmq_path), "/tmp/bench_ring.%ld.%u.zmq",
	    (long)getpid(), job_counter);
	snprintf(zmq_ep, sizeof(zmq_ep), "ipc://%s", zmq_path);
	if ((msgs = calloc((size_t)batch, j->size)) == NULL) {
		snprintf(res->err, sizeof(res->err), "out of memory");
		return;
	}
	for (i = 0; i < (int)j->size * batch; i++)
		msgs[i] = (unsigned char)(i * 7 + 1);

	/* Per-reader file descriptors for the fd transports. */
	for (i = 0; i < j->nreaders; i++) {
		rfd[i] = -1;
		if (j->kind == K_PIPE) {
			/* 64 KiB by default: too small for 64 KiB messages */
			if ((rc = pipe(sv)) == 0)
				(void)fcntl(sv[1], F_SETPIPE_SZ, 1 << 20);
		}
		else if (j->kind == K_STREAM)
			rc = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		else if (j->kind == K_SEQPACKET)
			rc = socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
		else
			continue;
		if (rc == -1) {
			snprintf(res->err, sizeof(res->err), "%s: %s",
			    kind_name[j->kind], strerror(errno));
			goto out;
		}
		/* pipe: sv[0] reads; sockets: either end, sv[0] reads too */
		rfd[i] = sv[0];
		tx.fds[tx.nfds++] = sv[1];
		if (j->kind != K_PIPE)
			(void)shutdown(sv[0], SHUT_WR);
	}

	fflush(stdout);
	for (i = 0; i < j->nreaders; i++) {
		pids[i] = fork();
		if (pids[i] == -1) {
			snprintf(res->err, sizeof(res->err), "fork: %s",
			    strerror(errno));
			atomic_store(&ctl->abort, 1);
			goto out;
		}
		if (pids[i] == 0) {
			for (k = 0; k < j->nreaders; k++)
				if (k != i && rfd[k] >= 0)
					close(rfd[k]);
			for (k = 0; k < tx.nfds; k++)
				close(tx.fds[k]);
			reader_main(j, i, rfd[i]);
		}
	}
	for (i = 0; i < j->nreaders; i++)
		if (rfd[i] >= 0)
			close(rfd[i]);

	if ((rc = tx_open(j, &tx, res->err, sizeof(res->err))) < 0) {
		atomic_store(&ctl->abort, 1);
		goto out;
	}
	atomic_store(&ctl->created, 1);
	deadline = now_ns() + 10000000000ull;
	while (atomic_load(&ctl->ready) < j->nreaders) {
		for (i = 0; i < j->nreaders; i++)
			if (atomic_load(&ctl->r[i].finished))
				break;
		if (i < j->nreaders || now_ns() > deadline) {
			snprintf(res->err, sizeof(res->err), "%s",
			    i < j->nreaders ? ctl->r[i].err :
			    "readers did not attach within 10 s");
			atomic_store(&ctl->abort, 1);
			goto out;
		}
		sleep_ms(1);
	}
#if HAVE_ZMQ
	if (j->kind == K_ZMQ && zmq_sync(j, &tx, SEQ_PROBE, 0) < 0) {
		snprintf(res->err, sizeof(res->err),
		    "zmq subscriptions did not arrive within 10 s");
		atomic_store(&ctl->abort, 1);
		goto out;
	}
#endif
	pin(-1);
	atomic_store(&ctl->go, 1);
	rc = produce(j, &tx, msgs, res);
#if HAVE_ZMQ
	if (j->kind == K_ZMQ)
		(void)zmq_sync(j, &tx, SEQ_END, 1);
#endif
	if (tx_close(j, &tx) < 0 && rc == 0)
		snprintf(res->err, sizeof(res->err), "close failed");
	unpin();
	reap(pids, j->nreaders, 10000);

	res->sent = ctl->sent;
	res->send_secs = (double)(ctl->t_end - ctl->t_start) / 1e9;
	res->min_msgs = UINT64_MAX;
	tmax = ctl->t_end;
	for (i = 0; i < j->nreaders; i++) {
		struct rstat *st = &ctl->r[i];

		if (!atomic_load(&st->finished) || st->rc < 0) {
			if (res->err[0] == '\0')
				snprintf(res->err, sizeof(res->err), "%s",
				    st->err[0] != '\0' ? st->err :
				    "reader killed");
			continue;
		}
		res->msgs += st->msgs;
		if (st->msgs < res->min_msgs)
			res->min_msgs = st->msgs;
		res->gaps += st->gaps;
		res->disorder += st->disorder;
		res->lost += j->kind == K_SHM ? st->lost :
		    ctl->sent - st->msgs;
		if (st->t_end > tmax)
			tmax = st->t_end;
		for (k = 0; k < 4; k++)
			if (st->lat[k] > res->lat[k])
				res->lat[k] = st->lat[k];
		res->nlat += st->nlat;
		if (st->t_end > ctl->t_start && (double)st->cpu_ns /
		    (double)(st->t_end - ctl->t_start) > res->cpu)
			res->cpu = (double)st->cpu_ns /
			    (double)(st->t_end - ctl->t_start);
	}
	if (res->min_msgs == UINT64_MAX)
		res->min_msgs = 0;
	res->rx_secs = (double)(tmax - ctl->t_start) / 1e9;
out:
	res->ok = res->err[0] == '\0';
	for (k = 0; k < tx.nfds; k++)
		close(tx.fds[k]);
	tx.nfds = 0;
	if (tx.w != NULL || tx.zsock != NULL)
		(void)tx_close(j, &tx);
	reap(pids, j->nreaders, 2000);
	cleanup_names();
	ring_name[0] = zmq_path[0] = '\0';
	free(msgs);
}

enum best { BEST_RX, BEST_TX, BEST_LAT };

static int repeat = 3;			/* -n: runs per row, best kept */

/*
 * Run a row `repeat` times and keep the best run: the most delivered
 * messages per second, the highest producer rate, or the lowest median
 * latency. On a machine shared with other work the best of a few short
 * runs is closer to what the transport can do than one long run.
 */
static void
run_best(const struct job *j, struct result *res, enum best how)
{
	struct result r;
	double v, bestv = -1;
	int i;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < repeat; i++) {
		run_job(j, &r);
		if (!r.ok) {
			if (bestv < 0)
				*res = r;
			continue;
		}
		if (how == BEST_RX)
			v = r.rx_secs > 0 ? (double)r.min_msgs / r.rx_secs : 0;
		else if (how == BEST_TX)
			v = r.send_secs > 0 ? (double)r.sent / r.send_secs : 0;
		else
			v = r.lat[0] > 0 ? 1e12 / (double)r.lat[0] : 0;
		if (v > bestv) {
			bestv = v;
			*res = r;
		}
	}
	if (!res->ok)
		failures++;
}

/* ---- instructions per publish under callgrind --------------------------- */

/*
 * Hidden mode run under valgrind: attach nreaders blocking readers (each a
 * fresh exec of this program, so they run natively, not under valgrind),
 * then publish count 64-byte messages.
 */
static int
attach_reader(const char *name, int fd)
{
	struct shmr_ring *ring;
	struct shmr_cursor c;
	struct shmr_msg m;
	unsigned char buf[1024];
	int rc, i;

	for (i = 0; i < 2000; i++) {
		rc = shmr_ring_open(name, NULL, &ring);
		if (rc != -ENOENT && rc != -EAGAIN)
			break;
		sleep_ms(1);
	}
	if (rc < 0) {
		fprintf(stderr, PROG ": ring %s: %s\n", name,
		    shmr_strerror(rc));
		return 1;
	}
	(void)shmr_cursor_init(ring, &c, SHMR_FROM_END, 0);
	(void)write_full(fd, "r", 1);
	close(fd);
	for (;;) {
		rc = shmr_cursor_read(ring, &c, buf, sizeof(buf), &m);
		if (rc == SHMR_MSG || rc == SHMR_OVERRUN)
			continue;
		if (rc == SHMR_EMPTY) {
			rc = shmr_cursor_wait(ring, &c, 1000, 0);
			if (rc == 0 || rc == -ETIMEDOUT || rc == -EINTR)
				continue;
		}
		break;
	}
	shmr_ring_close(ring);
	return rc == SHMR_EOF ? 0 : 1;
}

/*
 * Hidden modes run under valgrind. publish: attach nreaders blocking
 * readers (each a fresh exec of this program, so they run natively, not
 * under valgrind), let them fall asleep, then publish count messages of
 * size bytes. read: publish and read back count messages through a
 * cursor in this process, in steps of a quarter ring so none is lapped.
 */
static int
cg_loop(int read_mode, uint64_t count, int nreaders, size_t size)
{
	struct shmr_create_opts o;
	struct shmr_writer *w;
	struct shmr_ring *ring = NULL;
	struct shmr_cursor c;
	struct shmr_msg m;
	unsigned char *msg;
	pid_t pids[MAX_READERS];
	char fdarg[16];
	int p[2], i, nforked = 0, rc;
	uint64_t n, k, chunk = 1000;
	char ch;

	snprintf(ring_name, sizeof(ring_name), "bench_ring.%ld.loop",
	    (long)getpid());
	memset(&o, 0, sizeof(o));
	o.capacity = ring_size;
	o.max_msg = (uint32_t)(size < 1024 ? 1024 : size);
	o.gid = (gid_t)-1;
	if ((msg = calloc(1, size)) == NULL)
		return 1;
	if ((rc = shmr_writer_create(ring_name, &o, &w)) < 0) {
		fprintf(stderr, PROG ": shmr_writer_create %s: %s\n",
		    ring_name, shmr_strerror(rc));
		free(msg);
		return 1;
	}
	if (pipe(p) == -1) {
		rc = -errno;
		goto out;
	}
	snprintf(fdarg, sizeof(fdarg), "%d", p[1]);
	for (i = 0; i < nreaders; i++) {
		if ((pids[i] = fork()) == -1)
			break;
		if (pids[i] == 0) {
			close(p[0]);
			execl(self_path, PROG, "--attach-reader", ring_name,
			    "--fd", fdarg, (char *)NULL);
			_exit(attach_reader(ring_name, p[1]));
		}
		nforked++;
	}
	close(p[1]);
	for (i = 0; i < nforked; i++)
		if (read(p[0], &ch, 1) != 1)
			break;
	close(p[0]);
	/* Let them all fall asleep in shmr_cursor_wait(). */
	if (nforked > 0)
		sleep_ms(200);
	if (read_mode) {
		if ((rc = shmr_ring_open(ring_name, NULL, &ring)) < 0 ||
		    (rc = shmr_cursor_init(ring, &c, SHMR_FROM_END, 0)) < 0)
			goto out;
		/* read in steps that always fit the ring: no overruns */
		chunk = ring_size / 4 / (size + 32);
	}
	memset(msg, 0xa5, size);
	for (n = 0; n < count && rc >= 0; n += k) {
		for (k = 0; k < chunk && n + k < count; k++) {
			uint64_t v = n + k;

			memcpy(msg, &v, sizeof(v));
			if ((rc = shmr_writer_publish(w, msg, size,
			    NULL)) < 0)
				break;
		}
		for (i = 0; read_mode && rc >= 0 && (uint64_t)i < k; i++)
			if (shmr_cursor_read(ring, &c, msg, size, &m) !=
			    SHMR_MSG)
				rc = -EPROTO;
	}
out:
	if (ring != NULL)
		shmr_ring_close(ring);
	(void)shmr_writer_close(w, SHMR_CLOSE_UNLINK);
	for (i = 0; i < nforked; i++)
		(void)waitpid(pids[i], NULL, 0);
	ring_name[0] = '\0';
	free(msg);
	if (rc < 0)
		fprintf(stderr, PROG ": %s loop: %s\n", read_mode ? "read" :
		    "publish", shmr_strerror(rc));
	return rc < 0;
}

/* Instructions per call of fn in a cg_loop() under callgrind, or -1. */
static double
callgrind_ipc(int read_mode, uint64_t count, int nreaders, size_t size)
{
	char out[PATH_MAX], cnt[32], nr[16], sz[32], ms[32], line[512];
	char ofile[PATH_MAX + 32];
	const char *vg = "valgrind";
	unsigned long long tot = 0;
	pid_t pid;
	FILE *f;
	int status, devnull;

	snprintf(out, sizeof(out), "/tmp/bench_ring.%ld.callgrind",
	    (long)getpid());
	snprintf(ofile, sizeof(ofile), "--callgrind-out-file=%s", out);
	snprintf(cnt, sizeof(cnt), "%" PRIu64, count);
	snprintf(nr, sizeof(nr), "%d", nreaders);
	snprintf(sz, sizeof(sz), "%" PRIu64, ring_size);
	snprintf(ms, sizeof(ms), "%zu", size);
	fflush(stdout);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if ((devnull = open("/dev/null", O_WRONLY)) >= 0) {
			if (!verbose)
				(void)dup2(devnull, 2);
			(void)dup2(devnull, 1);
		}
		execlp(vg, vg, "--tool=callgrind", read_mode ?
		    "--toggle-collect=shmr_cursor_read" :
		    "--toggle-collect=shmr_writer_publish", ofile, self_path,
		    read_mode ? "--read-loop" : "--publish-loop", cnt,
		    "--readers", nr, "--ring-size", sz, "--msg-size", ms,
		    (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		(void)unlink(out);
		return -1;
	}
	if ((f = fopen(out, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "totals:", 7) == 0)
			tot = strtoull(line + 7, NULL, 10);
		else if (tot == 0 && strncmp(line, "summary:", 8) == 0)
			tot = strtoull(line + 8, NULL, 10);
	}
	fclose(f);
	(void)unlink(out);
	return tot == 0 ? -1 : (double)tot / (double)count;
}

/* ---- report ------------------------------------------------------------- */

static double
mps(const struct result *r)
{
	return r->rx_secs > 0 ? (double)r->msgs / r->rx_secs : 0;
}

static void
fmt_rate(char *buf, size_t len, double v)
{
	if (v >= 1e9)
		snprintf(buf, len, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
}

static void
fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns >= 10000000)
		snprintf(buf, len, "%.1f ms", (double)ns / 1e6);
	else if (ns >= 10000)
		snprintf(buf, len, "%.1f us", (double)ns / 1e3);
	else
		snprintf(buf, len, "%.2f us", (double)ns / 1e3);
}

static void
print_machine(void)
{
	struct utsname u;
	char line[256], model[160] = "unknown";
	FILE *f;

	if ((f = fopen("/proc/cpuinfo", "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "model name", 10) == 0) {
				char *p = strchr(line, ':');

				if (p != NULL) {
					snprintf(model, sizeof(model), "%s",
					    p + 2);
					model[strcspn(model, "\n")] = '\0';
				}
				break;
			}
		fclose(f);
	}
	(void)uname(&u);
	printf("machine: %s, %ld online CPUs (%d usable), %s %s %s\n", model,
	    sysconf(_SC_NPROCESSORS_ONLN), ncpus, u.sysname, u.release,
	    u.machine);
	printf("compiler: %s; libshm %s", __VERSION__, shmr_version());
#if HAVE_ZMQ
	{
		int a, b, c;

		zmq_version(&a, &b, &c);
		printf("; libzmq %d.%d.%d", a, b, c);
	}
#else
	printf("; ZeroMQ not built (install libzmq3-dev)");
#endif
	if (use_pin && ncpus >= 2)
		printf("\npinning: producer on CPU %d, readers on the other "
		    "%d", cpus[0], ncpus - 1);
	else
		printf("\npinning: none");
	printf("; shmring ring size %" PRIu64 " KiB; best of %d run%s per "
	    "row\n", ring_size >> 10, repeat, repeat == 1 ? "" : "s");
}

/* Other load on the machine skews every number: show it. */
static void
print_load(const char *when)
{
	char line[128] = "unknown\n";
	FILE *f;

	if ((f = fopen("/proc/loadavg", "r")) != NULL) {
		if (fgets(line, sizeof(line), f) == NULL)
			snprintf(line, sizeof(line), "unknown\n");
		fclose(f);
	}
	printf("load average %s: %s", when, line);
}

static const char *
status_col(const struct result *r)
{
	return r->ok ? "" : r->err;
}

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
	uint64_t	rate, slow_rate;
	double		cpu_block_fast;
	double		pub0, pub4, ipp0, ipp8;	/* pub4: paired ratio */
	int		have_ipp;
};

static void
sect_throughput(const struct opts *o, struct summary *sum)
{
	struct row {
		const char	*name;
		enum kind	 k;
		int		 spin, batch;
	} rows[] = {
		{ "shmring busy-poll", K_SHM, 1, 0 },
		{ "shmring blocking", K_SHM, 0, 0 },
		{ "shmring busy-poll, read_batch", K_SHM, 1, 1 },
		{ "shmring busy-poll, both batched", K_SHM, 1, 3 },
		{ "shmring blocking, both batched", K_SHM, 0, 3 },
		{ "pipe (1 MiB buffer)", K_PIPE, 0, 0 },
		{ "unix stream", K_STREAM, 0, 0 },
		{ "unix seqpacket", K_SEQPACKET, 0, 0 },
		{ "zmq pub/sub ipc", K_ZMQ, 0, 0 },
	};
	enum { NROWS = sizeof(rows) / sizeof(rows[0]) };
	struct result r[NROWS];
	struct job j;
	double rate[NROWS], best;
	char a[32], b[32], ratio[32], label[64];
	int si, i;

	printf("\n### Throughput, 1 producer -> 1 reader, %.1f s per row\n\n",
	    o->secs);
	printf("Readers copy every message out; pipe and stream readers read "
	    "up to 256 KiB per call,\nseqpacket and ZeroMQ one message per "
	    "call; peers' readers block. read_batch: the reader\ncalls "
	    "shmr_cursor_read_batch() for up to %d messages; both batched: "
	    "the producer also\ncalls shmr_writer_publish_batch() with %d "
	    "messages. Lost = sent - delivered\n(shmring: sum of msg.lost).\n",
	    RBATCH, o->batch);
	for (si = 0; si < o->nsizes; si++) {
		size_t sz = o->sizes[si];

		best = 0;
		for (i = 0; i < NROWS; i++) {
			memset(&j, 0, sizeof(j));
			j.kind = rows[i].k;
			j.spin = rows[i].spin;
			j.rbatch = rows[i].batch & 1 ? RBATCH : 0;
			j.batch = rows[i].batch & 2 ? o->batch : 0;
			j.nreaders = 1;
			j.size = sz;
			j.secs = o->secs;
			rate[i] = -1;
			memset(&r[i], 0, sizeof(r[i]));
			if (!wanted(j.kind))
				continue;
			run_best(&j, &r[i], BEST_RX);
			rate[i] = r[i].ok ? mps(&r[i]) : -1;
			if (j.kind != K_SHM && rate[i] > best)
				best = rate[i];
		}
		printf("\n| %zu B | sent/s | delivered/s | MB/s | lost | "
		    "x best peer | note |\n", sz);
		printf("|---|---:|---:|---:|---:|---:|---|\n");
		for (i = 0; i < NROWS; i++) {
			if (rate[i] < 0 && r[i].err[0] == '\0')
				continue;
			snprintf(label, sizeof(label), "%s", rows[i].name);
			fmt_rate(a, sizeof(a), r[i].send_secs > 0 ?
			    (double)r[i].sent / r[i].send_secs : 0);
			fmt_rate(b, sizeof(b), rate[i] < 0 ? 0 : rate[i]);
			ratio[0] = '\0';
			if (best > 0 && rate[i] > 0)
				snprintf(ratio, sizeof(ratio), "%.1fx",
				    rate[i] / best);
			printf("| %s | %s | %s | %.0f | %" PRIu64 " | %s | "
			    "%s%s%s |\n", label, a, b, rate[i] < 0 ? 0 :
			    rate[i] * (double)sz / 1e6, r[i].lost, ratio,
			    rows[i].k == K_SHM && r[i].ok &&
			    r[i].gaps != r[i].lost ? "LOSS MISMATCH " : "",
			    r[i].disorder != 0 ? "DISORDER " : "",
			    status_col(&r[i]));
		}
		fflush(stdout);
		/* the targets take the best shmring row */
		for (i = 0; i < NROWS; i++) {
			if (rows[i].k != K_SHM)
				continue;
			if (sz == 64 && rate[i] > sum->shm64) {
				sum->shm64 = rate[i];
				sum->shm64_row = rows[i].name;
			}
			if (sz == 1024 && rate[i] * 1024 > sum->shm1k_bps) {
				sum->shm1k_bps = rate[i] * 1024;
				sum->shm1k_row = rows[i].name;
			}
		}
		if (sz == 64)
			sum->peer64 = best;
	}
}

static void
sect_latency(const struct opts *o, struct summary *sum)
{
	struct job j;
	struct result r;
	enum kind kinds[] = { K_SHM, K_PIPE, K_STREAM, K_SEQPACKET, K_ZMQ };
	/*
	 * apart: producer and reader pinned to different CPUs, the
	 * producer yielding until each send time (busy-poll needs that; for
	 * a blocking reader it makes every wake-up an interrupt to a halted
	 * vCPU). Otherwise nobody is pinned and the producer sleeps between
	 * sends, as a paced feed does.
	 */
	struct { int spin, slow, apart; } modes[] = { { 1, 0, 1 },
	    { 0, 0, 0 }, { 0, 1, 0 }, { 0, 1, 1 } };
	char p[4][32];
	int ki, mi, k, pinning = use_pin;

	printf("\n### One-way latency, 64 B, %.1f s per run "
	    "(CLOCK_MONOTONIC in the payload)\n\n", o->lat_secs);
	printf("Paced at %" PRIu64 " msg/s, and blocking readers also at %"
	    PRIu64 " msg/s, slow enough for every\nreader to fall asleep "
	    "between messages. Reader CPU: the reader's user + system time\n"
	    "over the run (100%% = one core busy). Busy-poll and \"pinned "
	    "apart\" rows: producer and\nreader pinned to different CPUs, "
	    "the producer yields until each send time. Other\nblocking rows: "
	    "nobody pinned, the producer sleeps (clock_nanosleep) between "
	    "sends.\n\n", o->rate, o->slow_rate);
	printf("| transport | reader | msg/s | p50 | p90 | p99 | max | "
	    "samples | lost | reader CPU | note |\n"
	    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
	for (ki = 0; ki < (int)(sizeof(kinds) / sizeof(kinds[0])); ki++) {
		for (mi = 0; mi < (int)(sizeof(modes) / sizeof(modes[0]));
		    mi++) {
			memset(&j, 0, sizeof(j));
			j.kind = kinds[ki];
			j.spin = modes[mi].spin;
			j.nreaders = 1;
			j.size = 64;
			j.secs = o->lat_secs;
			j.rate = modes[mi].slow ? o->slow_rate : o->rate;
			j.nap = !modes[mi].apart;
			if (!wanted(j.kind))
				continue;
			use_pin = pinning && modes[mi].apart;
			run_best(&j, &r, BEST_LAT);
			use_pin = pinning;
			for (k = 0; k < 4; k++)
				fmt_ns(p[k], sizeof(p[k]), r.lat[k]);
			printf("| %s | %s | %" PRIu64 " | %s | %s | %s | %s | %"
			    PRIu64 " | %" PRIu64 " | %.0f%% | %s |\n",
			    kind_name[j.kind], j.spin ? "busy-poll" :
			    modes[mi].apart ? "blocking, pinned apart" :
			    "blocking", j.rate, p[0], p[1], p[2], p[3],
			    r.nlat, r.lost, r.cpu * 100, status_col(&r));
			fflush(stdout);
			if (j.kind != K_SHM || !r.ok)
				continue;
			if (j.spin)
				sum->p50_spin = r.lat[0];
			else if (modes[mi].apart)
				sum->p50_block_apart = r.lat[0];
			else if (modes[mi].slow)
				sum->p50_block = r.lat[0];
			else {
				sum->p50_block_fast = r.lat[0];
				sum->cpu_block_fast = r.cpu;
			}
		}
	}
	sum->slow_rate = o->slow_rate;
	sum->rate = o->rate;
}

static void
sect_fanout(const struct opts *o)
{
	struct job j;
	struct result r;
	enum kind kinds[] = { K_SHM, K_PIPE, K_STREAM, K_SEQPACKET, K_ZMQ };
	size_t sizes[] = { 64, 1024 };
	char a[32], b[32], c[32];
	int ki, si;

	printf("\n### Fan-out, 1 producer -> 4 blocking readers, %.1f s per "
	    "row\n\n", o->secs);
	printf("fd peers write every message to 4 descriptors; ZeroMQ and "
	    "shmring publish once.\n\n");
	printf("| transport | size | sent/s | delivered/s per reader (min) | "
	    "total MB/s | lost (all readers) | note |\n"
	    "|---|---:|---:|---:|---:|---:|---|\n");
	for (si = 0; si < 2; si++)
		for (ki = 0; ki < (int)(sizeof(kinds) / sizeof(kinds[0]));
		    ki++) {
			memset(&j, 0, sizeof(j));
			j.kind = kinds[ki];
			j.nreaders = 4;
			j.size = sizes[si];
			j.secs = o->secs;
			if (!wanted(j.kind))
				continue;
			run_best(&j, &r, BEST_RX);
			fmt_rate(a, sizeof(a), r.send_secs > 0 ?
			    (double)r.sent / r.send_secs : 0);
			fmt_rate(b, sizeof(b), r.rx_secs > 0 ?
			    (double)r.min_msgs / r.rx_secs : 0);
			snprintf(c, sizeof(c), "%.0f", r.rx_secs > 0 ?
			    (double)r.msgs * (double)j.size / r.rx_secs / 1e6
			    : 0);
			printf("| %s | %zu B | %s | %s | %s | %" PRIu64
			    " | %s |\n", kind_name[j.kind], j.size, a, b, c,
			    r.lost, status_col(&r));
			fflush(stdout);
		}
}

#define PAIRS	5	/* alternating runs behind each paired ratio */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The producer's rate with j's readers over its rate alone, as the median
 * of PAIRS ratios of back-to-back runs: the VM's speed drifts by more
 * than the effect between two rows run seconds apart, much less within
 * one pair.
 */
static double
paired_ratio(const struct job *j)
{
	struct job j0 = *j;
	struct result r0, r1;
	double v[PAIRS];
	int i, n = 0;

	j0.nreaders = 0;
	for (i = 0; i < PAIRS; i++) {
		run_job(&j0, &r0);
		run_job(j, &r1);
		if (!r0.ok || !r1.ok || r0.send_secs <= 0 ||
		    r1.send_secs <= 0 || r0.sent == 0)
			continue;
		v[n++] = ((double)r1.sent / r1.send_secs) /
		    ((double)r0.sent / r0.send_secs);
	}
	if (n == 0)
		return 0;
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
sect_publish(const struct opts *o, struct summary *sum)
{
	struct job j;
	struct result r;
	struct { int n, spin; } rows[] = {
		{ 0, 0 }, { 1, 1 }, { 1, 0 }, { 4, 0 }, { 8, 0 }
	};
	double rate, base = 0, paired;
	char a[32], ipp[32], fx[32], pr[32];
	int i;

	perf_fd = perf_open();
	futex_fd = futex_open();
	printf("\n### Producer publish rate, 64 B, shmr_writer_publish() "
	    "flat out, %.1f s per row\n\n", o->secs);
	printf("Readers read until the ring is empty, then wait in "
	    "shmr_cursor_wait(). futex/1k: the producer's\nfutex(2) calls "
	    "(its wake-ups) per 1000 publishes, from the "
	    "syscalls:sys_enter_futex tracepoint. paired: the median over "
	    "%d pairs of back-to-back\nruns without and with the readers "
	    "of the ratio of the two rates (the VM drifts less within\na "
	    "pair than between rows).\n\n", PAIRS);
	printf("| readers attached | publishes/s | ns/publish | vs 0 readers "
	    "| vs 0 readers, paired | futex/1k | instructions/publish (perf) "
	    "| readers' lost | note |\n"
	    "|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
	for (i = 0; i < (int)(sizeof(rows) / sizeof(rows[0])); i++) {
		memset(&j, 0, sizeof(j));
		j.kind = K_SHM;
		j.nreaders = rows[i].n;
		j.spin = rows[i].spin;
		j.size = 64;
		j.secs = o->secs;
		run_best(&j, &r, BEST_TX);
		rate = r.send_secs > 0 ? (double)r.sent / r.send_secs : 0;
		if (i == 0)
			base = rate;
		paired = rows[i].n > 0 ? paired_ratio(&j) : 1;
		if (rows[i].n == 4 && !rows[i].spin)
			sum->pub4 = paired;
		snprintf(pr, sizeof(pr), "%.2fx", paired);
		fmt_rate(a, sizeof(a), rate);
		snprintf(ipp, sizeof(ipp), "n/a");
		if (perf_fd >= 0 && r.sent > 0)
			snprintf(ipp, sizeof(ipp), "%.1f",
			    (double)r.instr / (double)r.sent);
		snprintf(fx, sizeof(fx), "n/a");
		if (futex_fd >= 0 && r.sent > 0)
			snprintf(fx, sizeof(fx), "%.2f",
			    (double)r.futex * 1000 / (double)r.sent);
		printf("| %d %s | %s | %.1f | %.2fx | %s | %s | %s | %" PRIu64
		    " | %s |\n", rows[i].n, rows[i].n == 0 ? "" :
		    rows[i].spin ? "busy-poll" : "blocking", a, rate > 0 ?
		    1e9 / rate : 0, base > 0 ? rate / base : 0, pr, fx, ipp,
		    r.lost, status_col(&r));
		fflush(stdout);
	}
	sum->pub0 = base;
	if (perf_fd < 0)
		printf("\nInstruction counter: not available on this machine "
		    "(perf_event_open(PERF_COUNT_HW_INSTRUCTIONS) failed); "
		    "see the callgrind section.\n");
	if (perf_fd >= 0)
		close(perf_fd);
	if (futex_fd >= 0)
		close(futex_fd);
	perf_fd = futex_fd = -1;
}

static void
sect_instr(const struct opts *o, struct summary *sum)
{
	struct {
		const char	*what;
		int		 read_mode, nreaders;
		size_t		 size;
	} rows[] = {
		{ "shmr_writer_publish, 0 readers", 0, 0, 64 },
		{ "shmr_writer_publish, 8 blocking readers asleep", 0, 8, 64 },
		{ "shmr_writer_publish, 0 readers", 0, 0, 1024 },
		{ "shmr_cursor_read (copy out)", 1, 0, 64 },
		{ "shmr_cursor_read (copy out)", 1, 0, 1024 },
	};
	double v[sizeof(rows) / sizeof(rows[0])];
	char ratio[32];
	int i;

	printf("\n### Instructions per call, callgrind (%" PRIu64 " calls "
	    "per row, user space only)\n\n", o->cg_count);
	printf("Readers of the 8-reader row are native processes blocked in "
	    "shmr_cursor_wait();\nthe kernel side of a futex wake is not "
	    "counted.\n\n");
	printf("| call | payload | instructions/call | vs 0 readers |\n"
	    "|---|---:|---:|---:|\n");
	for (i = 0; i < (int)(sizeof(rows) / sizeof(rows[0])); i++) {
		v[i] = callgrind_ipc(rows[i].read_mode, o->cg_count,
		    rows[i].nreaders, rows[i].size);
		if (v[i] < 0) {
			printf("| %s | %zu B | failed (is valgrind "
			    "installed?) | |\n", rows[i].what, rows[i].size);
			continue;
		}
		ratio[0] = '\0';
		if (i <= 1 && v[0] > 0)
			snprintf(ratio, sizeof(ratio), "%.2fx", v[i] / v[0]);
		printf("| %s | %zu B | %.1f | %s |\n", rows[i].what,
		    rows[i].size, v[i], ratio);
		fflush(stdout);
	}
	if (v[0] > 0 && v[1] > 0) {
		sum->ipp0 = v[0];
		sum->ipp8 = v[1];
		sum->have_ipp = 1;
	}
}

static void
print_targets(const struct opts *o, const struct summary *s)
{
	char a[32], b[32];

	printf("\n### Against the targets of issue 2\n\n");
	printf("| target | measured | |\n|---|---|---|\n");
	if (o->s.throughput && s->shm64 > 0) {
		fmt_rate(a, sizeof(a), s->shm64);
		printf("| 64 B to 1 reader >= 40M msg/s | %s msg/s (%s) | %s "
		    "|\n", a, s->shm64_row, s->shm64 >= 40e6 ? "met" : "short");
		if (s->peer64 > 0)
			printf("| >= 30x best pipe/socket/zmq peer | %.1fx | "
			    "%s |\n", s->shm64 / s->peer64,
			    s->shm64 / s->peer64 >= 30 ? "met" : "short");
	}
	if (o->s.throughput && s->shm1k_bps > 0)
		printf("| 1 KiB >= 6 GB/s | %.2f GB/s (%s) | %s |\n",
		    s->shm1k_bps / 1e9, s->shm1k_row,
		    s->shm1k_bps >= 6e9 ? "met" : "short");
	if (o->s.latency && s->p50_spin > 0) {
		fmt_ns(a, sizeof(a), s->p50_spin);
		fmt_ns(b, sizeof(b), s->p50_block);
		printf("| p50 busy-poll <= 1 us | %s | %s |\n", a,
		    s->p50_spin <= 1000 ? "met" : "short");
		printf("| p50 blocking <= 20 us | %s at %" PRIu64 " msg/s | %s "
		    "|\n", b, s->slow_rate, s->p50_block <= 20000 ? "met" :
		    "short");
		fmt_ns(b, sizeof(b), s->p50_block_fast);
		printf("| (blocking at %" PRIu64 " msg/s) | %s, reader CPU "
		    "%.0f%% | |\n", s->rate, b, s->cpu_block_fast * 100);
		fmt_ns(b, sizeof(b), s->p50_block_apart);
		printf("| (blocking, pinned apart, %" PRIu64 " msg/s) | %s "
		    "(a wake-up of a halted vCPU) | |\n", s->slow_rate, b);
	}
	if (o->s.publish && s->pub0 > 0)
		printf("| publish rate, 4 blocking readers >= 0.9x none | "
		    "%.2fx (paired median) | %s |\n", s->pub4,
		    s->pub4 >= 0.9 ? "met" : "short");
	if (o->s.instr && s->have_ipp)
		printf("| publish cost 8 readers within 10%% of 0 | %.1f vs "
		    "%.1f instructions (%+.1f%%) | %s |\n", s->ipp8, s->ipp0,
		    (s->ipp8 / s->ipp0 - 1) * 100,
		    s->ipp8 <= s->ipp0 * 1.1 ? "met" : "short");
}

/* ---- command line ------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [-q] [-d secs] [-l secs] [-r rate] [-w rate] "
	    "[-b batch]\n"
	    "       [-s size,...] [-R ring-size] [-o sections] "
	    "[-t transports]\n"
	    "       [-n repeat] [--no-pin] [-v]\n"
	    "\n"
	    "libshm against a pipe, Unix domain sockets and ZeroMQ, one "
	    "producer and\nforked readers on this machine; a report on "
	    "stdout (markdown tables).\n"
	    "\n"
	    "  -d, --duration SECS     per throughput/fan-out/publish run "
	    "(default 0.3)\n"
	    "  -l, --lat-duration SECS per latency run (default 0.5)\n"
	    "  -r, --rate N            latency pacing in messages/s "
	    "(default 20000)\n"
	    "  -w, --slow-rate N       blocking readers again at this rate "
	    "(default 2000)\n"
	    "  -b, --batch N           messages per publish_batch "
	    "(default 16, max %d)\n"
	    "  -s, --sizes LIST        throughput payloads "
	    "(default 8,64,1024,65536)\n"
	    "  -R, --ring-size SIZE    shmring capacity (default 16M)\n"
	    "  -c, --callgrind-count N publishes under callgrind "
	    "(default 200000)\n"
	    "  -o, --only LIST         sections: throughput,latency,fanout,"
	    "publish,instr\n"
	    "  -t, --transports LIST   shmring,pipe,stream,seqpacket,zmq "
	    "(default all)\n"
	    "  -n, --repeat N          runs per row, the best is shown "
	    "(default 3)\n"
	    "  -q, --quick             short rows (a smoke run)\n"
	    "      --no-pin            do not pin processes to CPUs\n"
	    "  -v, --verbose           show valgrind's output\n"
	    "  -h, --help              this text\n"
	    "  -V, --version           print the version\n", MAX_BATCH);
}

static int
parse_secs(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) || v > 600)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_sections(char *s, struct sect *sec)
{
	char *tok;

	memset(sec, 0, sizeof(*sec));
	for (tok = strtok(s, ","); tok != NULL; tok = strtok(NULL, ",")) {
		if (strcmp(tok, "throughput") == 0)
			sec->throughput = 1;
		else if (strcmp(tok, "latency") == 0)
			sec->latency = 1;
		else if (strcmp(tok, "fanout") == 0)
			sec->fanout = 1;
		else if (strcmp(tok, "publish") == 0)
			sec->publish = 1;
		else if (strcmp(tok, "instr") == 0)
			sec->instr = 1;
		else
			return -EINVAL;
	}
	return 0;
}

static int
parse_kinds(char *s)
{
	static const char *const names[] = {
		[K_SHM] = "shmring", [K_PIPE] = "pipe", [K_STREAM] = "stream",
		[K_SEQPACKET] = "seqpacket", [K_ZMQ] = "zmq"
	};
	char *tok;
	unsigned k;

	kind_mask = 0;
	for (tok = strtok(s, ","); tok != NULL; tok = strtok(NULL, ",")) {
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcmp(tok, names[k]) == 0)
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			return -EINVAL;
		kind_mask |= 1u << k;
	}
	return kind_mask != 0 ? 0 : -EINVAL;
}

static int
parse_sizes(char *s, struct opts *o)
{
	const char *why;
	uint64_t v;
	char *tok;

	o->nsizes = 0;
	for (tok = strtok(s, ","); tok != NULL; tok = strtok(NULL, ",")) {
		if (o->nsizes == (int)(sizeof(o->sizes) / sizeof(o->sizes[0])))
			return -E2BIG;
		if (cli_parse_size(tok, 8, 1 << 20, &v, &why) < 0)
			return -EINVAL;
		o->sizes[o->nsizes++] = (size_t)v;
	}
	return o->nsizes > 0 ? 0 : -EINVAL;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "lat-duration", required_argument, NULL, 'l' },
		{ "rate", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "sizes", required_argument, NULL, 's' },
		{ "ring-size", required_argument, NULL, 'R' },
		{ "callgrind-count", required_argument, NULL, 'c' },
		{ "only", required_argument, NULL, 'o' },
		{ "transports", required_argument, NULL, 't' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "slow-rate", required_argument, NULL, 'w' },
		{ "quick", no_argument, NULL, 'q' },
		{ "no-pin", no_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		/* internal: the callgrind child and its readers */
		{ "publish-loop", required_argument, NULL, 'L' },
		{ "read-loop", required_argument, NULL, 'M' },
		{ "msg-size", required_argument, NULL, 'S' },
		{ "readers", required_argument, NULL, 'N' },
		{ "attach-reader", required_argument, NULL, 'A' },
		{ "fd", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o;
	struct summary sum;
	const char *why = NULL, *attach = NULL;
	uint64_t v, loop = 0, nreaders = 0, fd = 0, msg_size = 64;
	char sizes_default[] = "8,64,1024,65536";
	int ch, quick = 0, set_flags = 0, read_mode = 0, repeat_set = 0;

	memset(&o, 0, sizeof(o));
	o.secs = 0.3;
	o.lat_secs = 0.5;
	o.rate = 20000;
	o.slow_rate = 2000;
	o.batch = 16;
	o.cg_count = 200000;
	o.s.throughput = o.s.latency = o.s.fanout = o.s.publish =
	    o.s.instr = 1;
	(void)parse_sizes(sizes_default, &o);

	while ((ch = getopt_long(argc, argv, "d:l:r:w:b:s:R:c:o:t:n:qvhV", lo,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
		case 'l':
			if (parse_secs(optarg, ch == 'd' ? &o.secs :
			    &o.lat_secs) < 0) {
				fprintf(stderr, PROG ": -%c %s: want seconds "
				    "in (0, 600]\n", ch, optarg);
				return 100;
			}
			if (ch == 'd')
				set_flags |= 1;
			else
				set_flags |= 2;
			break;
		case 'r':
			if (cli_parse_u64(optarg, 100, 1000000, &o.rate,
			    &why) < 0)
				goto badnum;
			break;
		case 'w':
			if (cli_parse_u64(optarg, 100, 1000000, &o.slow_rate,
			    &why) < 0)
				goto badnum;
			break;
		case 'b':
			if (cli_parse_u64(optarg, 2, MAX_BATCH, &v, &why) < 0)
				goto badnum;
			o.batch = (int)v;
			break;
		case 's':
			if (parse_sizes(optarg, &o) < 0) {
				fprintf(stderr, PROG ": -s %s: want sizes "
				    "in [8, 1M], comma separated\n", optarg);
				return 100;
			}
			break;
		case 'R':
			if (cli_parse_size(optarg, SHMR_CAP_MIN, (uint64_t)1
			    << 34, &ring_size, &why) < 0)
				goto badnum;
			if ((ring_size & (ring_size - 1)) != 0) {
				fprintf(stderr, PROG ": -R %s: not a power of "
				    "two\n", optarg);
				return 100;
			}
			break;
		case 'c':
			if (cli_parse_u64(optarg, 1000, 100000000,
			    &o.cg_count, &why) < 0)
				goto badnum;
			set_flags |= 4;
			break;
		case 'o':
			if (parse_sections(optarg, &o.s) < 0) {
				fprintf(stderr, PROG ": -o: sections are "
				    "throughput,latency,fanout,publish,"
				    "instr\n");
				return 100;
			}
			break;
		case 'n':
			if (cli_parse_u64(optarg, 1, 100, &v, &why) < 0)
				goto badnum;
			repeat = (int)v;
			repeat_set = 1;
			break;
		case 't':
			if (parse_kinds(optarg) < 0) {
				fprintf(stderr, PROG ": -t: transports are "
				    "shmring,pipe,stream,seqpacket,zmq\n");
				return 100;
			}
			break;
		case 'q':
			quick = 1;
			break;
		case 'P':
			use_pin = 0;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf(PROG " %d.%d (libshm %s)\n", SHMR_VERSION_MAJOR,
			    SHMR_VERSION_MINOR, shmr_version());
			return 0;
		case 'L':
		case 'M':
			if (cli_parse_u64(optarg, 1, UINT64_MAX, &loop,
			    &why) < 0)
				goto badnum;
			read_mode = ch == 'M';
			break;
		case 'S':
			if (cli_parse_u64(optarg, 8, 1 << 20, &msg_size,
			    &why) < 0)
				goto badnum;
			break;
		case 'N':
			if (cli_parse_u64(optarg, 0, MAX_READERS, &nreaders,
			    &why) < 0)
				goto badnum;
			break;
		case 'A':
			attach = optarg;
			break;
		case 'F':
			if (cli_parse_u64(optarg, 0, INT_MAX, &fd, &why) < 0)
				goto badnum;
			break;
		default:
			usage(stderr);
			return 100;
		}
		continue;
badnum:
		fprintf(stderr, PROG ": -%c %s: %s\n", ch, optarg, why);
		return 100;
	}
	if (optind != argc) {
		usage(stderr);
		return 100;
	}
	if (attach != NULL)
		return attach_reader(attach, (int)fd);

	if (strchr(argv[0], '/') == NULL ||
	    realpath(argv[0], self_path) == NULL) {
		ssize_t n = readlink("/proc/self/exe", self_path,
		    sizeof(self_path) - 1);

		self_path[n > 0 ? n : 0] = '\0';
	}
	init_cpus();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (loop != 0)
		return cg_loop(read_mode, loop, (int)nreaders,
		    (size_t)msg_size);

	if (quick) {
		if (!(set_flags & 1))
			o.secs = 0.1;
		if (!(set_flags & 2))
			o.lat_secs = 0.1;
		if (!repeat_set)
			repeat = 1;
		o.cg_count = 20000;
	}
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED) {
		fprintf(stderr, PROG ": mmap: %s\n", strerror(errno));
		return 111;
	}
	memset(&sum, 0, sizeof(sum));
	printf("## " PROG " %d.%d\n\n", SHMR_VERSION_MAJOR,
	    SHMR_VERSION_MINOR);
	print_machine();
	print_load("before");
	if (o.s.throughput)
		sect_throughput(&o, &sum);
	if (o.s.latency)
		sect_latency(&o, &sum);
	if (o.s.fanout)
		sect_fanout(&o);
	if (o.s.publish && wanted(K_SHM))
		sect_publish(&o, &sum);
	if (o.s.instr && wanted(K_SHM))
		sect_instr(&o, &sum);
	print_targets(&o, &sum);
	printf("\n");
	print_load("after");
	if (failures > 0) {
		printf("%d row(s) failed: see the note column\n", failures);
		return 1;
	}
	return 0;
}
