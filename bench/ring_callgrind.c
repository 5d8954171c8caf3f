/*
 * ring_callgrind.c - instructions per shmr_writer_publish and per
 * shmr_cursor_read, counted by valgrind's callgrind in a child that runs
 * this program in a hidden loop mode, user space only.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_ring.h"
/*
 * One of cg_loop()'s blocking readers (--attach-reader, a fresh exec of
 * this program, so it runs natively, not under valgrind): writes one byte
 * to fd once attached, then reads until the end of the ring.
 */
int
attach_reader(const char *name, int fd)
{
	struct shmr_ring *ring;
	struct shmr_cursor c;
	struct shmr_msg m;
	unsigned char buf[1024];
	int rc, i;

	for (i = 0; i < 2000; i++) {
		rc = shmr_ring_open(name, NULL, &ring);
		if (rc != -ENOENT && rc != -EAGAIN)
			break;
		sleep_ms(1);
	}
	if (rc < 0) {
		fprintf(stderr, PROG ": ring %s: %s\n", name,
		    shmr_strerror(rc));
		return 1;
	}
	(void)shmr_cursor_init(ring, &c, SHMR_FROM_END, 0);
	(void)write_full(fd, "r", 1);
	close(fd);
	for (;;) {
		rc = shmr_cursor_read(ring, &c, buf, sizeof(buf), &m);
		if (rc == SHMR_MSG || rc == SHMR_OVERRUN)
			continue;
		if (rc == SHMR_EMPTY) {
			rc = shmr_cursor_wait(ring, &c, 1000, 0);
			if (rc == 0 || rc == -ETIMEDOUT || rc == -EINTR)
				continue;
		}
		break;
	}
	shmr_ring_close(ring);
	return rc == SHMR_EOF ? 0 : 1;
}

/*
 * Hidden modes run under valgrind. publish: attach nreaders blocking
 * readers (each a fresh exec of this program, so they run natively, not
 * under valgrind), let them fall asleep, then publish count messages of
 * size bytes. read: publish and read back count messages through a
 * cursor in this process, in steps of a quarter ring so none is lapped.
 */
int
cg_loop(int read_mode, uint64_t count, int nreaders, size_t size)
{
	struct shmr_create_opts o;
	struct shmr_writer *w;
	struct shmr_ring *ring = NULL;
	struct shmr_cursor c;
	struct shmr_msg m;
	unsigned char *msg;
	pid_t pids[MAX_READERS];
	char fdarg[16];
	int p[2], i, nforked = 0, rc;
	uint64_t n, k, chunk = 1000;
	char ch;

	snprintf(job_name, sizeof(job_name), "bench_ring.%ld.loop",
	    (long)getpid());
	memset(&o, 0, sizeof(o));
	o.capacity = ring_size;
	o.max_msg = (uint32_t)(size < 1024 ? 1024 : size);
	o.gid = (gid_t)-1;
	if ((msg = calloc(1, size)) == NULL)
		return 1;
	if ((rc = shmr_writer_create(job_name, &o, &w)) < 0) {
		fprintf(stderr, PROG ": shmr_writer_create %s: %s\n",
		    job_name, shmr_strerror(rc));
		free(msg);
		return 1;
	}
	if (pipe(p) == -1) {
		rc = -errno;
		goto out;
	}
	snprintf(fdarg, sizeof(fdarg), "%d", p[1]);
	for (i = 0; i < nreaders; i++) {
		if ((pids[i] = fork()) == -1)
			break;
		if (pids[i] == 0) {
			close(p[0]);
			execl(self_path, PROG, "--attach-reader", job_name,
			    "--fd", fdarg, (char *)NULL);
			_exit(attach_reader(job_name, p[1]));
		}
		nforked++;
	}
	close(p[1]);
	for (i = 0; i < nforked; i++)
		if (read(p[0], &ch, 1) != 1)
			break;
	close(p[0]);
	/* Let them all fall asleep in shmr_cursor_wait(). */
	if (nforked > 0)
		sleep_ms(200);
	if (read_mode) {
		if ((rc = shmr_ring_open(job_name, NULL, &ring)) < 0 ||
		    (rc = shmr_cursor_init(ring, &c, SHMR_FROM_END, 0)) < 0)
			goto out;
		/* read in steps that always fit the ring: no overruns */
		chunk = ring_size / 4 / (size + 32);
	}
	memset(msg, 0xa5, size);
	for (n = 0; n < count && rc >= 0; n += k) {
		for (k = 0; k < chunk && n + k < count; k++) {
			uint64_t v = n + k;

			memcpy(msg, &v, sizeof(v));
			if ((rc = shmr_writer_publish(w, msg, size,
			    NULL)) < 0)
				break;
		}
		for (i = 0; read_mode && rc >= 0 && (uint64_t)i < k; i++)
			if (shmr_cursor_read(ring, &c, msg, size, &m) !=
			    SHMR_MSG)
				rc = -EPROTO;
	}
out:
	if (ring != NULL)
		shmr_ring_close(ring);
	(void)shmr_writer_close(w, SHMR_CLOSE_UNLINK);
	for (i = 0; i < nforked; i++)
		(void)waitpid(pids[i], NULL, 0);
	job_name[0] = '\0';
	free(msg);
	if (rc < 0)
		fprintf(stderr, PROG ": %s loop: %s\n", read_mode ? "read" :
		    "publish", shmr_strerror(rc));
	return rc < 0;
}

/* Instructions per call of fn in a cg_loop() under callgrind, or -1. */
double
callgrind_ipc(int read_mode, uint64_t count, int nreaders, size_t size)
{
	char out[PATH_MAX], cnt[32], nr[16], sz[32], ms[32], line[512];
	char ofile[PATH_MAX + 32];
	const char *vg = "valgrind";
	unsigned long long tot = 0;
	pid_t pid;
	FILE *f;
	int status, devnull;

	snprintf(out, sizeof(out), "/tmp/bench_ring.%ld.callgrind",
	    (long)getpid());
	snprintf(ofile, sizeof(ofile), "--callgrind-out-file=%s", out);
	snprintf(cnt, sizeof(cnt), "%" PRIu64, count);
	snprintf(nr, sizeof(nr), "%d", nreaders);
	snprintf(sz, sizeof(sz), "%" PRIu64, ring_size);
	snprintf(ms, sizeof(ms), "%zu", size);
	fflush(stdout);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if ((devnull = open("/dev/null", O_WRONLY)) >= 0) {
			if (!verbose)
				(void)dup2(devnull, 2);
			(void)dup2(devnull, 1);
		}
		execlp(vg, vg, "--tool=callgrind", read_mode ?
		    "--toggle-collect=shmr_cursor_read" :
		    "--toggle-collect=shmr_writer_publish", ofile, self_path,
		    read_mode ? "--read-loop" : "--publish-loop", cnt,
		    "--readers", nr, "--ring-size", sz, "--msg-size", ms,
		    (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		(void)unlink(out);
		return -1;
	}
	if ((f = fopen(out, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "totals:", 7) == 0)
			tot = strtoull(line + 7, NULL, 10);
		else if (tot == 0 && strncmp(line, "summary:", 8) == 0)
			tot = strtoull(line + 8, NULL, 10);
	}
	fclose(f);
	(void)unlink(out);
	return tot == 0 ? -1 : (double)tot / (double)count;
}

/* ---- report ------------------------------------------------------------- */
