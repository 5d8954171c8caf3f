/*
 * test_faults.c - the ring object unlinked or truncated under live readers.
 *
 * Unlinked: a reader keeps working on its mapping (the object lives on
 * until the last mapping goes), shmr_ring_stale() says 1, and anyone who
 * opens the name again (ringctl, a bridge reopening) gets -ENOENT.
 * Truncated by its owner: opening it fails with a clear code and never
 * crashes; a reader that already mapped it gets SIGBUS when it touches a
 * lost page (libshm installs no signal handler), which an application can
 * catch as ringctl does. See docs/RELIABILITY.md, "Faults".
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "layout.h"

#define CAP	SHMR_CAP_MIN

static void
fini(void)
{
	t_cleanup();
}

TestSuite(faults, .fini = fini, .timeout = 60);

static void
truncate_object(const char *name, off_t size)
{
	char path[256];

	snprintf(path, sizeof(path), "/dev/shm/shmring.%s", name);
	cr_assert_eq(truncate(path, size), 0, "truncate %s: %s", path,
	    strerror(errno));
}

/* Run ringctl with args; its exit status, stderr into err. */
static int
ringctl(char *err, size_t errlen, const char *args)
{
	char cmd[512], path[] = "/tmp/test_faults.XXXXXX";
	int fd, st;
	ssize_t n;

	cr_assert_geq(fd = mkstemp(path), 0);
	snprintf(cmd, sizeof(cmd), "%s %s 2>%s >/dev/null", RINGCTL_BIN, args,
	    path);
	st = system(cmd);
	n = read(fd, err, errlen - 1);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	cr_assert(WIFEXITED(st), "%s did not exit", cmd);
	return WEXITSTATUS(st);
}

Test(faults, unlink_under_reader)
{
	const char *name = t_name("unlink");
	struct shmr_writer *w = t_writer(name, CAP, 256);
	struct shmr_reader *r;
	struct shmr_ring *ring;
	struct shmr_msg m;
	char err[512], args[256], want[32];
	uint64_t i;
	int rc;

	t_publish_range(w, 0, 100);
	cr_assert_eq(shmr_reader_open(name, SHMR_FROM_OLDEST, 0, &r), 0);
	cr_assert_eq(shmr_ring_stale(shmr_reader_ring(r)), 0);
	cr_assert_eq(shmr_unlink(name), 0);

	/* The producer and the reader go on over the unlinked object. */
	t_publish_range(w, 100, 200);
	for (i = 0; i < 200; i++) {
		rc = shmr_reader_next(r, &m);
		cr_assert_eq(rc, SHMR_MSG, "seq %llu: %s",
		    (unsigned long long)i, shmr_strerror(rc));
		snprintf(want, sizeof(want), "msg-%llu", (unsigned long long)i);
		cr_assert_eq(m.seq, i);
		cr_assert_eq(m.len, strlen(want));
		cr_assert_eq(memcmp(m.data, want, m.len), 0);
	}
	cr_assert_eq(shmr_reader_next(r, &m), SHMR_EMPTY);
	cr_assert_eq(shmr_ring_stale(shmr_reader_ring(r)), 1);
	cr_assert_eq(shmr_ring_alive(shmr_reader_ring(r)), 1);

	/* Reopening the name, as ringctl or a bridge would: -ENOENT. */
	cr_assert_eq(shmr_ring_open(name, NULL, &ring), -ENOENT);
	cr_assert_eq(shmr_reader_open(name, SHMR_FROM_OLDEST, 0, &(struct
	    shmr_reader *){ NULL }), -ENOENT);
	snprintf(args, sizeof(args), "info %s", name);
	cr_assert_eq(ringctl(err, sizeof(err), args), 1, "stderr: %s", err);
	cr_assert(strstr(err, "no such ring") != NULL, "stderr: %s", err);

	/* Closing still reaches the reader of the unlinked object. */
	t_publish_range(w, 200, 201);
	cr_assert_eq(shmr_writer_close(w, 0), 0);
	cr_assert_eq(shmr_reader_next(r, &m), SHMR_MSG);
	cr_assert_eq(m.seq, 200);
	cr_assert_eq(shmr_reader_next(r, &m), SHMR_EOF);
	shmr_reader_close(r);
}

