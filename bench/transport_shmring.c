/*
 * transport_shmring.c - the subject: a libshm ring, one
 * shmr_writer_publish (or publish_batch) per send, readers copy out with
 * shmr_cursor_read (or read_batch) and wait in shmr_cursor_wait, with
 * SHMR_WAIT_SPIN when the job busy-polls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_ring.h"

static int
shm_read(struct rd *rd, const struct tx *tx, int fd)
{
	const struct job *j = rd->job;
	struct shmr_ring *ring = NULL;
	struct shmr_cursor c;
	struct shmr_msg m, *ms = &m;
	unsigned char *buf;
	size_t buflen, n = j->rbatch > 1 ? (size_t)j->rbatch : 1, got, k;
	int rc, i;

	(void)tx;
	(void)fd;
	/* The producer creates the ring after the fork. */
	if ((rc = rd_wait_created(rd)) < 0)
		return rc;
	for (i = 0; i < 2000; i++) {
		rc = shmr_ring_open(job_name, NULL, &ring);
		if (rc != -ENOENT && rc != -EAGAIN)
			break;
		sleep_ms(1);
	}
	if (rc < 0)
		return rd_fail(rd, rc, "shmr_ring_open");
	/* read_batch packs messages 8-byte aligned into one buffer */
	buflen = ((size_t)shmr_ring_max_msg(ring) + 8) * n;
	buf = malloc(buflen);
	if (n > 1 && buf != NULL && (ms = calloc(n, sizeof(*ms))) == NULL) {
		free(buf);
		buf = NULL;
	}
	if (buf == NULL) {
		shmr_ring_close(ring);
		return rd_fail(rd, -ENOMEM, "malloc");
	}
	if ((rc = shmr_cursor_init(ring, &c, SHMR_FROM_OLDEST, 0)) < 0) {
		rc = rd_fail(rd, rc, "shmr_cursor_init");
		goto out;
	}
	rd_ready(rd);
	for (;;) {
		if (n > 1) {
			rc = shmr_cursor_read_batch(ring, &c, buf, buflen, ms,
			    n, &got);
			if (rc == SHMR_MSG) {
				for (k = 0; k < got; k++)
					if (ms[k].len >= 8)
						on_msg(rd, ms[k].data,
						    ms[k].len);
				continue;
			}
			m = ms[0];
		} else {
			rc = shmr_cursor_read(ring, &c, buf, buflen, &m);
			if (rc == SHMR_MSG) {
				if (m.len >= 8)
					on_msg(rd, m.data, m.len);
				continue;
			}
		}
		if (rc == SHMR_EMPTY) {
			rc = shmr_cursor_wait(ring, &c, 100,
			    j->spin ? SHMR_WAIT_SPIN : 0);
			if (rc == -ETIMEDOUT || rc == -EINTR) {
				if (atomic_load(&ctl->abort)) {
					rc = rd_fail(rd, -ETIMEDOUT, "aborted");
					goto out;
				}
				continue;
			}
			if (rc < 0) {
				rc = rd_fail(rd, rc, "shmr_cursor_wait");
				goto out;
			}
			continue;
		}
		if (rc == SHMR_OVERRUN) {
			rd->st->lost += m.lost;
			continue;
		}
		if (rc == SHMR_EOF) {
			rc = 0;
			break;
		}
		rc = rd_fail(rd, rc, "shmr_cursor_read");
		goto out;
	}
out:
	rd->st->t_end = now_ns();
	if (ms != &m)
		free(ms);
	free(buf);
	shmr_ring_close(ring);
	return rc;
}

static int
shm_open_tx(struct tx *tx, char *err, size_t errlen)
{
	struct shmr_create_opts o;
	struct shmr_writer *w;
	size_t size = tx->job->size;
	int rc;

	memset(&o, 0, sizeof(o));
	o.capacity = ring_size;
	o.max_msg = (uint32_t)(size < 1024 ? 1024 : size);
	o.gid = (gid_t)-1;
	rc = shmr_writer_create(job_name, &o, &w);
	if (rc < 0) {
		snprintf(err, errlen, "shmr_writer_create %s: %s", job_name,
		    shmr_strerror(rc));
		return rc;
	}
	tx->priv = w;
	return 0;
}

static int
shm_send(struct tx *tx, const void *buf, size_t len)
{
	return shmr_writer_publish(tx->priv, buf, len, NULL);
}

static int
shm_send_batch(struct tx *tx, const struct shmr_iov *iov, size_t n)
{
	return shmr_writer_publish_batch(tx->priv, iov, n, NULL);
}

static int
shm_close(struct tx *tx)
{
	int rc;

	rc = shmr_writer_close(tx->priv, SHMR_CLOSE_UNLINK);
	tx->priv = NULL;
	return rc;
}

/* The segment and its wait area, should the writer not get to close. */
static void
shm_unlink_names(const char *name)
{
	char path[NAME_MAX_LEN + 32];

	snprintf(path, sizeof(path), "/shmring.%s", name);
	(void)shm_unlink(path);
	snprintf(path, sizeof(path), "/shmring-wait.%s", name);
	(void)shm_unlink(path);
}

const struct transport transport_shmring = {
	.name = "shmring",
	.opt = "shmring",
	.flags = TP_COUNTS_LOST,
	.available = 1,
	.read = shm_read,
	.open = shm_open_tx,
	.send = shm_send,
	.send_batch = shm_send_batch,
	.close = shm_close,
	.unlink = shm_unlink_names,
};
