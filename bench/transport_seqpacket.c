/*
 * transport_seqpacket.c - a SOCK_SEQPACKET Unix socketpair per reader:
 * one send and one recv per message.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_ring.h"

static int
seqpacket_read(struct rd *rd, const struct tx *tx, int fd)
{
	size_t sz = rd->job->size;
	unsigned char *buf;
	ssize_t n;
	int rc = 0, flags = rd->job->spin ? MSG_DONTWAIT : 0;

	(void)tx;
	if ((buf = malloc(sz)) == NULL)
		return rd_fail(rd, -ENOMEM, "malloc");
	rd_ready(rd);
	for (;;) {
		n = recv(fd, buf, sz, flags);
		if (n < 0) {
			if (errno == EAGAIN) {
				relax();
				continue;
			}
			if (errno == EINTR)
				continue;
			rc = rd_fail(rd, -errno, "recv");
			break;
		}
		if (n == 0)
			break;
		if (n >= 8)
			on_msg(rd, buf, (size_t)n);
	}
	rd->st->t_end = now_ns();
	free(buf);
	return rc;
}

static int
seqpacket_send(struct tx *tx, const void *buf, size_t len)
{
	int i;

	for (i = 0; i < tx->nfds; i++)
		while (send(tx->fds[i], buf, len, MSG_NOSIGNAL) < 0)
			if (errno != EINTR)
				return -errno;
	return 0;
}

static int
seqpacket_pair(int fds[2])
{
	return unix_pair(SOCK_SEQPACKET, fds);
}

const struct transport transport_seqpacket = {
	.name = "unix seqpacket",
	.opt = "seqpacket",
	.available = 1,
	.pair = seqpacket_pair,
	.read = seqpacket_read,
	.send = seqpacket_send,
};
