/* test_reader.c - cursors: every outcome of a read, exact losses, waits. */
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(reader, .fini = t_cleanup, .timeout = 30);

static void
expect_msg(struct shmr_reader *r, uint64_t seq)
{
	struct shmr_msg m;
	char want[64];
	int n = snprintf(want, sizeof(want), "msg-%llu",
	    (unsigned long long)seq);
	int rc = shmr_reader_next(r, &m);

	cr_assert_eq(rc, SHMR_MSG, "seq %llu: %s", (unsigned long long)seq,
	    shmr_strerror(rc));
	cr_assert_eq(m.seq, seq);
	cr_assert_eq(m.len, (size_t)n);
	cr_assert(memcmp(m.data, want, (size_t)n) == 0);
}

Test(reader, outcomes_in_order)
{
	const char *n = t_name("outcomes");
	struct shmr_writer *w = t_writer(n, 1 << 16, 0);
	struct shmr_reader *r;
	struct shmr_msg m;

	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_OLDEST, 0, &r), 0);
	cr_expect_eq(shmr_reader_next(r, &m), SHMR_EMPTY);
	t_publish_range(w, 0, 10);
	for (uint64_t i = 0; i < 10; i++)
		expect_msg(r, i);
	cr_expect_eq(shmr_reader_next(r, &m), SHMR_EMPTY);
	t_publish_range(w, 10, 12);
	shmr_writer_close(w, 0);
	/* Everything published before close, then end of stream. */
	expect_msg(r, 10);
	expect_msg(r, 11);
	cr_expect_eq(shmr_reader_next(r, &m), SHMR_EOF);
	cr_expect_eq(shmr_reader_next(r, &m), SHMR_EOF);
	shmr_reader_close(r);
}

