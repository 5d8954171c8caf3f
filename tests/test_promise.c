/*
 * test_promise.c - regression tests for issue 12 ("the promise, end to
 * end"): each test failed on main before the fix that names it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "internal.h"

TestSuite(promise, .fini = t_cleanup, .timeout = 60);

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- item 1: a batch larger than the ring ------------------------------- */

struct batch_ctx {
	struct shmr_writer	*w;
	atomic_int		 stop;
	uint64_t		 batches;
};

static void *
batch_producer(void *arg)
{
	static struct shmr_iov iov[3000];
	static char payload[100];
	struct batch_ctx *x = arg;

	memset(payload, 'y', sizeof(payload));
	for (size_t i = 0; i < 3000; i++) {
		iov[i].data = payload;
		iov[i].len = sizeof(payload);
	}
	/* 3000 x 116 bytes = 340 KiB per batch: five times the ring */
	while (!atomic_load(&x->stop)) {
		cr_assert_eq(shmr_writer_publish_batch(x->w, iov, 3000, NULL),
		    0);
		x->batches++;
	}
	return NULL;
}

/*
 * The producer published the tail once per batch but claimed (and moved
 * the head) per half-ring chunk, so a batch larger than the ring showed a
 * head past the tail: info, cursor_init and check said -EBADMSG.
 */
Test(promise, batch_larger_than_ring_never_looks_corrupt)
{
	const char *name = t_name("bigbatch");
	struct batch_ctx x = { .w = t_writer(name, 1 << 16, 0) };
	struct shmr_ring *r;
	struct shmr_info in;
	struct shmr_cursor c;
	struct shmr_msg m;
	static char buf[8192];
	pthread_t th;
	uint64_t end, rounds = 0, msgs = 0;
	char why[256];
	int rc;

	cr_assert_eq(shmr_ring_open(name, NULL, &r), 0);
	cr_assert_eq(pthread_create(&th, NULL, batch_producer, &x), 0);
	end = now_ms() + 1500;
	while (now_ms() < end) {
		rc = shmr_ring_info(r, &in);
		cr_assert_eq(rc, 0, "ring_info: %s", shmr_strerror(rc));
		rc = shmr_cursor_init(r, &c, SHMR_FROM_OLDEST, 0);
		cr_assert_eq(rc, 0, "cursor_init: %s", shmr_strerror(rc));
		for (int i = 0; i < 64; i++) {
			rc = shmr_cursor_read(r, &c, buf, sizeof(buf), &m);
			cr_assert_geq(rc, 0, "read: %s", shmr_strerror(rc));
			msgs += rc == SHMR_MSG;
		}
		rc = shmr_ring_check(r, why, sizeof(why));
		cr_assert_eq(rc, 0, "check: %s", why);
		rounds++;
	}
	atomic_store(&x.stop, 1);
	pthread_join(th, NULL);
	cr_expect_gt(x.batches, 2, "only %llu batches",
	    (unsigned long long)x.batches);
	cr_log_info("%llu rounds, %llu batches, %llu messages read",
	    (unsigned long long)rounds, (unsigned long long)x.batches,
	    (unsigned long long)msgs);
	shmr_ring_close(r);
	shmr_writer_close(x.w, SHMR_CLOSE_UNLINK);
}