/*
 * Every size an owner could truncate the object to: open fails with a
 * code naming the problem, never a crash. Below the header the object is
 * not a ring (-EPROTO; size 0 is what a producer leaves between creating
 * and sizing the object, so it reads as -EAGAIN); from the header on, the
 * size disagrees with the capacity the header claims (-EBADMSG).
 */
Test(faults, truncated_open)
{
	static const off_t sizes[] = { 0, 1, 8, 100, HDR_SIZE - 1, HDR_SIZE,
	    HDR_SIZE + 1, HDR_SIZE + 4096, HDR_SIZE + CAP / 2,
	    HDR_SIZE + CAP - 8, HDR_SIZE + CAP + 4096 };
	struct shmr_ring *ring;
	struct shmr_reader *r;
	size_t i;
	int rc, want;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const char *name = t_name("trunc");
		struct shmr_writer *w = t_writer(name, CAP, 256);

		t_publish_range(w, 0, 1000);
		truncate_object(name, sizes[i]);
		want = sizes[i] == 0 ? -EAGAIN : sizes[i] < HDR_SIZE ?
		    -EPROTO : -EBADMSG;
		rc = shmr_ring_open(name, NULL, &ring);
		cr_assert_eq(rc, want, "size %lld: open: %s, want %s",
		    (long long)sizes[i], shmr_strerror(rc),
		    shmr_strerror(want));
		rc = shmr_reader_open(name, SHMR_FROM_OLDEST, 0, &r);
		cr_assert_eq(rc, want, "size %lld: reader_open: %s",
		    (long long)sizes[i], shmr_strerror(rc));
		/* Give the producer its pages back (zeroed) so that
		 * closing it does not touch a lost page. */
		truncate_object(name, HDR_SIZE + CAP);
		shmr_writer_close(w, 0);
	}
}

/* ringctl check names the problem and exits 1, no crash. */
Test(faults, truncated_ringctl_check)
{
	const char *name = t_name("trunc-check");
	struct shmr_writer *w = t_writer(name, CAP, 256);
	char err[512], args[256];

	t_publish_range(w, 0, 100);
	truncate_object(name, HDR_SIZE);
	snprintf(args, sizeof(args), "check %s", name);
	cr_assert_eq(ringctl(err, sizeof(err), args), 1, "stderr: %s", err);
	cr_assert(strstr(err, "corrupt ring header") != NULL &&
	    strstr(err, "truncated") != NULL, "stderr: %s", err);
	truncate_object(name, HDR_SIZE + CAP);
	shmr_writer_close(w, 0);
}

static void
on_sigbus(int sig)
{
	(void)sig;
	_exit(42);
}

/*
 * Truncated while mapped: the reader's next access to a lost page raises
 * SIGBUS. libshm installs no handler; an application that must survive
 * it installs one (here: exit 42, as ringctl prints a message and exits).
 */
Test(faults, truncated_under_mapped_reader)
{
	const char *name = t_name("trunc-live");
	struct shmr_writer *w = t_writer(name, CAP, 256);
	int go[2], ready[2], st;
	char c = 0;
	pid_t pid;

	t_publish_range(w, 0, 1000);
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(ready), 0);
	if ((pid = fork()) == 0) {
		struct sigaction sa = { .sa_handler = on_sigbus };
		struct shmr_reader *r;
		struct shmr_msg m;

		sigaction(SIGBUS, &sa, NULL);
		if (shmr_reader_open(name, SHMR_FROM_OLDEST, 0, &r) < 0)
			_exit(1);
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		for (int i = 0; i < 2000; i++)
			if (shmr_reader_next(r, &m) < 0)
				_exit(2);
		_exit(0);
	}
	cr_assert_eq(read(ready[0], &c, 1), 1);
	truncate_object(name, HDR_SIZE);
	cr_assert_eq(write(go[1], &c, 1), 1);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 42,
	    "reader of a truncated ring: status %d, want SIGBUS caught", st);
	truncate_object(name, HDR_SIZE + CAP);
	shmr_writer_close(w, 0);
}
