/*
 * push.c - `ringrelay push`: read the origin's ring as any read-only
 * reader does and publish it into the stream, packed, asynchronously:
 * a lap of the relay as a gap marker with the exact count, a new
 * producer as a restart marker. After a refused or lost publish, and
 * when restarted, it continues after the stream's last message.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmring.h"
#include "relay.h"

#define HDR_ROOM	1024	/* stream message bytes kept for headers */
#define READ_BATCH	512
#define WAIT_MS		50
#define ACK_STALL_MS	2000	/* acks this late are taken as lost */

static void drop_pending(void);

struct pusher {
	struct shmr_ring	*ring;
	struct shmr_cursor	 cur;
	struct shmr_info	 info;
	unsigned char		*pack;	/* the data message being filled */
	size_t			 plen;
	size_t			 limit;	/* its largest payload */
	uint64_t		 first;	/* its first sequence number */
	uint64_t		 count;
	uint64_t		 sent;	/* stream messages */
	bool			 ended;	/* the ring's end is in the stream */
	char			 last_id[80];	/* of the last one sent */
};

static void
set_u64(natsMsg *m, const char *key, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	natsMsgHeader_Set(m, key, b);
}

/*
 * Publish one stream message of epoch asynchronously (the ring's, or the
 * one it replaced); exit on a local error.
 */
static void
send_epoch_msg(struct pusher *p, uint64_t epoch, char kind, uint64_t seq,
    uint64_t count, const void *data, size_t len)
{
	natsMsg *m = NULL;
	char id[80], k[2] = { kind, '\0' };
	struct shmr_info in;
	natsStatus s;

	snprintf(id, sizeof(id), "%" PRIu64 ":%" PRIu64 ":%c", epoch, seq,
	    kind);
	if (shmr_ring_info(p->ring, &in) < 0)
		in = p->info;
	/* Of a replaced epoch, the head we know of is its end. */
	if (epoch != in.epoch)
		in.next_seq = kind == 'e' ? seq : seq + count;
	if ((s = natsMsg_Create(&m, opt.subject, NULL, data, (int)len)) !=
	    NATS_OK)
		errx(EXIT_SYS, "natsMsg_Create: %s", natsStatus_GetText(s));
	natsMsgHeader_Set(m, "Nats-Msg-Id", id);
	/*
	 * The stream must end with the message we sent before this one:
	 * if one was lost (a leader change, a refusal), every later one
	 * is refused too and push_resync() resumes after what the stream
	 * holds, instead of leaving a hole behind a stored successor.
	 */
	if (p->last_id[0] != '\0')
		natsMsgHeader_Set(m, "Nats-Expected-Last-Msg-Id", p->last_id);
	natsMsgHeader_Set(m, "Shmr-Kind", k);
	set_u64(m, "Shmr-Epoch", epoch);
	set_u64(m, "Shmr-Seq", seq);
	if (kind != 'r' && kind != 'e')
		set_u64(m, "Shmr-Count", count);
	set_u64(m, "Shmr-Head", in.next_seq);
	set_u64(m, "Shmr-Cap", in.capacity);
	set_u64(m, "Shmr-Max-Msg", in.max_msg);
	/*
	 * No per-message MaxWait (nats.c 3.4.1 starts a timer per message
	 * then): the server's acks or the connection's fate decide.
	 */
	/* MaxPending in flight: StallWait (200 ms) elapsed, try again */
	for (int tries = 0; (s = js_PublishMsgAsync(js, &m, NULL)) ==
	    NATS_TIMEOUT && !stop; tries++) {
		if (tries >= ACK_STALL_MS / 200) {
			/* The acks are lost (a server died with them):
			 * without a MaxWait nothing times them out. */
			s = NATS_TIMEOUT;
			drop_pending();
			break;
		}
	}
	if (s != NATS_OK) {
		natsMsg_Destroy(m);
		if (stop)
			return;
		/* Disconnected and so on: resynchronise like an error. */
		if (atomic_exchange(&pub_failed, 1) == 0)
			snprintf(pub_err, sizeof(pub_err), "publish: %s",
			    natsStatus_GetText(s));
		return;
	}
	strcpy(p->last_id, id);
	p->sent++;
}

