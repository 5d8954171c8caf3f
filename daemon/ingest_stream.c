/*
 * ingest_stream.c - byte-stream inputs of ringd: stdin, a regular file, a
 * FIFO or a character device, cut into messages by one of the framers of
 * framing.c (lines, len32, fixed:N).
 *
 * Every read() is parsed at once and its complete records go to the ring
 * in one shmr_writer_publish_batch() (one wake-up of the readers per read,
 * not per message; very short lines may take a few batches). Pipes and
 * FIFOs are enlarged to 1 MiB so a fast writer is read in big chunks. The
 * buffer holds one largest record plus one read chunk, so a record always
 * fits once its bytes have arrived.
 *
 * A FIFO is reopened when its last writer goes away: it is an input that
 * never ends, like a socket, and each writer starts on a record boundary.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input.h"
#include "log.h"

#define READ_CHUNK	(1u << 20)
#define PIPE_SIZE	(1 << 20)
/*
 * Messages per publish: all the records of one full read of lines of 64
 * bytes or more, so a read normally costs readers a single wake-up.
 */
#define STREAM_BATCH	(READ_CHUNK / 64)

extern const struct input_ops stream_ops;

struct stream {
	char		*path;		/* NULL for stdin */
	bool		 fifo;
	unsigned char	*buf;
	size_t		 cap;
	size_t		 len;		/* unparsed bytes at buf[0] */
	struct framer	 fr;
	struct shmr_iov	*iov;		/* STREAM_BATCH entries */
};

/*
 * A bigger pipe buffer means fewer, larger reads (and batches) when the
 * writer is fast. Best effort: the limit is /proc/sys/fs/pipe-max-size.
 */
static void
grow_pipe(int fd)
{
	(void)fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE);
}

