/*
 * hostile.c - the parts of tests/security_reader.sh: a producer, a
 * publish-rate probe, and a hostile reader that, with nothing but read
 * permission on a ring, tries each thing docs/SECURITY.md says it cannot
 * do. The script runs the hostile commands as another user.
 *
 *	hostile produce NAME		create NAME (0644), print "epoch E", publish
 *					a message per ms until SIGTERM (close)
 *	hostile rate NAME WARM_MS MS	create NAME (0644), wait WARM_MS, then
 *					publish 64-byte messages for MS; print
 *					"rate N cpu_rate M" (messages per second
 *					of wall and of CPU time); close, unlink
 *	hostile write NAME		try to write the ring: exit 0 if refused
 *	hostile lock NAME MS		take a read lock on the ring (byte 0 is
 *					where liveness is probed) as soon as
 *					one is granted, hold it until MS has
 *					passed; print "locked" or "refused"
 *	hostile sleepers NAME MS	keep the wait page's sleeper flag set for
 *					MS; print "holding" or "refused", then
 *					"wakes N in T ms": the producer's
 *					wake-ups meanwhile
 *	hostile epoch NAME VALUE	write VALUE over the wait page's record
 *					of the last epoch; "wrote" or "refused"
 *	hostile clear NAME MS		keep the sleeper flag cleared for MS, so
 *					the producer never wakes anyone
 *	hostile ticks NAME MS		create NAME (0644), publish two fillers
 *					and the time every 20 ms for MS, close
 *					and unlink
 *	hostile latency NAME MS		follow NAME for MS with blocking waits;
 *					print "latency max X ms avg Y ms n N"
 *
 * Exit 0 unless a step could not be set up (2) or, for write, the ring
 * was writable (1).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmring.h"
#include "layout.h"

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int
create(const char *name, uint64_t cap, struct shmr_writer **w)
{
	struct shmr_create_opts o = { .capacity = cap, .mode = 0644,
	    .gid = (gid_t)-1 };
	int rc;

	if ((rc = shmr_writer_create(name, &o, w)) < 0) {
		fprintf(stderr, "hostile: create %s: %s\n", name,
		    shmr_strerror(rc));
		exit(2);
	}
	return 0;
}

static int
cmd_produce(const char *name)
{
	struct shmr_writer *w;
	struct shmr_info in;
	char msg[64];
	uint64_t n = 0;

	signal(SIGTERM, on_term);
	create(name, 1 << 20, &w);
	shmr_writer_info(w, &in);
	printf("epoch %" PRIu64 "\n", in.epoch);
	fflush(stdout);
	while (!stop) {
		snprintf(msg, sizeof(msg), "message %" PRIu64, n++);
		shmr_writer_publish(w, msg, strlen(msg), NULL);
		nap_ms(1);
	}
	shmr_writer_close(w, 0);
	return 0;
}

static uint64_t
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

static int
cmd_rate(const char *name, long warm, long ms)
{
	struct shmr_writer *w;
	char msg[64];
	uint64_t n = 0, t0, t1, c0, c1;

	memset(msg, 'r', sizeof(msg));
	create(name, 4 << 20, &w);
	printf("ready\n");
	fflush(stdout);
	nap_ms(warm);
	t0 = mono_ms();
	c0 = cpu_us();
	do {
		for (int i = 0; i < 1000; i++)
			shmr_writer_publish(w, msg, sizeof(msg), NULL);
		n += 1000;
	} while ((t1 = mono_ms()) - t0 < (uint64_t)ms);
	c1 = cpu_us();
	/*
	 * Per second of wall time, and per second of the producer's own CPU
	 * time: the second is what a flag costs each publish (system calls,
	 * cache-line transfers), whatever else competes for the CPUs.
	 */
	printf("rate %" PRIu64 " cpu_rate %" PRIu64 "\n", n * 1000 / (t1 - t0),
	    c1 > c0 ? n * 1000000 / (c1 - c0) : 0);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
	return 0;
}

static int
open_shm(const char *prefix, const char *name, int flags)
{
	char path[256];

	snprintf(path, sizeof(path), "/%s%s", prefix, name);
	return shm_open(path, flags | O_NOFOLLOW | O_CLOEXEC, 0);
}