static void
send_msg(struct pusher *p, char kind, uint64_t seq, uint64_t count,
    const void *data, size_t len)
{
	send_epoch_msg(p, shmr_ring_epoch(p->ring), kind, seq, count, data,
	    len);
}

static void
flush_pack(struct pusher *p)
{
	if (p->count == 0)
		return;
	send_msg(p, 'd', p->first, p->count, p->pack, p->plen);
	p->plen = 0;
	p->count = 0;
}

/*
 * Copy up to READ_BATCH messages from the ring straight into the pack,
 * the one copy before natsMsg_Create()'s: each is peeked at in place,
 * copied, and kept only if shmr_cursor_consume() says it was not
 * overwritten meanwhile (the next peek then reports the exact loss).
 * SHMR_MSG after READ_BATCH looks, else the first other outcome (in *m),
 * with what was taken before it in the pack.
 */
static int
push_fill(struct pusher *p, struct shmr_msg *m)
{
	unsigned char *d;
	int rc;

	for (size_t n = 0; n < READ_BATCH; n++) {
		/* Any other outcome at once: an overrun has moved the
		 * cursor already, the pack must end before it. */
		if ((rc = shmr_cursor_peek(p->ring, &p->cur, m)) != SHMR_MSG)
			return rc;
		if (4 + m->len > p->limit) {
			/* Larger than a stream message can be: say so. */
			if (shmr_cursor_consume(p->ring, &p->cur, m) < 0)
				continue;
			flush_pack(p);
			warnx("%s: message %" PRIu64 " is %zu bytes, more "
			    "than the server's max_payload allows (%zu): "
			    "announced as lost", opt.ring, m->seq, m->len,
			    p->limit - 4);
			send_msg(p, 'x', m->seq, 1, NULL, 0);
			continue;
		}
		if (p->count > 0 && (p->plen + 4 + m->len > p->limit ||
		    p->plen + 4 + m->len > opt.batch))
			flush_pack(p);
		d = p->pack + p->plen;
		d[0] = (unsigned char)m->len;
		d[1] = (unsigned char)(m->len >> 8);
		d[2] = (unsigned char)(m->len >> 16);
		d[3] = (unsigned char)(m->len >> 24);
		memcpy(d + 4, m->data, m->len);
		if (shmr_cursor_consume(p->ring, &p->cur, m) < 0)
			continue;	/* overwritten while copied: dropped */
		if (p->count == 0)
			p->first = m->seq;
		p->plen += 4 + m->len;
		p->count++;
	}
	return SHMR_MSG;
}

/* Open the ring, waiting for it to exist. */
static void
push_open(struct pusher *p)
{
	int rc, said = 0;

	while ((rc = shmr_ring_open(opt.ring, NULL, &p->ring)) < 0) {
		if (rc != -ENOENT && rc != -EAGAIN)
			errx(EXIT_SYS, "%s: %s", opt.ring, ring_error(rc));
		if (!said++)
			say("%s: waiting for the ring to exist", opt.ring);
		usleep(100000);
		if (stop)
			exit(0);
	}
	shmr_ring_info(p->ring, &p->info);
}

/*
 * The stream's last message in *last (NULL when it has none): NATS_OK,
 * or NATS_NOT_FOUND when stopped. A cluster without a leader does not
 * answer or says so: ask again until it does, however long its failover
 * takes; a lasting refusal exits.
 */
static natsStatus
stream_last_msg(natsMsg **last)
{
	jsErrCode ec = 0;
	natsStatus s;

	for (unsigned tries = 0; !stop; tries++) {
		*last = NULL;
		s = js_GetLastMsg(last, js, opt.stream, opt.subject, NULL, &ec);
		if (s == NATS_OK || s == NATS_NOT_FOUND) {
			if (s == NATS_NOT_FOUND)
				*last = NULL;
			return NATS_OK;
		}
		if (!stream_transient(s, ec))
			errx(EXIT_SYS, "stream %s: last message: %s",
			    opt.stream, stream_why(s, ec));
		if (tries % 10 == 0)
			say("stream %s: last message: %s; retrying",
			    opt.stream, stream_why(s, ec));
		usleep(200000);
	}
	return NATS_NOT_FOUND;
}

