/* helpers.c - see helpers.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

static char names[64][SHMR_NAME_MAX + 1];
static int nnames;

const char *
t_name(const char *tag)
{
	static unsigned counter;
	char *n = names[nnames % 64];

	snprintf(n, SHMR_NAME_MAX + 1, "t%d-%s-%u", (int)getpid(), tag,
	    counter++);
	nnames++;
	shmr_unlink(n);
	return n;
}

void
t_cleanup(void)
{
	for (int i = 0; i < nnames && i < 64; i++)
		shmr_unlink(names[i]);
	nnames = 0;
}

struct shmr_writer *
t_writer(const char *name, uint64_t cap, uint32_t max)
{
	struct shmr_create_opts o = { .capacity = cap, .max_msg = max,
	    .gid = (gid_t)-1 };
	struct shmr_writer *w;
	int rc = shmr_writer_create(name, &o, &w);

	cr_assert_eq(rc, 0, "create %s: %s", name, shmr_strerror(rc));
	return w;
}

void
t_publish_range(struct shmr_writer *w, uint64_t from, uint64_t to)
{
	char buf[64];

	for (uint64_t i = from; i < to; i++) {
		int n = snprintf(buf, sizeof(buf), "msg-%llu",
		    (unsigned long long)i);
		uint64_t seq;

		cr_assert_eq(shmr_writer_publish(w, buf, (size_t)n, &seq), 0);
		cr_assert_eq(seq, i);
	}
}

int
t_write_object(const char *name, const void *p, size_t len, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/shmring.%s", name);
	unlink(path);
	if ((fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600)) < 0)
		return -errno;
	if ((len > 0 && write(fd, p, len) != (ssize_t)len) ||
	    fchmod(fd, mode) < 0) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

void *
t_read_object(const char *name, size_t *len)
{
	char path[256];
	struct stat st;
	void *p;
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/shmring.%s", name);
	cr_assert((fd = open(path, O_RDONLY)) >= 0);
	cr_assert(fstat(fd, &st) == 0);
	p = malloc((size_t)st.st_size);
	cr_assert(p != NULL);
	cr_assert(read(fd, p, (size_t)st.st_size) == st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

pid_t
t_child_producer(const char *name, uint64_t n)
{
	int p[2];
	pid_t pid;
	char c;

	cr_assert_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		struct shmr_writer *w;
		char buf[64];

		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* dies with the test */
		close(p[0]);
		if (shmr_writer_create(name, NULL, &w) != 0)
			_exit(1);
		for (uint64_t i = 0; i < n; i++) {
			int len = snprintf(buf, sizeof(buf), "msg-%llu",
			    (unsigned long long)i);

			shmr_writer_publish(w, buf, (size_t)len, NULL);
		}
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	cr_assert_gt(pid, 0);
	close(p[1]);
	cr_assert_eq(read(p[0], &c, 1), 1, "child producer failed");
	close(p[0]);
	return pid;
}

void
t_kill(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}
