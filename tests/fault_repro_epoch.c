/*
 * fault_repro_epoch.c - libshm bug reproducer (docs/RELIABILITY.md, bug 1):
 * a producer killed inside shmr_writer_create(), after take_over() removed
 * the old name and before init_segment() wrote the new header, makes the
 * next producer start again at epoch 1. Exit 0 when the third producer
 * gets epoch 3, 1 otherwise. Run by `make fault-repro`.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmring.h"

/* A producer that dies without closing (like SIGKILL); its epoch. */
static int
producer_dies(const char *name)
{
	struct shmr_writer *w;
	struct shmr_info i;
	int st;

	if (fork() == 0) {
		if (shmr_writer_create(name, NULL, &w) < 0 ||
		    shmr_writer_info(w, &i) < 0)
			_exit(255);
		_exit((int)i.epoch);
	}
	if (wait(&st) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int
main(void)
{
	char name[64], path[96];
	int fd, e1, e2, e3;

	snprintf(name, sizeof(name), "repro-epoch-%d", (int)getpid());
	snprintf(path, sizeof(path), "/shmring.%s", name);
	e1 = producer_dies(name);
	e2 = producer_dies(name);
	/* What a producer killed right after take_over()'s shm_unlink() and
	 * its own shm_open(O_CREAT | O_EXCL) leaves behind. */
	shm_unlink(path);
	if ((fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600)) >= 0)
		close(fd);
	e3 = producer_dies(name);
	shmr_unlink(name);
	printf("fault_repro_epoch: epochs %d, %d, then %d after a producer "
	    "died inside create (want 3): %s\n", e1, e2, e3,
	    e3 == 3 ? "ok" : "BUG");
	return e1 == 1 && e2 == 2 && e3 == 3 ? 0 : 1;
}
