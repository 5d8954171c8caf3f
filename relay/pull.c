/*
 * pull.c - `ringrelay pull`: be the producer of a local mirror ring that
 * copies the stream with the origin's epoch and sequence numbers. Upstream
 * loss becomes a gap (readers see an overrun with the exact count), a new
 * upstream epoch a new ring (readers see a restart). Restarted, it adopts
 * its ring and continues after the stream message it last applied.
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
#include "ringpolicy.h"

#define STALL_MS	2000	/* a consumer this quiet is looked at */
#define PULL_BATCH	1024	/* ring messages per mirror publish */

struct puller {
	struct shmr_writer	*w;
	uint64_t		 epoch;
	uint64_t		 next;	/* the mirror's next sequence number */
	uint64_t		 cap, max_msg;
	uint64_t		 ended;	/* an epoch whose end was applied */
	uint64_t		 applied;	/* stream messages applied */
};

static void
origin_text(char *buf, size_t len)
{
	snprintf(buf, len, "%s stream %s", opt.nats, opt.stream);
}

/* A (new) mirror for epoch starting at start; -errno. */
static int
pull_create(struct puller *p, const struct hdr *h, uint64_t start)
{
	struct shmr_create_opts co = { .gid = (gid_t)-1 };
	struct shmr_mirror_opts mo = { .epoch = h->epoch,
	    .start_seq = start };
	struct shmr_info in;
	char origin[SHMR_ORIGIN_MAX + 1], why[128];
	uint64_t size = opt.size != 0 ? opt.size : h->cap;
	int rc;

	origin_text(origin, sizeof(origin));
	mo.origin = origin;
	/* The origin's geometry where the mirror's size lets it be. */
	if (size == 0 || ring_policy(&co, size, h->max_msg <= size / 8 ?
	    h->max_msg : 0, opt.mode, why, sizeof(why)) < 0) {
		/* No (or no usable) geometry from the stream: the default. */
		if (ring_policy(&co, 0, 0, opt.mode, why, sizeof(why)) < 0)
			return -EINVAL;
	}
	if (p->w != NULL) {
		/* Leave it LIVE: the takeover marks it replaced (restart). */
		shmr_writer_close(p->w, SHMR_CLOSE_ABANDON);
		p->w = NULL;
	}
	if ((rc = shmr_writer_create_mirror(opt.ring, &co, &mo, &p->w)) < 0)
		return rc;
	shmr_writer_info(p->w, &in);
	p->epoch = h->epoch;
	p->next = in.next_seq;
	p->max_msg = in.max_msg;
	say("%s: mirror of epoch %" PRIu64 " %s at %" PRIu64, opt.ring,
	    h->epoch, rc == 1 ? "adopted" : "created", p->next);
	return 0;
}

static void
pull_check(int rc, const char *what)
{
	if (rc < 0)
		errx(EXIT_SYS, "%s: %s: %s", opt.ring, what,
		    ring_error(rc));
}

/* Publish iov[0..*k) into the mirror, at its next sequence number. */
static void
pull_flush(struct puller *p, struct shmr_iov *iov, size_t *k)
{
	if (*k > 0)
		pull_check(shmr_writer_publish_batch(p->w, iov, *k, NULL),
		    "publish");
	*k = 0;
}

/*
 * A data message: its ring messages at h->seq on, each a 4-byte length
 * and the bytes. Published in batches straight from the stream message
 * (one wake-up and one header update per batch, no copy but the one into
 * the ring); a gap first if it starts beyond the mirror's end.
 */
static void
pull_data(struct puller *p, const struct hdr *h, const unsigned char *d,
    size_t len)
{
	static struct shmr_iov iov[PULL_BATCH];
	size_t off = 0, k = 0;
	uint64_t seq, i;

	for (i = 0, seq = h->seq; i < h->count; i++, seq++) {
		uint32_t n;

		if (len - off < 4)
			break;
		n = (uint32_t)d[off] | (uint32_t)d[off + 1] << 8 |
		    (uint32_t)d[off + 2] << 16 | (uint32_t)d[off + 3] << 24;
		if (n > len - off - 4)
			break;
		off += 4;
		/* At or below what the ring holds: a re-delivery
		 * (nats-server 2.9.10 clamps the start sequence). */
		if (seq >= p->next) {
			if (n > p->max_msg)
				errx(EXIT_SYS, "%s: a %u-byte message exceeds "
				    "the mirror's max_msg %" PRIu64 " (use "
				    "--size)", opt.ring, n, p->max_msg);
			if (seq > p->next) {
				pull_flush(p, iov, &k);
				pull_check(shmr_writer_gap(p->w, seq), "gap");
			}
			iov[k].data = d + off;
			iov[k++].len = n;
			p->next = seq + 1;
			if (k == PULL_BATCH)
				pull_flush(p, iov, &k);
		}
		off += n;
	}
	pull_flush(p, iov, &k);
	if (i < h->count)
		warnx("%s: stream message for %" PRIu64 "..%" PRIu64 " is "
		    "truncated; the rest counts as lost", opt.ring, h->seq,
		    h->seq + h->count - 1);
}

