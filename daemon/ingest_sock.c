/*
 * ingest_sock.c - local socket inputs of ringd. Each datagram (SOCK_DGRAM)
 * or record (SOCK_SEQPACKET) is exactly one message, so any number of
 * writers can publish at once, each with one send() call, and their
 * messages never mix.
 *
 * Datagrams are received with recvmmsg() into an arena of slots of
 * max_msg bytes each (address space only: the kernel touches the pages a
 * message needs) and published with one shmr_writer_publish_batch() per
 * recvmmsg(). MSG_TRUNC makes the kernel report a datagram's real length,
 * so one that does not fit is rejected as oversize, never truncated.
 *
 * Seqpacket connections are read one record per recvmsg(): an empty record
 * and the end of the connection both read as 0 bytes there, so a
 * zero-length record ends the connection (documented in ringd.8).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "input.h"
#include "log.h"

#define SLOTS_MAX	64
#define ARENA_MAX	((size_t)1 << 30)
#define RCVBUF		(4 << 20)
#define ROUNDS		16		/* recvmmsg calls per wake-up */
#define CONNS_MAX	1024

extern const struct input_ops dgram_ops, seqpacket_ops;
static const struct input_ops conn_ops;

struct sock {
	bool		 seqpacket;
	bool		 listener;	/* bound: dgram or seqpacket listener */
	bool		 owns_path;	/* unlink the socket file on exit */
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* One receive arena for every socket: ringd is single-threaded. */
static struct {
	unsigned char	*base;
	size_t		 slot;
	unsigned	 nslots;
	size_t		 maplen;
	struct mmsghdr	 hdr[SLOTS_MAX];
	struct iovec	 iov[SLOTS_MAX];
	struct shmr_iov	 out[SLOTS_MAX];
} arena;
static unsigned nconns;
static struct log_ratelimit conn_rl = { 5, 5, 0, 0, 0 };

static int
arena_init(size_t max)
{
	size_t slot, n;

	if (arena.base != NULL)
		return 0;
	/* At least one byte, so an empty datagram still has a buffer. */
	slot = (max + 4095) & ~(size_t)4095;
	if (slot == 0)
		slot = 4096;
	n = ARENA_MAX / slot;
	if (n > SLOTS_MAX)
		n = SLOTS_MAX;
	if (n == 0)
		n = 1;
	arena.maplen = slot * n;
	arena.base = mmap(NULL, arena.maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena.base == MAP_FAILED) {
		arena.base = NULL;
		return -errno;
	}
	arena.slot = slot;
	arena.nslots = (unsigned)n;
	for (n = 0; n < arena.nslots; n++) {
		arena.iov[n].iov_base = arena.base + n * slot;
		arena.iov[n].iov_len = max;
	}
	return 0;
}

static struct input *
new_input(const struct input_ops *ops, const char *name)
{
	struct input *in;
	struct sock *s;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		free(in);
		return NULL;
	}
	in->ops = ops;
	in->fd = -1;
	in->priv = s;
	snprintf(in->name, sizeof(in->name), "%s", name);
	return in;
}

/*
 * bind() at path. A socket file left by a dead process (connect() is
 * refused) is replaced; a live one or a non-socket file is an error.
 */
static int
bind_path(int fd, int type, const struct sockaddr_un *sa, mode_t mode)
{
	struct stat st;
	mode_t old;
	int probe, rc, e;

	for (int tries = 0; tries < 2; tries++) {
		/* Create the file with its final bits: no looser window. */
		old = umask((mode_t)(~mode & 0777));
		rc = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
		e = errno;
		umask(old);
		if (rc == 0)
			return chmod(sa->sun_path, mode) < 0 ? -errno : 0;
		if (e != EADDRINUSE || tries > 0)
			return -e;
		if (lstat(sa->sun_path, &st) < 0)
			return -errno;
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if ((probe = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) < 0)
			return -errno;
		rc = connect(probe, (const struct sockaddr *)sa, sizeof(*sa));
		e = errno;
		close(probe);
		if (rc == 0 || e != ECONNREFUSED)
			return -EADDRINUSE;
		if (unlink(sa->sun_path) < 0 && errno != ENOENT)
			return -errno;
		log_info("replaced stale socket %s", sa->sun_path);
	}
	return -EADDRINUSE;
}

static void sock_free(struct input *in);