/*
 * The stream ends inside an epoch that is not the ring's (h, not an end):
 * the ring replaced it while push did not read it to its end, either
 * behind (it drained the old ring, then the new producer's ring) or down.
 * The new ring says what it replaced: when that is the stream's epoch,
 * what push never relayed of it is a gap with the exact count, and a
 * close by its producer an end marker, as if push had read them. Else
 * (two replacements while push was down, a producer that died inside an
 * update, an older libshm) the count is unknown: the mirrors get the
 * restart alone, and we say so.
 */
static void
push_old_end(struct pusher *p, const struct hdr *h)
{
	struct shmr_predecessor pr;
	uint64_t next = hdr_next(h);

	if (shmr_ring_predecessor(p->ring, &pr) != 1 || pr.epoch != h->epoch ||
	    !pr.end_known || pr.end_seq < next) {
		warnx("%s: epoch %" PRIu64 " was replaced before the relay "
		    "read it to its end: what it held after seq %" PRIu64
		    " is lost, how much is not known; the mirrors restart",
		    opt.ring, h->epoch, next);
		return;
	}
	if (pr.end_seq > next) {
		warnx("%s: epoch %" PRIu64 " was replaced while the relay was "
		    "down: %" PRIu64 " messages lost (announced)", opt.ring,
		    h->epoch, pr.end_seq - next);
		send_epoch_msg(p, h->epoch, 'g', next, pr.end_seq - next,
		    NULL, 0);
	}
	if (pr.closed) {
		send_epoch_msg(p, h->epoch, 'e', pr.end_seq, 0, NULL, 0);
		say("%s: epoch %" PRIu64 " ended at %" PRIu64, opt.ring,
		    h->epoch, pr.end_seq);
	}
}

/*
 * Where to continue: after the stream's last message when it is of this
 * ring's epoch (a restarted relay duplicates nothing and skips nothing:
 * a loss since shows as an overrun of the cursor, published as a gap),
 * otherwise a restart marker and the ring's oldest message.
 */
static void
push_resume(struct pusher *p)
{
	natsMsg *last = NULL;
	struct hdr h;
	int rc;

	if (stream_last_msg(&last) != NATS_OK)
		return;		/* stopping */
	p->last_id[0] = '\0';
	if (last != NULL) {
		const char *id = NULL;

		if (natsMsgHeader_Get(last, "Nats-Msg-Id", &id) == NATS_OK &&
		    id != NULL && strlen(id) < sizeof(p->last_id))
			strcpy(p->last_id, id);
	}
	p->ended = false;
	if (last != NULL && hdr_parse(last, &h) == 0 &&
	    h.epoch == shmr_ring_epoch(p->ring)) {
		p->ended = h.kind == 'e';
		rc = shmr_cursor_init(p->ring, &p->cur, SHMR_FROM_SEQ,
		    hdr_next(&h));
		natsMsg_Destroy(last);
		if (rc == 0) {
			say("%s: resuming epoch %" PRIu64 " at %" PRIu64,
			    opt.ring, h.epoch, hdr_next(&h));
			return;
		}
		errx(EXIT_SYS, "%s: the stream is ahead of the ring (seq %"
		    PRIu64 " in epoch %" PRIu64 "): %s", opt.ring,
		    hdr_next(&h), h.epoch, ring_error(rc));
	}
	if (last != NULL) {
		if (hdr_parse(last, &h) == 0 && h.kind != 'e')
			push_old_end(p, &h);
		natsMsg_Destroy(last);
	}
	if ((rc = shmr_cursor_init(p->ring, &p->cur, SHMR_FROM_OLDEST, 0)) < 0)
		errx(EXIT_SYS, "%s: %s", opt.ring, ring_error(rc));
	say("%s: epoch %" PRIu64 " starts at %" PRIu64, opt.ring,
	    shmr_ring_epoch(p->ring), p->cur.seq);
	send_msg(p, 'r', p->cur.seq, 0, NULL, 0);
}

/* Forget the publishes still waiting for an ack (resync re-reads). */
static void
drop_pending(void)
{
	natsMsgList pending;

	memset(&pending, 0, sizeof(pending));
	if (js_PublishAsyncGetPendingList(&pending, js) == NATS_OK)
		natsMsgList_Destroy(&pending);
}

