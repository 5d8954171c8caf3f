/*
 * transport_pipe.c - a pipe per reader with a 1 MiB buffer, read and
 * written like a stream socket (transport_stream.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "bench_ring.h"

static int
pipe_pair(int fds[2])
{
	if (pipe(fds) == -1)
		return -errno;
	/* 64 KiB by default: too small for 64 KiB messages */
	(void)fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
	return 0;
}

const struct transport transport_pipe = {
	.name = "pipe",
	.opt = "pipe",
	.label = "pipe (1 MiB buffer)",
	.available = 1,
	.pair = pipe_pair,
	.read = stream_read,
	.send = stream_send,
};