static int
sock_open(struct ringd *rd, const char *path, bool seqpacket,
    struct input **out)
{
	struct sockaddr_un sa;
	struct input *in;
	struct sock *s;
	char name[96];
	int type = seqpacket ? SOCK_SEQPACKET : SOCK_DGRAM;
	int rc, size = RCVBUF;

	snprintf(name, sizeof(name), "%s:%s", seqpacket ? "seqpacket" :
	    "unix", path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("input %s: path longer than %zu bytes", name,
		    sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((rc = arena_init(ringd_max_msg(rd))) < 0) {
		log_err("input %s: receive buffer: %s", name, strerror(-rc));
		return rc;
	}
	if ((in = new_input(seqpacket ? &seqpacket_ops : &dgram_ops, name)) ==
	    NULL)
		return -ENOMEM;
	s = in->priv;
	s->seqpacket = seqpacket;
	s->listener = true;
	memcpy(s->path, sa.sun_path, sizeof(s->path));
	in->fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (in->fd < 0) {
		rc = -errno;
		log_err("input %s: socket: %s", name, strerror(-rc));
		goto fail;
	}
	if ((rc = bind_path(in->fd, type, &sa,
	    ringd_conf(rd)->socket_mode)) < 0) {
		log_err("input %s: %s", name, rc == -EADDRINUSE ?
		    "another process is bound to it" : rc == -EEXIST ?
		    "exists and is not a socket" : strerror(-rc));
		goto fail;
	}
	s->owns_path = true;
	if (seqpacket) {
		if (listen(in->fd, 128) < 0) {
			rc = -errno;
			log_err("input %s: listen: %s", name, strerror(-rc));
			goto fail;
		}
	} else if (setsockopt(in->fd, SOL_SOCKET, SO_RCVBUF, &size,
	    sizeof(size)) < 0)
		log_warn("input %s: SO_RCVBUF: %s", name, strerror(errno));
	*out = in;
	return 0;
fail:
	sock_free(in);
	return rc;
}

static int
dgram_open(struct ringd *rd, const char *path, struct input **out)
{
	return sock_open(rd, path, false, out);
}

static int
seqpacket_open(struct ringd *rd, const char *path, struct input **out)
{
	return sock_open(rd, path, true, out);
}

/*
 * A listener's ready() and drain(): connections still in the backlog at
 * shutdown were accepted by the kernel, and so were their records: take
 * them in too (the loop then drains them).
 */
static int
accept_conns(struct ringd *rd, struct input *lin)
{
	struct input *in;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	char name[96];
	unsigned long sup;
	int fd, rc;

	for (int i = 0; i < 64; i++) {
		fd = accept4(lin->fd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return 0;
			if (log_ratelimit(&conn_rl, &sup))
				log_warn("input %s: accept: %s", lin->name,
				    strerror(errno));
			return 0;
		}
		if (nconns >= CONNS_MAX) {
			if (log_ratelimit(&conn_rl, &sup))
				log_warn("input %s: %u connections already, "
				    "refusing another (%lu more not logged)",
				    lin->name, nconns, sup);
			close(fd);
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0)
			snprintf(name, sizeof(name), "%.70s[pid %ld]",
			    lin->name, (long)cr.pid);
		else
			snprintf(name, sizeof(name), "%.80s[conn]",
			    lin->name);
		if ((in = new_input(&conn_ops, name)) == NULL) {
			close(fd);
			return -ENOMEM;
		}
		in->fd = fd;
		((struct sock *)in->priv)->seqpacket = true;
		nconns++;
		if ((rc = ringd_add_input(rd, in)) < 0) {
			sock_free(in);
			return rc;
		}
		log_debug("input %s: connected", name);
	}
	return 0;
}

/* Publish the datagrams received into the arena's first n slots. */
static int
publish_slots(struct ringd *rd, struct input *in, unsigned n)
{
	size_t max = ringd_max_msg(rd);
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		size_t len = arena.hdr[i].msg_len;

		if (len > max || (arena.hdr[i].msg_hdr.msg_flags &
		    MSG_TRUNC)) {
			ringd_reject_oversize(rd, in, len);
			continue;
		}
		arena.out[k].data = arena.iov[i].iov_base;
		arena.out[k].len = len;
		k++;
	}
	return k > 0 ? ringd_publish(rd, in, arena.out, k) : 0;
}

static void
conn_close(struct input *in)
{
	if (in->fd >= 0)
		close(in->fd);
	in->fd = -1;
	in->done = true;
	nconns--;
	log_debug("input %s: disconnected after %llu messages", in->name,
	    (unsigned long long)in->st.msgs);
}

static int
recv_dgram(struct ringd *rd, struct input *in, unsigned rounds)
{
	int n, rc;

	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < arena.nslots; i++) {
			memset(&arena.hdr[i], 0, sizeof(arena.hdr[i]));
			arena.hdr[i].msg_hdr.msg_iov = &arena.iov[i];
			arena.hdr[i].msg_hdr.msg_iovlen = 1;
		}
		/* MSG_TRUNC: msg_len is the real length, even if larger. */
		n = recvmmsg(in->fd, arena.hdr, arena.nslots,
		    MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			log_err("input %s: recvmmsg: %s", in->name,
			    strerror(errno));
			return 0;
		}
		if ((rc = publish_slots(rd, in, (unsigned)n)) < 0)
			return rc;
		if ((unsigned)n < arena.nslots)
			return 0;	/* the queue is empty */
	}
	return 1;			/* more may be queued */
}

