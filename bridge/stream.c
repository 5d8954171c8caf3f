/*
 * stream.c - the content reader behind every GET /rings/NAME/stream.
 *
 * A client is a cursor into the shared read-only mapping plus a few small
 * fixed buffers; nothing is copied per client. Each call formats as many
 * whole events as fit straight from the mapping into libmicrohttpd's
 * output buffer (shmr_cursor_peek), then checks that the bytes it copied
 * were not overwritten meanwhile (shmr_cursor_consume). A message larger
 * than the buffer is written over several calls; its partial copies are
 * checked on a copy of the cursor, so the real cursor only moves once the
 * whole event went out intact. If a message is overwritten while it is
 * being formatted, the bytes of this call are dropped and the next read
 * reports the loss; if part of it was already sent in an earlier call the
 * connection is closed at once (a client discards an event cut short and
 * learns the exact loss when it resumes).
 *
 * When the ring has nothing new, the reader puts the client on its ring's
 * waiter list and suspends the connection (returning 0 without suspending
 * would make libmicrohttpd busy-loop); the ring's pump thread resumes it.
 */
#include <errno.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "bridge.h"
#include "../libshm/chaos.h"	/* CHAOS(): empty unless SAN=chaos */
#include "enc.h"
#include "log.h"

enum { PART_DONE, PART_FULL, PART_DROPPED, PART_ABORT };

/* Append bytes to the pending control buffer. */
static bool
ctl_put(struct client *c, const void *p, size_t n)
{
	if (n > sizeof(c->ctl) - c->ctl_len)
		return false;
	memcpy(c->ctl + c->ctl_len, p, n);
	c->ctl_len += (uint16_t)n;
	return true;
}

/* Queue a control event in the client's format. */
static bool
ctl_event(struct client *c, enum ctl_kind kind, const char *name,
    uint64_t seq, uint64_t num, const char *json, const char *id)
{
	const struct ctl_event ev = { .kind = kind, .name = name,
	    .json = json, .id = id, .seq = seq, .num = num };
	char tmp[sizeof(c->ctl)];
	int n = c->fmt->ctl(tmp, sizeof(tmp), &ev);

	return n >= 0 && ctl_put(c, tmp, (size_t)n);
}

void
stream_start(struct client *c)
{
	if (c->fmt->preamble != NULL)
		ctl_put(c, c->fmt->preamble, strlen(c->fmt->preamble));
}

bool
stream_ctl_gap(struct client *c, uint64_t lost, uint64_t next)
{
	char json[96], id[48];

	snprintf(json, sizeof(json), "{\"lost\":%" PRIu64 ",\"next\":%" PRIu64
	    "}", lost, next);
	/* The id acknowledges the gap: a resume continues at next. */
	snprintf(id, sizeof(id), "%" PRIu64 ":%" PRIu64, c->map->epoch,
	    next - 1);
	return ctl_event(c, CTL_GAP, "gap", next, lost, json, id);
}

/*
 * The stream moved to the epoch of c->map, its cursor at the oldest
 * message there: say where it continues (first) and how many of the
 * epoch's messages are gone already (lost; an epoch starts at seq 0),
 * then announce that loss as a gap with its exact count, so that a
 * client can tell it did not get the new ring from its start.
 */
bool
stream_ctl_restart(struct client *c, uint64_t old_epoch)
{
	uint64_t first = c->cur.seq, epoch = c->map->epoch;
	char json[160];
	bool ok;

	snprintf(json, sizeof(json), "{\"epoch\":%" PRIu64
	    ",\"previous_epoch\":%" PRIu64 ",\"first\":%" PRIu64
	    ",\"lost\":%" PRIu64 "}", epoch, old_epoch, first, first);
	ok = ctl_event(c, CTL_RESTART, "restart", first, epoch, json, NULL);
	/* A lap before the first message is a gap, not an overrun. */
	c->in_step = false;
	if (first > 0) {
		atomic_fetch_add(&c->ent->gaps, 1);
		atomic_fetch_add(&c->ent->lost, first);
		ok = stream_ctl_gap(c, first, first) && ok;
	}
	return ok;
}