/*
 * The origin's producer closed its ring: close the mirror the same way,
 * so its readers get end of stream where the origin's did. The token goes
 * in first: a pull restarted later finds it in the closed ring.
 */
static void
pull_end(struct puller *p, const struct hdr *h, uint64_t token)
{
	if (h->seq > p->next)
		pull_check(shmr_writer_gap(p->w, h->seq), "gap");
	shmr_writer_set_upstream(p->w, h->head, token);
	pull_check(shmr_writer_close(p->w, 0), "closing the mirror");
	p->w = NULL;
	p->ended = h->epoch;
	say("%s: epoch %" PRIu64 " ended at %" PRIu64, opt.ring, h->epoch,
	    h->seq);
}

/* Apply one stream message, stream message number token, to the mirror. */
static void
pull_apply(struct puller *p, natsMsg *m, uint64_t token)
{
	struct hdr h;

	if (hdr_parse(m, &h) < 0) {
		warnx("%s: skipping a stream message without valid Shmr "
		    "headers", opt.ring);
		if (p->w != NULL)
			shmr_writer_set_upstream(p->w, 0, token);
		return;
	}
	/* Nothing follows an end: a re-delivery (see pull_main()). */
	if (h.epoch == p->ended)
		return;
	if (p->w == NULL || h.epoch != p->epoch) {
		/*
		 * A new epoch upstream (or our first message): a new ring,
		 * readers see a restart. Started by a marker, the epoch
		 * starts where it says; joined in the middle (retention
		 * removed the marker), it starts at this message.
		 */
		pull_check(pull_create(p, &h, h.seq), "creating the mirror");
	}
	switch (h.kind) {
	case 'e':
		pull_end(p, &h, token);
		return;
	case 'r':
		if (h.seq > p->next)
			pull_check(shmr_writer_gap(p->w, h.seq), "gap");
		break;
	case 'g':
	case 'x':
		if (hdr_next(&h) > p->next)
			pull_check(shmr_writer_gap(p->w, hdr_next(&h)), "gap");
		break;
	case 'd':
		pull_data(p, &h, (const unsigned char *)natsMsg_GetData(m),
		    (size_t)natsMsg_GetDataLength(m));
		break;
	}
	{
		struct shmr_info in;

		shmr_writer_info(p->w, &in);
		p->next = in.next_seq;
	}
	/* Behind by what the origin had when this left it, at least. */
	shmr_writer_set_upstream(p->w, h.head, token);
}

/*
 * An ordered consumer from after stream message token (0: the start),
 * asked for until the cluster creates it (a failover takes its time);
 * a lasting refusal exits.
 */
static natsSubscription *
pull_subscribe(natsSubscription *old, uint64_t token)
{
	natsSubscription *sub = NULL;
	jsSubOptions so;
	jsErrCode ec = 0;
	natsStatus s;

	/*
	 * Destroy, not Unsubscribe: Unsubscribe also deletes the consumer
	 * and waits for the answer, which never comes when the consumer's
	 * server is the one that died. The server drops an ephemeral
	 * consumer nobody listens to by itself.
	 */
	natsSubscription_Destroy(old);
	jsSubOptions_Init(&so);
	so.Stream = opt.stream;
	so.Ordered = true;
	if (token != 0) {
		so.Config.DeliverPolicy = js_DeliverByStartSequence;
		so.Config.OptStartSeq = token + 1;
	}
	for (unsigned tries = 0;; tries++) {
		s = js_SubscribeSync(&sub, js, opt.subject, NULL, &so, &ec);
		if (s == NATS_OK)
			return sub;
		if (stop)
			return NULL;
		if (!stream_transient(s, ec))
			errx(EXIT_SYS, "stream %s: subscribing: %s",
			    opt.stream, stream_why(s, ec));
		if (tries % 10 == 0)
			say("stream %s: subscribing: %s; retrying",
			    opt.stream, stream_why(s, ec));
		usleep(200000);
	}
}

