/*
 * test_ringd.c - ringd(8) end to end: each test starts the built binary
 * (RINGD_PATH, or $RINGD), feeds it through a pipe, a FIFO or its sockets,
 * and reads the ring back through libshm. Nothing here depends on timing:
 * waits poll a condition (a log line, a message count) and Criterion's
 * timeout is the only bound.
 *
 * Every test uses rings, sockets and files named after its own pid, and
 * the .fini hook kills what it started and removes what it created.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmring.h"

#ifndef RINGD_PATH
#define RINGD_PATH "build/bin/ringd"
#endif

#define MAXPROC	4

struct proc {
	pid_t	pid;
	int	in;			/* write end of its stdin, or -1 */
	char	err[96];		/* its stderr, a file */
};

static struct {
	char		ring[64];
	char		path[2][96];	/* sockets, FIFOs, pidfiles */
	struct proc	p[MAXPROC];
	int		np;
} T;

static const char *
ringd_bin(void)
{
	const char *e = getenv("RINGD");

	return e != NULL && *e != '\0' ? e : RINGD_PATH;
}

static void
setup(void)
{
	static int n;

	memset(&T, 0, sizeof(T));
	snprintf(T.ring, sizeof(T.ring), "t-ringd-%ld-%d", (long)getpid(),
	    n);
	for (int i = 0; i < 2; i++)
		snprintf(T.path[i], sizeof(T.path[i]), "/tmp/t-ringd-%ld-%d.%d",
		    (long)getpid(), n, i);
	n++;
}

static void
teardown(void)
{
	for (int i = 0; i < T.np; i++) {
		if (T.p[i].pid > 0) {
			kill(T.p[i].pid, SIGKILL);
			waitpid(T.p[i].pid, NULL, 0);
		}
		if (T.p[i].in >= 0)
			close(T.p[i].in);
		unlink(T.p[i].err);
	}
	for (int i = 0; i < 2; i++)
		unlink(T.path[i]);
	shmr_unlink(T.ring);
}