static bool
ctl_overrun(struct client *c, uint64_t lost, uint64_t next)
{
	char json[96];

	snprintf(json, sizeof(json), "{\"lost\":%" PRIu64 ",\"next\":%" PRIu64
	    "}", lost, next);
	return ctl_event(c, CTL_OVERRUN, "overrun", next, lost, json, NULL);
}

static bool
ctl_eof(struct client *c)
{
	char json[64];

	snprintf(json, sizeof(json), "{\"next\":%" PRIu64 "}", c->cur.seq);
	return ctl_event(c, CTL_EOF, "eof", c->cur.seq, 0, json, NULL);
}

static bool
ctl_heartbeat(struct client *c)
{
	char tmp[sizeof(c->ctl)];
	int n = c->fmt->heartbeat(tmp, sizeof(tmp), c->cur.seq);

	return n >= 0 && ctl_put(c, tmp, (size_t)n);
}

static void
msg_begin(struct client *c, const struct shmr_msg *m, size_t start)
{
	c->m_msg = *m;
	c->m_active = true;
	c->m_here = true;
	c->m_start = start;
	c->m_phase = 0;
	c->m_off = 0;
	c->m_in = 0;
	c->m_stage_len = c->m_stage_off = 0;
	c->fmt->frame(&c->m_fr, m, c->map->epoch, (enum stream_enc)c->enc);
}

/* Bytes the current message takes once formatted (JSON: worst case). */
static size_t
msg_size(const struct client *c)
{
	size_t len = c->m_msg.len, body;

	switch (c->m_fr.body) {
	case BODY_B64:
		body = ENC_BASE64_LEN(len);
		break;
	case BODY_JSON:
		body = len > SIZE_MAX / 6 ? SIZE_MAX / 2 : len * 6;
		break;
	default:
		body = len;
		break;
	}
	return c->m_fr.pre_len + body + c->m_fr.suf_len;
}

/* Copy from a fixed buffer at *off; true when it was all copied. */
static bool
copy_part(const char *src, size_t len, uint16_t *off, char *buf, size_t max,
    size_t *n)
{
	size_t k = len - *off;

	if (k > max - *n)
		k = max - *n;
	memcpy(buf + *n, src + *off, k);
	*n += k;
	*off += (uint16_t)k;
	return *off == len;
}

/* Encode payload bytes into buf; true when the body is complete. */
static bool
body_part(struct client *c, char *buf, size_t max, size_t *n)
{
	const unsigned char *p = c->m_msg.data;
	size_t len = c->m_msg.len, space, k;
	long w;

	for (;;) {
		if (c->m_stage_off < c->m_stage_len) {
			uint16_t off = c->m_stage_off;

			if (!copy_part(c->m_stage, c->m_stage_len, &off, buf,
			    max, n)) {
				c->m_stage_off = (uint8_t)off;
				return false;
			}
			c->m_stage_off = c->m_stage_len = 0;
		}
		if (c->m_in == len)
			return true;
		space = max - *n;
		if (space == 0)
			return false;
		switch (c->m_fr.body) {
		case BODY_TEXT:
			k = len - c->m_in < space ? len - c->m_in : space;
			memcpy(buf + *n, p + c->m_in, k);
			*n += k;
			c->m_in += k;
			continue;
		case BODY_B64:
			if (space >= 4) {
				k = space / 4 * 3;
				if (k > len - c->m_in)
					k = len - c->m_in;
				w = enc_base64(buf + *n, space, p + c->m_in, k);
			} else {
				k = len - c->m_in < 3 ? len - c->m_in : 3;
				w = enc_base64(c->m_stage, sizeof(c->m_stage),
				    p + c->m_in, k);
			}
			break;
		default:
			if (space >= 6) {
				k = space / 6;
				if (k > len - c->m_in)
					k = len - c->m_in;
				w = enc_json_escape(buf + *n, space,
				    p + c->m_in, k);
			} else {
				k = 1;
				w = enc_json_escape(c->m_stage,
				    sizeof(c->m_stage), p + c->m_in, k);
			}
			break;
		}
		if (w < 0)
			return false;	/* cannot happen: sizes chosen above */
		c->m_in += k;
		if ((c->m_fr.body == BODY_B64 && space >= 4) ||
		    (c->m_fr.body == BODY_JSON && space >= 6))
			*n += (size_t)w;
		else
			c->m_stage_len = (uint8_t)w;
	}
}

