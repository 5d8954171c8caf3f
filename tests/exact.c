/*
 * exact.c - the end-to-end exactness checker (issue 12, "the harness that
 * finds the next ones").
 *
 * A driver runs a sequence of producer generations on one ring name, each
 * a child process with a random ring size (64 KiB up), random message
 * sizes and random batch sizes, ended at a random moment by a clean close
 * (with or without unlink: the next producer creates the ring again or
 * takes it over) or by kill -9 (the next producer takes it over). Every
 * payload is derived from (run seed, generation, seq) and names its
 * epoch, generation and seq, so any reader can verify every byte and know
 * which message it got. The driver keeps the ground truth in shared
 * memory: per generation its epoch and its final next sequence number.
 *
 * Readers, each a child process with a random start point and speed
 * (fast, slow, stalled for long stretches):
 *	libshm shmr_reader_next(), and raw cursors that mix
 *	shmr_cursor_read(), _read_batch() and _peek()/_consume();
 *	ringbridge clients (SSE with Last-Event-ID resumes, NDJSON and raw
 *	with from=SEQ resumes; from oldest, latest, end or a seq);
 *	`ringctl tail -f --from oldest`.
 * A checker process opens the live ring again and again: shmr_ring_info,
 * shmr_cursor_init and shmr_ring_check must never call it corrupt.
 *
 * What must hold (each violation is printed with the seed):
 *	every byte of every delivered message is right;
 *	within an epoch, messages come in order, each once, and any jump is
 *	announced by an overrun/gap whose count is exact;
 *	a reader that drains a generation to its end (EOF, restart) has
 *	seen or been told about every message up to its final seq;
 *	an event id (epoch:seq) never names two different messages: one
 *	epoch, one generation, in ground truth and at every reader;
 *	a sound ring is never reported corrupt.
 *
 * Environment: EXACT_SEED (default: time, printed), EXACT_SECONDS (6),
 * EXACT_READERS (libshm readers, 4), EXACT_CLIENTS (bridge clients, 4),
 * EXACT_RINGBRIDGE / EXACT_RINGCTL (paths; unset: those readers are
 * left out), EXACT_ISSUE12 (comma list of issue-12 items whose triggers
 * are enabled although the fix may not be on main yet: 1 = batches
 * larger than the ring, 2 = epochs must never repeat across clean
 * restarts, R = a bridge restart says where the new epoch continues and
 * announces its messages already gone: checked from seq 0),
 * EXACT_RINGRELAY (path: the producers write an origin ring that
 * ringrelay carries through a nats-server into a mirror ring, which every
 * reader reads instead, with faults injected into the relays; see
 * exact_relay.c). Exit 0 pass, 1 violation, 2 setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmring.h"
#include "bridge_client.h"
#include "exact_relay.h"

#define MAX_GENS	256
#define MAX_READERS	32
#define MAX_SEGS	64
#define PAYLOAD_MAX	(64 << 10)

/* One producer generation, as the driver saw it. */
struct gen {
	_Atomic uint64_t	epoch;		/* 0 until created */
	_Atomic uint64_t	final_next;	/* valid once ended != 0 */
	_Atomic int		ended;		/* 1 closed, 2 killed */
	uint64_t		cap;
	uint32_t		max_msg;
};

/* A stretch of one generation as one reader saw it. */
struct seg {
	uint32_t	gen;
	uint64_t	epoch;
	uint64_t	next;		/* next seq expected at its end */
	int		drained;	/* ended by EOF or restart */
};

struct rres {
	char		kind[48];
	uint64_t	delivered, lost, events, bytes, stalls;
	int		nseg;
	struct seg	seg[MAX_SEGS];
	int		violations;
	char		first[320];
	int		done;
};

struct shared {
	_Atomic int	stop;		/* readers: drain and finish */
	_Atomic int	ngens;
	struct gen	gens[MAX_GENS];
	_Atomic uint64_t checks, check_fail, check_known6;
	char		check_why[320];
	struct rres	r[MAX_READERS];
};

static struct shared *S;
static uint64_t seed;
static char ring[72];		/* what the readers read */
static char prod_ring[64];	/* what the producers write: ring, or
				   the relay's origin */
static unsigned issue12;	/* ISSUE(n) per enabled item */
#define ISSUE(n)	(1u << (n))
#define ISSUE_R		(1u << 30)
static const char *bridge_bin, *ringctl_bin;
static int bridge_port;

/* ---- randomness ---------------------------------------------------------- */

static uint64_t
mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15u;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

struct rng {
	uint64_t s;
};

static uint64_t
rnd(struct rng *r)
{
	return mix(r->s++ * 0x2545f4914f6cdd1du + 0x1234567u);
}

