/*
 * test_found.c - regressions for bugs the issue-12 harness (the chaos
 * build, tests/exact.c) found by itself, each failing before its fix.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"
#include "layout.h"

TestSuite(found, .fini = t_cleanup, .timeout = 30);

/* The ring's header, mapped read-write: the test is its owner. */
static struct seg_hdr *
map_hdr(const char *name)
{
	char path[256];
	void *p;
	int fd;

	snprintf(path, sizeof(path), "/" SHM_PREFIX "%s", name);
	fd = shm_open(path, O_RDWR, 0);
	cr_assert(fd >= 0, "shm_open %s: %s", path, strerror(errno));
	p = mmap(NULL, HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	cr_assert(p != MAP_FAILED);
	return p;
}

/*
 * shmr_reader_next() following a restart could not start on the new ring
 * (here its header update never settles: -EDEADLK) and left its cursor
 * stamped with the new ring's epoch over the old ring: every later read
 * said -ESTALE, for ever. make SAN=chaos stress found it (stress_kill:
 * "data was overwritten while in use" after one stall).
 */
Test(found, reader_survives_a_failed_restart)
{
	const char *n = t_name("attach");
	struct shmr_writer *w1, *w2;
	struct shmr_reader *r;
	struct shmr_msg m;
	struct seg_hdr *h;
	uint64_t sl;
	int rc;

	w1 = t_writer(n, 1 << 16, 0);
	t_publish_range(w1, 0, 3);
	cr_assert_eq(shmr_reader_open(n, SHMR_FROM_OLDEST, 0, &r), 0);
	shmr_writer_close(w1, 0);		/* closed, not removed */
	w2 = t_writer(n, 1 << 16, 0);		/* takes it over: a new epoch */
	t_publish_range(w2, 0, 2);
	h = map_hdr(n);
	/* The new producer "stopped" inside a header update. */
	sl = atomic_load(&h->sl);
	atomic_store(&h->sl, sl + 1);
	for (int i = 0; i < 3; i++) {
		rc = shmr_reader_next(r, &m);
		cr_assert_eq(rc, SHMR_MSG, "old ring message %d: %s", i,
		    shmr_strerror(rc));
	}
	rc = shmr_reader_next(r, &m);
	cr_assert(rc == -EDEADLK || rc == -EAGAIN || rc == SHMR_EMPTY,
	    "restart onto a stalled ring: %d (%s)", rc, shmr_strerror(rc));
	atomic_store(&h->sl, sl);		/* it runs again */
	rc = shmr_reader_next(r, &m);
	cr_assert_eq(rc, SHMR_RESTART, "after the stall: %d (%s)", rc,
	    shmr_strerror(rc));
	{
		struct shmr_info in;

		/* epochs are creation times in microseconds (libshm(3)) */
		cr_assert_eq(shmr_writer_info(w2, &in), 0);
		cr_assert_eq(shmr_ring_epoch(shmr_reader_ring(r)), in.epoch);
	}
	for (int i = 0; i < 2; i++) {
		rc = shmr_reader_next(r, &m);
		cr_assert_eq(rc, SHMR_MSG, "new ring message %d: %s", i,
		    shmr_strerror(rc));
		cr_assert_eq(m.seq, (uint64_t)i);
	}
	munmap(h, HDR_SIZE);
	shmr_reader_close(r);
	shmr_writer_close(w2, SHMR_CLOSE_UNLINK);
}
