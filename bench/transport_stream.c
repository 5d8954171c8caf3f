/*
 * transport_stream.c - a SOCK_STREAM Unix socketpair per reader:
 * fixed-size messages in a byte stream, one write per message, readers
 * read up to STREAM_BUF per call and split it. The pipe reads and writes
 * the same way (transport_pipe.c).
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_ring.h"

#define STREAM_BUF	(256 * 1024)

int
stream_read(struct rd *rd, const struct tx *tx, int fd)
{
	size_t sz = rd->job->size, have = 0, off;
	unsigned char *buf;
	ssize_t n;
	int rc = 0;

	(void)tx;
	if ((buf = malloc(STREAM_BUF + sz)) == NULL)
		return rd_fail(rd, -ENOMEM, "malloc");
	if (rd->job->spin)
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	rd_ready(rd);
	for (;;) {
		n = read(fd, buf + have, STREAM_BUF + sz - have);
		if (n < 0) {
			if (errno == EAGAIN) {
				relax();
				continue;
			}
			if (errno == EINTR)
				continue;
			rc = rd_fail(rd, -errno, "read");
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		for (off = 0; have - off >= sz; off += sz)
			on_msg(rd, buf + off, sz);
		if (off > 0 && have > off)
			memmove(buf, buf + off, have - off);
		have -= off;
	}
	rd->st->t_end = now_ns();
	free(buf);
	return rc;
}

int
stream_send(struct tx *tx, const void *buf, size_t len)
{
	int i, rc = 0;

	for (i = 0; i < tx->nfds && rc == 0; i++)
		rc = write_full(tx->fds[i], buf, len);
	return rc;
}

/* A Unix socketpair of type; the reader's end (fds[0]) only reads. */
int
unix_pair(int type, int fds[2])
{
	if (socketpair(AF_UNIX, type, 0, fds) == -1)
		return -errno;
	(void)shutdown(fds[0], SHUT_WR);
	return 0;
}

static int
stream_pair(int fds[2])
{
	return unix_pair(SOCK_STREAM, fds);
}

const struct transport transport_stream = {
	.name = "unix stream",
	.opt = "stream",
	.available = 1,
	.pair = stream_pair,
	.read = stream_read,
	.send = stream_send,
};
