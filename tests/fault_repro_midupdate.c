/*
 * fault_repro_midupdate.c - libshm bug reproducer (docs/RELIABILITY.md,
 * bug 2). Run by `make fault-repro`; exit 0 when fixed, 1 otherwise.
 *
 * A producer SIGKILLed inside finish() after storing next_seq/last_pos but
 * before storing tail (header seqlock odd) leaves a header that
 * ring_hot()'s hot_valid() rejects forever: a lapped reader of that dead
 * ring gets -EBADMSG ("corrupt ring") instead of SHMR_OVERRUN + the rest.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmring.h"
#include "layout.h"

int
main(void)
{
	char name[64], path[96];
	struct shmr_create_opts o = { .capacity = 65536, .max_msg = 1024,
	    .gid = (gid_t)-1 };
	struct shmr_writer *w;
	struct shmr_reader *r;
	struct shmr_msg m;
	char buf[512] = { 0 };
	struct seg_hdr *h;
	uint64_t tail;
	int go[2], rc, i, fd;
	char c;

	snprintf(name, sizeof(name), "repro-mid-%d", (int)getpid());
	snprintf(path, sizeof(path), "/shmring.%s", name);
	if (pipe(go) < 0)
		return 1;
	if (fork() == 0) {
		if (shmr_writer_create(name, &o, &w) < 0)
			_exit(1);
		shmr_writer_publish(w, buf, 10, NULL);
		if (read(go[0], &c, 1) != 1)	/* reader is open */
			_exit(1);
		for (i = 0; i < 10000; i++)	/* laps the reader */
			shmr_writer_publish(w, buf, sizeof(buf), NULL);
		/* Die as if killed inside finish() of the next publish:
		 * sl odd, next_seq and last_pos stored, tail not yet. */
		fd = shm_open(path, O_RDWR, 0);
		h = mmap(NULL, HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
		if (h == MAP_FAILED)
			_exit(1);
		tail = atomic_load(&h->tail);
		atomic_fetch_add(&h->sl, 1);
		atomic_fetch_add(&h->next_seq, 1);
		atomic_store(&h->last_pos, tail);
		_exit(0);
	}
	while (shmr_reader_open(name, SHMR_FROM_OLDEST, 0, &r) < 0)
		usleep(1000);
	if (write(go[1], "x", 1) != 1)
		return 1;
	wait(NULL);
	rc = shmr_reader_next(r, &m);
	printf("fault_repro_midupdate: lapped reader of a producer killed "
	    "inside finish(): %d (%s), want %d (%s)\n", rc, shmr_strerror(rc),
	    SHMR_OVERRUN, shmr_strerror(SHMR_OVERRUN));
	shmr_reader_close(r);
	shmr_unlink(name);
	return rc == SHMR_OVERRUN ? 0 : 1;
}
