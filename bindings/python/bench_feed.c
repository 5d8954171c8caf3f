/*
 * bench_feed.c - the C producer of the Python binding's tests and
 * benchmark.
 *
 *	bench_feed NAME CAPACITY SIZE COUNT
 *
 * Creates ring NAME (CAPACITY bytes, max_msg >= SIZE), prints "ready",
 * waits for a line on stdin, publishes COUNT messages of SIZE bytes as
 * fast as it can, closes the ring (end of stream; the name stays) and
 * prints "done SECONDS". Each payload is little-endian f64 words, all
 * equal to the message's sequence number (the rest of a SIZE that is not
 * a multiple of 8 is zero), so a reader can tell a torn or misplaced
 * message from an intact one. Exit status 0, or 1 on any failure.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shmring.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct shmr_create_opts o = { .mode = 0600, .gid = (gid_t)-1 };
	struct shmr_writer *w;
	unsigned long long count, i;
	size_t size, k;
	unsigned char *buf;
	char line[64];
	double t0, v;
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: bench_feed name capacity size count\n");
		return 1;
	}
	o.capacity = strtoull(argv[2], NULL, 0);
	size = (size_t)strtoull(argv[3], NULL, 0);
	count = strtoull(argv[4], NULL, 0);
	o.max_msg = size > o.capacity / 8 ? 0 : (uint32_t)(o.capacity / 8);
	if ((buf = calloc(1, size + 8)) == NULL)
		return 1;
	if ((rc = shmr_writer_create(argv[1], &o, &w)) < 0) {
		fprintf(stderr, "bench_feed: %s: %s\n", argv[1],
		    shmr_strerror(rc));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL) {
		shmr_writer_close(w, SHMR_CLOSE_UNLINK);
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < count; i++) {
		v = (double)i;
		for (k = 0; k + 8 <= size; k += 8)
			memcpy(buf + k, &v, 8);
		if ((rc = shmr_writer_publish(w, buf, size, NULL)) < 0) {
			fprintf(stderr, "bench_feed: publish: %s\n",
			    shmr_strerror(rc));
			return 1;
		}
	}
	printf("done %.6f\n", now_s() - t0);
	fflush(stdout);
	free(buf);
	return shmr_writer_close(w, 0) < 0;
}
