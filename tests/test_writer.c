/* test_writer.c - creating rings, names, modes, publishing, takeover. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(writer, .fini = t_cleanup, .timeout = 30);

Test(writer, names)
{
	char longname[SHMR_NAME_MAX + 2];

	cr_expect_eq(shmr_name_valid("ticks"), 0);
	cr_expect_eq(shmr_name_valid("a.b_c-9"), 0);
	cr_expect_eq(shmr_name_valid(""), -EINVAL);
	cr_expect_eq(shmr_name_valid(".hidden"), -EINVAL);
	cr_expect_eq(shmr_name_valid(".."), -EINVAL);
	cr_expect_eq(shmr_name_valid("a/b"), -EINVAL);
	cr_expect_eq(shmr_name_valid("/abs"), -EINVAL);
	cr_expect_eq(shmr_name_valid("sp ace"), -EINVAL);
	cr_expect_eq(shmr_name_valid("caf\xc3\xa9"), -EINVAL);
	cr_expect_eq(shmr_name_valid(NULL), -EINVAL);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_expect_eq(shmr_name_valid(longname), -ENAMETOOLONG);
	longname[SHMR_NAME_MAX] = '\0';
	cr_expect_eq(shmr_name_valid(longname), 0);
}

Test(writer, bad_options)
{
	struct shmr_create_opts o = { .gid = (gid_t)-1 };
	struct shmr_writer *w;
	const char *n = t_name("opts");

	o.capacity = 100000;	/* not a power of two */
	cr_expect_eq(shmr_writer_create(n, &o, &w), -EINVAL);
	o.capacity = 32 << 10;	/* below the minimum */
	cr_expect_eq(shmr_writer_create(n, &o, &w), -EINVAL);
	o.capacity = 64 << 10;
	o.max_msg = (64 << 10) / 8 + 1;
	cr_expect_eq(shmr_writer_create(n, &o, &w), -EINVAL);
	o.max_msg = 0;
	o.mode = 0666;		/* writable by others: readers would refuse */
	cr_expect_eq(shmr_writer_create(n, &o, &w), -EINVAL);
	o.mode = 0;
	cr_expect_eq(shmr_writer_create("bad/name", &o, &w), -EINVAL);
	cr_expect_eq(access("/dev/shm/shmring.bad", F_OK), -1);
}

Test(writer, create_defaults_and_mode)
{
	const char *n = t_name("mode");
	struct shmr_create_opts o = { .capacity = 1 << 16, .mode = 0640,
	    .gid = (gid_t)-1 };
	struct shmr_writer *w;
	struct shmr_info info;
	char path[256];
	struct stat st;

	cr_assert_eq(shmr_writer_create(n, &o, &w), 0);
	snprintf(path, sizeof(path), "/dev/shm/shmring.%s", n);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0640);
	cr_expect_eq((uint64_t)st.st_size, 4096 + (1 << 16));
	/* Memory is reserved up front: every block allocated. */
	cr_expect_geq((uint64_t)st.st_blocks * 512, (uint64_t)st.st_size);
	cr_assert_eq(shmr_writer_info(w, &info), 0);
	cr_expect_eq(info.capacity, 1 << 16);
	cr_expect_eq(info.max_msg, (1 << 16) / 8);
	/* the creation time in microseconds (libshm(3)) */
	cr_expect_gt(info.epoch, (uint64_t)1600000000 * 1000000);
	cr_expect_lt(info.epoch, (uint64_t)1 << 53);
	cr_expect_eq(info.pid, getpid());
	cr_expect_eq(info.state, SHMR_STATE_LIVE);
	cr_expect_eq(info.mode, 0640);
	cr_assert_eq(shmr_writer_close(w, SHMR_CLOSE_UNLINK), 0);
	cr_expect_eq(access(path, F_OK), -1);

	n = t_name("defmode");
	cr_assert_eq(shmr_writer_create(n, NULL, &w), 0);
	snprintf(path, sizeof(path), "/dev/shm/shmring.%s", n);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	cr_expect_eq((uint64_t)st.st_size, 4096 + (64 << 20));
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

