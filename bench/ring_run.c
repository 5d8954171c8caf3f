/*
 * ring_run.c - bench_ring's measurement driver: one job forks its
 * readers from the producer (this process), pins the producer and the
 * readers to different CPUs when there are two or more, lets the
 * transport carry the messages and collects what the readers report
 * through a MAP_SHARED anonymous page (ctl). Every message starts with
 * its 64-bit sequence number, so every reader counts gaps itself; paced
 * (latency) jobs add a CLOCK_MONOTONIC timestamp taken just before the
 * send.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/perf_event.h>

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_ring.h"

struct ctl *ctl;
int cpus[64];
int ncpus;
int use_pin = 1;
int repeat = 3;
int failures;
int verbose;
char self_path[PATH_MAX];
char job_name[NAME_MAX_LEN];
uint64_t ring_size = (uint64_t)16 << 20;
int perf_fd = -1;	/* instructions, user space */
int futex_fd = -1;	/* futex(2) calls */
static unsigned job_counter;

/* ---- small helpers ------------------------------------------------------ */

void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void
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
void
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

int
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

/* Remove whatever the current job named, for every transport. */
void
cleanup_names(void)
{
	size_t i;

	if (job_name[0] == '\0')
		return;
	for (i = 0; i < ntransports; i++)
		if (transports[i]->unlink != NULL)
			transports[i]->unlink(job_name);
}

void
on_signal(int sig)
{
	cleanup_names();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- reader side -------------------------------------------------------- */

int
rd_fail(struct rd *rd, int rc, const char *what)
{
	snprintf(rd->st->err, sizeof(rd->st->err), "reader: %s: %s", what,
	    rc < 0 ? strerror(-rc) : shmr_strerror(rc));
	return rc < 0 ? rc : -EPROTO;
}

/* For transports the producer creates after the fork. */
int
rd_wait_created(struct rd *rd)
{
	while (!atomic_load(&ctl->created)) {
		if (atomic_load(&ctl->abort))
			return rd_fail(rd, -ECANCELED, "aborted");
		sleep_ms(1);
	}
	return 0;
}

/* Attached: pin this reader and tell the producer. */
void
rd_ready(struct rd *rd)
{
	pin((int)(rd->st - ctl->r));
	atomic_fetch_add(&ctl->ready, 1);
}

static void
reader_main(const struct tx *tx, int idx, int fd)
{
	const struct job *j = tx->job;
	struct rusage ru;
	struct rd rd;
	int rc;

	memset(&rd, 0, sizeof(rd));
	rd.job = j;
	rd.st = &ctl->r[idx];
	if (j->rate != 0) {
		rd.maxlat = (size_t)((double)j->rate * j->secs * 1.1) + 1024;
		rd.lat = malloc(rd.maxlat * sizeof(uint64_t));
	}
	rc = j->tp->read(&rd, tx, fd);
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
int
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
int
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
			rc = j->tp->send_batch(tx, iov, (size_t)batch);
			cnt += (uint64_t)batch;
			continue;
		}
		memcpy(msgs, &cnt, sizeof(cnt));
		rc = j->tp->send(tx, msgs, j->size);
		cnt++;
	}
	ctl->t_end = now_ns();
	counters(0);
	res->instr = counter_read(perf_fd);
	res->futex = counter_read(futex_fd);
	ctl->sent = rc == 0 ? cnt : cnt - (uint64_t)batch;
	if (rc < 0)
		snprintf(res->err, sizeof(res->err), "%s: send: %s",
		    j->tp->name, shmr_strerror(rc));
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
close_fds(struct tx *tx)
{
	int i;

	for (i = 0; i < tx->nfds; i++)
		close(tx->fds[i]);
	tx->nfds = 0;
}

/* Tell the readers to give up and say why. */
static void
job_abort(struct result *res, const char *why)
{
	if (why != NULL && res->err[0] == '\0')
		snprintf(res->err, sizeof(res->err), "%s", why);
	atomic_store(&ctl->abort, 1);
}