static int
cmd_write(const char *name)
{
	struct stat st;
	unsigned char *p;
	pid_t pid;
	int fd, bad = 0, status;
	void *q;

	if ((fd = open_shm(SHM_PREFIX, name, O_RDWR)) >= 0) {
		printf("open O_RDWR: allowed\n");
		bad = 1;
		close(fd);
	} else {
		printf("open O_RDWR: refused (%s)\n", strerror(errno));
	}
	if ((fd = open_shm(SHM_PREFIX, name, O_RDONLY)) < 0 ||
	    fstat(fd, &st) < 0) {
		fprintf(stderr, "hostile: cannot even read %s: %s\n", name,
		    strerror(errno));
		return 2;
	}
	q = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (q != MAP_FAILED) {
		printf("mmap PROT_WRITE: allowed\n");
		bad = 1;
		munmap(q, (size_t)st.st_size);
	} else {
		printf("mmap PROT_WRITE: refused (%s)\n", strerror(errno));
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 2;
	if (mprotect(p, 4096, PROT_READ | PROT_WRITE) == 0) {
		printf("mprotect PROT_WRITE: allowed\n");
		bad = 1;
	} else {
		printf("mprotect PROT_WRITE: refused (%s)\n", strerror(errno));
	}
	if (ftruncate(fd, 0) == 0) {
		printf("ftruncate: allowed\n");
		bad = 1;
	} else {
		printf("ftruncate: refused (%s)\n", strerror(errno));
	}
	/* A plain store into the read-only mapping, in a child. */
	if ((pid = fork()) == 0) {
		signal(SIGSEGV, SIG_DFL);
		((volatile unsigned char *)p)[4096] = 0xff;
		_exit(0);
	}
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV ||
	    WTERMSIG(status) == SIGBUS)) {
		printf("store into the mapping: faults (signal %d)\n",
		    WTERMSIG(status));
	} else {
		printf("store into the mapping: went through\n");
		bad = 1;
	}
	return bad;
}

static int
cmd_lock(const char *name, long ms)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET,
	    .l_start = 0, .l_len = 0 };
	int fd = open_shm(SHM_PREFIX, name, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "hostile: open %s: %s\n", name,
		    strerror(errno));
		return 2;
	}
	/* Whole file: covers byte 0, where liveness is probed. An OFD lock
	 * and a classic one: either might be mistaken for the producer's. */
	uint64_t t0 = mono_ms();

	/* A live producer's write lock excludes ours: keep trying, so the
	 * lock is taken the moment the producer dies. */
	for (;;) {
		if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
			printf("locked (OFD read lock)\n");
			break;
		}
		if (fcntl(fd, F_SETLK, &fl) == 0) {
			printf("locked (POSIX read lock)\n");
			break;
		}
		if (mono_ms() - t0 >= (uint64_t)ms) {
			printf("refused (%s)\n", strerror(errno));
			return 0;
		}
		nap_ms(1);
	}
	fflush(stdout);
	nap_ms(ms - (long)(mono_ms() - t0));
	return 0;
}

static struct wait_page *
map_wait(const char *name)
{
	int fd = open_shm(WAIT_PREFIX, name, O_RDWR);
	void *p;

	if (fd < 0) {
		printf("refused (open O_RDWR: %s)\n", strerror(errno));
		return NULL;
	}
	p = mmap(NULL, sizeof(struct wait_page), PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		printf("refused (mmap: %s)\n", strerror(errno));
		return NULL;
	}
	return p;
}

static int
cmd_sleepers(const char *name, long ms)
{
	struct wait_page *wp = map_wait(name);
	uint64_t t0 = mono_ms();

	uint32_t n0;

	if (wp == NULL)
		return 0;
	printf("holding\n");
	fflush(stdout);
	/* The producer bumps notify once per wake-up (wait.c). */
	n0 = atomic_load(&wp->notify);
	/* What a hostile reader can do: the flag set at every moment. */
	while (mono_ms() - t0 < (uint64_t)ms)
		for (int i = 0; i < 1000; i++)
			atomic_store_explicit(&wp->sleepers, 1,
			    memory_order_relaxed);
	printf("wakes %" PRIu32 " in %" PRIu64 " ms\n",
	    atomic_load(&wp->notify) - n0, mono_ms() - t0);
	return 0;
}