/* The stream's last sequence number in *last; -1 if it did not answer. */
static int
stream_last(uint64_t *last)
{
	jsStreamInfo *si = NULL;

	if (js_GetStreamInfo(&si, js, opt.stream, NULL, NULL) != NATS_OK)
		return -1;
	*last = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	return 0;
}

int
pull_main(void)
{
	struct puller p;
	struct shmr_ring *r = NULL;
	struct shmr_mirror_info mi;
	natsSubscription *sub = NULL;
	natsStatus s;
	uint64_t token = 0, quiet_since;

	memset(&p, 0, sizeof(p));
	stream_connect();
	stream_ensure(false);
	/*
	 * Our own ring from a previous run: adopt it (same epoch, no
	 * restart for its readers) and continue after the stream message
	 * it last applied (the token); anything at or below its end that
	 * arrives again is dropped. Closed, its epoch has ended: leave it
	 * so until a new epoch replaces it.
	 */
	if (shmr_ring_open(opt.ring, NULL, &r) == 0) {
		struct shmr_info in;

		if (shmr_ring_mirror(r, &mi) == 1 &&
		    shmr_ring_info(r, &in) == 0 && in.state ==
		    SHMR_STATE_CLOSED) {
			p.ended = in.epoch;
			token = mi.token;
		} else if (shmr_ring_mirror(r, &mi) == 1 &&
		    shmr_ring_info(r, &in) == 0 && in.state ==
		    SHMR_STATE_LIVE && shmr_ring_alive(r) == 0) {
			struct hdr h = { .epoch = in.epoch,
			    .cap = in.capacity, .max_msg = in.max_msg };

			shmr_ring_close(r);
			r = NULL;
			if (pull_create(&p, &h, in.next_seq) == 0 &&
			    shmr_writer_mirror(p.w, &mi) == 0)
				token = mi.token;
		}
		shmr_ring_close(r);
	}
	sub = pull_subscribe(NULL, token);
	quiet_since = mono_ms();
	while (!stop && sub != NULL) {
		natsMsg *m = NULL;
		jsMsgMetaData *md = NULL;

		s = natsSubscription_NextMsg(&m, sub, 200);
		if (s == NATS_TIMEOUT) {
			uint64_t last;

			/*
			 * Quiet: is the stream ahead of us? An ordered
			 * consumer whose server died stays silent; start
			 * a new one after the last message we applied.
			 * While the cluster does not answer (no leader
			 * yet), ask again at the next timeout.
			 */
			if (mono_ms() - quiet_since < STALL_MS ||
			    stream_last(&last) < 0)
				continue;
			quiet_since = mono_ms();
			if (last > token) {
				say("stream %s: consumer stalled at %" PRIu64
				    "; subscribing again", opt.stream, token);
				if ((sub = pull_subscribe(sub, token)) == NULL)
					break;
			}
			continue;
		}
		quiet_since = mono_ms();
		if (s != NATS_OK) {
			if (stop)
				break;
			/* The ordered consumer recreates itself after a
			 * gap; a slow consumer lost what it says. */
			if (s == NATS_SLOW_CONSUMER)
				continue;
			/* Anything else (missed heartbeats, a failed
			 * reset): a new consumer after what we hold. */
			say("stream %s: consumer at %" PRIu64 ": %s; "
			    "subscribing again", opt.stream, token,
			    natsStatus_GetText(s));
			if ((sub = pull_subscribe(sub, token)) == NULL)
				break;
			continue;
		}
		if (natsMsg_GetMetaData(&md, m) == NATS_OK) {
			token = md->Sequence.Stream;
			jsMsgMetaData_Destroy(md);
		}
		pull_apply(&p, m, token);
		p.applied++;
		natsMsg_Destroy(m);
	}
	natsSubscription_Unsubscribe(sub);
	natsSubscription_Destroy(sub);
	say("%s: stopped after %" PRIu64 " stream messages", opt.ring,
	    p.applied);
	/* As a dead producer: the next pull adopts the ring. */
	shmr_writer_close(p.w, SHMR_CLOSE_ABANDON);
	return 0;
}