/*
 * Write as much of the current message as fits. PART_DONE: the whole event
 * was written and the cursor moved; PART_FULL: the buffer is full and the
 * part written is intact; PART_DROPPED: the message was overwritten and
 * the bytes of this call for it were discarded; PART_ABORT: it was
 * overwritten after part of it had gone out.
 */
static int
msg_part(struct client *c, char *buf, size_t max, size_t *n)
{
	struct shmr_ring *ring = c->map->ring;
	struct shmr_cursor tmp;
	bool complete = false;
	int rc;

	if (c->m_phase == 0 &&
	    copy_part(c->m_fr.pre, c->m_fr.pre_len, &c->m_off, buf, max, n)) {
		c->m_phase = 1;
		c->m_off = 0;
	}
	if (c->m_phase == 1 && body_part(c, buf, max, n))
		c->m_phase = 2;
	if (c->m_phase == 2 &&
	    copy_part(c->m_fr.suf, c->m_fr.suf_len, &c->m_off, buf, max, n))
		complete = true;
	if (complete) {
		rc = shmr_cursor_consume(ring, &c->cur, &c->m_msg);
	} else {
		/* Check the copied part on a copy: the cursor stays put. */
		tmp = c->cur;
		rc = shmr_cursor_consume(ring, &tmp, &c->m_msg);
	}
	if (rc == 0) {
		if (!complete)
			return PART_FULL;
		c->m_active = false;
		c->in_step = true;
		return PART_DONE;
	}
	c->m_active = false;
	if (rc != -ESTALE)
		log_warn("ring %s: %s", c->ent->name, ring_error(rc));
	if (rc == -ESTALE && c->m_here) {
		*n = c->m_start;
		return PART_DROPPED;
	}
	return PART_ABORT;
}

/* Put c on its loop's waiter list and suspend it; caller holds its lock. */
static void
suspend_locked(struct client *c)
{
	struct ring_loop *l = &c->ent->lp[c->loop];

	c->wprev = NULL;
	c->wnext = l->waiters;
	if (l->waiters != NULL)
		l->waiters->wprev = c;
	l->waiters = c;
	c->waiting = true;
	MHD_suspend_connection(c->conn);
}

/* What a client about to suspend waits for. */
enum wait_for {
	WAIT_MSG,	/* a message (or end, restart) at its cursor */
	WAIT_EPOCH,	/* the pump to map the ring's new epoch */
	WAIT_WAKE,	/* the next wake-up: a retry */
	WAIT_STALL	/* the end of the ring's stall (ring_stall_clear) */
};

/*
 * Suspend the connection unless something arrived meanwhile. Under the
 * loop's waiter lock, which wake() takes to resume the waiters once the
 * pump flagged the ring (request_wake(), after the ring moved), so a
 * message published after our last read is either seen by the re-check
 * here or wakes us. The re-check peeks with a copy of the
 * cursor: a lap since the last read would resynchronise the real one and
 * drop the loss count that the next read must report.
 */
static bool
try_suspend(struct client *c, enum wait_for what)
{
	struct ring_ent *e = c->ent;
	struct ring_loop *l = &e->lp[c->loop];
	struct shmr_cursor tmp;
	struct shmr_msg m;
	bool ready;

	TEST_PAUSE("suspend");
	CHAOS("bridge: read empty, lock not yet taken");
	pthread_mutex_lock(&l->lock);
	if (atomic_load(&g_stopping) || c->hb_gen != atomic_load(&g_hb_gen))
		ready = true;
	else if (what == WAIT_EPOCH) {
		pthread_mutex_lock(&e->lock);
		ready = e->map != NULL && e->map != c->map;
		pthread_mutex_unlock(&e->lock);
	} else if (what == WAIT_WAKE)
		ready = false;
	else if (what == WAIT_STALL)
		ready = atomic_load(&e->stalled) == 0;
	else {
		tmp = c->cur;
		ready = shmr_cursor_peek(c->map->ring, &tmp, &m) !=
		    SHMR_EMPTY;
	}
	CHAOS("bridge: re-checked, not yet suspended");
	if (!ready)
		suspend_locked(c);
	pthread_mutex_unlock(&l->lock);
	return !ready;
}

