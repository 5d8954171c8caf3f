/*
 * test_mirror.c - mirror writers (layout.h, "Mirrors"): publishing at
 * given sequence numbers under a given epoch, gap records read as exact
 * overruns, adoption by a successor of the same epoch, takeover by
 * another, the mirror lines, and the layout version.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "internal.h"

TestSuite(mirror, .fini = t_cleanup, .timeout = 30);

static struct shmr_writer *
mirror(const char *name, uint64_t epoch, uint64_t start, uint64_t cap,
    int expect)
{
	struct shmr_create_opts o = { .capacity = cap, .gid = (gid_t)-1 };
	struct shmr_mirror_opts mo = { .epoch = epoch, .start_seq = start,
	    .origin = "nats://127.0.0.1:4222 stream T" };
	struct shmr_writer *w;

	cr_assert_eq(shmr_writer_create_mirror(name, &o, &mo, &w), expect,
	    "create_mirror");
	return w;
}

static void
put_at(struct shmr_writer *w, uint64_t seq)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "msg-%llu",
	    (unsigned long long)seq);

	cr_assert_eq(shmr_writer_publish_at(w, seq, buf, (size_t)n), 0,
	    "publish_at %llu", (unsigned long long)seq);
}

static void
expect_msg(struct shmr_reader *r, uint64_t seq)
{
	struct shmr_msg m;
	char want[32];
	int n = snprintf(want, sizeof(want), "msg-%llu",
	    (unsigned long long)seq);

	cr_assert_eq(shmr_reader_next(r, &m), SHMR_MSG, "message %llu",
	    (unsigned long long)seq);
	cr_assert_eq(m.seq, seq);
	cr_assert_eq(m.len, (size_t)n);
	cr_assert(memcmp(m.data, want, (size_t)n) == 0);
}

static void
expect_overrun(struct shmr_reader *r, uint64_t lost, uint64_t next)
{
	struct shmr_msg m;

	cr_assert_eq(shmr_reader_next(r, &m), SHMR_OVERRUN);
	cr_assert_eq(m.lost, lost, "lost %llu, want %llu",
	    (unsigned long long)m.lost, (unsigned long long)lost);
	cr_assert_eq(m.seq, next);
}

Test(mirror, same_ids_and_exact_gaps)
{
	const char *n = t_name("ids");
	struct shmr_writer *w = mirror(n, 777, 40, 1 << 16, 0);
	struct shmr_ring *ring;
	struct shmr_reader *r;
	struct shmr_info info;
	struct shmr_msg m;
	char why[200];

	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_OLDEST, 0, &r), 0);
	cr_assert_eq(shmr_ring_epoch(shmr_reader_ring(r)), 777);
	cr_assert_eq(shmr_reader_next(r, &m), SHMR_EMPTY);
	cr_assert_eq(m.seq, 40, "a new mirror starts at start_seq");
	put_at(w, 40);
	put_at(w, 41);
	put_at(w, 45);			/* 42..44 lost upstream */
	cr_assert_eq(shmr_writer_gap(w, 50), 0);	/* 46..49 */
	put_at(w, 50);
	cr_expect_eq(shmr_writer_publish_at(w, 50, "x", 1), -ERANGE);
	cr_expect_eq(shmr_writer_gap(w, 49), -ERANGE);
	expect_msg(r, 40);
	expect_msg(r, 41);
	expect_overrun(r, 3, 45);
	expect_msg(r, 45);
	expect_overrun(r, 4, 50);
	expect_msg(r, 50);
	cr_assert_eq(shmr_reader_next(r, &m), SHMR_EMPTY);
	shmr_reader_close(r);

	/* A reader asking for a lost message learns the exact loss. */
	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_SEQ, 43, &r), 0);
	expect_overrun(r, 2, 45);
	expect_msg(r, 45);
	shmr_reader_close(r);
	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_SEQ, 47, &r), 0);
	expect_overrun(r, 3, 50);
	shmr_reader_close(r);
	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_SEQ, 41, &r), 0);
	expect_msg(r, 41);
	shmr_reader_close(r);
	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_LATEST, 0, &r), 0);
	expect_msg(r, 50);
	shmr_reader_close(r);

	/* Newest record a gap: "latest" is the next message. */
	cr_assert_eq(shmr_writer_gap(w, 60), 0);
	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_LATEST, 0, &r), 0);
	cr_assert_eq(shmr_reader_next(r, &m), SHMR_EMPTY);
	put_at(w, 60);
	expect_msg(r, 60);
	shmr_reader_close(r);

	cr_assert_eq(shmr_ring_open(n, NULL, &ring), 0);
	cr_assert_eq(shmr_ring_check(ring, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(shmr_ring_info(ring, &info), 0);
	cr_expect_eq(info.next_seq, 61);
	cr_expect_eq(info.oldest_seq, 40);
	cr_expect_eq(info.layout_version, 2);
	shmr_ring_close(ring);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

/* libshm(3): a run of upstream messages in one batch, after a gap. */
Test(mirror, batch_continues_after_a_gap)
{
	const char *n = t_name("batch");
	struct shmr_writer *w = mirror(n, 778, 0, 1 << 16, 0);
	struct shmr_iov iov[5];
	struct shmr_reader *r;
	char bufs[5][32];
	uint64_t first = 0;

	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_OLDEST, 0, &r), 0);
	put_at(w, 0);
	cr_assert_eq(shmr_writer_gap(w, 10), 0);	/* 1..9 lost */
	for (int i = 0; i < 5; i++) {
		int k = snprintf(bufs[i], sizeof(bufs[i]), "msg-%d", 10 + i);

		iov[i].data = bufs[i];
		iov[i].len = (size_t)k;
	}
	cr_assert_eq(shmr_writer_publish_batch(w, iov, 5, &first), 0);
	cr_assert_eq(first, 10, "the batch continues at the gap's end");
	expect_msg(r, 0);
	expect_overrun(r, 9, 10);
	for (uint64_t s = 10; s < 15; s++)
		expect_msg(r, s);
	put_at(w, 15);
	expect_msg(r, 15);
	shmr_reader_close(r);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

Test(mirror, plain_writers_refuse)
{
	const char *n = t_name("plain");
	struct shmr_writer *w = t_writer(n, 1 << 16, 0);
	struct shmr_mirror_opts mo = { .epoch = 0 };
	struct shmr_mirror_info mi;
	struct shmr_ring *ring;

	cr_expect_eq(shmr_writer_publish_at(w, 5, "x", 1), -EINVAL);
	cr_expect_eq(shmr_writer_gap(w, 5), -EINVAL);
	cr_expect_eq(shmr_writer_set_upstream(w, 5, 0), -EINVAL);
	cr_expect_eq(shmr_writer_mirror(w, &mi), -EINVAL);
	cr_assert_eq(shmr_ring_open(n, NULL, &ring), 0);
	cr_expect_eq(shmr_ring_mirror(ring, &mi), 0);
	shmr_ring_close(ring);
	cr_expect_eq(shmr_writer_create_mirror(t_name("e0"), NULL, &mo, &w),
	    -EINVAL, "epoch 0 is no upstream epoch");
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

/* Many gaps on a small ring: a lapped reader's losses still add up. */
Test(mirror, lapped_across_gaps)
{
	const char *n = t_name("lap");
	struct shmr_writer *w = mirror(n, 3, 0, 1 << 16, 0);
	struct shmr_reader *r;
	struct shmr_msg m;
	uint64_t seq = 0, got = 0, lost = 0, expect = 0;
	char buf[200];
	int rc, i;

	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_OLDEST, 0, &r), 0);
	memset(buf, 'p', sizeof(buf));
	for (i = 0; i < 20000; i++) {
		seq += (i % 7 == 3) ? 1 + i % 5 : 1;
		cr_assert_eq(shmr_writer_publish_at(w, seq, buf,
		    (size_t)(i % 200)), 0);
		if (i % 1000 == 999) {
			while ((rc = shmr_reader_next(r, &m)) != SHMR_EMPTY) {
				cr_assert(rc == SHMR_MSG || rc == SHMR_OVERRUN,
				    "rc %d", rc);
				cr_assert_eq(m.seq, expect + (rc == SHMR_OVERRUN ?
				    m.lost : 0));
				if (rc == SHMR_MSG) {
					got++;
					expect = m.seq + 1;
				} else {
					lost += m.lost;
					expect = m.seq;
				}
			}
		}
	}
	cr_assert_eq(got + lost, seq + 1, "every number delivered or lost");
	cr_assert(lost > 0 && got > 0);
	shmr_reader_close(r);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

/* A child mirror writer that publishes up to n - 1 and dies (_exit). */
static void
die_after(const char *n, uint64_t epoch, uint64_t count)
{
	pid_t pid = fork();
	int st;

	cr_assert(pid >= 0);
	if (pid == 0) {
		struct shmr_create_opts o = { .capacity = 1 << 16,
		    .gid = (gid_t)-1 };
		struct shmr_mirror_opts mo = { .epoch = epoch,
		    .origin = "first" };
		struct shmr_writer *w;
		struct shmr_info info;
		char buf[32];

		if (shmr_writer_create_mirror(n, &o, &mo, &w) < 0)
			_exit(1);
		shmr_writer_info(w, &info);
		for (uint64_t s = info.next_seq; s < count; s++) {
			int len = snprintf(buf, sizeof(buf), "msg-%llu",
			    (unsigned long long)s);

			if (shmr_writer_publish_at(w, s, buf, (size_t)len) < 0)
				_exit(1);
		}
		shmr_writer_set_upstream(w, count + 5, 1234);
		_exit(0);	/* dies holding the ring: no close */
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

Test(mirror, adopted_by_same_epoch)
{
	const char *n = t_name("adopt");
	struct shmr_mirror_info mi;
	struct shmr_reader *r;
	struct shmr_writer *w;
	struct shmr_msg m;
	struct shmr_info info;

	die_after(n, 9, 10);
	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_OLDEST, 0, &r), 0);
	for (uint64_t s = 0; s < 5; s++)
		expect_msg(r, s);
	cr_assert_eq(shmr_ring_mirror(shmr_reader_ring(r), &mi), 1);
	cr_expect_str_eq(mi.origin, "first");
	cr_expect_eq(mi.upstream_next_seq, 15);
	cr_expect_eq(mi.behind, 5);
	cr_expect_neq(mi.upstream_ns, 0);

	w = mirror(n, 9, 0, 0, 1);	/* adopted: returns 1 */
	cr_assert_eq(shmr_writer_mirror(w, &mi), 0);
	cr_expect_eq(mi.token, 1234, "the resume point survives");
	cr_assert_eq(shmr_writer_info(w, &info), 0);
	cr_assert_eq(info.next_seq, 10);
	cr_assert_eq(info.pid, getpid());
	put_at(w, 10);
	put_at(w, 12);
	for (uint64_t s = 5; s < 11; s++)
		expect_msg(r, s);
	expect_overrun(r, 1, 12);
	expect_msg(r, 12);
	cr_assert_eq(shmr_reader_next(r, &m), SHMR_EMPTY, "no restart");
	cr_assert_eq(shmr_ring_mirror(shmr_reader_ring(r), &mi), 1);
	cr_expect_str_eq(mi.origin, "nats://127.0.0.1:4222 stream T");

	/* A live mirror writer is not adopted. */
	{
		struct shmr_mirror_opts mo = { .epoch = 9 };
		struct shmr_writer *w2;

		cr_expect_eq(shmr_writer_create_mirror(n, NULL, &mo, &w2),
		    -EBUSY);
	}
	shmr_reader_close(r);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

Test(mirror, other_epoch_is_a_restart)
{
	const char *n = t_name("takeover");
	struct shmr_reader *r;
	struct shmr_writer *w;
	struct shmr_msg m;

	die_after(n, 9, 3);
	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_OLDEST, 0, &r), 0);
	w = mirror(n, 12, 100, 0, 0);
	put_at(w, 100);
	for (uint64_t s = 0; s < 3; s++)
		expect_msg(r, s);
	cr_assert_eq(shmr_reader_next(r, &m), SHMR_RESTART);
	cr_assert_eq(shmr_ring_epoch(shmr_reader_ring(r)), 12);
	expect_msg(r, 100);
	shmr_reader_close(r);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

/* Version 1 readers cannot follow gap records: segments say 2. */
Test(mirror, layout_version)
{
	const char *n = t_name("ver");
	struct shmr_writer *w = mirror(n, 1, 0, 1 << 16, 0);
	struct shmr_ring *ring;
	unsigned char *seg;
	size_t len;

	put_at(w, 0);
	seg = t_read_object(n, &len);
	cr_assert_not_null(seg);
	cr_assert_eq(ring_open_mem(seg, len, &ring), 0);
	shmr_ring_close(ring);
	((struct seg_hdr *)(void *)seg)->layout_version = 1;
	cr_expect_eq(ring_open_mem(seg, len, &ring), -EPROTO,
	    "a version 1 segment is refused");
	((struct seg_hdr *)(void *)seg)->layout_version = 3;
	cr_expect_eq(ring_open_mem(seg, len, &ring), -EPROTO);
	cr_expect(strstr(shmr_strerror(-EPROTO), "layout version") != NULL);
	free(seg);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

/* SHMR_CLOSE_ABANDON: a relay that stops leaves the ring to its successor. */
Test(mirror, abandon_then_adopt)
{
	const char *n = t_name("abandon");
	struct shmr_writer *w = mirror(n, 4, 7, 1 << 16, 0);
	struct shmr_reader *r;
	struct shmr_msg m;

	put_at(w, 7);
	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_OLDEST, 0, &r), 0);
	cr_assert_eq(shmr_writer_close(w, SHMR_CLOSE_ABANDON), 0);
	expect_msg(r, 7);
	cr_assert_eq(shmr_reader_next(r, &m), SHMR_EMPTY, "not closed");
	cr_assert_eq(shmr_ring_alive(shmr_reader_ring(r)), 0);
	w = mirror(n, 4, 0, 0, 1);
	put_at(w, 8);
	expect_msg(r, 8);
	shmr_reader_close(r);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

/* A zeroed shmr_mirror_opts with only the epoch: start at 0, no origin. */
Test(mirror, zeroed_options_mean_defaults)
{
	const char *n = t_name("mzero");
	struct shmr_mirror_opts mo;
	struct shmr_mirror_info mi;
	struct shmr_writer *w;
	struct shmr_info info;
	size_t i;

	memset(&mo, 0, sizeof(mo));
	mo.epoch = 7;
	for (i = 0; i < sizeof(mo.reserved) / 8; i++) {
		mo.reserved[i] = 1;
		cr_expect_eq(shmr_writer_create_mirror(n, NULL, &mo, &w),
		    -EINVAL, "reserved[%zu] set", i);
		mo.reserved[i] = 0;
	}
	cr_assert_eq(shmr_writer_create_mirror(n, NULL, &mo, &w), 0);
	cr_assert_eq(shmr_writer_info(w, &info), 0);
	cr_expect_eq(info.epoch, 7);
	cr_expect_eq(info.next_seq, 0);
	memset(&mi, 0xa5, sizeof(mi));
	cr_assert_eq(shmr_writer_mirror(w, &mi), 0);
	cr_expect_str_eq(mi.origin, "");
	for (i = 0; i < sizeof(mi.reserved) / 8; i++)
		cr_expect_eq(mi.reserved[i], 0, "mi.reserved[%zu]", i);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}
