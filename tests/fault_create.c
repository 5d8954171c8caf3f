/*
 * fault_create.c - create one ring and report how libshm answered, for
 * tests/fault_enospc.sh: "fault_create NAME CAPACITY EXPECT" exits 0 when
 * shmr_writer_create() returned EXPECT (a number, e.g. -28 for -ENOSPC)
 * and left no object behind when it failed, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "shmring.h"

int
main(int argc, char **argv)
{
	struct shmr_create_opts o = { .gid = (gid_t)-1 };
	struct shmr_writer *w;
	char path[256];
	struct stat st;
	int rc, want, left;

	if (argc != 4) {
		fprintf(stderr, "usage: fault_create name capacity expect\n");
		return 1;
	}
	o.capacity = strtoull(argv[2], NULL, 0);
	want = atoi(argv[3]);
	rc = shmr_writer_create(argv[1], &o, &w);
	snprintf(path, sizeof(path), "/dev/shm/shmring.%s", argv[1]);
	left = rc < 0 && stat(path, &st) == 0;
	printf("fault_create: %s capacity %s: %d (%s)%s\n", argv[1], argv[2],
	    rc, rc < 0 ? shmr_strerror(rc) : "created",
	    left ? ", object left behind" : "");
	if (rc == 0)
		shmr_writer_close(w, SHMR_CLOSE_UNLINK);
	return rc == want && !left ? 0 : 1;
}