/*
 * Coalescing (pass_interval() > 0): a client that already wrote in this
 * pass waits for the next one even though more has arrived, so that its
 * next write carries all of it. The event loop resumes deferred clients
 * when the pass is due, with or without new messages. Event-loop thread
 * only, like the pass counter.
 */
static bool
stream_defer(struct client *c)
{
	struct ring_loop *l = &c->ent->lp[c->loop];

	if (atomic_load(&g_stopping) || pass_interval(c->ent, c->loop) == 0 ||
	    c->sent_pass != l->pass + 1)
		return false;
	pthread_mutex_lock(&l->lock);
	l->deferred = true;
	suspend_locked(c);
	pthread_mutex_unlock(&l->lock);
	return true;
}

/*
 * Move to the ring's new epoch if the pump has mapped it: 1 if moved, 0
 * if there is none yet, -errno if its cursor cannot be set (its header
 * does not read back sound yet): the client stays where it is and tries
 * again at the next wake-up, so no restart is announced before it holds.
 */
static int
switch_epoch(struct client *c)
{
	struct ring_ent *e = c->ent;
	struct mapref *old = c->map, *m;
	struct shmr_cursor cur;
	int rc;

	pthread_mutex_lock(&e->lock);
	m = e->map;
	if (m == NULL || m == old) {
		pthread_mutex_unlock(&e->lock);
		return 0;
	}
	atomic_fetch_add(&m->refs, 1);
	pthread_mutex_unlock(&e->lock);
	TEST_PAUSE("epoch-switch");
	CHAOS("bridge: new epoch mapped, cursor not yet moved");
	if ((rc = shmr_cursor_init(m->ring, &cur, SHMR_FROM_OLDEST, 0)) != 0) {
		if (ring_transient(rc))
			ring_stall_set(e, rc);
		else if (!c->switch_warned)
			log_warn("ring %s: cannot start reading epoch %" PRIu64
			    ": %s (retrying)", e->name, m->epoch,
			    ring_error(rc));
		c->switch_warned = true;
		mapref_put(m);
		return rc;
	}
	c->switch_warned = false;
	c->map = m;
	c->cur = cur;
	c->from_seq = 0;
	stream_ctl_restart(c, old->epoch);
	atomic_fetch_add(&e->restarts, 1);
	mapref_put(old);
	return 1;
}

