/*
 * bench_ingest.c - how fast ringd(8) takes messages in, next to the cost
 * of the pipe or socket that feeds it. A report for `make bench`, never a
 * test: it exits non-zero only when something fails outright.
 *
 * For 64-byte and 1 KiB messages it measures, one producer each:
 *
 *   lines  cat              the bench writes lines into `cat > /dev/null`
 *   lines  ringd stdin      the same lines into ringd's stdin
 *   dgram  sink             datagrams into a Unix socket whose only reader
 *                           receives them (recvmmsg) and throws them away
 *   dgram  ringd unix:      the same datagrams into ringd -i unix:PATH
 *
 * A message of S bytes is S payload bytes (a line adds its newline).
 * Time runs from the first write until the consumer has the last message:
 * cat or the sink exited after counting them, or the ring's header counts
 * them all (ringd is polled through shmr_ring_info()). ringd runs with
 * its defaults (a 64 MiB ring), timed from its ready line on: the first
 * lap through a new ring also pays the kernel's page clearing. "cpu" is the
 * consumer's user + system time over that span, from /proc: below 100%
 * means it waited for input, i.e. it was not the bottleneck.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmring.h"

#ifndef RINGD_PATH
#define RINGD_PATH "build/bin/ringd"
#endif

#define CHUNK		(1 << 20)
/* Datagrams go at a few 100k/s: cap their count to keep `make bench` short. */
#define DGRAM_MAX	(1u << 20)

static const char *ringd = RINGD_PATH;
static char ring[64], sock_path[108];

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench_ingest: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	shmr_unlink(ring);
	unlink(sock_path);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* user + system CPU seconds of a process, from /proc/PID/stat. */
static double
cpu_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name "(...)": state is field 3. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu "
	    "%llu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Reap a child; its whole CPU time (it lived only for the run). */
static double
reap_cpu(pid_t pid, const char *what)
{
	struct rusage ru;
	int st;

	if (wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		die("%s failed", what);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write: %s", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Write count lines of size payload bytes (plus '\n') into fd. */
static void
feed_lines(int fd, size_t size, uint64_t count)
{
	static char buf[CHUNK];
	size_t per = CHUNK / (size + 1), line = size + 1;

	for (size_t i = 0; i < per; i++) {
		for (size_t k = 0; k < size; k++)
			buf[i * line + k] = (char)('a' + (i + k) % 26);
		buf[i * line + size] = '\n';
	}
	while (count > 0) {
		size_t n = count < per ? (size_t)count : per;

		write_all(fd, buf, n * line);
		count -= n;
	}
}

static void
feed_dgrams(const char *path, size_t size, uint64_t count)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[2048];
	int fd;

	memset(buf, 'd', sizeof(buf));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		die("socket: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect %s: %s", path, strerror(errno));
	for (uint64_t i = 0; i < count; i++) {
		memcpy(buf, &i, sizeof(i));
		while (send(fd, buf, size, 0) != (ssize_t)size)
			if (errno != EINTR)
				die("send: %s", strerror(errno));
	}
	close(fd);
}

struct result {
	double	secs;
	double	cpu;		/* consumer CPU seconds in that span */
};

static void
row(const char *what, size_t size, uint64_t count, const struct result *r)
{
	printf("%-26s %6zu B %9llu %11.0f %8.1f %5.0f%%\n", what, size,
	    (unsigned long long)count, (double)count / r->secs, (double)count * (double)size / r->secs /
	    1e6, 100.0 * r->cpu / r->secs);
	fflush(stdout);
}

/* cat > /dev/null, fed lines through a pipe. */
static struct result
run_cat(size_t size, uint64_t count)
{
	struct result r;
	double t0;
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);

		dup2(pfd[0], STDIN_FILENO);
		dup2(nul, STDOUT_FILENO);
		execlp("cat", "cat", (char *)NULL);
		_exit(127);
	}
	close(pfd[0]);
	t0 = now();
	feed_lines(pfd[1], size, count);
	close(pfd[1]);
	r.cpu = reap_cpu(pid, "cat");
	r.secs = now() - t0;
	return r;
}