static int
cmd_epoch(const char *name, uint64_t v)
{
	struct wait_page *wp = map_wait(name);

	if (wp == NULL)
		return 0;
	/* where producers before issue 12 read the next epoch from */
	atomic_store(&wp->unused, v);
	printf("wrote\n");
	return 0;
}

static int
cmd_clear(const char *name, long ms)
{
	struct wait_page *wp = map_wait(name);
	uint64_t t0 = mono_ms();

	if (wp == NULL)
		return 0;
	printf("clearing\n");
	fflush(stdout);
	while (mono_ms() - t0 < (uint64_t)ms)
		for (int i = 0; i < 1000; i++)
			atomic_store_explicit(&wp->sleepers, 0,
			    memory_order_relaxed);
	return 0;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmd_ticks(const char *name, long ms)
{
	struct shmr_writer *w;
	uint64_t t0 = mono_ms(), now;

	create(name, 1 << 16, &w);
	printf("ready\n");
	fflush(stdout);
	/*
	 * Bursts of three, the tick last: the second and third publish come
	 * within libshm's wake-up gap, so a producer rationing wake-ups (a
	 * hostile flag, wait.c) puts their wake-ups off and then idles: the
	 * tick's latency is what rationing can cost a sleeping reader.
	 */
	while (mono_ms() - t0 < (uint64_t)ms) {
		shmr_writer_publish(w, "f", 1, NULL);
		shmr_writer_publish(w, "f", 1, NULL);
		now = mono_ns();
		shmr_writer_publish(w, &now, sizeof(now), NULL);
		nap_ms(20);
	}
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
	return 0;
}

static int
cmd_latency(const char *name, long ms)
{
	struct shmr_reader *r;
	struct shmr_msg m;
	uint64_t t0 = mono_ms(), ts, lat, max = 0, sum = 0, n = 0;
	int rc;

	while ((rc = shmr_reader_open(name, SHMR_FROM_END, 0, &r)) < 0) {
		if (mono_ms() - t0 > 5000) {
			fprintf(stderr, "hostile: open %s: %s\n", name,
			    shmr_strerror(rc));
			return 2;
		}
		nap_ms(5);
	}
	while (mono_ms() - t0 < (uint64_t)ms) {
		rc = shmr_reader_next(r, &m);
		if (rc == SHMR_MSG && m.len == sizeof(ts)) {
			memcpy(&ts, m.data, sizeof(ts));
			lat = mono_ns() - ts;
			max = lat > max ? lat : max;
			sum += lat;
			n++;
		} else if (rc == SHMR_EMPTY) {
			/* Long: only libshm's own re-check bounds a wake-up
			 * that never comes. */
			shmr_reader_wait(r, 2000, 0);
		} else if (rc == SHMR_EOF) {
			break;
		}
	}
	printf("latency max %.1f ms avg %.2f ms n %" PRIu64 "\n", max / 1e6,
	    n ? sum / 1e6 / (double)n : 0.0, n);
	shmr_reader_close(r);
	return 0;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "produce") == 0)
		return cmd_produce(argv[2]);
	if (argc == 5 && strcmp(argv[1], "rate") == 0)
		return cmd_rate(argv[2], atol(argv[3]), atol(argv[4]));
	if (argc == 3 && strcmp(argv[1], "write") == 0)
		return cmd_write(argv[2]);
	if (argc == 4 && strcmp(argv[1], "lock") == 0)
		return cmd_lock(argv[2], atol(argv[3]));
	if (argc == 4 && strcmp(argv[1], "sleepers") == 0)
		return cmd_sleepers(argv[2], atol(argv[3]));
	if (argc == 4 && strcmp(argv[1], "clear") == 0)
		return cmd_clear(argv[2], atol(argv[3]));
	if (argc == 4 && strcmp(argv[1], "ticks") == 0)
		return cmd_ticks(argv[2], atol(argv[3]));
	if (argc == 4 && strcmp(argv[1], "latency") == 0)
		return cmd_latency(argv[2], atol(argv[3]));
	if (argc == 4 && strcmp(argv[1], "epoch") == 0)
		return cmd_epoch(argv[2], strtoull(argv[3], NULL, 0));
	fprintf(stderr, "usage: hostile produce|rate|write|lock|sleepers|"
	    "epoch|clear|ticks|latency NAME ...\n");
	return 2;
}