static int
recv_conn(struct ringd *rd, struct input *in, unsigned rounds)
{
	ssize_t len;
	int rc;

	for (unsigned r = 0; r < rounds * arena.nslots; r++) {
		memset(&arena.hdr[0], 0, sizeof(arena.hdr[0]));
		arena.hdr[0].msg_hdr.msg_iov = &arena.iov[0];
		arena.hdr[0].msg_hdr.msg_iovlen = 1;
		len = recvmsg(in->fd, &arena.hdr[0].msg_hdr, MSG_DONTWAIT |
		    MSG_TRUNC);
		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno != ECONNRESET)
				log_warn("input %s: recvmsg: %s", in->name,
				    strerror(errno));
			conn_close(in);
			return 0;
		}
		if (len == 0) {
			conn_close(in);
			return 0;
		}
		arena.hdr[0].msg_len = (unsigned)len;
		if ((rc = publish_slots(rd, in, 1)) < 0)
			return rc;
	}
	return 1;
}

static int
listener_ready(struct ringd *rd, struct input *in, uint64_t now_ns)
{
	(void)now_ns;
	return accept_conns(rd, in);
}

static int
dgram_ready(struct ringd *rd, struct input *in, uint64_t now_ns)
{
	int rc = recv_dgram(rd, in, ROUNDS);

	(void)now_ns;
	return rc < 0 ? rc : 0;
}

static int
conn_ready(struct ringd *rd, struct input *in, uint64_t now_ns)
{
	int rc = recv_conn(rd, in, ROUNDS);

	(void)now_ns;
	return rc < 0 ? rc : 0;
}

/*
 * On shutdown: publish every datagram or record the kernel already
 * accepted, bounded: a writer that never stops must not keep ringd alive.
 */
static int
drain(struct ringd *rd, struct input *in,
    int (*recv)(struct ringd *, struct input *, unsigned))
{
	int rc;

	for (int i = 0; i < 1024; i++) {
		if (in->done || in->fd < 0)
			return 0;
		if ((rc = recv(rd, in, 1)) <= 0)
			return rc;
	}
	return 0;
}

static int
dgram_drain(struct ringd *rd, struct input *in)
{
	return drain(rd, in, recv_dgram);
}

static int
conn_drain(struct ringd *rd, struct input *in)
{
	return drain(rd, in, recv_conn);
}

static void
sock_free(struct input *in)
{
	struct sock *s = in->priv;

	if (in->fd >= 0) {
		if (!s->listener)
			conn_close(in);
		else
			close(in->fd);
	}
	if (s->owns_path && unlink(s->path) < 0 && errno != ENOENT)
		log_warn("input %s: unlink: %s", in->name, strerror(errno));
	free(s);
	free(in);
}

const struct input_ops dgram_ops = {
	.open = dgram_open,
	.ready = dgram_ready,
	.drain = dgram_drain,
	.free = sock_free,
};

const struct input_ops seqpacket_ops = {
	.open = seqpacket_open,
	.ready = listener_ready,
	.drain = accept_conns,
	.free = sock_free,
	.listener = true,
};

/* An accepted seqpacket connection: made by its listener, never opened. */
static const struct input_ops conn_ops = {
	.ready = conn_ready,
	.drain = conn_drain,
	.free = sock_free,
};
