/*
 * ingest_stream.c - byte-stream inputs of ringd: stdin, a regular file, a
 * FIFO or a character device, cut into messages by one of three framings:
 *
 *   lines   one message per line; the '\n' is stripped (a '\r' before it
 *           is kept: it is payload). An unterminated last line at end of
 *           input is still a message. A line longer than max_msg is
 *           rejected whole and reading resumes after its newline.
 *   len32   a 4-byte big-endian length, then that many payload bytes. A
 *           length above max_msg is rejected and its payload skipped; a
 *           length above max(max_msg, 64 MiB) means the stream is corrupt
 *           (or not len32 at all) and the input is closed.
 *   fixed:N records of exactly N bytes.
 *
 * Every read() is parsed at once and its complete records go to the ring
 * in one shmr_writer_publish_batch() (one wake-up of the readers per read,
 * not per message; very short lines may take a few batches). Pipes and
 * FIFOs are enlarged to 1 MiB so a fast writer is read in big chunks. The buffer holds one largest record plus one
 * read chunk, so a record always fits once its bytes have arrived.
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

#include "log.h"
#include "ringd.h"

#define READ_CHUNK	(1u << 20)
#define LEN32_ABSURD	((uint64_t)64 << 20)
#define PIPE_SIZE	(1 << 20)
/*
 * Messages per publish: all the records of one full read of lines of 64
 * bytes or more, so a read normally costs readers a single wake-up.
 */
#define STREAM_BATCH	(READ_CHUNK / 64)

struct stream {
	char		*path;		/* NULL for stdin */
	bool		 fifo;
	unsigned char	*buf;
	size_t		 cap;
	size_t		 len;		/* unparsed bytes at buf[0] */
	bool		 skipping;	/* lines: inside an over-long line */
	uint64_t	 skipped;	/* lines: its length so far */
	uint64_t	 skip_left;	/* len32: oversize payload to drop */
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

int
stream_open(struct ringd *rd, const char *spec, struct input **out)
{
	size_t max = ringd_max_msg(rd);
	struct input *in;
	struct stream *s;
	int fd, rc;

	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		free(in);
		return -ENOMEM;
	}
	in->kind = IN_STREAM;
	in->u.stream = s;
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

static uint32_t
get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Add one record to the pending batch; publish when the batch is full. */
static int
push(struct ringd *rd, struct input *in, size_t *n, const void *p,
    size_t len)
{
	struct stream *s = in->u.stream;
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
	int rc = 0;

	if (*n > 0)
		rc = ringd_publish(rd, in, in->u.stream->iov, *n);
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
	struct stream *s = in->u.stream;
	const struct ringd_conf *conf = ringd_conf(rd);
	size_t max = ringd_max_msg(rd);
	unsigned char *p = s->buf, *end = s->buf + s->len, *q;
	size_t n = 0;
	int rc;

	switch (conf->framing) {
	case FRAME_LINES:
		if (s->skipping) {
			if ((q = memchr(p, '\n', (size_t)(end - p))) == NULL) {
				s->skipped += (uint64_t)(end - p);
				return (long)s->len;
			}
			s->skipped += (uint64_t)(q - p);
			ringd_reject_oversize(rd, in, s->skipped);
			s->skipping = false;
			p = q + 1;
		}
		while ((q = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			size_t l = (size_t)(q - p);

			if (l > max)
				ringd_reject_oversize(rd, in, l);
			else if ((rc = push(rd, in, &n, p, l)) < 0)
				return rc;
			p = q + 1;
		}
		if ((size_t)(end - p) > max) {
			/* Cannot become a valid line: drop it now. */
			s->skipping = true;
			s->skipped = (uint64_t)(end - p);
			p = end;
		}
		break;
	case FRAME_LEN32:
		for (;;) {
			uint32_t l;

			if (s->skip_left > 0) {
				size_t d = (size_t)(end - p);

				if (d > s->skip_left)
					d = (size_t)s->skip_left;
				p += d;
				s->skip_left -= d;
				if (s->skip_left > 0)
					break;
			}
			if (end - p < 4)
				break;
			l = get_be32(p);
			if (l > max) {
				if (l > LEN32_ABSURD) {
					*corrupt = true;
					ringd_malformed(rd, in, true, "len32 "
					    "length %lu is absurd (max message "
					    "%zu): stream corrupt or not "
					    "len32, closing input",
					    (unsigned long)l, max);
					break;
				}
				ringd_reject_oversize(rd, in, l);
				s->skip_left = l;
				p += 4;
				continue;
			}
			if ((size_t)(end - p) - 4 < l)
				break;
			if ((rc = push(rd, in, &n, p + 4, l)) < 0)
				return rc;
			p += 4 + (size_t)l;
		}
		break;
	case FRAME_FIXED:
		while ((size_t)(end - p) >= conf->fixed_len) {
			if ((rc = push(rd, in, &n, p, conf->fixed_len)) < 0)
				return rc;
			p += conf->fixed_len;
		}
		break;
	}
	if ((rc = flush(rd, in, &n)) < 0)
		return rc;
	return (long)(p - s->buf);
}

/* End of input (or of one FIFO writer): the last record, if any. */
static int
finish(struct ringd *rd, struct input *in)
{
	struct stream *s = in->u.stream;
	const struct ringd_conf *conf = ringd_conf(rd);
	size_t n = 0;
	int rc = 0;

	switch (conf->framing) {
	case FRAME_LINES:
		if (s->skipping)
			ringd_reject_oversize(rd, in, s->skipped);
		else if (s->len > 0) {
			if ((rc = push(rd, in, &n, s->buf, s->len)) == 0)
				rc = flush(rd, in, &n);
		}
		break;
	case FRAME_LEN32:
		if (s->skip_left > 0 || s->len > 0)
			ringd_malformed(rd, in, false, "input ended inside "
			    "a len32 record (%zu bytes buffered, %llu to "
			    "skip)",
			    s->len, (unsigned long long)s->skip_left);
		break;
	case FRAME_FIXED:
		if (s->len > 0)
			ringd_malformed(rd, in, false, "input ended inside a "
			    "record: %zu of %zu bytes dropped", s->len,
			    conf->fixed_len);
		break;
	}
	s->len = 0;
	s->skipping = false;
	s->skipped = 0;
	s->skip_left = 0;
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

int
stream_ready(struct ringd *rd, struct input *in)
{
	struct stream *s = in->u.stream;
	bool corrupt = false;
	ssize_t r;
	long used;
	int rc;

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

void
stream_shutdown(struct ringd *rd, struct input *in)
{
	struct stream *s = in->u.stream;

	(void)rd;
	if (s->len > 0 || s->skipping || s->skip_left > 0)
		log_notice("input %s: stopping with %zu bytes of an "
		    "incomplete record unpublished", in->name, s->len);
}

void
stream_free(struct input *in)
{
	struct stream *s = in->u.stream;

	if (in->fd >= 0 && in->fd != STDIN_FILENO)
		close(in->fd);
	in->fd = -1;
	free(s->iov);
	free(s->buf);
	free(s->path);
	free(s);
	free(in);
}