ssize_t
stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct client *c = cls;
	struct ring_ent *e = c->ent;
	struct ring_loop *lp = &e->lp[c->loop];
	struct shmr_msg m;
	size_t n = 0;
	uint64_t events = 0;
	enum wait_for what;
	int rc, sw = 0;

	(void)pos;
	/* A message continued from an earlier call cannot be taken back. */
	c->m_here = false;
	for (;;) {
		if (c->ctl_off < c->ctl_len) {
			if (!copy_part(c->ctl, c->ctl_len, &c->ctl_off, buf,
			    max, &n))
				break;
			c->ctl_off = c->ctl_len = 0;
		}
		if (c->done)
			break;
		if (c->final || atomic_load(&g_stopping)) {
			c->done = true;
			break;
		}
		if (n == max)
			break;
		if (c->m_active) {
			rc = msg_part(c, buf, max, &n);
			if (rc == PART_FULL)
				break;
			if (rc == PART_ABORT) {
				c->fail = c->done = true;
				n = 0;
				break;
			}
			if (rc == PART_DONE)
				events++;
			continue;
		}
		/*
		 * Its producer stalled mid-update: no header read until the
		 * stall is over (each costs ~2 ms of this event loop), then
		 * one retry.
		 */
		if (c->stall_wait) {
			if (atomic_load(&e->stalled) != 0) {
				what = WAIT_STALL;
				goto idle;
			}
			c->stall_wait = false;
		}
		if (c->init_pending) {
			rc = shmr_cursor_init(c->map->ring, &c->cur,
			    (enum shmr_from)c->init_from, c->init_seq);
			if (ring_transient(rc))
				goto stalled;
			if (rc != 0) {
				/* -ERANGE: a resume beyond the ring; a new
				 * request gets the 400 that says so. */
				log_warn("ring %s: stream start: %s", e->name,
				    ring_error(rc));
				c->fail = c->done = true;
				break;
			}
			c->init_pending = false;
			if (c->restart_from != 0)
				stream_ctl_restart(c, c->restart_from);
			continue;	/* the restart event goes out first */
		}
		rc = shmr_cursor_peek(c->map->ring, &c->cur, &m);
		CHAOS("bridge: peeked");
		switch (rc) {
		case SHMR_MSG:
			if (m.seq < c->from_seq) {
				/* Before the resume point: already sent. A
				 * lap meanwhile is reported by the next peek. */
				(void)shmr_cursor_consume(c->map->ring,
				    &c->cur, &m);
				continue;
			}
			if (n == 0 && stream_defer(c))
				return 0;
			msg_begin(c, &m, n);
			if (n > 0 && msg_size(c) > max - n) {
				/*
				 * Start it in the next call with the whole
				 * buffer: only messages larger than that are
				 * ever split, and so exposed to being cut.
				 */
				c->m_active = false;
				break;
			}
			continue;
		case SHMR_OVERRUN:
			atomic_fetch_add(&e->lost, m.lost);
			/*
			 * Lapped before the stream was ever in step: its
			 * starting point was gone (resume, from=SEQ). Else
			 * it was lapped while connected.
			 */
			if (!c->in_step || c->skip) {
				atomic_fetch_add(&e->gaps, 1);
				stream_ctl_gap(c, m.lost, m.seq);
			} else {
				atomic_fetch_add(&e->overruns, 1);
				ctl_overrun(c, m.lost, m.seq);
				c->final = true;
			}
			c->in_step = true;
			continue;
		case SHMR_EOF:
			atomic_fetch_add(&e->eofs, 1);
			ctl_eof(c);
			c->final = true;
			continue;
		case SHMR_RESTART:
			if ((sw = switch_epoch(c)) > 0)
				continue;
			if (ring_transient(sw)) {
				rc = sw;
				goto stalled;
			}
			/* Not there or not readable yet: wait like an idle
			 * stream. */
			/* FALLTHROUGH */
		case SHMR_EMPTY:
			/* Caught up (or at the end of an epoch): a lap from
			 * now on is an overrun. */
			c->in_step = true;
			what = rc != SHMR_RESTART ? WAIT_MSG : sw == 0 ?
			    WAIT_EPOCH : WAIT_WAKE;
			goto idle;
		default:
			if (ring_transient(rc))
				goto stalled;
			log_warn("ring %s: stream read: %s", e->name,
			    ring_error(rc));
			c->fail = c->done = true;
			break;
		}
		break;
	stalled:
		/*
		 * A lapped cursor's resync (or a cursor set) read a header
		 * that its producer is updating right now: transient. The
		 * cursor did not move; it retries when the stall is over.
		 */
		ring_stall_set(e, rc);
		c->stall_wait = true;
		what = WAIT_STALL;
	idle:
		if (n > 0)
			break;
		if (c->hb_gen != atomic_load(&g_hb_gen)) {
			c->hb_gen = atomic_load(&g_hb_gen);
			ctl_heartbeat(c);
			continue;
		}
		if (try_suspend(c, what))
			return 0;
	}
	if (events > 0) {
		/* Traffic keeps the connection alive: no heartbeat due. */
		c->hb_gen = atomic_load(&g_hb_gen);
		c->sent_pass = lp->pass + 1;
		atomic_fetch_add_explicit(&lp->events, events,
		    memory_order_relaxed);
	}
	if (n > 0) {
		atomic_fetch_add_explicit(&lp->bytes, n, memory_order_relaxed);
		atomic_fetch_add_explicit(&lp->chunks, 1, memory_order_relaxed);
		return (ssize_t)n;
	}
	if (c->fail)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return MHD_CONTENT_READER_END_OF_STREAM;
}