/* A child that receives count datagrams and drops them. */
static struct result
run_sink(size_t size, uint64_t count)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct result r;
	double t0;
	int fd, rb = 4 << 20;
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	unlink(sock_path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("sink socket %s: %s", sock_path, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		static char bufs[64][2048];
		struct mmsghdr h[64];
		struct iovec iov[64];
		uint64_t got = 0;

		for (int i = 0; i < 64; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
		}
		while (got < count) {
			int n;

			memset(h, 0, sizeof(h));
			for (int i = 0; i < 64; i++) {
				h[i].msg_hdr.msg_iov = &iov[i];
				h[i].msg_hdr.msg_iovlen = 1;
			}
			n = recvmmsg(fd, h, 64, MSG_WAITFORONE, NULL);
			if (n < 0 && errno != EINTR)
				_exit(1);
			got += n > 0 ? (uint64_t)n : 0;
		}
		_exit(0);
	}
	close(fd);
	t0 = now();
	feed_dgrams(sock_path, size, count);
	r.cpu = reap_cpu(pid, "sink");
	r.secs = now() - t0;
	unlink(sock_path);
	return r;
}

/* Poll politely until the ring has count messages. */
static void
wait_count(struct shmr_ring *rp, uint64_t count)
{
	struct timespec ts = { 0, 50 * 1000 };
	struct shmr_info info;

	for (;;) {
		if (shmr_ring_info(rp, &info) < 0)
			die("ring info failed");
		if (info.messages >= count)
			return;
		nanosleep(&ts, NULL);
	}
}

/*
 * Start ringd on a stdin pipe (*in), plus the socket when sock, with its
 * stderr on a pipe; wait for its ready line and open the ring. Then one
 * lap of 1 KiB lines through the ring, so the run measures a ring in use,
 * not the kernel clearing the pages of a new one (*warm: how many).
 */