Test(writer, huge_ring_refused_cleanly)
{
	/*
	 * Capacities up to SHMR_CAP_MAX (1 TiB) are valid; one larger than
	 * /dev/shm fails at creation with -ENOSPC (not later with SIGBUS)
	 * and leaves nothing behind. 16 GiB is accepted by the same check
	 * but not allocated here: CI machines share their memory.
	 */
	struct shmr_create_opts o = { .capacity = SHMR_CAP_MAX,
	    .gid = (gid_t)-1 };
	const char *n = t_name("huge");
	struct shmr_writer *w;
	char path[256];
	int rc = shmr_writer_create(n, &o, &w);

	cr_assert_eq(rc, -ENOSPC, "rc %d", rc);
	snprintf(path, sizeof(path), "/dev/shm/shmring.%s", n);
	cr_expect_eq(access(path, F_OK), -1);
	o.capacity = SHMR_CAP_MAX * 2;
	cr_expect_eq(shmr_writer_create(n, &o, &w), -EINVAL);
}

Test(writer, second_producer_refused)
{
	const char *n = t_name("two");
	struct shmr_writer *w = t_writer(n, 1 << 16, 0), *w2;
	pid_t pid;
	int st;

	/* Another process, as in real life (OFD locks are per descriptor,
	 * so the same process is refused too). */
	cr_expect_eq(shmr_writer_create(n, NULL, &w2), -EBUSY);
	pid = fork();
	if (pid == 0)
		_exit(shmr_writer_create(n, NULL, &w2) == -EBUSY ? 0 : 1);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cr_expect_eq(shmr_writer_publish(w, "still", 5, NULL), 0);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

Test(writer, oversize_and_empty)
{
	const char *n = t_name("size");
	struct shmr_writer *w = t_writer(n, 1 << 16, 100);
	char big[101] = { 0 };
	uint64_t seq = 99;

	cr_expect_eq(shmr_writer_publish(w, big, 101, &seq), -EMSGSIZE);
	cr_expect_eq(seq, 99);
	cr_expect_eq(shmr_writer_publish(w, big, 100, &seq), 0);
	cr_expect_eq(seq, 0);
	cr_expect_eq(shmr_writer_publish(w, NULL, 0, &seq), 0);
	cr_expect_eq(seq, 1);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

Test(writer, batch_all_or_nothing)
{
	const char *n = t_name("batch");
	struct shmr_writer *w = t_writer(n, 1 << 16, 100);
	char big[200] = { 0 };
	struct shmr_iov v[3] = { { "a", 1 }, { big, 200 }, { "c", 1 } };
	struct shmr_info info;
	uint64_t first;

	cr_expect_eq(shmr_writer_publish_batch(w, v, 3, &first), -EMSGSIZE);
	shmr_writer_info(w, &info);
	cr_expect_eq(info.next_seq, 0);
	v[1].len = 2;
	cr_expect_eq(shmr_writer_publish_batch(w, v, 3, &first), 0);
	cr_expect_eq(first, 0);
	shmr_writer_info(w, &info);
	cr_expect_eq(info.next_seq, 3);
	cr_expect_eq(info.bytes, 4);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

Test(writer, reserve_commit)
{
	const char *n = t_name("zc");
	struct shmr_writer *w = t_writer(n, 1 << 16, 1000);
	struct shmr_reader *r;
	struct shmr_msg m;
	void *buf;
	uint64_t seq;

	cr_assert_eq(shmr_writer_reserve(w, 1001, &buf), -EMSGSIZE);
	cr_assert_eq(shmr_writer_reserve(w, 100, &buf), 0);
	cr_expect_eq(shmr_writer_reserve(w, 10, &buf), -EALREADY);
	cr_expect_eq(shmr_writer_publish(w, "x", 1, NULL), -EALREADY);
	memcpy(buf, "zero-copy", 9);
	cr_expect_eq(shmr_writer_commit(w, 101, &seq), -EMSGSIZE);
	cr_assert_eq(shmr_writer_commit(w, 9, &seq), 0);
	cr_expect_eq(seq, 0);
	cr_assert_eq(shmr_writer_reserve(w, 50, &buf), 0);
	shmr_writer_cancel(w);
	cr_expect_eq(shmr_writer_commit(w, 1, NULL), -EINVAL);
	cr_assert_eq(shmr_writer_publish(w, "after", 5, &seq), 0);
	cr_expect_eq(seq, 1);

	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_OLDEST, 0, &r), 0);
	cr_assert_eq(shmr_reader_next(r, &m), SHMR_MSG);
	cr_expect_eq(m.len, 9);
	cr_expect(memcmp(m.data, "zero-copy", 9) == 0);
	cr_assert_eq(shmr_reader_next(r, &m), SHMR_MSG);
	cr_expect_eq(m.seq, 1);
	cr_expect(memcmp(m.data, "after", 5) == 0);
	cr_expect_eq(shmr_reader_next(r, &m), SHMR_EMPTY);
	shmr_reader_close(r);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

Test(writer, takeover_after_death_bumps_epoch)
{
	const char *n = t_name("takeover");
	struct shmr_writer *w;
	struct shmr_ring *old, *cur;
	struct shmr_info info;
	uint64_t e0;
	pid_t pid = t_child_producer(n, 1);

	cr_assert_eq(shmr_ring_open(n, NULL, &old), 0);
	e0 = shmr_ring_epoch(old);
	cr_expect_eq(shmr_ring_alive(old), 1);
	cr_expect_eq(shmr_writer_create(n, NULL, &w), -EBUSY);
	t_kill(pid);
	cr_expect_eq(shmr_ring_alive(old), 0);
	cr_expect_eq(shmr_ring_stale(old), 0);

	cr_assert_eq(shmr_writer_create(n, NULL, &w), 0);
	cr_assert_eq(shmr_writer_info(w, &info), 0);
	cr_expect_gt(info.epoch, e0);
	cr_expect_eq(shmr_ring_stale(old), 1);
	cr_assert_eq(shmr_ring_info(old, &info), 0);
	cr_expect_eq(info.state, SHMR_STATE_REPLACED);
	cr_assert_eq(shmr_ring_open(n, NULL, &cur), 0);
	cr_expect_gt(shmr_ring_epoch(cur), e0);
	cr_expect_eq(shmr_ring_alive(cur), 1);
	shmr_ring_close(cur);
	shmr_ring_close(old);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

Test(writer, close_keeps_or_unlinks)
{
	const char *n = t_name("keep");
	struct shmr_writer *w = t_writer(n, 1 << 16, 0);
	struct shmr_ring *r;
	struct shmr_info info;
	uint64_t e0;

	shmr_writer_publish(w, "x", 1, NULL);
	cr_assert_eq(shmr_writer_close(w, 0), 0);
	cr_assert_eq(shmr_ring_open(n, NULL, &r), 0);
	cr_assert_eq(shmr_ring_info(r, &info), 0);
	cr_expect_eq(info.state, SHMR_STATE_CLOSED);
	e0 = info.epoch;
	cr_expect_eq(shmr_ring_alive(r), 0);
	shmr_ring_close(r);
	/* A closed ring is taken over like a dead one. */
	w = t_writer(n, 1 << 16, 0);
	cr_assert_eq(shmr_writer_info(w, &info), 0);
	cr_expect_gt(info.epoch, e0);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
	cr_expect_eq(shmr_ring_open(n, NULL, &r), -ENOENT);
}

/*
 * Zero means default: options with only a capacity must not ask for group
 * 0. They did ("gid_t gid; (gid_t)-1: leave the group alone"), so a
 * non-root producer got -EPERM, worded "untrusted ring: wrong owner, or
 * writable by others", and a root one gave its ring to group root.
 * Tried as nobody:nogroup (root drops to it in a child; otherwise as
 * whoever runs the test).
 */
Test(writer, zeroed_options_leave_the_group_alone)
{
	const char *n = t_name("zgid");
	pid_t pid = fork();
	int st;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct shmr_create_opts o = { .capacity = 1 << 16 };
		struct shmr_writer *w;
		char path[300];
		struct stat sb;
		int rc;

		if (geteuid() == 0 && (setgroups(0, NULL) < 0 ||
		    setgid(65534) < 0 || setuid(65534) < 0))
			_exit(10);
		if ((rc = shmr_writer_create(n, &o, &w)) < 0) {
			fprintf(stderr, "create: %s\n", shmr_strerror(rc));
			_exit(11);
		}
		snprintf(path, sizeof(path), "/dev/shm/shmring.%s", n);
		rc = stat(path, &sb) == 0 && sb.st_gid == getegid() ? 0 : 12;
		shmr_writer_close(w, SHMR_CLOSE_UNLINK);
		_exit(rc);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "child status %d (11: create failed, 12: group changed)",
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/*
 * shmr_strerror reads right whatever returned the code: 0 is success from
 * most calls and "nothing new" only from reads; -EAGAIN comes from opens
 * (a ring being created) and from reads (a header that kept changing).
 */
Test(writer, strerror_reads_right_in_every_context)
{
	cr_expect(strstr(shmr_strerror(0), "success") != NULL, "0: %s",
	    shmr_strerror(0));
	cr_expect(strstr(shmr_strerror(0), "no new message") != NULL);
	cr_expect(strstr(shmr_strerror(-EAGAIN), "try again") != NULL,
	    "-EAGAIN: %s", shmr_strerror(-EAGAIN));
	cr_expect(strstr(shmr_strerror(-EAGAIN), "being created") != NULL);
	cr_expect(strstr(shmr_strerror(-EPERM), "untrusted") == NULL,
	    "-EPERM: %s", shmr_strerror(-EPERM));
	cr_expect_str_eq(shmr_strerror(-ENOENT), "no such ring");
	cr_expect_str_eq(shmr_strerror(-EIO), strerror(EIO));
	cr_expect_str_eq(shmr_strerror(12345), "unknown status");
}

/*
 * A producer that forks: the child must not keep the producer's lock. It
 * did (an open-file-description lock lives as long as any descriptor to
 * it, and fork copies the descriptor), so after the parent closed, the
 * ring still looked alive and a new producer got -EBUSY until every child
 * exited. The child's copy of the handle cannot publish either: two
 * writers of one ring would corrupt it.
 */
Test(writer, fork_leaves_the_lock_with_the_parent)
{
	const char *n = t_name("fork");
	struct shmr_writer *w = t_writer(n, 1 << 16, 1024), *w2 = NULL;
	struct shmr_ring *r;
	struct shmr_info info;
	int p[2], st;
	char c = 0;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int rc = shmr_writer_publish(w, "x", 1, NULL);

		c = rc == -ECHILD ? 'r' : 'p';
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		pause();	/* alive, holding whatever fork gave it */
		_exit(0);
	}
	cr_assert_eq(read(p[0], &c, 1), 1);
	cr_expect_eq(c, 'r', "the child's publish was not refused");
	cr_expect_eq(shmr_writer_close(w, 0), 0);
	cr_assert_eq(shmr_ring_open(n, NULL, &r), 0);
	cr_expect_eq(shmr_ring_info(r, &info), 0);
	cr_expect_neq(info.state, SHMR_STATE_LIVE);
	shmr_ring_close(r);
	cr_expect_eq(shmr_writer_create(n, &(struct shmr_create_opts){
	    .capacity = 1 << 16, .max_msg = 1024 }, &w2), 0,
	    "a new producer is refused while the child lives");
	if (w2 != NULL)
		shmr_writer_close(w2, SHMR_CLOSE_UNLINK);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(p[0]);
	close(p[1]);
}

/*
 * Room to grow (shmring.h): a zeroed shmr_create_opts with only the
 * capacity set means the default for every other field; a reserved word
 * set (a field of a later release) is refused, not ignored; shmr_info
 * comes back with its reserved words zero.
 */
Test(writer, zeroed_options_mean_defaults)
{
	const char *n = t_name("zopts");
	struct shmr_create_opts o;
	struct shmr_writer *w;
	struct shmr_info info;
	char path[300];
	struct stat st;
	size_t i;

	memset(&o, 0, sizeof(o));
	o.capacity = 1 << 20;
	cr_assert_eq(shmr_writer_create(n, &o, &w), 0);
	memset(&info, 0xa5, sizeof(info));
	cr_assert_eq(shmr_writer_info(w, &info), 0);
	cr_expect_eq(info.capacity, 1 << 20);
	cr_expect_eq(info.max_msg, (1 << 20) / 8);	/* min(cap / 8, 1 MiB) */
	cr_expect_eq(info.mode, 0600);
	for (i = 0; i < sizeof(info.reserved) / 8; i++)
		cr_expect_eq(info.reserved[i], 0, "info.reserved[%zu]", i);
	snprintf(path, sizeof(path), "/dev/shm/shmring.%s", n);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_gid, getegid(), "group changed");
	cr_assert_eq(shmr_writer_close(w, SHMR_CLOSE_UNLINK), 0);

	for (i = 0; i < sizeof(o.reserved) / 8; i++) {
		o.reserved[i] = 1;
		cr_expect_eq(shmr_writer_create(n, &o, &w), -EINVAL,
		    "reserved[%zu] set", i);
		o.reserved[i] = 0;
	}
	cr_expect_eq(access(path, F_OK), -1);
}