Test(reader, start_positions)
{
	const char *n = t_name("from");
	struct shmr_writer *w = t_writer(n, 1 << 16, 0);
	struct shmr_ring *ring;
	struct shmr_cursor c;
	struct shmr_msg m;
	char buf[64];

	t_publish_range(w, 0, 100);
	cr_assert_eq(shmr_ring_open(n, NULL, &ring), 0);
	cr_assert_eq(shmr_cursor_init(ring, &c, SHMR_FROM_OLDEST, 0), 0);
	cr_assert_eq(shmr_cursor_read(ring, &c, buf, sizeof(buf), &m),
	    SHMR_MSG);
	cr_expect_eq(m.seq, 0);
	cr_assert_eq(shmr_cursor_init(ring, &c, SHMR_FROM_LATEST, 0), 0);
	cr_assert_eq(shmr_cursor_read(ring, &c, buf, sizeof(buf), &m),
	    SHMR_MSG);
	cr_expect_eq(m.seq, 99);
	cr_assert_eq(shmr_cursor_init(ring, &c, SHMR_FROM_END, 0), 0);
	cr_expect_eq(shmr_cursor_read(ring, &c, buf, sizeof(buf), &m),
	    SHMR_EMPTY);
	t_publish_range(w, 100, 101);
	cr_assert_eq(shmr_cursor_read(ring, &c, buf, sizeof(buf), &m),
	    SHMR_MSG);
	cr_expect_eq(m.seq, 100);
	cr_assert_eq(shmr_cursor_init(ring, &c, SHMR_FROM_SEQ, 42), 0);
	cr_assert_eq(shmr_cursor_read(ring, &c, buf, sizeof(buf), &m),
	    SHMR_MSG);
	cr_expect_eq(m.seq, 42);
	cr_expect(memcmp(m.data, "msg-42", 6) == 0);
	/* The next sequence number: waits for it, no false overrun. */
	cr_assert_eq(shmr_cursor_init(ring, &c, SHMR_FROM_SEQ, 101), 0);
	cr_expect_eq(c.seq, 101);
	cr_expect_eq(shmr_cursor_read(ring, &c, buf, sizeof(buf), &m),
	    SHMR_EMPTY);
	cr_expect_eq(shmr_cursor_init(ring, &c, SHMR_FROM_SEQ, 102), -ERANGE);
	cr_expect_eq(shmr_cursor_init(ring, &c, SHMR_FROM_SEQ, UINT64_MAX),
	    -ERANGE);
	{
		struct shmr_reader *r = NULL;

		/* A failed open frees everything (checked under ASan). */
		cr_expect_eq(shmr_reader_open(n, SHMR_FROM_SEQ, 102, &r),
		    -ERANGE);
		cr_expect_null(r);
	}
	/* Too small a buffer: told the size, cursor does not move. */
	cr_assert_eq(shmr_cursor_init(ring, &c, SHMR_FROM_SEQ, 50), 0);
	cr_expect_eq(shmr_cursor_read(ring, &c, buf, 3, &m), -ENOBUFS);
	cr_expect_eq(m.len, 6);
	cr_assert_eq(shmr_cursor_read(ring, &c, buf, sizeof(buf), &m),
	    SHMR_MSG);
	cr_expect_eq(m.seq, 50);
	shmr_ring_close(ring);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

/* Count how many messages of the given size fit in a 64 KiB ring. */
Test(reader, exact_loss_when_lapped)
{
	const char *n = t_name("lap");
	struct shmr_writer *w = t_writer(n, 1 << 16, 0);
	struct shmr_ring *ring;
	struct shmr_cursor c;
	struct shmr_info info;
	struct shmr_msg m;
	char buf[256];
	int rc;

	cr_assert_eq(shmr_ring_open(n, NULL, &ring), 0);
	cr_assert_eq(shmr_cursor_init(ring, &c, SHMR_FROM_OLDEST, 0), 0);
	t_publish_range(w, 0, 5);
	cr_assert_eq(shmr_cursor_read(ring, &c, buf, sizeof(buf), &m),
	    SHMR_MSG);
	cr_assert_eq(m.seq, 0);
	/* Lap the reader several times over. */
	t_publish_range(w, 5, 20000);
	cr_assert_eq(shmr_ring_info(ring, &info), 0);
	cr_assert_gt(info.oldest_seq, 1);
	rc = shmr_cursor_read(ring, &c, buf, sizeof(buf), &m);
	cr_assert_eq(rc, SHMR_OVERRUN, "%s", shmr_strerror(rc));
	cr_expect_eq(m.lost, info.oldest_seq - 1);
	cr_expect_eq(m.seq, info.oldest_seq);
	cr_assert_eq(shmr_cursor_read(ring, &c, buf, sizeof(buf), &m),
	    SHMR_MSG);
	cr_expect_eq(m.seq, info.oldest_seq);
	/* Asking for a message that is gone: the gap, exactly. */
	cr_assert_eq(shmr_cursor_init(ring, &c, SHMR_FROM_SEQ, 3), 0);
	cr_assert_eq(shmr_cursor_read(ring, &c, buf, sizeof(buf), &m),
	    SHMR_OVERRUN);
	cr_expect_eq(m.lost, info.oldest_seq - 3);
	cr_assert_eq(shmr_cursor_read(ring, &c, buf, sizeof(buf), &m),
	    SHMR_MSG);
	cr_expect_eq(m.seq, info.oldest_seq);
	shmr_ring_close(ring);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

Test(reader, loss_accounting_with_every_size)
{
	/* Sizes up to the maximum exercise pads at the wrap; the sum of
	 * delivered and lost must equal what was published. */
	const char *n = t_name("sizes");
	struct shmr_writer *w = t_writer(n, 1 << 16, 8192);
	struct shmr_ring *ring;
	struct shmr_cursor c;
	struct shmr_msg m;
	static unsigned char pay[8192], buf[8192];
	uint64_t delivered = 0, lost = 0, expect = 0;

	cr_assert_eq(shmr_ring_open(n, NULL, &ring), 0);
	cr_assert_eq(shmr_cursor_init(ring, &c, SHMR_FROM_OLDEST, 0), 0);
	for (uint64_t i = 0; i < 5000; i++) {
		size_t len = (i * 7919) % 8193;

		memset(pay, (int)(i & 0xff), len);
		cr_assert_eq(shmr_writer_publish(w, pay, len, NULL), 0);
		if (i % 3 != 0)
			continue;
		for (int k = 0; k < 2; k++) {
			int rc = shmr_cursor_read(ring, &c, buf, sizeof(buf),
			    &m);

			if (rc == SHMR_EMPTY)
				break;
			if (rc == SHMR_OVERRUN) {
				cr_assert_eq(m.seq, expect + m.lost);
				lost += m.lost;
				expect = m.seq;
				continue;
			}
			cr_assert_eq(rc, SHMR_MSG, "%s", shmr_strerror(rc));
			cr_assert_eq(m.seq, expect);
			cr_assert_eq(m.len, (m.seq * 7919) % 8193);
			for (size_t j = 0; j < m.len; j++)
				cr_assert_eq(buf[j], m.seq & 0xff);
			expect++;
			delivered++;
		}
	}
	for (;;) {
		int rc = shmr_cursor_read(ring, &c, buf, sizeof(buf), &m);

		if (rc == SHMR_EMPTY)
			break;
		if (rc == SHMR_OVERRUN) {
			lost += m.lost;
			expect = m.seq;
			continue;
		}
		cr_assert_eq(rc, SHMR_MSG);
		cr_assert_eq(m.seq, expect++);
		delivered++;
	}
	cr_expect_eq(delivered + lost, 5000);
	cr_expect_gt(lost, 0);
	shmr_ring_close(ring);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

Test(reader, batch_read)
{
	const char *n = t_name("rbatch");
	struct shmr_writer *w = t_writer(n, 1 << 16, 0);
	struct shmr_ring *ring;
	struct shmr_cursor c;
	struct shmr_msg m[16];
	char buf[4096];
	size_t cnt, total = 0;

	t_publish_range(w, 0, 40);
	cr_assert_eq(shmr_ring_open(n, NULL, &ring), 0);
	cr_assert_eq(shmr_cursor_init(ring, &c, SHMR_FROM_OLDEST, 0), 0);
	while (shmr_cursor_read_batch(ring, &c, buf, sizeof(buf), m, 16,
	    &cnt) == SHMR_MSG) {
		cr_assert_geq(cnt, 1);
		for (size_t i = 0; i < cnt; i++) {
			char want[32];
			int len = snprintf(want, sizeof(want), "msg-%zu",
			    total);

			cr_assert_eq(m[i].seq, total);
			cr_assert_eq(m[i].len, (size_t)len);
			cr_assert(memcmp(m[i].data, want, (size_t)len) == 0);
			total++;
		}
	}
	cr_expect_eq(total, 40);
	shmr_ring_close(ring);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

/*
 * What one shmr_cursor_read_batch() returns at most (libshm(3)): 64 KiB of
 * payload, or the first message alone if it is larger; and it stops at the
 * last 64-byte boundary below the tail, the rest coming with the next call.
 */
Test(reader, batch_read_bounds)
{
	const char *n = t_name("rbound");
	struct shmr_writer *w = t_writer(n, 1 << 20, 0);
	static char buf[1 << 20], big[100000];
	struct shmr_ring *ring;
	struct shmr_cursor c;
	struct shmr_msg m[1024];
	size_t cnt, i, sum, got = 0;

	/* Ten 8-byte messages: 24-byte records, the tail at 240. */
	for (i = 0; i < 10; i++)
		cr_assert_eq(shmr_writer_publish(w, "12345678", 8, NULL), 0);
	cr_assert_eq(shmr_ring_open(n, NULL, &ring), 0);
	cr_assert_eq(shmr_cursor_init(ring, &c, SHMR_FROM_OLDEST, 0), 0);
	cr_assert_eq(shmr_cursor_read_batch(ring, &c, buf, sizeof(buf), m,
	    1024, &cnt), SHMR_MSG);
	cr_expect_eq(cnt, 8, "up to the line boundary at 192: %zu", cnt);
	cr_assert_eq(shmr_cursor_read_batch(ring, &c, buf, sizeof(buf), m,
	    1024, &cnt), SHMR_MSG);
	cr_expect_eq(cnt, 2, "then the rest: %zu", cnt);
	cr_expect_eq(m[cnt - 1].seq, 9);

	/*
	 * 300 messages of 1000 bytes: at most 64 KiB of payload a call, so
	 * 65 messages in each full call.
	 */
	memset(big, 'b', sizeof(big));
	for (i = 0; i < 300; i++)
		cr_assert_eq(shmr_writer_publish(w, big, 1000, NULL), 0);
	for (int call = 0; got < 300; call++) {
		cr_assert_eq(shmr_cursor_read_batch(ring, &c, buf, sizeof(buf),
		    m, 1024, &cnt), SHMR_MSG);
		for (sum = 0, i = 0; i < cnt; i++)
			sum += m[i].len;
		cr_expect_leq(sum, 64 << 10, "%zu bytes in one call", sum);
		if (call < 4)
			cr_expect_eq(cnt, 65, "call %d: %zu", call, cnt);
		got += cnt;
	}
	cr_expect_eq(got, 300);
	/* A message larger than 64 KiB comes alone. */
	cr_assert_eq(shmr_writer_publish(w, big, sizeof(big), NULL), 0);
	cr_assert_eq(shmr_writer_publish(w, big, 1000, NULL), 0);
	cr_assert_eq(shmr_cursor_read_batch(ring, &c, buf, sizeof(buf), m,
	    1024, &cnt), SHMR_MSG);
	cr_expect_eq(cnt, 1);
	cr_expect_eq(m[0].len, sizeof(big));
	cr_assert_eq(shmr_cursor_read_batch(ring, &c, buf, sizeof(buf), m,
	    1024, &cnt), SHMR_MSG);
	cr_expect_eq(cnt, 1);
	cr_expect_eq(m[0].len, 1000);
	shmr_ring_close(ring);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

Test(reader, peek_and_consume)
{
	const char *n = t_name("peek");
	struct shmr_writer *w = t_writer(n, 1 << 16, 0);
	struct shmr_ring *ring;
	struct shmr_cursor c;
	struct shmr_msg m;

	t_publish_range(w, 0, 2);
	cr_assert_eq(shmr_ring_open(n, NULL, &ring), 0);
	cr_assert_eq(shmr_cursor_init(ring, &c, SHMR_FROM_OLDEST, 0), 0);
	cr_assert_eq(shmr_cursor_peek(ring, &c, &m), SHMR_MSG);
	cr_expect(memcmp(m.data, "msg-0", 5) == 0);
	cr_assert_eq(shmr_cursor_consume(ring, &c, &m), 0);
	cr_assert_eq(shmr_cursor_peek(ring, &c, &m), SHMR_MSG);
	cr_expect_eq(m.seq, 1);
	/* Overwrite the viewed bytes: the view is reported stale. */
	t_publish_range(w, 2, 20000);
	cr_expect_eq(shmr_cursor_consume(ring, &c, &m), -ESTALE);
	cr_expect_eq(shmr_cursor_peek(ring, &c, &m), SHMR_OVERRUN);
	shmr_ring_close(ring);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

Test(reader, restart_is_reported_then_followed)
{
	const char *n = t_name("restart");
	struct shmr_reader *r;
	struct shmr_writer *w;
	struct shmr_msg m;
	uint64_t e0;
	pid_t pid = t_child_producer(n, 1);

	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_OLDEST, 0, &r), 0);
	e0 = shmr_ring_epoch(shmr_reader_ring(r));
	t_kill(pid);
	cr_expect_eq(shmr_ring_alive(shmr_reader_ring(r)), 0);
	w = t_writer(n, 1 << 16, 0);
	t_publish_range(w, 0, 3);
	/* The old ring is drained first, then the restart, then new data. */
	expect_msg(r, 0);
	cr_assert_eq(shmr_reader_next(r, &m), SHMR_RESTART);
	cr_expect_eq(m.seq, 0);
	cr_expect_gt(shmr_ring_epoch(shmr_reader_ring(r)), e0);
	expect_msg(r, 0);
	expect_msg(r, 1);
	expect_msg(r, 2);
	shmr_reader_close(r);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

/*
 * A ring replaced while nobody read it says what it replaced: the old
 * epoch, where it ended, and whether its producer had closed it, so a
 * reader that comes back later (a relay) can say exactly what it missed.
 */
Test(reader, predecessor_is_recorded)
{
	const char *n = t_name("pred");
	struct shmr_predecessor p;
	struct shmr_ring *ring;
	struct shmr_writer *w;
	struct shmr_info in;
	uint64_t e0, e1;

	w = t_writer(n, 1 << 16, 0);
	shmr_writer_info(w, &in);
	e0 = in.epoch;
	cr_assert_eq(shmr_ring_open(n, NULL, &ring), 0);
	cr_assert_eq(shmr_ring_predecessor(ring, &p), 0, "a new name");
	shmr_ring_close(ring);
	t_publish_range(w, 0, 5);
	cr_assert_eq(shmr_writer_close(w, 0), 0);	/* closed, kept */
	w = t_writer(n, 1 << 16, 0);
	shmr_writer_info(w, &in);
	e1 = in.epoch;
	t_publish_range(w, 0, 2);
	cr_assert_eq(shmr_ring_open(n, NULL, &ring), 0);
	cr_assert_eq(shmr_ring_predecessor(ring, &p), 1);
	cr_expect_eq(p.epoch, e0);
	cr_expect(p.closed && p.end_known);
	cr_expect_eq(p.end_seq, 5);
	shmr_ring_close(ring);
	/* A producer that died (left LIVE) is not a close. */
	cr_assert_eq(shmr_writer_close(w, SHMR_CLOSE_ABANDON), 0);
	w = t_writer(n, 1 << 16, 0);
	cr_assert_eq(shmr_ring_open(n, NULL, &ring), 0);
	cr_assert_eq(shmr_ring_predecessor(ring, &p), 1);
	cr_expect_eq(p.epoch, e1);
	cr_expect(!p.closed && p.end_known);
	cr_expect_eq(p.end_seq, 2);
	shmr_ring_close(ring);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

Test(reader, cursor_of_another_epoch)
{
	const char *n = t_name("epoch");
	struct shmr_writer *w = t_writer(n, 1 << 16, 0);
	struct shmr_ring *ring;
	struct shmr_cursor c;
	struct shmr_msg m;
	char buf[64];

	cr_assert_eq(shmr_ring_open(n, NULL, &ring), 0);
	cr_assert_eq(shmr_cursor_init(ring, &c, SHMR_FROM_OLDEST, 0), 0);
	c.epoch++;
	cr_expect_eq(shmr_cursor_read(ring, &c, buf, sizeof(buf), &m),
	    -ESTALE);
	shmr_ring_close(ring);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Producers for the waits below, in threads: a writer handle cannot be
 * used in a child of fork() (libshm(3), FORK); other processes' wake-ups
 * are covered by stress_ring and security_reader.sh.
 */
struct later {
	struct shmr_writer	*w;
	bool			 close;
	_Atomic int		*done;
};

static void *
publish_later(void *arg)
{
	struct later *l = arg;

	usleep(50000);
	if (l->close)
		shmr_writer_close(l->w, 0);
	else
		shmr_writer_publish(l->w, "msg-0", 5, NULL);
	return NULL;
}

static void *
stream_300ms(void *arg)
{
	struct later *l = arg;
	char msg[64] = "stream";
	double t0 = now_ms();

	/* Stream for 300 ms, then pause without closing. */
	while (now_ms() - t0 < 300)
		for (int i = 0; i < 100; i++)
			shmr_writer_publish(l->w, msg, sizeof(msg), NULL);
	atomic_store(l->done, 1);
	return NULL;
}

Test(reader, wait_times_out_and_wakes)
{
	const char *n = t_name("wait");
	struct shmr_writer *w = t_writer(n, 1 << 16, 0);
	struct shmr_reader *r;
	struct shmr_msg m;
	struct later l = { .w = w };
	pthread_t t;
	double t0;

	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_END, 0, &r), 0);
	t0 = now_ms();
	cr_expect_eq(shmr_reader_wait(r, 50, 0), -ETIMEDOUT);
	cr_expect_geq(now_ms() - t0, 49);
	cr_expect_eq(shmr_reader_wait(r, 20, SHMR_WAIT_SPIN), -ETIMEDOUT);
	/* A publish wakes a blocked reader. */
	cr_assert_eq(pthread_create(&t, NULL, publish_later, &l), 0);
	cr_assert_eq(shmr_reader_wait(r, 20000, 0), 0);
	expect_msg(r, 0);
	pthread_join(t, NULL);
	/* Closing wakes sleepers too. */
	l.close = true;
	cr_assert_eq(pthread_create(&t, NULL, publish_later, &l), 0);
	cr_assert_eq(shmr_reader_wait(r, 20000, 0), 0);
	cr_expect_eq(shmr_reader_next(r, &m), SHMR_EOF);
	pthread_join(t, NULL);
	shmr_unlink(n);
	shmr_reader_close(r);
}

/*
 * A spinning wait (SHMR_WAIT_SPIN) returns as soon as a message is
 * published or the producer closes, with a timeout and without one.
 */
Test(reader, spin_wait_sees_publish_and_close)
{
	const char *n = t_name("spin");
	struct shmr_writer *w = t_writer(n, 1 << 16, 0);
	struct shmr_reader *r;
	struct shmr_msg m;
	struct later l = { .w = w };
	pthread_t t;

	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_END, 0, &r), 0);
	cr_assert_eq(pthread_create(&t, NULL, publish_later, &l), 0);
	cr_assert_eq(shmr_reader_wait(r, 20000, SHMR_WAIT_SPIN), 0);
	expect_msg(r, 0);
	pthread_join(t, NULL);
	l.close = true;
	cr_assert_eq(pthread_create(&t, NULL, publish_later, &l), 0);
	cr_assert_eq(shmr_reader_wait(r, -1, SHMR_WAIT_SPIN), 0);
	cr_expect_eq(shmr_reader_next(r, &m), SHMR_EOF);
	pthread_join(t, NULL);
	shmr_unlink(n);
	shmr_reader_close(r);
}

/*
 * A blocking wait lets a streaming producer get ahead before it returns
 * (see gather() in reader.c), but it must still return while the producer
 * streams, and at once when it pauses; nothing is lost by waiting.
 */
Test(reader, wait_under_a_streaming_producer)
{
	const char *n = t_name("stream");
	struct shmr_writer *w = t_writer(n, 1 << 20, 0);
	struct shmr_reader *r;
	struct shmr_msg m;
	_Atomic int done_ = 0, *done = &done_;
	struct later l = { .w = w, .done = done };
	uint64_t expect = 0, lost = 0;
	int during = 0, rc;
	pthread_t t;

	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_OLDEST, 0, &r), 0);
	cr_assert_eq(pthread_create(&t, NULL, stream_300ms, &l), 0);
	for (;;) {
		rc = shmr_reader_next(r, &m);
		if (rc == SHMR_MSG) {
			cr_assert_eq(m.seq, expect);
			expect++;
			continue;
		}
		if (rc == SHMR_OVERRUN) {
			cr_assert_eq(m.seq, expect + m.lost);
			lost += m.lost;
			expect = m.seq;
			continue;
		}
		cr_assert_eq(rc, SHMR_EMPTY, "%s", shmr_strerror(rc));
		if (atomic_load(done)) {
			struct shmr_info in;

			/* Paused: everything published was read or counted. */
			cr_assert_eq(shmr_ring_info(shmr_reader_ring(r), &in), 0);
			if (expect == in.next_seq)
				break;
		}
		/* The producer may stop between the check above and the
		 * wait: then the wait times out and we look again. */
		rc = shmr_reader_wait(r, 100, 0);
		cr_assert(rc == 0 || rc == -ETIMEDOUT, "%s", shmr_strerror(rc));
		if (rc == 0 && !atomic_load(done))
			during++;
	}
	pthread_join(t, NULL);
	cr_expect_gt(during, 0, "no wait returned while the producer ran");
	cr_expect_gt(expect - lost, 0);
	shmr_reader_close(r);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

Test(reader, mapping_is_read_only)
{
	const char *n = t_name("ro");
	struct shmr_writer *w = t_writer(n, 1 << 16, 0);
	struct shmr_ring *ring;
	struct shmr_cursor c;
	struct shmr_msg m;
	pid_t pid;
	int st;

	t_publish_range(w, 0, 1);
	cr_assert_eq(shmr_ring_open(n, NULL, &ring), 0);
	cr_assert_eq(shmr_cursor_init(ring, &c, SHMR_FROM_OLDEST, 0), 0);
	/* A view points into the reader's mapping of the ring. */
	cr_assert_eq(shmr_cursor_peek(ring, &c, &m), SHMR_MSG);
	pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);	/* not a sanitizer's handler */
		*(volatile char *)(uintptr_t)m.data = 'X';
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
	    "child status %#x", st);
	cr_assert_eq(shmr_cursor_consume(ring, &c, &m), 0);
	shmr_ring_close(ring);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

/* The public structs keep their sizes (shmring.h, "Room to grow"). */
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct shmr_cursor) == 64, "shmr_cursor ABI");
_Static_assert(sizeof(struct shmr_create_opts) == 64, "create_opts ABI");
_Static_assert(sizeof(struct shmr_open_opts) == 64, "open_opts ABI");
_Static_assert(sizeof(struct shmr_mirror_opts) == 64, "mirror_opts ABI");
_Static_assert(sizeof(struct shmr_info) == 160, "shmr_info ABI");
_Static_assert(sizeof(struct shmr_mirror_info) == 320, "mirror_info ABI");
_Static_assert(sizeof(struct shmr_msg) == 32, "shmr_msg ABI");
_Static_assert(sizeof(struct shmr_iov) == 16, "shmr_iov ABI");
#endif