TestSuite(ringd, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ---------------------------------------------------------- */

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
	buf = malloc(1 << 20);
	cr_assert_not_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static bool
log_has(const struct proc *p, const char *needle)
{
	char *s = slurp(p->err);
	bool r = strstr(s, needle) != NULL;

	free(s);
	return r;
}

static void
nap(void)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/*
 * Start ringd with argv (NULL-terminated, without the program name).
 * with_stdin: give it a pipe as stdin (p->in), else /dev/null.
 */
static struct proc *
spawn(bool with_stdin, const char *const *argv)
{
	struct proc *p;
	const char *av[32];
	int pfd[2] = { -1, -1 }, efd, k = 0;

	cr_assert_lt(T.np, MAXPROC);
	p = &T.p[T.np];
	snprintf(p->err, sizeof(p->err), "/tmp/t-ringd-%ld-%d.err",
	    (long)getpid(), T.np);
	T.np++;
	p->in = -1;
	av[k++] = ringd_bin();
	while (*argv != NULL && k < 31)
		av[k++] = *argv++;
	av[k] = NULL;
	if (with_stdin)
		cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
	efd = open(p->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(efd, 0);
	p->pid = fork();
	cr_assert_geq(p->pid, 0);
	if (p->pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		/* Dies with the test even if the test crashes or times out. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(with_stdin ? pfd[0] : nul, STDIN_FILENO);
		dup2(efd, STDOUT_FILENO);
		dup2(efd, STDERR_FILENO);
		execv(av[0], (char *const *)av);
		dprintf(efd, "exec %s: %s\n", av[0], strerror(errno));
		_exit(127);
	}
	close(efd);
	if (with_stdin) {
		close(pfd[0]);
		p->in = pfd[1];
	}
	return p;
}

/* Wait for the process to exit; its exit status (or 128 + signal). */
static int
reap(struct proc *p)
{
	int st;
	char *log;

	cr_assert_eq(waitpid(p->pid, &st, 0), p->pid);
	p->pid = 0;
	log = slurp(p->err);
	cr_expect_null(strstr(log, "Sanitizer"), "ringd log:\n%s", log);
	cr_expect_null(strstr(log, "runtime error"), "ringd log:\n%s", log);
	free(log);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Wait until ringd logs its ready line (it fails the test if it exits). */
static void
wait_ready(struct proc *p)
{
	int st;

	while (!log_has(p, "ready (")) {
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			char *log = slurp(p->err);

			p->pid = 0;
			cr_assert_fail("ringd exited (status %d) before "
			    "ready:\n%s", st, log);
		}
		nap();
	}
}

static void
wait_log(struct proc *p, const char *needle)
{
	while (!log_has(p, needle))
		nap();
}

static void
stop(struct proc *p)
{
	if (p->in >= 0) {
		close(p->in);
		p->in = -1;
	}
	kill(p->pid, SIGTERM);
	cr_assert_eq(reap(p), 0, "ringd did not exit 0 on SIGTERM");
}

static void
write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		cr_assert_gt(w, 0, "write: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

/* Wait until the ring holds at least n messages in this epoch. */
static void
wait_messages(uint64_t n)
{
	struct shmr_ring *ring;
	struct shmr_info info;

	for (;;) {
		if (shmr_ring_open(T.ring, NULL, &ring) == 0) {
			cr_assert_eq(shmr_ring_info(ring, &info), 0);
			shmr_ring_close(ring);
			if (info.messages >= n)
				return;
		}
		nap();
	}
}

/* Next event of a reader, waiting through SHMR_EMPTY. */
static int
next(struct shmr_reader *r, struct shmr_msg *m)
{
	int rc;

	while ((rc = shmr_reader_next(r, m)) == SHMR_EMPTY) {
		int w = shmr_reader_wait(r, 100, 0);

		cr_assert(w == 0 || w == -ETIMEDOUT || w == -EINTR,
		    "wait: %s", shmr_strerror(w));
	}
	return rc;
}

static void
expect_msg(struct shmr_reader *r, const void *data, size_t len)
{
	struct shmr_msg m;
	int rc = next(r, &m);

	cr_assert_eq(rc, SHMR_MSG, "expected a %zu-byte message, got %s",
	    len, shmr_strerror(rc));
	cr_assert_eq(m.len, len, "length %zu, expected %zu", m.len, len);
	cr_assert_eq(memcmp(m.data, data, len), 0);
}

static void
expect_str(struct shmr_reader *r, const char *s)
{
	expect_msg(r, s, strlen(s));
}

static void
expect_eof(struct shmr_reader *r)
{
	struct shmr_msg m;
	int rc = next(r, &m);

	cr_assert_eq(rc, SHMR_EOF, "expected end of stream, got %s (%d)",
	    shmr_strerror(rc), rc);
}

static struct shmr_reader *
open_reader(void)
{
	struct shmr_reader *r;
	int rc = shmr_reader_open(T.ring, SHMR_FROM_OLDEST, 0, &r);

	cr_assert_eq(rc, 0, "reader open %s: %s", T.ring, shmr_strerror(rc));
	return r;
}

static int
dgram_connect(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type, 0);

	cr_assert_geq(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
	    "connect %s: %s", path, strerror(errno));
	return fd;
}

static void
send_msg(int fd, const void *p, size_t n)
{
	cr_assert_eq(send(fd, p, n, 0), (ssize_t)n, "send: %s",
	    strerror(errno));
}

static uint64_t
env_count(const char *name, uint64_t dflt)
{
	const char *e = getenv(name);

	return e != NULL && *e != '\0' ? strtoull(e, NULL, 10) : dflt;
}

/* Line i of the million-line test: varied lengths, content from i. */
static size_t
make_line(char *buf, uint64_t i)
{
	int n = sprintf(buf, "%llu:", (unsigned long long)i);

	for (uint64_t k = 0; k < i % 41; k++)
		buf[n++] = (char)('a' + (i + k) % 26);
	return (size_t)n;
}

/* ---- tests ------------------------------------------------------------ */

Test(ringd, million_lines_identical_and_in_order)
{
	uint64_t n = env_count("RINGD_TEST_LINES", 1000000);
	const char *argv[] = { "-s", "256M", "--keep", T.ring, NULL };
	struct proc *p = spawn(true, argv);
	struct shmr_reader *r;
	struct shmr_msg m;
	char *buf = malloc(1 << 20), line[64];
	size_t len = 0;

	cr_assert_not_null(buf);
	for (uint64_t i = 0; i < n; i++) {
		len += make_line(buf + len, i);
		buf[len++] = '\n';
		if (len > (1 << 20) - 128) {
			write_all(p->in, buf, len);
			len = 0;
		}
	}
	write_all(p->in, buf, len);
	close(p->in);
	p->in = -1;
	cr_assert_eq(reap(p), 0, "ringd failed at end of input");
	free(buf);

	r = open_reader();
	for (uint64_t i = 0; i < n; i++) {
		int rc = next(r, &m);
		size_t l = make_line(line, i);

		cr_assert_eq(rc, SHMR_MSG, "message %llu: %s",
		    (unsigned long long)i, shmr_strerror(rc));
		cr_assert_eq(m.seq, i);
		cr_assert_eq(m.len, l, "message %llu: length %zu, not %zu",
		    (unsigned long long)i, m.len, l);
		cr_assert_eq(memcmp(m.data, line, l), 0, "message %llu "
		    "differs", (unsigned long long)i);
	}
	expect_eof(r);
	shmr_reader_close(r);
}

Test(ringd, lines_read_while_ringd_runs)
{
	const char *argv[] = { T.ring, NULL };
	struct proc *p = spawn(true, argv);
	struct shmr_reader *r;
	char line[64];

	wait_ready(p);
	r = open_reader();
	for (int i = 0; i < 20000; i++) {
		int l = sprintf(line, "msg %d\n", i);

		write_all(p->in, line, (size_t)l);
	}
	for (int i = 0; i < 20000; i++) {
		sprintf(line, "msg %d", i);
		expect_str(r, line);
	}
	close(p->in);
	p->in = -1;
	expect_eof(r);
	cr_assert_eq(reap(p), 0);
	shmr_reader_close(r);
	/* Without --keep the ring is gone once closed. */
	cr_assert_eq(shmr_reader_open(T.ring, SHMR_FROM_OLDEST, 0, &r),
	    -ENOENT);
}

Test(ringd, datagrams_from_many_writers_exactly_once)
{
	enum { WRITERS = 4 };
	uint64_t per = env_count("RINGD_TEST_DGRAMS", 20000);
	char in[128];
	const char *argv[] = { "-s", "64M", "--keep", "-i", in, T.ring, NULL };
	struct proc *p;
	struct shmr_reader *r;
	struct shmr_msg m;
	unsigned char *seen;
	pid_t w[WRITERS];
	uint64_t total = 0;
	int rc;

	snprintf(in, sizeof(in), "unix:%s", T.path[0]);
	p = spawn(false, argv);
	wait_ready(p);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = fork();
		cr_assert_geq(w[i], 0);
		if (w[i] == 0) {
			int fd = dgram_connect(T.path[0], SOCK_DGRAM);
			char msg[64];

			for (uint64_t k = 0; k < per; k++) {
				int l = sprintf(msg, "w%d:%llu", i,
				    (unsigned long long)k);

				if (send(fd, msg, (size_t)l, 0) != l)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int i = 0; i < WRITERS; i++) {
		int st;

		cr_assert_eq(waitpid(w[i], &st, 0), w[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "writer %d failed", i);
	}
	stop(p);

	seen = calloc(WRITERS * per, 1);
	cr_assert_not_null(seen);
	r = open_reader();
	while ((rc = next(r, &m)) == SHMR_MSG) {
		char s[64];
		int wi;
		unsigned long long k;

		cr_assert_lt(m.len, sizeof(s));
		memcpy(s, m.data, m.len);
		s[m.len] = '\0';
		cr_assert_eq(sscanf(s, "w%d:%llu", &wi, &k), 2, "bad '%s'", s);
		cr_assert(wi >= 0 && wi < WRITERS && k < per, "bad '%s'", s);
		cr_assert_eq(seen[wi * per + k], 0, "'%s' twice", s);
		seen[wi * per + k] = 1;
		total++;
	}
	cr_assert_eq(rc, SHMR_EOF, "ended with %s", shmr_strerror(rc));
	cr_assert_eq(total, WRITERS * per, "%llu of %llu messages",
	    (unsigned long long)total, (unsigned long long)(WRITERS * per));
	shmr_reader_close(r);
	free(seen);
	/* ringd removes its socket file on exit. */
	cr_assert_eq(access(T.path[0], F_OK), -1);
}

Test(ringd, seqpacket_connections)
{
	char in[128];
	const char *argv[] = { "--keep", "-i", in, T.ring, NULL };
	struct proc *p;
	struct shmr_reader *r;
	int a, b;

	snprintf(in, sizeof(in), "seqpacket:%s", T.path[0]);
	p = spawn(false, argv);
	wait_ready(p);
	a = dgram_connect(T.path[0], SOCK_SEQPACKET);
	send_msg(a, "a1", 2);
	wait_messages(1);
	b = dgram_connect(T.path[0], SOCK_SEQPACKET);
	send_msg(b, "b1", 2);
	wait_messages(2);
	send_msg(a, "a2", 2);
	close(a);
	wait_messages(3);
	send_msg(b, "b2", 2);
	wait_messages(4);
	close(b);
	stop(p);
	r = open_reader();
	expect_str(r, "a1");
	expect_str(r, "b1");
	expect_str(r, "a2");
	expect_str(r, "b2");
	expect_eof(r);
	shmr_reader_close(r);
}

Test(ringd, oversize_datagram_rejected_not_truncated)
{
	char in[128], big[1025];
	const char *argv[] = { "-s", "1M", "-m", "1K", "--keep", "-i", in,
	    T.ring, NULL };
	struct proc *p;
	struct shmr_reader *r;
	int fd;

	memset(big, 'x', sizeof(big));
	snprintf(in, sizeof(in), "unix:%s", T.path[0]);
	p = spawn(false, argv);
	wait_ready(p);
	fd = dgram_connect(T.path[0], SOCK_DGRAM);
	send_msg(fd, "ok1", 3);
	send_msg(fd, big, 1025);		/* max + 1: rejected */
	send_msg(fd, big, 1024);		/* exactly max: accepted */
	send_msg(fd, "", 0);			/* empty: a message */
	send_msg(fd, "ok2", 3);
	close(fd);
	wait_messages(4);
	stop(p);
	cr_assert(log_has(p, "rejected a 1025-byte message"));
	cr_assert(log_has(p, "1 oversize rejected"));
	r = open_reader();
	expect_str(r, "ok1");
	expect_msg(r, big, 1024);
	expect_msg(r, "", 0);
	expect_str(r, "ok2");
	expect_eof(r);
	shmr_reader_close(r);
}

Test(ringd, overlong_lines_rejected_and_resynced)
{
	const char *argv[] = { "-s", "1M", "-m", "1K", "--keep", T.ring,
	    NULL };
	struct proc *p = spawn(true, argv);
	struct shmr_reader *r;
	size_t hugelen = 600 << 10;	/* spans many reads */
	char *huge = malloc(hugelen), fits[1024];

	cr_assert_not_null(huge);
	memset(huge, 'y', hugelen);
	memset(fits, 'z', sizeof(fits));
	write_all(p->in, "first\n", 6);
	write_all(p->in, huge, 1025);
	write_all(p->in, "\nsecond\n", 8);
	write_all(p->in, huge, hugelen);
	write_all(p->in, "\n", 1);
	write_all(p->in, fits, sizeof(fits));
	write_all(p->in, "\nthird", 6);	/* no final newline */
	close(p->in);
	p->in = -1;
	cr_assert_eq(reap(p), 0);
	free(huge);
	cr_assert(log_has(p, "rejected a 1025-byte message"));
	cr_assert(log_has(p, "2 oversize rejected"), "%s", slurp(p->err));
	r = open_reader();
	expect_str(r, "first");
	expect_str(r, "second");
	expect_msg(r, fits, sizeof(fits));
	expect_str(r, "third");
	expect_eof(r);
	shmr_reader_close(r);
}

static size_t
put_len32(unsigned char *p, uint32_t len, const void *data, size_t n)
{
	p[0] = (unsigned char)(len >> 24);
	p[1] = (unsigned char)(len >> 16);
	p[2] = (unsigned char)(len >> 8);
	p[3] = (unsigned char)len;
	memcpy(p + 4, data, n);
	return 4 + n;
}

Test(ringd, len32_oversize_skipped_and_garbage_closes_input)
{
	const char *argv[] = { "-s", "1M", "-m", "1K", "-F", "len32",
	    "--keep", T.ring, NULL };
	struct proc *p = spawn(true, argv);
	struct shmr_reader *r;
	unsigned char *buf = malloc(16384), pay[2000];
	size_t n = 0;

	cr_assert_not_null(buf);
	memset(pay, 'p', sizeof(pay));
	n += put_len32(buf + n, 3, "abc", 3);
	n += put_len32(buf + n, 2000, pay, 2000);	/* oversize: skipped */
	n += put_len32(buf + n, 0, "", 0);
	n += put_len32(buf + n, 1, "z", 1);
	memcpy(buf + n, "GET / HTTP/1.1\r\n", 16);	/* not len32 */
	n += 16;
	n += put_len32(buf + n, 3, "zzz", 3);		/* never read */
	write_all(p->in, buf, n);
	close(p->in);
	p->in = -1;
	cr_assert_eq(reap(p), 0);
	free(buf);
	cr_assert(log_has(p, "absurd"));
	cr_assert(log_has(p, "closing input"));
	cr_assert(log_has(p, "1 oversize rejected, 1 malformed"));
	r = open_reader();
	expect_str(r, "abc");
	expect_msg(r, "", 0);
	expect_str(r, "z");
	expect_eof(r);
	shmr_reader_close(r);
}

Test(ringd, fixed_records)
{
	const char *argv[] = { "-F", "fixed:8", "--keep", T.ring, NULL };
	struct proc *p = spawn(true, argv);
	struct shmr_reader *r;
	char buf[8 * 100 + 3];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)('A' + i / 8 % 26);
	write_all(p->in, buf, sizeof(buf));
	close(p->in);
	p->in = -1;
	cr_assert_eq(reap(p), 0);
	cr_assert(log_has(p, "3 of 8 bytes dropped"));
	r = open_reader();
	for (int i = 0; i < 100; i++)
		expect_msg(r, buf + 8 * i, 8);
	expect_eof(r);
	shmr_reader_close(r);
}

Test(ringd, fifo_survives_writers)
{
	char in[128];
	const char *argv[] = { "--keep", "-i", in, T.ring, NULL };
	struct proc *p;
	struct shmr_reader *r;
	int fd;

	cr_assert_eq(mkfifo(T.path[0], 0600), 0);
	snprintf(in, sizeof(in), "file:%s", T.path[0]);
	p = spawn(false, argv);
	wait_ready(p);
	fd = open(T.path[0], O_WRONLY);
	cr_assert_geq(fd, 0);
	write_all(fd, "one\ntwo", 7);		/* unterminated, then EOF */
	close(fd);
	wait_messages(2);
	fd = open(T.path[0], O_WRONLY);
	cr_assert_geq(fd, 0);
	write_all(fd, "three\n", 6);
	close(fd);
	wait_messages(3);
	stop(p);
	r = open_reader();
	expect_str(r, "one");
	expect_str(r, "two");
	expect_str(r, "three");
	expect_eof(r);
	shmr_reader_close(r);
}

Test(ringd, sigterm_ends_stream_after_last_message)
{
	const char *argv[] = { T.ring, NULL };
	struct proc *p = spawn(true, argv);
	struct shmr_reader *r;
	char line[32];

	wait_ready(p);
	r = open_reader();
	for (int i = 0; i < 1000; i++) {
		int l = sprintf(line, "%d\n", i);

		write_all(p->in, line, (size_t)l);
	}
	write_all(p->in, "partial", 7);	/* incomplete: never published */
	wait_messages(1000);
	/* stdin stays open: only the signal ends ringd. */
	kill(p->pid, SIGTERM);
	cr_assert_eq(reap(p), 0);
	for (int i = 0; i < 1000; i++) {
		sprintf(line, "%d", i);
		expect_str(r, line);
	}
	expect_eof(r);
	shmr_reader_close(r);
	cr_assert(log_has(p, "incomplete record"));
	cr_assert_eq(shmr_reader_open(T.ring, SHMR_FROM_OLDEST, 0, &r),
	    -ENOENT, "ring still there without --keep");
}

Test(ringd, kill9_then_restart_seen_by_reader)
{
	const char *argv[] = { T.ring, NULL };
	struct proc *a = spawn(true, argv), *b;
	struct shmr_reader *r;
	struct shmr_msg m;
	int rc;

	wait_ready(a);
	r = open_reader();
	write_all(a->in, "a0\na1\na2\n", 9);
	expect_str(r, "a0");
	expect_str(r, "a1");
	expect_str(r, "a2");
	kill(a->pid, SIGKILL);
	cr_assert_eq(reap(a), 128 + SIGKILL);

	b = spawn(true, argv);
	wait_ready(b);
	cr_assert(log_has(b, "took over"), "%s", slurp(b->err));
	write_all(b->in, "b0\nb1\n", 6);
	rc = next(r, &m);
	cr_assert_eq(rc, SHMR_RESTART, "expected a restart, got %s (%d)",
	    shmr_strerror(rc), rc);
	expect_str(r, "b0");
	expect_str(r, "b1");
	stop(b);
	expect_eof(r);
	shmr_reader_close(r);
}

Test(ringd, second_ringd_refused)
{
	const char *argv[] = { T.ring, NULL };
	struct proc *a = spawn(true, argv), *b;
	struct shmr_reader *r;
	char *log;

	wait_ready(a);
	b = spawn(false, argv);
	cr_assert_eq(reap(b), 1, "second ringd: expected exit status 1");
	log = slurp(b->err);
	cr_assert_not_null(strstr(log, "refusing to start"), "%s", log);
	cr_assert_not_null(strstr(log, "live producer"), "%s", log);
	free(log);
	/* The first one is unharmed. */
	r = open_reader();
	write_all(a->in, "still here\n", 11);
	expect_str(r, "still here");
	stop(a);
	expect_eof(r);
	shmr_reader_close(r);
}

Test(ringd, pidfile_written_locked_and_removed)
{
	const char *argv[] = { "--pidfile", T.path[0], T.ring, NULL };
	char other[96];
	const char *argv2[] = { "--pidfile", T.path[0], other, NULL };
	struct proc *a = spawn(true, argv), *b;
	char *s;

	snprintf(other, sizeof(other), "%s-other", T.ring);
	wait_ready(a);
	s = slurp(T.path[0]);
	cr_assert_eq(atol(s), (long)a->pid, "pidfile says '%s'", s);
	free(s);
	b = spawn(false, argv2);
	cr_assert_eq(reap(b), 1);
	cr_assert(log_has(b, "already running"));
	stop(a);
	cr_assert_eq(access(T.path[0], F_OK), -1, "pidfile left behind");
	shmr_unlink(other);
}

Test(ringd, sigusr1_logs_counters)
{
	const char *argv[] = { T.ring, NULL };
	struct proc *p = spawn(true, argv);

	wait_ready(p);
	write_all(p->in, "x\ny\n", 4);
	wait_messages(2);
	kill(p->pid, SIGUSR1);
	wait_log(p, "2 messages (2 bytes) published");
	wait_log(p, "input stdin: 2 messages (2 bytes)");
	stop(p);
}

Test(ringd, process_title_shows_counters)
{
	const char *argv[] = { T.ring, NULL };
	struct proc *p = spawn(true, argv);
	char path[64], want[128];

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)p->pid);
	snprintf(want, sizeof(want), "ringd: %s: 3 msgs, 0 rejected", T.ring);
	wait_ready(p);
	write_all(p->in, "a\nb\nc\n", 6);
	/* The title is refreshed at most once a second. */
	for (;;) {
		char *s = slurp(path);
		bool ok = strstr(s, want) != NULL;

		free(s);
		if (ok)
			break;
		nap();
	}
	stop(p);
}

Test(ringd, demo_ticks_json)
{
	const char *argv[] = { "--demo", "ticks", "-r", "0", "-n", "5000",
	    "--keep", T.ring, NULL };
	struct proc *p = spawn(false, argv);
	struct shmr_reader *r;
	struct shmr_msg m;

	cr_assert_eq(reap(p), 0, "demo with --count should end by itself");
	r = open_reader();
	for (unsigned long long i = 1; i <= 5000; i++) {
		char s[128], sym[16];
		unsigned long long seq, ts;
		double px;

		cr_assert_eq(next(r, &m), SHMR_MSG);
		cr_assert_lt(m.len, sizeof(s));
		memcpy(s, m.data, m.len);
		s[m.len] = '\0';
		cr_assert_eq(sscanf(s, "{\"seq\":%llu,\"sym\":\"%15[A-Z]\","
		    "\"px\":%lf,\"ts\":%llu}", &seq, sym, &px, &ts), 4,
		    "not a tick: %s", s);
		cr_assert_eq(seq, i);
		cr_assert_gt(px, 0.0);
		cr_assert_gt(ts, 1000000000ull * 1000000000ull);
		cr_assert_eq(s[m.len - 1], '}');
	}
	expect_eof(r);
	shmr_reader_close(r);
}

Test(ringd, demo_sine_f64_le)
{
	const char *argv[] = { "--demo", "sine", "-r", "0", "-n", "2500",
	    "--keep", T.ring, NULL };
	struct proc *p = spawn(false, argv);
	struct shmr_reader *r;
	struct shmr_msg m;

	cr_assert_eq(reap(p), 0);
	r = open_reader();
	for (int k = 0; k < 2500; k++) {
		const unsigned char *b;
		uint64_t u = 0;
		double v;

		cr_assert_eq(next(r, &m), SHMR_MSG);
		cr_assert_eq(m.len, 8);
		b = m.data;
		for (int i = 7; i >= 0; i--)
			u = u << 8 | b[i];
		memcpy(&v, &u, sizeof(v));
		cr_assert_float_eq(v, sin(2 * M_PI * (k % 1000) / 1000.0),
		    1e-12, "sample %d", k);
	}
	expect_eof(r);
	shmr_reader_close(r);
}

Test(ringd, demo_rate_paced)
{
	/* 200/s for 20 messages: ends by itself, every message present. */
	const char *argv[] = { "--demo", "ticks", "-r", "200", "-n", "20",
	    "--keep", T.ring, NULL };
	struct proc *p = spawn(false, argv);
	struct shmr_reader *r;
	struct shmr_msg m;
	int n = 0, rc;

	cr_assert_eq(reap(p), 0);
	r = open_reader();
	while ((rc = next(r, &m)) == SHMR_MSG)
		n++;
	cr_assert_eq(rc, SHMR_EOF);
	cr_assert_eq(n, 20);
	shmr_reader_close(r);
}

Test(ringd, usage_errors)
{
	static const char *const bad[][6] = {
		{ "../etc", NULL },
		{ "-s", "100K", "x", NULL },
		{ "-s", "64K", "-m", "9K", "x", NULL },
		{ "-F", "fixed:0", "x", NULL },
		{ "-F", "words", "x", NULL },
		{ "-i", "tcp:1234", "x", NULL },
		{ "--demo", "noise", "x", NULL },
		{ "--mode", "0999", "x", NULL },
		{ "--count", "5", "x", NULL },
		{ "--no-such-option", "x", NULL },
		{ NULL },
	};

	for (int i = 0; bad[i][0] != NULL; i++) {
		struct proc *p;

		T.np = 0;
		p = spawn(false, bad[i]);
		cr_assert_eq(reap(p), 100, "case %d (%s %s): expected 100", i,
		    bad[i][0], bad[i][1] ? bad[i][1] : "");
		unlink(p->err);
	}
}

Test(ringd, help_and_version)
{
	const char *h[] = { "--help", NULL }, *v[] = { "--version", NULL };
	struct proc *p;

	p = spawn(false, h);
	cr_assert_eq(reap(p), 0);
	cr_assert(log_has(p, "usage: ringd"));
	cr_assert(log_has(p, "--socket-mode"));
	p = spawn(false, v);
	cr_assert_eq(reap(p), 0);
	cr_assert(log_has(p, "ringd 0.1"));
}

Test(ringd, oversize_warnings_rate_limited_but_all_counted)
{
	char in[128], big[2048];
	const char *argv[] = { "-s", "1M", "-m", "1K", "--keep", "-i", in,
	    T.ring, NULL };
	struct proc *p;
	struct shmr_reader *r;
	char *log, *s;
	int fd, lines = 0;

	memset(big, 'x', sizeof(big));
	snprintf(in, sizeof(in), "unix:%s", T.path[0]);
	p = spawn(false, argv);
	wait_ready(p);
	fd = dgram_connect(T.path[0], SOCK_DGRAM);
	for (int i = 0; i < 200; i++)
		send_msg(fd, big, sizeof(big));
	send_msg(fd, "last", 4);
	close(fd);
	wait_messages(1);
	stop(p);
	log = slurp(p->err);
	for (s = log; (s = strstr(s, "rejected a 2048-byte")) != NULL; s++)
		lines++;
	cr_assert_geq(lines, 1);
	/* 10 per 5 s: only a very slow run could log 50. */
	cr_assert_lt(lines, 50, "%d warning lines for 200 rejects", lines);
	cr_assert_not_null(strstr(log, "200 oversize rejected"), "%s", log);
	free(log);
	r = open_reader();
	expect_str(r, "last");
	expect_eof(r);
	shmr_reader_close(r);
}

Test(ringd, oversize_seqpacket_record_rejected)
{
	char in[128], big[1500];
	const char *argv[] = { "-s", "1M", "-m", "1K", "--keep", "-i", in,
	    T.ring, NULL };
	struct proc *p;
	struct shmr_reader *r;
	int fd;

	memset(big, 's', sizeof(big));
	snprintf(in, sizeof(in), "seqpacket:%s", T.path[0]);
	p = spawn(false, argv);
	wait_ready(p);
	fd = dgram_connect(T.path[0], SOCK_SEQPACKET);
	send_msg(fd, "before", 6);
	send_msg(fd, big, sizeof(big));
	send_msg(fd, "after", 5);
	wait_messages(2);
	close(fd);
	stop(p);
	cr_assert(log_has(p, "rejected a 1500-byte message"));
	r = open_reader();
	expect_str(r, "before");
	expect_str(r, "after");
	expect_eof(r);
	shmr_reader_close(r);
}

Test(ringd, ring_and_socket_modes)
{
	char in[128], shm[160];
	const char *argv[] = { "--mode", "0640", "--socket-mode", "0620",
	    "-i", in, T.ring, NULL };
	struct proc *p;
	struct stat st;

	snprintf(in, sizeof(in), "unix:%s", T.path[0]);
	snprintf(shm, sizeof(shm), "/dev/shm/shmring.%s", T.ring);
	p = spawn(false, argv);
	wait_ready(p);
	cr_assert_eq(stat(shm, &st), 0, "%s: %s", shm, strerror(errno));
	cr_assert_eq(st.st_mode & 0777, 0640, "ring mode %o",
	    (unsigned)(st.st_mode & 0777));
	cr_assert_eq(stat(T.path[0], &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0620, "socket mode %o",
	    (unsigned)(st.st_mode & 0777));
	stop(p);
}

Test(ringd, stale_socket_replaced_live_one_refused)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char in[128];
	const char *argv[] = { "-i", in, T.ring, NULL };
	struct proc *p;
	int fd;

	snprintf(in, sizeof(in), "unix:%s", T.path[0]);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", T.path[0]);
	/* A socket file whose owner is gone. */
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	p = spawn(false, argv);
	wait_ready(p);
	cr_assert(log_has(p, "replaced stale socket"));
	stop(p);

	/* A socket someone is bound to: not taken, and no ring left over. */
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	p = spawn(false, argv);
	cr_assert_eq(reap(p), 111);
	cr_assert(log_has(p, "another process is bound to it"));
	{
		struct shmr_reader *r;

		cr_assert_eq(shmr_reader_open(T.ring, SHMR_FROM_OLDEST, 0,
		    &r), -ENOENT, "ring left behind by a failed start");
	}
	close(fd);
	unlink(T.path[0]);
	cr_assert_eq(access(T.path[0], F_OK), -1);

	/* A file that is not a socket is never removed. */
	close(open(T.path[0], O_CREAT | O_WRONLY, 0600));
	p = spawn(false, argv);
	cr_assert_eq(reap(p), 111);
	cr_assert(log_has(p, "exists and is not a socket"));
	cr_assert_eq(access(T.path[0], F_OK), 0);
}

Test(ringd, stdin_end_does_not_stop_socket_input)
{
	char in[128];
	const char *argv[] = { "--keep", "-i", "stdin", "-i", in, T.ring,
	    NULL };
	struct proc *p;
	struct shmr_reader *r;
	int fd;

	snprintf(in, sizeof(in), "unix:%s", T.path[0]);
	p = spawn(true, argv);
	wait_ready(p);
	write_all(p->in, "from stdin\n", 11);
	close(p->in);
	p->in = -1;
	wait_log(p, "input stdin: end of input after 1 messages");
	fd = dgram_connect(T.path[0], SOCK_DGRAM);
	send_msg(fd, "from socket", 11);
	close(fd);
	wait_messages(2);
	stop(p);
	r = open_reader();
	expect_str(r, "from stdin");
	expect_str(r, "from socket");
	expect_eof(r);
	shmr_reader_close(r);
}

Test(ringd, paced_demo_sleeps_between_messages)
{
	/*
	 * 10 messages at 20/s last about half a second of wall time; a
	 * ringd that sleeps until each is due uses a few milliseconds of
	 * CPU, one that polls the clock uses all of that half second. Load
	 * can only lower the CPU a spinning ringd gets, never raise the CPU
	 * of a sleeping one, so this cannot fail by being slow.
	 */
	const char *argv[] = { "-s", "64K", "--demo", "sine", "-r", "20", "-n",
	    "10", "--keep", T.ring, NULL };
	struct proc *p = spawn(false, argv);
	struct rusage ru;
	double cpu;
	int st;

	cr_assert_eq(wait4(p->pid, &st, 0, &ru), p->pid);
	p->pid = 0;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	cr_assert_lt(cpu, 0.2, "ringd used %.3f s of CPU for 10 paced "
	    "messages", cpu);
	wait_messages(10);
}

Test(ringd, sigterm_publishes_what_sockets_already_accepted)
{
	char in1[128], in2[128];
	const char *argv[] = { "--keep", "-i", in1, "-i", in2, T.ring, NULL };
	struct proc *p;
	struct shmr_reader *r;
	struct shmr_msg m;
	int d, q, rc, got = 0;

	snprintf(in1, sizeof(in1), "unix:%s", T.path[0]);
	snprintf(in2, sizeof(in2), "seqpacket:%s", T.path[1]);
	p = spawn(false, argv);
	wait_ready(p);
	/* Sent, then the signal at once: ringd may not have seen them yet. */
	d = dgram_connect(T.path[0], SOCK_DGRAM);
	q = dgram_connect(T.path[1], SOCK_SEQPACKET);
	send_msg(d, "dgram", 5);
	send_msg(q, "record", 6);
	stop(p);
	close(d);
	close(q);
	r = open_reader();
	while ((rc = next(r, &m)) == SHMR_MSG) {
		cr_assert((m.len == 5 && memcmp(m.data, "dgram", 5) == 0) ||
		    (m.len == 6 && memcmp(m.data, "record", 6) == 0));
		got++;
	}
	cr_assert_eq(rc, SHMR_EOF);
	cr_assert_eq(got, 2, "%d of 2 messages published", got);
	shmr_reader_close(r);
}