/* Wait until every reader has attached, or one failed, or 10 s passed. */
static int
wait_ready(const struct job *j, struct result *res)
{
	uint64_t deadline = now_ns() + 10000000000ull;
	int i;

	while (atomic_load(&ctl->ready) < j->nreaders) {
		for (i = 0; i < j->nreaders; i++)
			if (atomic_load(&ctl->r[i].finished))
				break;
		if (i < j->nreaders || now_ns() > deadline) {
			job_abort(res, i < j->nreaders ? ctl->r[i].err :
			    "readers did not attach within 10 s");
			return -1;
		}
		sleep_ms(1);
	}
	return 0;
}

/* Fold the readers' reports into res. */
static void
collect(const struct job *j, struct result *res)
{
	uint64_t tmax;
	int i, k;

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
		res->lost += j->tp->flags & TP_COUNTS_LOST ? st->lost :
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
}

void
run_job(const struct job *j, struct result *res)
{
	const struct transport *tp = j->tp;
	struct tx tx;
	pid_t pids[MAX_READERS];
	int rfd[MAX_READERS], sv[2], i, k, rc;
	unsigned char *msgs;
	int batch = j->batch > 1 ? j->batch : 1;

	memset(res, 0, sizeof(*res));
	memset(ctl, 0, sizeof(*ctl));
	memset(&tx, 0, sizeof(tx));
	memset(pids, 0, sizeof(pids));
	tx.job = j;
	job_counter++;
	snprintf(job_name, sizeof(job_name), "bench_ring.%ld.%u",
	    (long)getpid(), job_counter);
	if ((msgs = calloc((size_t)batch, j->size)) == NULL) {
		snprintf(res->err, sizeof(res->err), "out of memory");
		return;
	}
	for (i = 0; i < (int)j->size * batch; i++)
		msgs[i] = (unsigned char)(i * 7 + 1);

	/* Per-reader file descriptors for the fd transports. */
	for (i = 0; i < j->nreaders; i++) {
		rfd[i] = -1;
		if (tp->pair == NULL)
			continue;
		if ((rc = tp->pair(sv)) < 0) {
			snprintf(res->err, sizeof(res->err), "%s: %s",
			    tp->name, strerror(-rc));
			goto out;
		}
		rfd[i] = sv[0];
		tx.fds[tx.nfds++] = sv[1];
	}

	fflush(stdout);
	for (i = 0; i < j->nreaders; i++) {
		pids[i] = fork();
		if (pids[i] == -1) {
			snprintf(res->err, sizeof(res->err), "fork: %s",
			    strerror(errno));
			job_abort(res, NULL);
			goto out;
		}
		if (pids[i] == 0) {
			for (k = 0; k < j->nreaders; k++)
				if (k != i && rfd[k] >= 0)
					close(rfd[k]);
			close_fds(&tx);
			reader_main(&tx, i, rfd[i]);
		}
	}
	for (i = 0; i < j->nreaders; i++)
		if (rfd[i] >= 0)
			close(rfd[i]);

	if (tp->open != NULL &&
	    tp->open(&tx, res->err, sizeof(res->err)) < 0) {
		job_abort(res, NULL);
		goto out;
	}
	atomic_store(&ctl->created, 1);
	if (wait_ready(j, res) < 0)
		goto out;
	if (tp->start != NULL &&
	    tp->start(&tx, res->err, sizeof(res->err)) < 0) {
		job_abort(res, NULL);
		goto out;
	}
	pin(-1);
	atomic_store(&ctl->go, 1);
	rc = produce(j, &tx, msgs, res);
	if (tp->finish != NULL)
		tp->finish(&tx);
	/* The end of stream: closing the writer or the descriptors. */
	if (tp->close != NULL && tp->close(&tx) < 0 && rc == 0)
		snprintf(res->err, sizeof(res->err), "close failed");
	close_fds(&tx);
	unpin();
	reap(pids, j->nreaders, 10000);
	collect(j, res);
out:
	res->ok = res->err[0] == '\0';
	close_fds(&tx);
	if (tx.priv != NULL)
		(void)tp->close(&tx);
	reap(pids, j->nreaders, 2000);
	cleanup_names();
	job_name[0] = '\0';
	free(msgs);
}

/*
 * Run a row `repeat` times and keep the best run: the most delivered
 * messages per second, the highest producer rate, or the lowest median
 * latency. On a machine shared with other work the best of a few short
 * runs is closer to what the transport can do than one long run.
 */
void
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