static uint64_t
rnd_in(struct rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rnd(r) % (hi - lo + 1);
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
nap_us(uint64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000),
	    (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* ---- payloads ---------------------------------------------------------- */

/* The length of message seq of generation g (max_msg of g's ring). */
static size_t
msg_len(uint32_t g, uint64_t seq, uint32_t max_msg)
{
	uint64_t h = mix(seed ^ ((uint64_t)g << 40) ^ seq);
	uint32_t lim = max_msg < PAYLOAD_MAX ? max_msg : PAYLOAD_MAX;
	size_t n;

	switch (h % 20) {
	case 0:
		n = 1024 + (h >> 8) % (lim > 1024 ? lim - 1024 + 1 : 1);
		break;
	case 1: case 2: case 3: case 4:
		n = 64 + (h >> 8) % 960;
		break;
	default:
		n = (h >> 8) % 64;
		break;
	}
	return n < 48 ? 48 : n > lim ? lim : n;
}

/*
 * "e<epoch> g<gen> s<seq> l<len> |" then letters from a stream keyed by
 * (seed, gen, seq): printable, so SSE, NDJSON and ringctl carry it as is.
 */
static size_t
make_payload(char *buf, uint64_t epoch, uint32_t g, uint64_t seq,
    uint32_t max_msg)
{
	size_t len = msg_len(g, seq, max_msg);
	uint64_t h = mix(seed ^ ((uint64_t)g << 40) ^ seq ^ 0x5a5a);
	int k;

	k = snprintf(buf, len + 1, "e%" PRIu64 " g%u s%" PRIu64 " l%zu |",
	    epoch, g, seq, len);
	for (size_t i = (size_t)k; i < len; i++) {
		if (i % 8 == 0 || i == (size_t)k)
			h = mix(h + i);
		buf[i] = (char)('a' + (h >> (8 * (i % 8))) % 26);
	}
	return len;
}

/*
 * Check one delivered payload. Returns 0 and the generation it names, or
 * -1 with a reason in why.
 */
static int
check_payload(const char *p, size_t n, uint64_t epoch, uint64_t seq,
    uint32_t *gp, char *why, size_t whylen)
{
	static char want[PAYLOAD_MAX + 64];
	unsigned long long e, s;
	unsigned g;
	size_t l;
	char hdr[96];
	size_t hl = n < sizeof(hdr) - 1 ? n : sizeof(hdr) - 1;

	memcpy(hdr, p, hl);
	hdr[hl] = '\0';
	if (sscanf(hdr, "e%llu g%u s%llu l%zu |", &e, &g, &s, &l) != 4) {
		snprintf(why, whylen, "seq %" PRIu64 ": unparsable payload "
		    "(len %zu) \"%.40s\"", seq, n, hdr);
		return -1;
	}
	if (g >= MAX_GENS || (int)g >= atomic_load(&S->ngens)) {
		snprintf(why, whylen, "seq %" PRIu64 ": payload names "
		    "unknown generation %u", seq, g);
		return -1;
	}
	if (s != seq || (epoch != 0 && e != epoch)) {
		snprintf(why, whylen, "delivered as %" PRIu64 ":%" PRIu64
		    " but payload is message %llu:%llu (gen %u)", epoch, seq,
		    e, s, g);
		return -1;
	}
	if (l != n || make_payload(want, e, g, s, S->gens[g].max_msg) != n ||
	    memcmp(want, p, n) != 0) {
		snprintf(why, whylen, "%llu:%llu (gen %u): payload bytes or "
		    "length wrong (len %zu, header says %zu)", e, s, g, n, l);
		return -1;
	}
	*gp = g;
	return 0;
}

/* ---- per-reader bookkeeping -------------------------------------------- */

struct track {
	struct rres	*res;
	bool		 have;		/* inside a generation */
	uint32_t	 gen;
	uint64_t	 epoch;
	uint64_t	 expect;	/* next seq due */
	bool		 expect_known;
};

static void
violation(struct track *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
violation(struct track *t, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (t->res->violations++ == 0)
		snprintf(t->res->first, sizeof(t->res->first), "%s", msg);
	if (t->res->violations <= 5)
		fprintf(stderr, "exact: %s: VIOLATION: %s\n", t->res->kind,
		    msg);
}

/* Close the current stretch; drained: the reader saw its end. */
static void
seg_end(struct track *t, bool drained)
{
	struct rres *r = t->res;

	if (t->have && r->nseg < MAX_SEGS) {
		r->seg[r->nseg].gen = t->gen;
		r->seg[r->nseg].epoch = t->epoch;
		r->seg[r->nseg].next = t->expect;
		r->seg[r->nseg].drained = drained && t->expect_known;
		r->nseg++;
	}
	t->have = false;
	t->expect_known = false;
}

/* A loss was announced: lost messages, the next one is next. */
static void
on_loss(struct track *t, uint64_t lost, uint64_t next, const char *what)
{
	if (t->expect_known && next - lost != t->expect)
		violation(t, "%s of %" PRIu64 " with next %" PRIu64 " but %"
		    PRIu64 " was due (epoch %" PRIu64 "): count not exact",
		    what, lost, next, t->expect, t->epoch);
	t->res->lost += lost;
	t->res->events++;
	t->expect = next;
	t->expect_known = true;
}

/*
 * A bridge restart event: the stream continues in a new epoch at seq
 * first, lost of the epoch's messages gone already (a gap with that count
 * follows). With R the epoch (which starts at seq 0) is then checked from
 * its start: every message delivered or announced. Returns whether the
 * next message merely sets the expected seq (R off).
 */
static bool
on_restart(struct track *t, uint64_t first, uint64_t lost)
{
	if (!(issue12 & ISSUE_R))
		return true;
	if (first == UINT64_MAX || lost != first)
		violation(t, "restart says first %" PRIu64 ", lost %" PRIu64
		    ": not where its epoch starts", first, lost);
	t->expect = 0;
	t->expect_known = true;
	return false;
}

/* Every (epoch, generation) this reader saw: an epoch names one ring. */
static struct {
	uint64_t	epoch;
	uint32_t	gen;
} seen[MAX_GENS];
static int nseen;

static void
epoch_seen(struct track *t, uint64_t epoch, uint32_t g, uint64_t seq)
{
	for (int i = 0; i < nseen; i++) {
		if (seen[i].epoch != epoch)
			continue;
		if (seen[i].gen != g)
			violation(t, "event id %" PRIu64 ":%" PRIu64 " names a "
			    "message of generation %u, but epoch %" PRIu64
			    " was generation %u: one id, two messages",
			    epoch, seq, g, epoch, seen[i].gen);
		seen[i].gen = g;
		return;
	}
	if (nseen < MAX_GENS) {
		seen[nseen].epoch = epoch;
		seen[nseen++].gen = g;
	}
}

/* A message: epoch 0 means "the reader does not know it" (raw). */
static void
on_msg(struct track *t, uint64_t epoch, uint64_t seq, const char *p,
    size_t n)
{
	char why[256];
	uint32_t g;

	if (check_payload(p, n, epoch, seq, &g, why, sizeof(why)) < 0) {
		violation(t, "%s", why);
		return;
	}
	if (epoch == 0)
		epoch = atomic_load(&S->gens[g].epoch);
	epoch_seen(t, epoch, g, seq);
	if (t->have && (t->epoch != epoch || t->gen != g)) {
		if (t->epoch != epoch)
			violation(t, "epoch %" PRIu64 " -> %" PRIu64 " at seq "
			    "%" PRIu64 " without a restart", t->epoch, epoch,
			    seq);
		seg_end(t, false);
	}
	if (!t->have) {
		t->have = true;
		t->gen = g;
		t->epoch = epoch;
		if (!t->expect_known) {
			t->expect = seq;
			t->expect_known = true;
		}
	}
	if (seq != t->expect)
		violation(t, "epoch %" PRIu64 ": got seq %" PRIu64 " where %"
		    PRIu64 " was due, no loss announced", epoch, seq,
		    t->expect);
	t->expect = seq + 1;
	t->res->delivered++;
	t->res->bytes += n;
}

/* ---- libshm readers ---------------------------------------------------- */

/*
 * -EDEADLK: the producer is alive but inside one header update for 2 ms
 * (descheduled; the chaos build makes it common); -EAGAIN: the header
 * kept moving for 8 ms. Transient by libshm(3): counted and retried.
 */
static void
stalled(struct track *t)
{
	t->res->stalls++;
	nap_us(100);
}

/* Once told to stop, a reader has 3 s to drain what is left. */
static bool
stop_over(uint64_t *stop_at)
{
	if (!atomic_load(&S->stop))
		return false;
	if (*stop_at == 0)
		*stop_at = mono_ms();
	return mono_ms() - *stop_at > 3000;
}

static int
open_ring(struct shmr_ring **rp, const struct shmr_ring *old)
{
	int rc;

	for (;;) {
		if (old != NULL && shmr_ring_stale(old) != 1) {
			if (atomic_load(&S->stop))
				return -ENOENT;
			nap_us(5000);
			continue;
		}
		rc = shmr_ring_open(ring, NULL, rp);
		if (rc == 0)
			return 0;
		if (rc != -ENOENT && rc != -EAGAIN)
			return rc;
		if (atomic_load(&S->stop))
			return rc;
		nap_us(5000);
	}
}

/* Pause like a reader of this speed class would. */
static void
pace(struct rng *g, int speed)
{
	uint64_t r = rnd(g) % 10000;

	if (speed == 0)
		return;
	if (speed == 1 && r < 300)
		nap_us(rnd_in(g, 50, 2000));
	if (speed == 2 && r < 3)
		nap_us(rnd_in(g, 100000, 800000));	/* stalled */
}

/* shmr_reader_next(): follows restarts itself. */
static void
reader_api(struct track *t, struct rng *g, int speed)
{
	enum shmr_from from = rnd(g) % 2 ? SHMR_FROM_OLDEST : SHMR_FROM_END;
	struct shmr_reader *r = NULL;
	struct shmr_msg m;
	uint64_t stop_at = 0;
	int rc;

	while ((rc = shmr_reader_open(ring, from, 0, &r)) < 0) {
		if ((rc != -ENOENT && rc != -EAGAIN) ||
		    atomic_load(&S->stop)) {
			if (rc != -ENOENT && rc != -EAGAIN)
				violation(t, "reader_open: %s",
				    shmr_strerror(rc));
			return;
		}
		nap_us(5000);
	}
	for (;;) {
		rc = shmr_reader_next(r, &m);
		switch (rc) {
		case SHMR_MSG:
			on_msg(t, shmr_ring_epoch(shmr_reader_ring(r)), m.seq,
			    m.data, m.len);
			pace(g, speed);
			continue;
		case SHMR_OVERRUN:
			on_loss(t, m.lost, m.seq, "overrun");
			continue;
		case SHMR_RESTART:
			seg_end(t, true);
			/* Starts at the new ring's oldest: m.seq says where. */
			t->expect = m.seq;
			t->expect_known = true;
			if (m.seq > 0)
				t->res->lost += m.seq;
			continue;
		case SHMR_EOF: {
			struct shmr_reader *nr;

			seg_end(t, true);
			if (atomic_load(&S->stop))
				goto out;
			/* A clean close: wait for the name to move on. */
			while (shmr_ring_stale(shmr_reader_ring(r)) != 1) {
				if (atomic_load(&S->stop))
					goto out;
				nap_us(5000);
			}
			if (shmr_reader_open(ring, SHMR_FROM_OLDEST, 0,
			    &nr) == 0) {
				shmr_reader_close(r);
				r = nr;
			} else {
				nap_us(5000);
			}
			continue;
		}
		case SHMR_EMPTY:
			if (stop_over(&stop_at))
				goto out;
			shmr_reader_wait(r, 100, 0);
			continue;
		case -EDEADLK:
		case -EAGAIN:
			stalled(t);
			continue;
		default:
			violation(t, "shmr_reader_next at seq %" PRIu64 ": %s",
			    t->expect, shmr_strerror(rc));
			goto out;
		}
	}
out:
	seg_end(t, false);
	shmr_reader_close(r);
}

/* Raw cursors: read, read_batch and peek/consume, mixed at random. */
static void
reader_cursor(struct track *t, struct rng *g, int speed)
{
	static unsigned char buf[1 << 20];
	struct shmr_ring *r = NULL, *old = NULL;
	struct shmr_cursor c;
	struct shmr_msg m[16];
	uint64_t stop_at = 0;
	size_t cnt;
	int rc;

next_ring:
	if ((rc = open_ring(&r, old)) < 0) {
		if (rc != -ENOENT && rc != -EAGAIN)
			violation(t, "ring_open: %s", shmr_strerror(rc));
		goto out;
	}
	if (old != NULL)
		shmr_ring_close(old);
	old = NULL;
	{
		static const enum shmr_from f[] = { SHMR_FROM_OLDEST,
		    SHMR_FROM_LATEST, SHMR_FROM_END, SHMR_FROM_SEQ };
		enum shmr_from from = f[rnd(g) % 4];
		struct shmr_info in;
		uint64_t s = 0;

		if (from == SHMR_FROM_SEQ && shmr_ring_info(r, &in) == 0)
			s = rnd_in(g, in.oldest_seq / 2, in.next_seq);
		while ((rc = shmr_cursor_init(r, &c, from, s)) == -EDEADLK ||
		    rc == -EAGAIN)
			stalled(t);
		if (rc < 0) {
			violation(t, "cursor_init(%d, %" PRIu64 ") on a live "
			    "ring: %s", (int)from, s, shmr_strerror(rc));
			goto out;
		}
		/* From a seq, what is missing is announced as a loss. */
		t->expect = c.seq;
		t->expect_known = from == SHMR_FROM_SEQ;
		if (from == SHMR_FROM_SEQ)
			t->expect = s;
	}
	for (;;) {
		unsigned how = (unsigned)(rnd(g) % 3);

		if (how == 0) {
			rc = shmr_cursor_read(r, &c, buf, sizeof(buf), &m[0]);
			cnt = 1;
		} else if (how == 1) {
			rc = shmr_cursor_read_batch(r, &c, buf, sizeof(buf), m,
			    (size_t)rnd_in(g, 1, 16), &cnt);
		} else {
			rc = shmr_cursor_peek(r, &c, &m[0]);
			cnt = 1;
			if (rc == SHMR_MSG) {
				memcpy(buf, m[0].data, m[0].len);
				if (rnd(g) % 50 == 0)
					nap_us(rnd_in(g, 10, 3000));
				if (shmr_cursor_consume(r, &c, &m[0]) != 0)
					continue;	/* overwritten */
				m[0].data = buf;
			}
		}
		switch (rc) {
		case SHMR_MSG:
			for (size_t i = 0; i < cnt; i++)
				on_msg(t, shmr_ring_epoch(r), m[i].seq,
				    m[i].data, m[i].len);
			pace(g, speed);
			continue;
		case SHMR_OVERRUN:
			on_loss(t, m[0].lost, m[0].seq, "overrun");
			continue;
		case SHMR_RESTART:
		case SHMR_EOF:
			seg_end(t, true);
			if (atomic_load(&S->stop) && rc == SHMR_EOF)
				goto out;
			old = r;
			r = NULL;
			goto next_ring;
		case SHMR_EMPTY:
			if (stop_over(&stop_at))
				goto out;
			/* A takeover marks the old ring replaced: the next
			 * read says RESTART. */
			shmr_cursor_wait(r, &c, 100, 0);
			continue;
		case -EDEADLK:
		case -EAGAIN:
			stalled(t);
			continue;
		default:
			violation(t, "cursor read (mode %u) at seq %" PRIu64
			    ": %s", how, c.seq, shmr_strerror(rc));
			goto out;
		}
	}
out:
	seg_end(t, false);
	shmr_ring_close(r);
	shmr_ring_close(old);
}

/* ---- ringbridge clients ------------------------------------------------ */

static uint64_t
json_u64(const char *s, const char *key)
{
	const char *p = strstr(s, key);

	return p != NULL ? strtoull(p + strlen(key), NULL, 10) : UINT64_MAX;
}

enum { F_SSE, F_NDJSON, F_RAW };

/*
 * One client: connect, stream, and on an overrun (the bridge closes) or
 * an end of stream resume where it was; a stretch of a generation is
 * closed at restart and eof events.
 */
static void
bridge_reader(struct track *t, struct rng *g, int speed, int fmt)
{
	static const char *fmts[] = { "sse", "ndjson", "raw" };
	static char line[HC_BODY_MAX], raw[1 << 20];
	struct hc h;
	struct sse_event ev;
	char path[256], extra[128], lastid[64] = "";
	uint64_t stop_at = 0;
	bool restart_pending = false, first_ev;
	int sessions = 0;

	while (!atomic_load(&S->stop) || stop_at == 0 ||
	    mono_ms() - stop_at < 3000) {
		const char *from;
		char fbuf[48];

		if (atomic_load(&S->stop) && stop_at == 0)
			stop_at = mono_ms();
		extra[0] = '\0';
		if (sessions == 0) {
			static const char *f0[] = { "oldest", "latest", "end" };

			from = f0[rnd(g) % 3];
		} else if (fmt == F_SSE && lastid[0] != '\0') {
			uint64_t le, ls;

			snprintf(extra, sizeof(extra), "Last-Event-ID: %s\r\n",
			    lastid);
			from = NULL;
			/* The stream continues after that id, in its epoch
			 * (or says restart). */
			if (sscanf(lastid, "%" SCNu64 ":%" SCNu64, &le,
			    &ls) == 2) {
				t->expect = ls + 1;
				t->expect_known = true;
			}
		} else if (t->expect_known) {
			/* from=SEQ names no epoch: a new stretch, which must
			 * start at that seq or announce the loss. */
			uint64_t x = t->expect;

			seg_end(t, false);
			t->expect = x;
			t->expect_known = true;
			snprintf(fbuf, sizeof(fbuf), "%" PRIu64, x);
			from = fbuf;
		} else {
			from = "oldest";
		}
		snprintf(path, sizeof(path), "/rings/%s/stream?format=%s%s%s",
		    ring, fmts[fmt], from ? "&from=" : "", from ? from : "");
		if (hc_connect(&h, bridge_port, speed ? 4096 : 0) < 0 ||
		    hc_get(&h, path, extra[0] ? extra : NULL) < 0 ||
		    !hc_wait_headers(&h, 5000)) {
			hc_close(&h);
			nap_us(100000);
			continue;
		}
		sessions++;
		if (h.status != 200) {
			/* 503 between rings, 400 for a seq beyond a new
			 * ring: start over from its oldest. */
			hc_close(&h);
			seg_end(t, false);
			lastid[0] = '\0';
			sessions = 0;
			nap_us(50000);
			continue;
		}
		if (fmt == F_SSE)
			strcpy(h.last_id, lastid);
		first_ev = true;
		for (;;) {
			uint64_t e, s, lost, next;
			int got;

			if (fmt == F_SSE) {
				got = hc_sse_wait(&h, &ev, 200);
				if (got && first_ev && strcmp(ev.type,
				    "restart") != 0)
					first_ev = false;
				if (got) {
					if (strcmp(ev.type, "message") == 0) {
						if (sscanf(ev.id, "%" SCNu64
						    ":%" SCNu64, &e, &s) != 2)
							violation(t, "bad id "
							    "\"%s\"", ev.id);
						if (restart_pending) {
							t->expect = s;
							t->expect_known = true;
							restart_pending = false;
						}
						on_msg(t, e, s, ev.data,
						    ev.len);
						snprintf(lastid, sizeof(lastid),
						    "%s", ev.id);
					} else if (strcmp(ev.type, "gap") == 0 ||
					    strcmp(ev.type, "overrun") == 0) {
						lost = json_u64(ev.data,
						    "\"lost\":");
						next = json_u64(ev.data,
						    "\"next\":");
						on_loss(t, lost, next, ev.type);
						/* Resume after what was lost. */
						if (t->have && next > 0)
							snprintf(lastid,
							    sizeof(lastid),
							    "%" PRIu64 ":%"
							    PRIu64, t->epoch,
							    next - 1);
						if (ev.id[0] != '\0')
							snprintf(lastid,
							    sizeof(lastid),
							    "%s", ev.id);
					} else if (strcmp(ev.type,
					    "restart") == 0) {
						/* First thing after a resume
						 * into a gone epoch: nothing
						 * was drained. */
						seg_end(t, !(first_ev &&
						    extra[0] != '\0'));
						restart_pending = on_restart(t,
						    json_u64(ev.data,
						    "\"first\":"),
						    json_u64(ev.data,
						    "\"lost\":"));
					} else if (strcmp(ev.type, "eof") == 0) {
						next = json_u64(ev.data,
						    "\"next\":");
						if (t->expect_known &&
						    next != t->expect)
							violation(t, "eof "
							    "next %" PRIu64
							    ", %" PRIu64
							    " due", next,
							    t->expect);
						seg_end(t, true);
					} else {
						violation(t, "SSE event \"%s\"",
						    ev.type);
					}
				}
			} else if (fmt == F_NDJSON) {
				got = hc_line_wait(&h, line, sizeof(line), 200);
				if (got && line[0] == '{') {
					const char *d = strstr(line,
					    "\"data\":\"");

					if (strncmp(line, "{\"event\":", 9)) {
						e = json_u64(line,
						    "\"epoch\":");
						s = json_u64(line, "\"seq\":");
						if (d == NULL) {
							violation(t, "NDJSON "
							    "line without "
							    "data");
							continue;
						}
						d += 8;
						if (restart_pending) {
							t->expect = s;
							t->expect_known = true;
							restart_pending = false;
						}
						on_msg(t, e, s, d,
						    strlen(d) - 2);
					} else if (strstr(line, "\"gap\"") ||
					    strstr(line, "\"overrun\"")) {
						on_loss(t, json_u64(line,
						    "\"lost\":"), json_u64(line,
						    "\"next\":"), "gap/overrun");
					} else if (strstr(line,
					    "\"restart\"")) {
						seg_end(t, true);
						restart_pending = on_restart(t,
						    json_u64(line,
						    "\"first\":"),
						    json_u64(line,
						    "\"lost\":"));
					} else if (strstr(line, "\"eof\"")) {
						seg_end(t, true);
					}
				}
			} else {
				uint32_t type, len;

				got = hc_raw_wait(&h, &type, &s, raw,
				    sizeof(raw), &len, 200);
				if (got) {
					uint64_t num = 0;

					if (len == 8 && type != 0)
						for (int i = 0; i < 8; i++)
							num = num << 8 |
							    (unsigned char)
							    raw[i];
					if (type == 0) {
						if (restart_pending) {
							t->expect = s;
							t->expect_known = true;
							restart_pending = false;
						}
						on_msg(t, 0, s, raw, len);
					} else if (type == 1 || type == 2) {
						on_loss(t, num, s, "gap/overrun");
					} else if (type == 4) {
						/* seq: first; the loss comes
						 * as a gap frame. */
						seg_end(t, true);
						restart_pending = on_restart(t,
						    s, s);
					} else if (type == 3) {
						seg_end(t, true);
					}
				}
			}
			if (!got) {
				if (h.closed || h.st == HC_DONE)
					break;
				if (stop_over(&stop_at))
					break;
				continue;
			}
			if (speed == 2 && rnd(g) % 2000 == 0)
				nap_us(rnd_in(g, 100000, 1500000));
			else if (speed == 1 && rnd(g) % 100 == 0)
				nap_us(rnd_in(g, 1000, 20000));
		}
		hc_close(&h);
		/* Ended (eof, overrun): do not hammer a closed ring. */
		nap_us(rnd_in(g, 1000, 30000));
	}
	seg_end(t, false);
}

/* ---- ringctl tail -f ------------------------------------------------------ */

/*
 * ringctl prints "SEQ\tPAYLOAD" on stdout and its notices on stderr (both
 * into one pipe here, flushed in order). Overrun reports may cover several
 * overruns, so only bytes, order, generation changes only at a restart
 * notice, and the absence of any corruption report are checked.
 */
static void
reader_ringctl(struct track *t)
{
	int p[2];
	pid_t pid;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t last = 0;
	int have = 0;
	uint32_t lastgen = 0;

again:
	have = 0;
	if (pipe(p) < 0)
		return;
	if ((pid = fork()) == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		/* A reader killed for hanging takes its ringctl along. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(ringctl_bin, "ringctl", "tail", "-f", "--from", "oldest",
		    ring, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	while (f != NULL && (n = getline(&line, &cap, f)) > 0) {
		char why[256], *tab;
		uint64_t s;
		uint32_t g;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if ((tab = strchr(line, '\t')) != NULL && line[0] >= '0' &&
		    line[0] <= '9') {
			s = strtoull(line, NULL, 10);
			if (check_payload(tab + 1, strlen(tab + 1), 0, s, &g,
			    why, sizeof(why)) < 0) {
				violation(t, "%s", why);
				continue;
			}
			if (have && g == lastgen && s <= last)
				violation(t, "seq %" PRIu64 " after %" PRIu64,
				    s, last);
			if (have && g != lastgen && have != 2)
				violation(t, "gen %u -> %u at seq %" PRIu64
				    " without a restart notice", lastgen, g, s);
			have = 1;
			last = s;
			lastgen = g;
			t->res->delivered++;
			continue;
		}
		if (strstr(line, "corrupt") != NULL ||
		    strstr(line, "read failed") != NULL)
			violation(t, "ringctl: %s", line);
		else if (strstr(line, "restarted") != NULL ||
		    strstr(line, "created again") != NULL)
			have = have ? 2 : 0;
		else if (strstr(line, "overrun") != NULL)
			t->res->events++;
		if (atomic_load(&S->stop))
			break;
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (f != NULL)
		fclose(f);
	/* tail -f ends at a clean close the name has not moved on from. */
	if (!atomic_load(&S->stop)) {
		nap_us(20000);
		goto again;
	}
	free(line);
}

/* ---- the checker of sound rings ---------------------------------------- */

static void
checker(void)
{
	struct shmr_ring *r;
	struct shmr_cursor c;
	struct shmr_info in;
	char why[256];
	int rc;

	while (!atomic_load(&S->stop)) {
		if (shmr_ring_open(ring, NULL, &r) != 0) {
			nap_us(2000);
			continue;
		}
		for (int i = 0; i < 200 && !atomic_load(&S->stop); i++) {
			const char *what = "ring_check";

			rc = shmr_ring_check(r, why, sizeof(why));
			if (rc == 0) {
				what = "ring_info";
				rc = shmr_ring_info(r, &in);
			}
			if (rc == 0) {
				what = "cursor_init(oldest)";
				rc = shmr_cursor_init(r, &c, SHMR_FROM_OLDEST,
				    0);
				snprintf(why, sizeof(why), "%s",
				    shmr_strerror(rc));
			}
			atomic_fetch_add(&S->checks, 1);
			/* -EAGAIN, -EDEADLK: a header update that did not
			 * settle (issue 12 item 7), not a verdict. */
			if (rc == -EDEADLK)
				rc = -EAGAIN;
			/* Issue 12 item 6: a check preempted while the
			 * producer laps it; counted, fails only if enabled. */
			if (rc < 0 && strstr(why, "is not within a ring") &&
			    !(issue12 & ISSUE(6))) {
				atomic_fetch_add(&S->check_known6, 1);
				rc = 0;
			}
			if (rc < 0 && rc != -EAGAIN) {
				if (atomic_fetch_add(&S->check_fail, 1) == 0)
					snprintf(S->check_why,
					    sizeof(S->check_why), "%s on a "
					    "sound ring (epoch %" PRIu64 "): "
					    "%s", what, shmr_ring_epoch(r),
					    why);
			}
			if (shmr_ring_stale(r) == 1)
				break;
			nap_us(rnd_in(&(struct rng){ mix(seed + i) }, 0, 3000));
		}
		shmr_ring_close(r);
	}
}

/*
 * Children end with _exit() (no atexit handlers, no stdio flushes of the
 * driver's buffers), except that the chaos build's statistics
 * (SHMR_CHAOS_STATS) are printed by an atexit handler.
 */
static void __attribute__((noreturn))
child_exit(int status)
{
	if (getenv("SHMR_CHAOS_STATS") != NULL)
		exit(status);
	_exit(status);
}

/* ---- the producer ------------------------------------------------------ */

static volatile sig_atomic_t prod_stop;

static void
on_term(int sig)
{
	(void)sig;
	prod_stop = 1;
}

static void
producer(uint32_t gi, bool unlink_at_end)
{
	static char pool[8 << 20];
	struct shmr_create_opts o = { .gid = (gid_t)-1, .mode = 0644 };
	struct shmr_iov iov[4096];
	struct shmr_writer *w;
	struct shmr_info in;
	struct gen *gn = &S->gens[gi];
	struct rng g = { mix(seed ^ gi ^ 0x77) };
	uint64_t epoch, seq = 0;
	int rc, tries = 0;

	signal(SIGTERM, on_term);
	o.capacity = gn->cap;
	o.max_msg = gn->max_msg;
	while ((rc = shmr_writer_create(prod_ring, &o, &w)) == -EBUSY &&
	    tries++ < 500)
		nap_us(2000);	/* the killed one's lock is released */
	if (rc < 0) {
		fprintf(stderr, "exact: producer %u: create: %s\n", gi,
		    shmr_strerror(rc));
		_exit(2);
	}
	shmr_writer_info(w, &in);
	epoch = in.epoch;
	atomic_store(&gn->epoch, epoch);
	while (!prod_stop) {
		uint64_t r = rnd(&g) % 100;

		if (r < 55) {
			size_t n = make_payload(pool, epoch, gi, seq,
			    gn->max_msg);

			if ((rc = shmr_writer_publish(w, pool, n, NULL)) < 0)
				break;
			seq++;
		} else if (r < 85) {
			/* A batch: mostly small, sometimes larger than the
			 * ring (issue 12 item 1) when enabled. */
			uint64_t budget = (issue12 & ISSUE(1)) && rnd(&g) % 8 == 0 ?
			    gn->cap * rnd_in(&g, 1, 3) : gn->cap / 4;
			size_t k = 0, used = 0, want = rnd_in(&g, 1, 4096);

			while (k < want && k < 4096) {
				size_t n = msg_len(gi, seq + k, gn->max_msg);

				if (used + n > sizeof(pool) ||
				    used + n + 16 * (k + 1) > budget)
					break;
				make_payload(pool + used, epoch, gi, seq + k,
				    gn->max_msg);
				iov[k].data = pool + used;
				iov[k].len = n;
				used += n;
				k++;
			}
			if (k == 0)
				continue;
			if ((rc = shmr_writer_publish_batch(w, iov, k,
			    NULL)) < 0)
				break;
			seq += k;
		} else if (r < 95) {
			size_t n = msg_len(gi, seq, gn->max_msg);
			void *buf;

			if ((rc = shmr_writer_reserve(w, n, &buf)) < 0)
				break;
			make_payload(pool, epoch, gi, seq, gn->max_msg);
			memcpy(buf, pool, n);
			if ((rc = shmr_writer_commit(w, n, NULL)) < 0)
				break;
			seq++;
		} else {
			nap_us(rnd_in(&g, 0, r == 99 ? 30000 : 500));
		}
	}
	if (rc < 0) {
		fprintf(stderr, "exact: producer %u: publish: %s\n", gi,
		    shmr_strerror(rc));
		_exit(2);
	}
	atomic_store(&gn->final_next, seq);
	atomic_store(&gn->ended, 1);
	shmr_writer_close(w, unlink_at_end ? SHMR_CLOSE_UNLINK : 0);
	child_exit(0);
}

/* ---- the driver -------------------------------------------------------- */

static uint64_t
env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? strtoull(v, NULL, 0) : def;
}

static pid_t
spawn_reader(int i, int kind, int speed, int fmt)
{
	static const char *kinds[] = { "reader_next", "cursor", "bridge",
	    "ringctl" };
	static const char *speeds[] = { "fast", "slow", "stalling" };
	static const char *fmts[] = { "sse", "ndjson", "raw" };
	struct rres *res = &S->r[i];
	pid_t pid;

	snprintf(res->kind, sizeof(res->kind), "#%d %s%s%s %s", i,
	    kinds[kind], kind == 2 ? "/" : "", kind == 2 ? fmts[fmt] : "",
	    speeds[speed]);
	if ((pid = fork()) != 0)
		return pid;
	{
		struct rng g = { mix(seed ^ (uint64_t)i << 20) };
		struct track t = { .res = res };

		if (kind == 0)
			reader_api(&t, &g, speed);
		else if (kind == 1)
			reader_cursor(&t, &g, speed);
		else if (kind == 2)
			bridge_reader(&t, &g, speed, fmt);
		else
			reader_ringctl(&t);
		res->done = 1;
		child_exit(0);
	}
}

int
main(void)
{
	struct bridge_proc bp = { 0 };
	pid_t rpid[MAX_READERS], cpid = 0;
	unsigned nread, ncl, nr = 0, i;
	uint64_t seconds, t0, stopped;
	struct rng g;
	int fail = 0, st;
	const char *iss = getenv("EXACT_ISSUE12");
	const char *relay_bin = getenv("EXACT_RINGRELAY");

	seed = env_u64("EXACT_SEED", 0);
	if (seed == 0)
		seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 16;
	seconds = env_u64("EXACT_SECONDS", 6);
	nread = (unsigned)env_u64("EXACT_READERS", 4);
	ncl = (unsigned)env_u64("EXACT_CLIENTS", 4);
	bridge_bin = getenv("EXACT_RINGBRIDGE");
	ringctl_bin = getenv("EXACT_RINGCTL");
	for (; iss != NULL && *iss != '\0'; iss++) {
		if (*iss >= '1' && *iss <= '9')
			issue12 |= ISSUE(*iss - '0');
		else if (*iss == 'R')
			issue12 |= ISSUE_R;
	}
	printf("exact: seed %" PRIu64 " (EXACT_SEED=%" PRIu64 " to repeat), "
	    "%" PRIu64 " s, EXACT_ISSUE12=%s\n", seed, seed, seconds,
	    getenv("EXACT_ISSUE12") ? getenv("EXACT_ISSUE12") : "");
	fflush(stdout);
	g.s = mix(seed);
	snprintf(prod_ring, sizeof(prod_ring), "exact-%ld-%" PRIu64,
	    (long)getpid(), seed % 100000);
	snprintf(ring, sizeof(ring), "%s%s", prod_ring, relay_bin ? "-m" : "");
	S = mmap(NULL, sizeof(*S), PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	if (S == MAP_FAILED)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	/* Line by line: what was said survives a kill by timeout(1). */
	setvbuf(stdout, NULL, _IOLBF, 0);
	shmr_unlink(ring);
	shmr_unlink(prod_ring);

	/* The first generation exists before the readers start. */
	t0 = mono_ms();
	{
		uint32_t gi = 0;
		pid_t pp = 0;
		bool started = false;
		int push_down = 0;	/* relay_push_down() said 1 */

		while (mono_ms() - t0 < seconds * 1000 && gi < MAX_GENS - 1) {
			struct gen *gn = &S->gens[gi];
			uint64_t life = rnd_in(&g, 100, 1500);
			int how = (int)(rnd(&g) % 10);	/* 0-3 kill */
			/* Close and unlink: the next producer creates the
			 * name again (where issue 12 item 2 reused epochs). */
			bool unl = (issue12 & ISSUE(2)) && rnd(&g) % 2;

			gn->cap = (uint64_t)64 << 10 << rnd_in(&g, 0, 5);
			gn->max_msg = (uint32_t)(gn->cap / 8 < PAYLOAD_MAX ?
			    gn->cap / 8 : PAYLOAD_MAX);
			if (rnd(&g) % 3 == 0)
				gn->max_msg = (uint32_t)rnd_in(&g, 64,
				    gn->max_msg);
			atomic_store(&S->ngens, (int)gi + 1);
			if ((pp = fork()) == 0)
				producer(gi, unl);
			while (atomic_load(&gn->epoch) == 0 &&
			    waitpid(pp, &st, WNOHANG) == 0)
				nap_us(1000);
			if (push_down && atomic_load(&gn->epoch) != 0) {
				push_down = 0;
				if (relay_push_up(gn->epoch) < 0)
					fail = 1;
			}
			if (atomic_load(&gn->epoch) == 0) {
				fprintf(stderr, "exact: producer %u failed\n",
				    gi);
				fail = 2;
				break;
			}
			if (!started) {
				started = true;
				if (relay_bin != NULL && relay_start(relay_bin,
				    prod_ring, ring) < 0) {
					fail = 2;
					break;
				}
				if (bridge_bin != NULL) {
					const char *args[] = { "--ring", ring,
					    NULL };

					if (bridge_start(&bp, bridge_bin,
					    args) < 0) {
						fprintf(stderr, "exact: "
						    "cannot start %s\n",
						    bridge_bin);
						fail = 2;
						break;
					}
					bridge_port = bp.port;
				}
				if ((cpid = fork()) == 0) {
					checker();
					child_exit(0);
				}
				for (i = 0; i < nread && nr < MAX_READERS; i++)
					rpid[nr] = spawn_reader((int)nr,
					    (int)(rnd(&g) % 2),
					    (int)(rnd(&g) % 3), 0), nr++;
				for (i = 0; bridge_bin != NULL && i < ncl &&
				    nr < MAX_READERS; i++)
					rpid[nr] = spawn_reader((int)nr, 2,
					    (int)(rnd(&g) % 3), (int)(i % 3)),
					    nr++;
				if (ringctl_bin != NULL && nr < MAX_READERS)
					rpid[nr] = spawn_reader((int)nr, 3, 0,
					    0), nr++;
			}
			if (relay_bin != NULL && rnd(&g) % 2) {
				/* A relay fault inside this generation. */
				uint64_t part = rnd_in(&g, 0, life);

				nap_us(part * 1000);
				if (relay_fault(rnd(&g), gn->epoch) < 0)
					fail = 1;
				life -= part;
			}
			nap_us(life * 1000);
			if (mono_ms() - t0 >= seconds * 1000)
				how = 9;	/* the last one closes */
			else if (relay_bin != NULL && how >= 4 && !unl &&
			    rnd(&g) % 4 == 0)
				/* Closed and kept: the next producer takes
				 * it over while the push is down. */
				push_down = relay_push_down(gn->epoch);
			if (how < 4) {
				struct shmr_ring *r;
				struct shmr_info in;

				kill(pp, SIGKILL);
				waitpid(pp, &st, 0);
				if (shmr_ring_open(prod_ring, NULL, &r) == 0) {
					if (shmr_ring_info(r, &in) == 0 &&
					    shmr_ring_epoch(r) ==
					    atomic_load(&gn->epoch))
						atomic_store(&gn->final_next,
						    in.next_seq);
					shmr_ring_close(r);
				}
				atomic_store(&gn->ended, 2);
			} else {
				kill(pp, SIGTERM);
				waitpid(pp, &st, 0);
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
					fail = 2;
					break;
				}
			}
			gi++;
		}
		/* Down after the last one: back to end it on the mirror. */
		if (push_down && gi > 0 &&
		    relay_push_up(S->gens[gi - 1].epoch) < 0)
			fail = 1;
		/*
		 * Let the readers drain the last one, then stop them. Its
		 * producer closed it: the mirror must end it likewise.
		 */
		if (relay_bin != NULL && started && fail != 2 && gi > 0 &&
		    atomic_load(&S->gens[gi - 1].ended) == 1 &&
		    relay_wait_end(S->gens[gi - 1].epoch, 30000) < 0) {
			printf("exact: VIOLATION: the mirror did not end "
			    "epoch %" PRIu64 " within 30 s of the origin\n",
			    (uint64_t)S->gens[gi - 1].epoch);
			fail = 1;
		}
		nap_us(300000);
		atomic_store(&S->stop, 1);
		stopped = mono_ms();
		for (i = 0; i < nr; i++) {
			/* 3 s to drain, then 30 s of grace: a hang fails. */
			while (waitpid(rpid[i], &st, WNOHANG) == 0) {
				if (mono_ms() - stopped < 33000) {
					nap_us(10000);
					continue;
				}
				fprintf(stderr, "exact: reader %s still runs "
				    "33 s after the stop: killed\n",
				    S->r[i].kind);
				kill(rpid[i], SIGKILL);
			}
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				fprintf(stderr, "exact: reader %s died (status "
				    "%#x)\n", S->r[i].kind, st);
				fail = 1;
			}
		}
		if (started)
			waitpid(cpid, &st, 0);
		if (bp.pid > 0) {
			if ((st = bridge_stop(&bp)) != 0 ||
			    bridge_sanitizer_report(&bp)) {
				fprintf(stderr, "exact: ringbridge exit %d, "
				    "see %s\n", st, bp.errpath);
				fail = 1;
			}
		}
		if (relay_bin != NULL && started && relay_stop() != 0)
			fail = 1;
		shmr_unlink(ring);
		shmr_unlink(prod_ring);
	}

	/* Ground truth: one epoch per generation, never reused. */
	{
		int n = atomic_load(&S->ngens);
		uint64_t tot = 0;

		for (int a = 0; a < n; a++) {
			tot += atomic_load(&S->gens[a].final_next);
			for (int b = 0; b < a; b++)
				if (S->gens[a].epoch == S->gens[b].epoch) {
					printf("exact: VIOLATION: generations "
					    "%d and %d both have epoch %" PRIu64
					    ": every id of one names a message "
					    "of the other\n", b, a,
					    (uint64_t)S->gens[a].epoch);
					fail = 1;
					break;
				}
		}
		printf("exact: %d generations, %" PRIu64 " messages "
		    "published\n", n, tot);
	}
	/* Each reader: its own violations, then drained stretches. */
	{
		uint64_t deliv = 0, lost = 0, segs = 0;

		for (i = 0; i < nr; i++) {
			struct rres *r = &S->r[i];

			deliv += r->delivered;
			lost += r->lost;
			for (int k = 0; k < r->nseg; k++) {
				struct seg *s = &r->seg[k];
				struct gen *gn = &S->gens[s->gen];

				segs++;
				if (!s->drained || s->epoch != gn->epoch)
					continue;
				if (s->next != gn->final_next) {
					if (r->violations++ == 0)
						snprintf(r->first,
						    sizeof(r->first), "gen %u "
						    "(epoch %" PRIu64 ") ended "
						    "at seq %" PRIu64 " but "
						    "this reader's stream "
						    "ended at %" PRIu64,
						    s->gen, s->epoch,
						    (uint64_t)gn->final_next,
						    s->next);
				}
			}
			printf("exact: %-28s delivered %" PRIu64 " lost %"
			    PRIu64 " in %" PRIu64 " events, %d stretches, %"
			    PRIu64 " stalls%s%s\n", r->kind, r->delivered,
			    r->lost, r->events, r->nseg, r->stalls, r->violations ? ": FAIL: " : "",
			    r->violations ? r->first : "");
			if (r->violations)
				fail = 1;
		}
		printf("exact: %" PRIu64 " checks of the live ring, %" PRIu64
		    " failed%s%s\n", (uint64_t)S->checks,
		    (uint64_t)S->check_fail, S->check_fail ? ": " : "",
		    S->check_fail ? S->check_why : "");
		if (S->check_known6)
			printf("exact: %" PRIu64 " checks hit issue 12 item 6 "
			    "(set EXACT_ISSUE12=6 to fail on it)\n",
			    (uint64_t)S->check_known6);
		if (S->check_fail)
			fail = 1;
		printf("exact: %s: %" PRIu64 " deliveries checked, %" PRIu64
		    " losses accounted, %" PRIu64 " stretches (seed %" PRIu64
		    ")\n", fail ? "FAILED" : "ok", deliv, lost, segs, seed);
	}
	return fail;
}