static int
open_path(const char *path, bool *fifo)
{
	struct stat st;
	int fd;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	*fifo = S_ISFIFO(st.st_mode);
	if (*fifo)
		grow_pipe(fd);
	else {
		/* Files and devices are read with plain blocking reads. */
		int fl = fcntl(fd, F_GETFL);

		if (fl >= 0)
			(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	return fd;
}

static int
stream_open(struct ringd *rd, const char *spec, struct input **out)
{
	const struct ringd_conf *conf = ringd_conf(rd);
	size_t max = ringd_max_msg(rd);
	struct input *in;
	struct stream *s;
	int fd, rc;

	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		free(in);
		return -ENOMEM;
	}
	in->ops = &stream_ops;
	in->priv = s;
	s->fr.kind = conf->framing;
	s->fr.fixed_len = conf->fixed_len;
	s->fr.max = max;
	s->cap = max + 4 + READ_CHUNK;
	if ((s->buf = malloc(s->cap)) == NULL ||
	    (s->iov = calloc(STREAM_BATCH, sizeof(*s->iov))) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	if (spec == NULL) {
		struct stat st;

		if (fstat(STDIN_FILENO, &st) < 0) {
			rc = -errno;
			log_err("stdin: %s", strerror(-rc));
			goto fail;
		}
		fd = STDIN_FILENO;
		if (S_ISFIFO(st.st_mode))
			grow_pipe(fd);
		snprintf(in->name, sizeof(in->name), "stdin");
	} else {
		snprintf(in->name, sizeof(in->name), "file:%s", spec);
		if ((s->path = strdup(spec)) == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		if ((fd = open_path(spec, &s->fifo)) < 0) {
			rc = fd;
			log_err("input %s: %s", in->name, strerror(-rc));
			goto fail;
		}
	}
	in->fd = fd;
	*out = in;
	return 0;
fail:
	free(s->iov);
	free(s->buf);
	free(s->path);
	free(s);
	free(in);
	return rc;
}

/* Add one record to the pending batch; publish when the batch is full. */
static int
push(struct ringd *rd, struct input *in, size_t *n, const void *p,
    size_t len)
{
	struct stream *s = in->priv;
	int rc;

	s->iov[*n].data = p;
	s->iov[*n].len = len;
	if (++*n < STREAM_BATCH)
		return 0;
	rc = ringd_publish(rd, in, s->iov, *n);
	*n = 0;
	return rc;
}

static int
flush(struct ringd *rd, struct input *in, size_t *n)
{
	struct stream *s = in->priv;
	int rc = 0;

	if (*n > 0)
		rc = ringd_publish(rd, in, s->iov, *n);
	*n = 0;
	return rc;
}

/*
 * Parse buf[0..len) and publish every complete record. Returns the number
 * of bytes consumed (the rest is an incomplete record to keep), or a
 * negative errno value. *corrupt is set when a len32 stream is beyond
 * repair.
 */
static long
parse(struct ringd *rd, struct input *in, bool *corrupt)
{
	struct stream *s = in->priv;
	struct frame fr;
	enum frame_ev ev;
	size_t pos = 0, n = 0;
	int rc;

	while ((ev = framer_next(&s->fr, s->buf, s->len, &pos, &fr)) !=
	    FRAME_MORE) {
		if (ev == FRAME_RECORD) {
			if ((rc = push(rd, in, &n, fr.data, fr.len)) < 0)
				return rc;
		} else if (ev == FRAME_OVERSIZE)
			ringd_reject_oversize(rd, in, fr.len);
		else {
			*corrupt = true;
			ringd_malformed(rd, in, true, "len32 length %lu is "
			    "absurd (max message %zu): stream corrupt or not "
			    "len32, closing input", (unsigned long)fr.len,
			    s->fr.max);
			break;
		}
	}
	if ((rc = flush(rd, in, &n)) < 0)
		return rc;
	return (long)pos;
}

/* End of input (or of one FIFO writer): the last record, if any. */
static int
finish(struct ringd *rd, struct input *in)
{
	struct stream *s = in->priv;
	struct frame fr;
	size_t n = 0;
	int rc = 0;

	switch (framer_end(&s->fr, s->buf, s->len, &fr)) {
	case FRAME_RECORD:
		if ((rc = push(rd, in, &n, fr.data, fr.len)) == 0)
			rc = flush(rd, in, &n);
		break;
	case FRAME_OVERSIZE:
		ringd_reject_oversize(rd, in, fr.len);
		break;
	case FRAME_PARTIAL:
		if (s->fr.kind == FRAME_LEN32)
			ringd_malformed(rd, in, false, "input ended inside "
			    "a len32 record (%zu bytes buffered, %llu to "
			    "skip)",
			    s->len, (unsigned long long)s->fr.skip_left);
		else
			ringd_malformed(rd, in, false, "input ended inside a "
			    "record: %zu of %zu bytes dropped", s->len,
			    s->fr.fixed_len);
		break;
	default:
		break;
	}
	s->len = 0;
	framer_reset(&s->fr);
	return rc;
}

static void
close_input(struct input *in)
{
	if (in->fd >= 0)
		close(in->fd);
	in->fd = -1;
	in->done = true;
}

static int
stream_ready(struct ringd *rd, struct input *in, uint64_t now_ns)
{
	struct stream *s = in->priv;
	bool corrupt = false;
	ssize_t r;
	long used;
	int rc;

	(void)now_ns;
	r = read(in->fd, s->buf + s->len, s->cap - s->len);
	if (r < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		log_err("input %s: read: %s; closing it", in->name,
		    strerror(errno));
		if ((rc = finish(rd, in)) < 0)
			return rc;
		close_input(in);
		return 0;
	}
	if (r == 0) {
		if ((rc = finish(rd, in)) < 0)
			return rc;
		if (s->fifo) {
			/* The last writer left: wait for the next one. */
			close(in->fd);
			if ((in->fd = open_path(s->path, &s->fifo)) < 0) {
				log_err("input %s: reopen: %s", in->name,
				    strerror(-in->fd));
				close_input(in);
			}
			return 0;
		}
		log_info("input %s: end of input after %llu messages",
		    in->name, (unsigned long long)in->st.msgs);
		close_input(in);
		return 0;
	}
	s->len += (size_t)r;
	if ((used = parse(rd, in, &corrupt)) < 0)
		return (int)used;
	if (corrupt) {
		s->len = 0;
		close_input(in);
		return 0;
	}
	s->len -= (size_t)used;
	if (s->len > 0 && used > 0)
		memmove(s->buf, s->buf + used, s->len);
	return 0;
}

/*
 * On shutdown: log and drop an incomplete record still buffered. Records
 * already complete were published as they were read.
 */
static int
stream_drain(struct ringd *rd, struct input *in)
{
	struct stream *s = in->priv;

	(void)rd;
	if (framer_pending(&s->fr, s->len))
		log_notice("input %s: stopping with %zu bytes of an "
		    "incomplete record unpublished", in->name, s->len);
	return 0;
}

static void
stream_free(struct input *in)
{
	struct stream *s = in->priv;

	if (in->fd >= 0 && in->fd != STDIN_FILENO)
		close(in->fd);
	in->fd = -1;
	free(s->iov);
	free(s->buf);
	free(s->path);
	free(s);
	free(in);
}

const struct input_ops stream_ops = {
	.open = stream_open,
	.ready = stream_ready,
	.drain = stream_drain,
	.free = stream_free,
};
