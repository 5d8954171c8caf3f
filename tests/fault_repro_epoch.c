/*
 * fault_repro_epoch.c - libshm bug reproducer (docs/RELIABILITY.md, bug 1):
 * a producer killed inside shmr_writer_create(), after takeover_replace()
 * removed the old name and before init_segment() wrote the new header, makes the
 * next producer start again at epoch 1. Exit 0 when the third producer
 * gets a larger epoch than the second, 1 otherwise (epochs are creation
 * times in microseconds since issue 12). Run by `make fault-repro`.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmring.h"

/* A producer that dies without closing (like SIGKILL); its epoch, 0 if
 * it failed. */
static uint64_t
producer_dies(const char *name)
{
	struct shmr_writer *w;
	struct shmr_info i;
	uint64_t e = 0;
	int p[2], st;

	if (pipe(p) < 0)
		return 0;
	if (fork() == 0) {
		if (shmr_writer_create(name, NULL, &w) < 0 ||
		    shmr_writer_info(w, &i) < 0)
			_exit(1);
		_exit(write(p[1], &i.epoch, sizeof(i.epoch)) ==
		    sizeof(i.epoch) ? 0 : 1);
	}
	close(p[1]);
	if (read(p[0], &e, sizeof(e)) != sizeof(e))
		e = 0;
	close(p[0]);
	if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 0;
	return e;
}

int
main(void)
{
	char name[64], path[96];
	uint64_t e1, e2, e3;
	int fd;

	snprintf(name, sizeof(name), "repro-epoch-%d", (int)getpid());
	snprintf(path, sizeof(path), "/shmring.%s", name);
	e1 = producer_dies(name);
	e2 = producer_dies(name);
	/* What a producer killed right after takeover_replace()'s
	 * shm_unlink() and its own shm_open(O_CREAT | O_EXCL) leaves
	 * behind. */
	shm_unlink(path);
	if ((fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600)) >= 0)
		close(fd);
	e3 = producer_dies(name);
	shmr_unlink(name);
	/* epochs are creation times in microseconds: they only grow */
	printf("fault_repro_epoch: epochs %llu, %llu, then %llu after a "
	    "producer died inside create (want growing): %s\n",
	    (unsigned long long)e1, (unsigned long long)e2,
	    (unsigned long long)e3, e1 > 0 && e2 > e1 && e3 > e2 ? "ok" :
	    "BUG");
	return e1 > 0 && e2 > e1 && e3 > e2 ? 0 : 1;
}