/*
 * Wait for what is in flight to be stored (or refused: the next loop
 * resynchronises), so that the stream's last message is ours.
 */
static void
push_settle(void)
{
	jsPubOptions po;

	jsPubOptions_Init(&po);
	po.MaxWait = ACK_STALL_MS;
	if (js_PublishAsyncComplete(js, &po) != NATS_OK)
		drop_pending();
}

/* After a publish error: wait for what is in flight, then resume. */
static void
push_resync(struct pusher *p)
{
	warnx("%s: stream %s refused or lost a message (%s); resuming "
	    "after the stream's last message", opt.ring, opt.stream, pub_err);
	p->plen = 0;
	p->count = 0;
	push_settle();
	atomic_store(&pub_failed, 0);
	push_resume(p);
}

int
push_main(void)
{
	struct pusher p;
	struct shmr_msg m;
	int rc, maxp;
	uint64_t last_check = mono_ms();

	memset(&p, 0, sizeof(p));
	stream_connect();
	stream_ensure(true);
	maxp = (int)natsConnection_GetMaxPayload(nc);
	if (maxp <= HDR_ROOM + 64)
		errx(EXIT_SYS, "server max_payload %d is too small", maxp);
	p.limit = (size_t)maxp - HDR_ROOM;
	if ((p.pack = malloc(p.limit)) == NULL)
		err(EXIT_SYS, "malloc");
	push_open(&p);
	push_resume(&p);
	while (!stop) {
		if (atomic_load(&pub_failed))
			push_resync(&p);
		rc = push_fill(&p, &m);
		switch (rc) {
		case SHMR_MSG:
			continue;
		case SHMR_OVERRUN:
			flush_pack(&p);
			warnx("%s: relay lapped: %" PRIu64 " messages lost "
			    "(announced)", opt.ring, m.lost);
			send_msg(&p, 'g', m.seq - m.lost, m.lost, NULL, 0);
			continue;
		case SHMR_EMPTY:
			flush_pack(&p);
			break;
		case SHMR_EOF:
			/*
			 * The producer closed the ring: say so once, the
			 * mirrors close theirs (end of stream for their
			 * readers too). A new producer is a restart.
			 */
			flush_pack(&p);
			if (!p.ended) {
				send_msg(&p, 'e', p.cur.seq, 0, NULL, 0);
				p.ended = true;
				say("%s: epoch %" PRIu64 " ended at %" PRIu64,
				    opt.ring, shmr_ring_epoch(p.ring),
				    p.cur.seq);
			}
			break;
		case SHMR_RESTART:
			flush_pack(&p);
			break;
		case -EDEADLK:
		case -EAGAIN:
			usleep(1000);
			continue;
		default:
			errx(EXIT_SYS, "%s: %s", opt.ring, ring_error(rc));
		}
		/* Nothing to read: a new producer? (as shmr_reader_wait) */
		if (rc != SHMR_EMPTY || mono_ms() - last_check >= 500) {
			last_check = mono_ms();
			if (rc != SHMR_EMPTY || (shmr_ring_alive(p.ring) == 0 &&
			    shmr_ring_stale(p.ring) == 1)) {
				struct shmr_ring *old = p.ring;

				if (shmr_ring_stale(old) == 1 ||
				    rc == SHMR_RESTART) {
					shmr_ring_close(old);
					p.ring = NULL;
					/* what the stream ends with decides */
					push_settle();
					push_open(&p);
					push_resume(&p);
					continue;
				}
				/* closed, name unchanged: wait for one */
				usleep(100000);
				continue;
			}
		}
		rc = shmr_cursor_wait(p.ring, &p.cur, WAIT_MS, 0);
		if (rc < 0 && rc != -ETIMEDOUT && rc != -EINTR)
			errx(EXIT_SYS, "%s: wait: %s", opt.ring,
			    ring_error(rc));
	}
	flush_pack(&p);
	js_PublishAsyncComplete(js, NULL);
	say("%s: stopped after %" PRIu64 " stream messages", opt.ring, p.sent);
	shmr_ring_close(p.ring);
	free(p.pack);
	return 0;
}