static pid_t
start_ringd(bool sock, int *in, struct shmr_ring **rp, uint64_t *warm)
{
	int epfd[2], ipfd[2], rc;
	char line[4096], sockin[128];
	size_t len = 0;
	struct shmr_info info;
	pid_t pid;

	snprintf(sockin, sizeof(sockin), "unix:%s", sock_path);
	if (pipe2(epfd, O_CLOEXEC) < 0 || pipe2(ipfd, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(epfd[1], STDERR_FILENO);
		dup2(ipfd[0], STDIN_FILENO);
		if (sock)
			execl(ringd, "ringd", "-q", "--keep", "-i", "stdin",
			    "-i", sockin, ring, (char *)NULL);
		else
			execl(ringd, "ringd", "-q", "--keep", ring,
			    (char *)NULL);
		dprintf(epfd[1], "exec %s: %s\n", ringd, strerror(errno));
		_exit(127);
	}
	close(epfd[1]);
	close(ipfd[0]);
	*in = ipfd[1];
	/* Wait for "ready (" on its stderr. */
	for (;;) {
		ssize_t n = read(epfd[0], line + len, sizeof(line) - 1 - len);

		if (n <= 0)
			die("ringd ended before it was ready: %.*s", (int)len,
			    line);
		len += (size_t)n;
		line[len] = '\0';
		if (strstr(line, "ready (") != NULL)
			break;
		if (len == sizeof(line) - 1)
			len = 0;
	}
	close(epfd[0]);		/* -q: nothing more until it exits */
	if ((rc = shmr_ring_open(ring, NULL, rp)) < 0)
		die("ring %s: %s", ring, shmr_strerror(rc));
	if ((rc = shmr_ring_info(*rp, &info)) < 0)
		die("ring %s: %s", ring, shmr_strerror(rc));
	*warm = info.capacity / 1024 + 1024;
	feed_lines(*in, 1023, *warm);
	wait_count(*rp, *warm);
	return pid;
}

static void
stop_ringd(pid_t pid, struct shmr_ring *rp, uint64_t count)
{
	struct shmr_info info;
	int st;

	if (shmr_ring_info(rp, &info) < 0 || info.messages != count)
		die("ring has %llu messages, expected %llu",
		    (unsigned long long)info.messages,
		    (unsigned long long)count);
	shmr_ring_close(rp);
	kill(pid, SIGTERM);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		die("ringd did not exit cleanly");
	shmr_unlink(ring);
}

static struct result
run_ringd_lines(size_t size, uint64_t count)
{
	struct shmr_ring *rp;
	struct result r;
	uint64_t warm;
	double t0, c0;
	int in;
	pid_t pid = start_ringd(false, &in, &rp, &warm);

	t0 = now();
	c0 = cpu_of(pid);
	feed_lines(in, size, count);
	close(in);
	wait_count(rp, warm + count);
	r.secs = now() - t0;
	r.cpu = cpu_of(pid) - c0;
	stop_ringd(pid, rp, warm + count);
	return r;
}

static struct result
run_ringd_dgrams(size_t size, uint64_t count)
{
	struct shmr_ring *rp;
	struct result r;
	uint64_t warm;
	double t0, c0;
	int in;
	pid_t pid = start_ringd(true, &in, &rp, &warm);

	t0 = now();
	c0 = cpu_of(pid);
	feed_dgrams(sock_path, size, count);
	wait_count(rp, warm + count);
	r.secs = now() - t0;
	r.cpu = cpu_of(pid) - c0;
	close(in);
	stop_ringd(pid, rp, warm + count);
	return r;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "mbytes", required_argument, NULL, 'b' },
		{ "quick", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const size_t sizes[] = { 64, 1024 };
	const char *e = getenv("RINGD");
	uint64_t mbytes = 256;
	int c;

	while ((c = getopt_long(argc, argv, "b:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			mbytes = strtoull(optarg, NULL, 10);
			if (mbytes == 0)
				die("--mbytes %s: expected a positive number",
				    optarg);
			break;
		case 'q':
			mbytes = 16;
			break;
		case 'h':
			printf("usage: bench_ingest [--quick] [--mbytes N]\n"
			    "  N MiB of payload per case (default 256; "
			    "--quick: 16); RINGD=path overrides ringd\n");
			return 0;
		default:
			return 2;
		}
	}
	if (e != NULL && *e != '\0')
		ringd = e;
	signal(SIGPIPE, SIG_IGN);
	snprintf(ring, sizeof(ring), "bench-ingest-%ld", (long)getpid());
	snprintf(sock_path, sizeof(sock_path), "/tmp/bench-ingest-%ld.sock",
	    (long)getpid());

	printf("ringd ingest: %llu MiB of payload per case (datagrams: at "
	    "most %u), one producer, %ld CPUs\n", (unsigned long long)mbytes,
	    DGRAM_MAX, sysconf(_SC_NPROCESSORS_ONLN));
	printf("%-26s %8s %9s %11s %8s %6s\n", "case", "size", "msgs",
	    "msgs/s", "MB/s", "cpu");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t s = sizes[i];
		uint64_t n = (mbytes << 20) / s;
		struct result r;

		r = run_cat(s, n);
		row("lines  cat > /dev/null", s, n, &r);
		r = run_ringd_lines(s, n);
		row("lines  ringd (stdin)", s, n, &r);
		if (n > DGRAM_MAX)
			n = DGRAM_MAX;
		r = run_sink(s, n);
		row("dgram  sink (recv+drop)", s, n, &r);
		r = run_ringd_dgrams(s, n);
		row("dgram  ringd (unix:)", s, n, &r);
	}
	printf("cpu: the consumer's CPU time over the run; below 100%% it "
	    "waited for its input.\n");
	return 0;
}
