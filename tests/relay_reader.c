/*
 * relay_reader.c - follow a ring for the relay tests and print every
 * outcome, one line each, so two hosts' views can be compared exactly:
 *
 *	M epoch seq len fnv1a	a message
 *	L epoch lost next	an overrun (lapped, or lost upstream)
 *	R epoch next		a restart (new epoch)
 *
 * usage: relay_reader RING IDLE_MS [FROM_SEQ]: exits 0 after IDLE_MS
 * without anything new once a message was seen, or on SIGTERM. With
 * RELAY_READER_DONE=FILE in the environment, idle time counts only once
 * FILE exists and the ring is at its end of stream: the test says when
 * the producers are done, so a loaded machine's pauses (a new epoch that
 * takes seconds to reach a mirror) do not end the reader early.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shmring.h"

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint32_t
fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static uint64_t
ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
main(int argc, char **argv)
{
	struct shmr_reader *r;
	struct shmr_msg m;
	uint64_t idle, last, epoch;
	const char *done = getenv("RELAY_READER_DONE");
	int rc, seen = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: relay_reader RING IDLE_MS [SEQ]\n");
		return 2;
	}
	idle = strtoull(argv[2], NULL, 10);
	signal(SIGTERM, on_term);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((rc = shmr_reader_open(argv[1], argc > 3 ? SHMR_FROM_SEQ :
	    SHMR_FROM_OLDEST, argc > 3 ? strtoull(argv[3], NULL, 10) : 0,
	    &r)) < 0) {
		if (rc != -ENOENT && rc != -EAGAIN) {
			fprintf(stderr, "relay_reader: %s: %s\n", argv[1],
			    shmr_strerror(rc));
			return 1;
		}
		if (stop)
			return 0;
		usleep(20000);
	}
	last = ms();
	while (!stop) {
		epoch = shmr_ring_epoch(shmr_reader_ring(r));
		rc = shmr_reader_next(r, &m);
		if (rc == SHMR_MSG) {
			printf("M %" PRIu64 " %" PRIu64 " %zu %08x\n", epoch,
			    m.seq, m.len, fnv1a(m.data, m.len));
			seen = 1;
		} else if (rc == SHMR_OVERRUN) {
			printf("L %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			    epoch, m.lost, m.seq);
		} else if (rc == SHMR_RESTART) {
			printf("R %" PRIu64 " %" PRIu64 "\n",
			    shmr_ring_epoch(shmr_reader_ring(r)), m.seq);
		} else if (rc == SHMR_EMPTY || rc == SHMR_EOF ||
		    rc == -EDEADLK) {
			if (done != NULL && (rc != SHMR_EOF ||
			    access(done, F_OK) != 0))
				last = ms();
			if (seen && ms() - last >= idle)
				break;
			shmr_reader_wait(r, 50, 0);
			continue;
		} else {
			fprintf(stderr, "relay_reader: %s\n",
			    shmr_strerror(rc));
			return 1;
		}
		last = ms();
	}
	shmr_reader_close(r);
	return 0;
}
