/*
 * transport_zmq.c - ZeroMQ PUB/SUB over ipc:// with the default
 * high-water mark, one zmq_send/zmq_recv per message. Built in when
 * pkg-config knows libzmq (bench/ring.mk sets HAVE_ZMQ); otherwise the
 * row is left out and the report says why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_ring.h"

#ifndef HAVE_ZMQ
#define HAVE_ZMQ 0
#endif

#if HAVE_ZMQ
#include <zmq.h>

#define SEQ_PROBE	UINT64_MAX		/* subscription probe */
#define SEQ_END		(UINT64_MAX - 1)	/* end of the run */

struct zstate {
	void	*ctx;
	void	*sock;
};

/* The ipc socket file for this job, and its endpoint. */
static void
zmq_names(const char *name, char *path, size_t plen, char *ep, size_t elen)
{
	snprintf(path, plen, "/tmp/%s.zmq", name);
	if (ep != NULL)
		snprintf(ep, elen, "ipc://%s", path);
}

static int
zmq_read(struct rd *rd, const struct tx *tx, int fd)
{
	size_t sz = rd->job->size;
	void *zctx, *s;
	unsigned char *buf;
	char path[NAME_MAX_LEN + 16], ep[NAME_MAX_LEN + 32];
	uint64_t seq;
	int n, rc = 0, flags = rd->job->spin ? ZMQ_DONTWAIT : 0;
	int tmo = 100;

	(void)tx;
	(void)fd;
	if ((buf = malloc(sz)) == NULL)
		return rd_fail(rd, -ENOMEM, "malloc");
	zctx = zmq_ctx_new();
	s = zctx != NULL ? zmq_socket(zctx, ZMQ_SUB) : NULL;
	if (s == NULL) {
		rc = rd_fail(rd, -zmq_errno(), "zmq_socket");
		goto out;
	}
	(void)zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
	(void)zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
	if ((rc = rd_wait_created(rd)) < 0)
		goto out;
	zmq_names(job_name, path, sizeof(path), ep, sizeof(ep));
	if (zmq_connect(s, ep) != 0) {
		rc = rd_fail(rd, -zmq_errno(), "zmq_connect");
		goto out;
	}
	rd_ready(rd);
	for (;;) {
		n = zmq_recv(s, buf, sz, flags);
		if (n < 0) {
			if (zmq_errno() == EAGAIN) {
				if (atomic_load(&ctl->abort)) {
					rc = rd_fail(rd, -ETIMEDOUT, "aborted");
					break;
				}
				if (flags != 0)
					relax();
				continue;
			}
			if (zmq_errno() == EINTR)
				continue;
			rc = rd_fail(rd, -zmq_errno(), "zmq_recv");
			break;
		}
		if (n < 8)
			continue;
		memcpy(&seq, buf, sizeof(seq));
		if (seq == SEQ_PROBE) {
			atomic_store(&rd->st->probed, 1);
			continue;
		}
		if (seq == SEQ_END)
			break;
		on_msg(rd, buf, (size_t)n);
	}
	rd->st->t_end = now_ns();
out:
	if (s != NULL) {
		int zero = 0;

		(void)zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
		zmq_close(s);
	}
	if (zctx != NULL)
		zmq_ctx_term(zctx);
	free(buf);
	return rc;
}

static int
zmq_open_tx(struct tx *tx, char *err, size_t errlen)
{
	char path[NAME_MAX_LEN + 16], ep[NAME_MAX_LEN + 32];
	struct zstate *z;

	zmq_names(job_name, path, sizeof(path), ep, sizeof(ep));
	if ((z = calloc(1, sizeof(*z))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	tx->priv = z;
	z->ctx = zmq_ctx_new();
	z->sock = z->ctx != NULL ? zmq_socket(z->ctx, ZMQ_PUB) : NULL;
	if (z->sock == NULL || zmq_bind(z->sock, ep) != 0) {
		snprintf(err, errlen, "zmq bind %s: %s", path,
		    zmq_strerror(zmq_errno()));
		return -EIO;
	}
	return 0;
}

/*
 * PUB/SUB drops everything sent before a subscription reaches the
 * publisher, so probe until every reader has seen a probe (which 0) or
 * has finished (which 1).
 */
static int
zmq_sync(struct tx *tx, uint64_t marker, int which)
{
	const struct job *j = tx->job;
	struct zstate *z = tx->priv;
	unsigned char buf[16];
	uint64_t deadline = now_ns() + 10000000000ull;
	int i, all;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, &marker, sizeof(marker));
	while (now_ns() < deadline) {
		(void)zmq_send(z->sock, buf, sizeof(buf) < j->size ?
		    sizeof(buf) : j->size, ZMQ_DONTWAIT);
		sleep_ms(1);
		for (i = 0, all = 1; i < j->nreaders; i++)
			if (which == 0 ? !atomic_load(&ctl->r[i].probed) :
			    !atomic_load(&ctl->r[i].finished))
				all = 0;
		if (all)
			return 0;
	}
	return -ETIMEDOUT;
}

static int
zmq_start(struct tx *tx, char *err, size_t errlen)
{
	if (zmq_sync(tx, SEQ_PROBE, 0) < 0) {
		snprintf(err, errlen,
		    "zmq subscriptions did not arrive within 10 s");
		return -ETIMEDOUT;
	}
	return 0;
}

static void
zmq_finish(struct tx *tx)
{
	(void)zmq_sync(tx, SEQ_END, 1);
}

static int
zmq_send_tx(struct tx *tx, const void *buf, size_t len)
{
	struct zstate *z = tx->priv;

	while (zmq_send(z->sock, buf, len, 0) < 0)
		if (zmq_errno() != EINTR)
			return -zmq_errno();
	return 0;
}

static void
zmq_unlink_name(const char *name)
{
	char path[NAME_MAX_LEN + 16];

	zmq_names(name, path, sizeof(path), NULL, 0);
	(void)unlink(path);
}

static int
zmq_close_tx(struct tx *tx)
{
	struct zstate *z = tx->priv;
	int zero = 0;

	if (z->sock != NULL) {
		(void)zmq_setsockopt(z->sock, ZMQ_LINGER, &zero,
		    sizeof(zero));
		zmq_close(z->sock);
	}
	if (z->ctx != NULL)
		zmq_ctx_term(z->ctx);
	free(z);
	tx->priv = NULL;
	zmq_unlink_name(job_name);
	return 0;
}

static void
zmq_version_str(char *buf, size_t len)
{
	int a, b, c;

	zmq_version(&a, &b, &c);
	snprintf(buf, len, "; libzmq %d.%d.%d", a, b, c);
}

const struct transport transport_zmq = {
	.name = "zmq pub/sub ipc",
	.opt = "zmq",
	.available = 1,
	.read = zmq_read,
	.open = zmq_open_tx,
	.start = zmq_start,
	.send = zmq_send_tx,
	.finish = zmq_finish,
	.close = zmq_close_tx,
	.unlink = zmq_unlink_name,
	.version = zmq_version_str,
};

#else

static void
zmq_version_str(char *buf, size_t len)
{
	snprintf(buf, len, "; ZeroMQ not built (install libzmq3-dev)");
}

const struct transport transport_zmq = {
	.name = "zmq pub/sub ipc",
	.opt = "zmq",
	.available = 0,
	.version = zmq_version_str,
};

#endif