/*
 * A zeroed shmr_open_opts means what no options mean; a reserved word set
 * is refused by every call that takes them; the cursor and the info come
 * back with their reserved words zero.
 */
Test(reader, zeroed_open_opts_mean_defaults)
{
	const char *n = t_name("zopen");
	struct shmr_writer *w = t_writer(n, 1 << 16, 0);
	struct shmr_open_opts o;
	struct shmr_reader *r;
	struct shmr_ring *ring;
	struct shmr_cursor c;
	struct shmr_info info;
	size_t i;

	t_publish_range(w, 0, 1);
	memset(&o, 0, sizeof(o));
	cr_assert_eq(shmr_ring_open(n, &o, &ring), 0);
	memset(&c, 0xa5, sizeof(c));
	cr_assert_eq(shmr_cursor_init(ring, &c, SHMR_FROM_OLDEST, 0), 0);
	memset(&info, 0xa5, sizeof(info));
	cr_assert_eq(shmr_ring_info(ring, &info), 0);
	for (i = 0; i < sizeof(c.reserved) / 8; i++)
		cr_expect_eq(c.reserved[i], 0, "cursor reserved[%zu]", i);
	for (i = 0; i < sizeof(info.reserved) / 8; i++)
		cr_expect_eq(info.reserved[i], 0, "info reserved[%zu]", i);
	shmr_ring_close(ring);
	cr_assert_eq(shmr_reader_open_opts(n, SHMR_FROM_OLDEST, 0, &o, &r), 0);
	expect_msg(r, 0);
	shmr_reader_close(r);
	for (i = 0; i < sizeof(o.reserved) / 8; i++) {
		o.reserved[i] = 1;
		cr_expect_eq(shmr_ring_open(n, &o, &ring), -EINVAL,
		    "ring_open, reserved[%zu] set", i);
		cr_expect_eq(shmr_reader_open_opts(n, SHMR_FROM_OLDEST, 0, &o,
		    &r), -EINVAL, "reader_open_opts, reserved[%zu] set", i);
		o.reserved[i] = 0;
	}
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

/*
 * As user nobody, create (or take over) NAME, publish msg-0..msg-(n-1)
 * and close it with flags (SHMR_CLOSE_ABANDON: as if it died).
 */
static void
nobody_publishes(const char *name, uint64_t n, unsigned flags)
{
	pid_t pid = fork();
	int st;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct shmr_create_opts o = { .capacity = 1 << 16,
		    .mode = 0644 };
		struct shmr_writer *w;
		char buf[32];

		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 ||
		    setuid(65534) < 0)
			_exit(10);
		if (shmr_writer_create(name, &o, &w) < 0)
			_exit(11);
		for (uint64_t i = 0; i < n; i++)
			if (shmr_writer_publish(w, buf, (size_t)snprintf(buf,
			    sizeof(buf), "msg-%llu", (unsigned long long)i),
			    NULL) < 0)
				_exit(12);
		shmr_writer_close(w, flags);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d",
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/*
 * shmr_reader_open_opts() reads a ring of another user with
 * trust_any_owner, and keeps that trust for the ring that replaces it.
 */
Test(reader, open_opts_trust_another_owner)
{
	const char *n = t_name("foreign");
	struct shmr_open_opts o = { .trust_any_owner = true };
	struct shmr_reader *r;
	struct shmr_msg m;

	if (geteuid() != 0)
		cr_skip_test("needs root to create a ring as another user");
	nobody_publishes(n, 2, SHMR_CLOSE_ABANDON);
	cr_expect_eq(shmr_reader_open(n, SHMR_FROM_OLDEST, 0, &r), -EPERM);
	cr_assert_eq(shmr_reader_open_opts(n, SHMR_FROM_OLDEST, 0, &o, &r),
	    0);
	nobody_publishes(n, 1, 0);	/* a takeover, then closed */
	expect_msg(r, 0);
	expect_msg(r, 1);
	cr_assert_eq(shmr_reader_next(r, &m), SHMR_RESTART);
	expect_msg(r, 0);
	cr_expect_eq(shmr_reader_next(r, &m), SHMR_EOF);
	shmr_reader_close(r);
}
