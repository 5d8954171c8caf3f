/*
 * reader.c - follow a shmring ring with libshm, no bridge in between.
 *
 *	cc -o reader reader.c -lshm	(or: pkg-config --cflags --libs libshm)
 *	reader NAME [SEQ]
 *
 * Prints "EPOCH:SEQ DATA" per message and "# ..." per event, from the
 * oldest message still in the ring, or from sequence number SEQ: to
 * resume after a stop, pass the last SEQ printed plus one. A reader that
 * falls more than a ring behind the producer is told exactly how many
 * messages it lost and carries on with the oldest one still there.
 * Exits 0 when the producer closes the ring, 1 on errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <shmring.h>

int
main(int argc, char **argv)
{
	struct shmr_reader *r;
	struct shmr_msg msg;
	uint64_t epoch, lost = 0;
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: reader name [seq]\n");
		return 1;
	}
	rc = shmr_reader_open(argv[1], argc == 3 ? SHMR_FROM_SEQ :
	    SHMR_FROM_OLDEST, argc == 3 ? strtoull(argv[2], NULL, 10) : 0, &r);
	if (rc < 0) {
		fprintf(stderr, "reader: %s: %s\n", argv[1], shmr_strerror(rc));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	epoch = shmr_ring_epoch(shmr_reader_ring(r));
	for (;;) {
		switch (rc = shmr_reader_next(r, &msg)) {
		case SHMR_MSG:
			printf("%" PRIu64 ":%" PRIu64 " ", epoch, msg.seq);
			fwrite(msg.data, 1, msg.len, stdout);
			putchar('\n');
			continue;
		case SHMR_OVERRUN:	/* lapped: exact loss, then go on */
			lost += msg.lost;
			printf("# overrun: lost %" PRIu64 " messages, next is %"
			    PRIu64 "\n", msg.lost, msg.seq);
			continue;
		case SHMR_RESTART:	/* new producer: numbering restarts */
			epoch = shmr_ring_epoch(shmr_reader_ring(r));
			printf("# restart: epoch %" PRIu64 "\n", epoch);
			continue;
		case SHMR_EOF:
			printf("# eof: %" PRIu64 " lost\n", lost);
			shmr_reader_close(r);
			return 0;
		case SHMR_EMPTY:	/* sleep until the producer publishes */
			rc = shmr_reader_wait(r, 1000, 0);
			if (rc == 0 || rc == -ETIMEDOUT || rc == -EINTR)
				continue;
			break;
		default:
			break;
		}
		fprintf(stderr, "reader: %s: %s\n", argv[1], shmr_strerror(rc));
		shmr_reader_close(r);
		return 1;
	}
}
