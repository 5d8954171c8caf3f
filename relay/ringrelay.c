/*
 * ringrelay - relay a ring through NATS JetStream so that every host serves
 * the same feed with the same EPOCH:SEQ event ids (ringrelay(8)).
 *
 *	ringrelay push RING --nats URL	the origin's ring into a stream
 *	ringrelay pull RING --nats URL	a stream into a local mirror ring
 *
 * One stream message carries a run of ring messages (packed), or a marker:
 *
 *	Shmr-Kind	d (data), g (gap: the relay was lapped), r (a new epoch
 *			starts at Shmr-Seq), x (a message too large to carry)
 *	Shmr-Epoch	the origin ring's epoch
 *	Shmr-Seq	first sequence number (d), first lost (g, x), first of
 *			the epoch (r)
 *	Shmr-Count	messages packed (d) or lost (g, x)
 *	Shmr-Head	the origin's next sequence number when sent (for lag)
 *	Shmr-Cap, Shmr-Max-Msg	the origin ring's geometry
 *	Nats-Msg-Id	EPOCH:SEQ:KIND, so a re-publish is dropped by the server
 *
 * The payload of a d message is, per ring message, a 4-byte little-endian
 * length and the bytes. Everything read from the stream is checked: a
 * message that does not parse is skipped with a warning, never trusted.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "shmring.h"
#include "../common/cli.h"

#define EXIT_USAGE	100
#define EXIT_SYS	111
#define HDR_ROOM	1024		/* stream message bytes kept for headers */
#define DEFAULT_BATCH	(256u << 10)
#define READ_BATCH	512
#define WAIT_MS		50
#define TRANSIENT_MS	30000	/* between "still retrying" lines */
#define REQ_MS		2000	/* a JetStream API request this late is
				   asked again (a leader may be gone) */
#define ACK_STALL_MS	2000	/* acks this late are taken as lost */
#define STALL_MS	2000	/* a consumer this quiet is looked at */

static const char usage_text[] =
"usage: ringrelay push RING --nats URL [--stream NAME] [--subject SUBJ]\n"
"           [--max-bytes SIZE] [--max-msgs N] [--max-age SECONDS]\n"
"           [--replicas N] [--storage file|memory] [--dup-window SECONDS]\n"
"           [--batch SIZE] [-q]\n"
"       ringrelay pull RING --nats URL [--stream NAME] [--subject SUBJ]\n"
"           [--size SIZE] [--mode MODE] [-q]\n"
"       ringrelay --help | --version\n";

static struct {
	const char	*ring;
	const char	*nats;
	char		 stream[160];
	char		 subject[200];
	int64_t		 max_bytes;
	int64_t		 max_msgs;
	int64_t		 max_age_s;
	int64_t		 replicas;
	bool		 memory;
	int64_t		 dup_s;
	uint64_t	 batch;
	uint64_t	 size;
	mode_t		 mode;
	bool		 quiet;
} opt = {
	.max_bytes = -1, .max_msgs = -1, .max_age_s = 0, .replicas = 1,
	.dup_s = 30, .batch = DEFAULT_BATCH, .mode = 0644,
};

static volatile sig_atomic_t stop;
static natsConnection *nc;
static jsCtx *js;
/* Set by the publish-error callback (a NATS thread), read by the loop. */
static atomic_int pub_failed;
static char pub_err[256];

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	if (opt.quiet)
		return;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- NATS set-up -------------------------------------------------------- */

static void
on_pub_error(jsCtx *ctx, jsPubAckErr *pae, void *closure)
{
	(void)ctx;
	(void)closure;
	/* relaxed: the text is only for the message; the flag is polled */
	if (atomic_exchange_explicit(&pub_failed, 1, memory_order_acq_rel) == 0)
		snprintf(pub_err, sizeof(pub_err), "%s%s%s (code %d)",
		    natsStatus_GetText(pae->Err), pae->ErrText ? ": " : "",
		    pae->ErrText ? pae->ErrText : "", (int)pae->ErrCode);
}

/* Connect to the comma-separated servers of --nats, or exit clearly. */
static void
nats_connect(void)
{
	natsOptions *no = NULL;
	jsOptions jo;
	char *urls, *tok, *save;
	const char *srv[16];
	int n = 0;
	natsStatus s;

	if ((urls = strdup(opt.nats)) == NULL)
		err(EXIT_SYS, "strdup");
	for (tok = strtok_r(urls, ",", &save); tok != NULL && n < 16;
	    tok = strtok_r(NULL, ",", &save))
		srv[n++] = tok;
	if (n == 0)
		errx(EXIT_USAGE, "--nats: no server URL");
	if ((s = natsOptions_Create(&no)) != NATS_OK ||
	    (s = natsOptions_SetServers(no, srv, n)) != NATS_OK ||
	    (s = natsOptions_SetTimeout(no, 2000)) != NATS_OK ||
	    (s = natsOptions_SetMaxReconnect(no, -1)) != NATS_OK ||
	    (s = natsOptions_SetReconnectWait(no, 250)) != NATS_OK ||
	    (s = natsOptions_SetReconnectBufSize(no, 64 << 20)) != NATS_OK ||
	    (s = natsOptions_SetName(no, "ringrelay")) != NATS_OK)
		errx(EXIT_SYS, "NATS options: %s", natsStatus_GetText(s));
	s = natsConnection_Connect(&nc, no);
	natsOptions_Destroy(no);
	if (s != NATS_OK)
		errx(EXIT_SYS, "%s: cannot connect to the NATS server: %s",
		    opt.nats, natsStatus_GetText(s));
	free(urls);
	jsOptions_Init(&jo);
	/*
	 * Short: while a cluster elects a new leader, a request sent to
	 * the old one is never answered; asking again soon (every caller
	 * retries) bounds how long a relay stays behind after a failover.
	 */
	jo.Wait = REQ_MS;
	jo.PublishAsync.MaxPending = 256;
	jo.PublishAsync.ErrHandler = on_pub_error;
	if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK)
		errx(EXIT_SYS, "JetStream context: %s", natsStatus_GetText(s));
}

/* A JetStream API failure, said for a human. */
static const char *
js_why(natsStatus s, jsErrCode ec)
{
	static char buf[300];
	const char *last = nats_GetLastError(NULL);

	if (s == NATS_NO_RESPONDERS || ec == JSNotEnabledErr ||
	    ec == JSNotEnabledForAccountErr)
		return "the server has no JetStream (start nats-server with "
		    "-js, or enable it for this account)";
	snprintf(buf, sizeof(buf), "%s%s%s", natsStatus_GetText(s),
	    last != NULL && *last != '\0' ? ": " : "",
	    last != NULL ? last : "");
	return buf;
}

/* Worth retrying for a while (not: no JetStream, a refused config). */
static bool
transient(natsStatus s, jsErrCode ec)
{
	if (s == NATS_NO_RESPONDERS || ec == JSNotEnabledErr ||
	    ec == JSNotEnabledForAccountErr)
		return false;
	/* insufficient resources: a forming cluster lacks the peers */
	return s == NATS_TIMEOUT || ec == JSClusterNotAvailErr ||
	    ec == JSInsufficientResourcesErr || ec == JSClusterNoPeersErr ||
	    ec == 0;
}

/*
 * The stream exists afterwards, or we exit saying why. A cluster that
 * answers with transient errors (electing leaders, a node down) is waited
 * for as long as it takes, saying so every TRANSIENT_MS: a relay that
 * exits then relays nothing until someone restarts it.
 */
static void
ensure_stream(bool create)
{
	jsStreamInfo *si = NULL;
	jsStreamConfig cfg;
	jsErrCode ec = 0;
	const char *subj[1] = { opt.subject };
	uint64_t next_say = 0;
	natsStatus s;

	for (;;) {
		s = js_GetStreamInfo(&si, js, opt.stream, NULL, &ec);
		if (s == NATS_OK) {
			jsStreamInfo_Destroy(si);
			return;
		}
		if (s != NATS_NOT_FOUND && ec != JSStreamNotFoundErr) {
			/* A cluster still electing its leaders answers
			 * with errors or not at all for a while. */
			if (transient(s, ec) && !stop) {
				if (mono_ms() >= next_say) {
					say("stream %s: %s; retrying",
					    opt.stream, js_why(s, ec));
					next_say = mono_ms() + TRANSIENT_MS;
				}
				sleep(1);
				continue;
			}
			if (stop)
				exit(0);
			errx(EXIT_SYS, "stream %s: %s", opt.stream,
			    js_why(s, ec));
		}
		if (create)
			break;
		/* pull: the origin's relay creates it; wait for it. */
		say("stream %s does not exist yet; waiting", opt.stream);
		for (int i = 0; i < 20 && !stop; i++)
			usleep(50000);
		if (stop)
			exit(0);
	}
	jsStreamConfig_Init(&cfg);
	cfg.Name = opt.stream;
	cfg.Subjects = subj;
	cfg.SubjectsLen = 1;
	cfg.Retention = js_LimitsPolicy;
	cfg.Discard = js_DiscardOld;
	cfg.MaxBytes = opt.max_bytes;
	cfg.MaxMsgs = opt.max_msgs;
	cfg.MaxAge = opt.max_age_s * 1000000000LL;
	cfg.Storage = opt.memory ? js_MemoryStorage : js_FileStorage;
	cfg.Replicas = opt.replicas;
	cfg.Duplicates = opt.dup_s * 1000000000LL;
	next_say = 0;
	while ((s = js_AddStream(&si, js, &cfg, NULL, &ec)) != NATS_OK &&
	    transient(s, ec) && !stop) {
		if (mono_ms() >= next_say) {
			say("creating stream %s: %s; retrying", opt.stream,
			    js_why(s, ec));
			next_say = mono_ms() + TRANSIENT_MS;
		}
		sleep(1);
	}
	if (s != NATS_OK && stop)
		exit(0);
	if (s != NATS_OK)
		errx(EXIT_SYS, "creating stream %s: %s", opt.stream,
		    js_why(s, ec));
	jsStreamInfo_Destroy(si);
	say("created stream %s (subject %s, %s, %" PRId64 " replica%s)",
	    opt.stream, opt.subject, opt.memory ? "memory" : "file",
	    opt.replicas, opt.replicas == 1 ? "" : "s");
}

/* ---- the carried headers ------------------------------------------------ */

struct hdr {
	char		kind;
	uint64_t	epoch, seq, count, head, cap, max_msg;
};

static int
hdr_u64(natsMsg *m, const char *key, uint64_t *v, bool need)
{
	const char *s = NULL;
	char *end;

	if (natsMsgHeader_Get(m, key, &s) != NATS_OK || s == NULL)
		return need ? -1 : 0;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' ? -1 : 0;
}

static int
hdr_parse(natsMsg *m, struct hdr *h)
{
	const char *k = NULL;

	memset(h, 0, sizeof(*h));
	if (natsMsgHeader_Get(m, "Shmr-Kind", &k) != NATS_OK || k == NULL ||
	    k[0] == '\0' || k[1] != '\0' || strchr("dgrx", k[0]) == NULL)
		return -1;
	h->kind = k[0];
	if (hdr_u64(m, "Shmr-Epoch", &h->epoch, true) < 0 || h->epoch == 0 ||
	    hdr_u64(m, "Shmr-Seq", &h->seq, true) < 0 ||
	    hdr_u64(m, "Shmr-Count", &h->count, h->kind != 'r') < 0 ||
	    hdr_u64(m, "Shmr-Head", &h->head, false) < 0 ||
	    hdr_u64(m, "Shmr-Cap", &h->cap, false) < 0 ||
	    hdr_u64(m, "Shmr-Max-Msg", &h->max_msg, false) < 0)
		return -1;
	if (h->seq > UINT64_MAX / 2 || h->count > UINT64_MAX / 4)
		return -1;
	return 0;
}

/* The sequence number after everything m says. */
static uint64_t
hdr_next(const struct hdr *h)
{
	return h->kind == 'r' ? h->seq : h->seq + h->count;
}

/* ---- push --------------------------------------------------------------- */

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
	unsigned char		*buf;	/* read_batch copies */
	size_t			 buflen;
	struct shmr_msg		 msgs[READ_BATCH];
	uint64_t		 sent;	/* stream messages */
	char			 last_id[80];	/* of the last one sent */
};

static void
set_u64(natsMsg *m, const char *key, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	natsMsgHeader_Set(m, key, b);
}

/* Publish one stream message asynchronously; exit on a local error. */
static void
send_msg(struct pusher *p, char kind, uint64_t seq, uint64_t count,
    const void *data, size_t len)
{
	natsMsg *m = NULL;
	char id[80], k[2] = { kind, '\0' };
	struct shmr_info in;
	natsStatus s;

	snprintf(id, sizeof(id), "%" PRIu64 ":%" PRIu64 ":%c",
	    shmr_ring_epoch(p->ring), seq, kind);
	if (shmr_ring_info(p->ring, &in) < 0)
		in = p->info;
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
	set_u64(m, "Shmr-Epoch", shmr_ring_epoch(p->ring));
	set_u64(m, "Shmr-Seq", seq);
	if (kind != 'r')
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
flush_pack(struct pusher *p)
{
	if (p->count == 0)
		return;
	send_msg(p, 'd', p->first, p->count, p->pack, p->plen);
	p->plen = 0;
	p->count = 0;
}

static void
add_msg(struct pusher *p, const struct shmr_msg *m)
{
	if (4 + m->len > p->limit) {
		/* Larger than a stream message can be: say so, exactly. */
		flush_pack(p);
		warnx("%s: message %" PRIu64 " is %zu bytes, more than the "
		    "server's max_payload allows (%zu): announced as lost",
		    opt.ring, m->seq, m->len, p->limit - 4);
		send_msg(p, 'x', m->seq, 1, NULL, 0);
		return;
	}
	if (p->count > 0 && (p->plen + 4 + m->len > p->limit ||
	    p->plen + 4 + m->len > opt.batch))
		flush_pack(p);
	if (p->count == 0)
		p->first = m->seq;
	p->pack[p->plen] = (unsigned char)m->len;
	p->pack[p->plen + 1] = (unsigned char)(m->len >> 8);
	p->pack[p->plen + 2] = (unsigned char)(m->len >> 16);
	p->pack[p->plen + 3] = (unsigned char)(m->len >> 24);
	memcpy(p->pack + p->plen + 4, m->data, m->len);
	p->plen += 4 + m->len;
	p->count++;
}

/* Open the ring, waiting for it to exist. */
static void
push_open(struct pusher *p)
{
	int rc, said = 0;

	while ((rc = shmr_ring_open(opt.ring, NULL, &p->ring)) < 0) {
		if (rc != -ENOENT && rc != -EAGAIN)
			errx(EXIT_SYS, "%s: %s", opt.ring, shmr_strerror(rc));
		if (!said++)
			say("%s: waiting for the ring to exist", opt.ring);
		usleep(100000);
		if (stop)
			exit(0);
	}
	shmr_ring_info(p->ring, &p->info);
	if (p->buflen < p->info.max_msg + (size_t)64 * READ_BATCH) {
		p->buflen = p->info.max_msg + (size_t)64 * READ_BATCH;
		if (p->buflen < (1u << 20))
			p->buflen = 1u << 20;
		free(p->buf);
		if ((p->buf = malloc(p->buflen)) == NULL)
			err(EXIT_SYS, "malloc");
	}
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
		if (!transient(s, ec))
			errx(EXIT_SYS, "stream %s: last message: %s",
			    opt.stream, js_why(s, ec));
		if (tries % 10 == 0)
			say("stream %s: last message: %s; retrying",
			    opt.stream, js_why(s, ec));
		usleep(200000);
	}
	return NATS_NOT_FOUND;
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
	if (last != NULL && hdr_parse(last, &h) == 0 &&
	    h.epoch == shmr_ring_epoch(p->ring)) {
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
		    hdr_next(&h), h.epoch, shmr_strerror(rc));
	}
	if (last != NULL)
		natsMsg_Destroy(last);
	if ((rc = shmr_cursor_init(p->ring, &p->cur, SHMR_FROM_OLDEST, 0)) < 0)
		errx(EXIT_SYS, "%s: %s", opt.ring, shmr_strerror(rc));
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

/* After a publish error: wait for what is in flight, then resume. */
static void
push_resync(struct pusher *p)
{
	jsPubOptions po;

	warnx("%s: stream %s refused or lost a message (%s); resuming "
	    "after the stream's last message", opt.ring, opt.stream, pub_err);
	p->plen = 0;
	p->count = 0;
	jsPubOptions_Init(&po);
	po.MaxWait = ACK_STALL_MS;
	if (js_PublishAsyncComplete(js, &po) != NATS_OK)
		drop_pending();
	atomic_store(&pub_failed, 0);
	push_resume(p);
}

static int
cmd_push(void)
{
	struct pusher p;
	size_t count, i;
	int rc, maxp;
	uint64_t last_check = mono_ms();

	memset(&p, 0, sizeof(p));
	nats_connect();
	ensure_stream(true);
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
		rc = shmr_cursor_read_batch(p.ring, &p.cur, p.buf, p.buflen,
		    p.msgs, READ_BATCH, &count);
		switch (rc) {
		case SHMR_MSG:
			for (i = 0; i < count; i++)
				add_msg(&p, &p.msgs[i]);
			continue;
		case SHMR_OVERRUN:
			flush_pack(&p);
			warnx("%s: relay lapped: %" PRIu64 " messages lost "
			    "(announced)", opt.ring, p.msgs[0].lost);
			send_msg(&p, 'g', p.msgs[0].seq - p.msgs[0].lost,
			    p.msgs[0].lost, NULL, 0);
			continue;
		case SHMR_EMPTY:
			flush_pack(&p);
			break;
		case SHMR_EOF:
		case SHMR_RESTART:
			flush_pack(&p);
			break;
		case -EDEADLK:
		case -EAGAIN:
			usleep(1000);
			continue;
		default:
			errx(EXIT_SYS, "%s: %s", opt.ring, shmr_strerror(rc));
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
			    shmr_strerror(rc));
	}
	flush_pack(&p);
	js_PublishAsyncComplete(js, NULL);
	say("%s: stopped after %" PRIu64 " stream messages", opt.ring, p.sent);
	shmr_ring_close(p.ring);
	return 0;
}

/* ---- pull --------------------------------------------------------------- */

struct puller {
	struct shmr_writer	*w;
	uint64_t		 epoch;
	uint64_t		 next;	/* the mirror's next sequence number */
	uint64_t		 cap, max_msg;
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
	struct shmr_create_opts co = { .gid = (gid_t)-1, .mode = opt.mode };
	struct shmr_mirror_opts mo = { .epoch = h->epoch,
	    .start_seq = start };
	struct shmr_info in;
	char origin[SHMR_ORIGIN_MAX + 1];
	int rc;

	origin_text(origin, sizeof(origin));
	mo.origin = origin;
	co.capacity = opt.size != 0 ? opt.size : h->cap != 0 ? h->cap :
	    (uint64_t)64 << 20;
	co.max_msg = (uint32_t)(h->max_msg != 0 && h->max_msg <= co.capacity / 8
	    ? h->max_msg : 0);
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
		    shmr_strerror(rc));
}

/* Apply one stream message to the mirror. */
static void
pull_apply(struct puller *p, natsMsg *m)
{
	const unsigned char *d = (const unsigned char *)natsMsg_GetData(m);
	size_t len = (size_t)natsMsg_GetDataLength(m), off = 0;
	struct hdr h;
	uint64_t seq, i;

	if (hdr_parse(m, &h) < 0) {
		warnx("%s: skipping a stream message without valid Shmr "
		    "headers", opt.ring);
		return;
	}
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
		for (i = 0, seq = h.seq; i < h.count; i++, seq++) {
			uint32_t n;

			if (len - off < 4)
				break;
			n = (uint32_t)d[off] | (uint32_t)d[off + 1] << 8 |
			    (uint32_t)d[off + 2] << 16 |
			    (uint32_t)d[off + 3] << 24;
			if (n > len - off - 4)
				break;
			off += 4;
			/* At or below what the ring holds: a re-delivery
			 * (nats-server 2.9.10 clamps the start sequence). */
			if (seq >= p->next) {
				int rc = shmr_writer_publish_at(p->w, seq,
				    d + off, n);

				if (rc == -EMSGSIZE)
					errx(EXIT_SYS, "%s: a %u-byte message "
					    "exceeds the mirror's max_msg %"
					    PRIu64 " (use --size)", opt.ring,
					    n, p->max_msg);
				pull_check(rc, "publish");
				p->next = seq + 1;
			}
			off += n;
		}
		if (i < h.count)
			warnx("%s: stream message for %" PRIu64 "..%" PRIu64
			    " is truncated; the rest counts as lost", opt.ring,
			    h.seq, h.seq + h.count - 1);
		break;
	}
	{
		struct shmr_info in;

		shmr_writer_info(p->w, &in);
		p->next = in.next_seq;
	}
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
		if (!transient(s, ec))
			errx(EXIT_SYS, "stream %s: subscribing: %s",
			    opt.stream, js_why(s, ec));
		if (tries % 10 == 0)
			say("stream %s: subscribing: %s; retrying",
			    opt.stream, js_why(s, ec));
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

static int
cmd_pull(void)
{
	struct puller p;
	struct shmr_ring *r = NULL;
	struct shmr_mirror_info mi;
	natsSubscription *sub = NULL;
	natsStatus s;
	uint64_t token = 0, quiet_since;

	memset(&p, 0, sizeof(p));
	nats_connect();
	ensure_stream(false);
	/*
	 * Our own ring from a previous run: adopt it (same epoch, no
	 * restart for its readers) and continue after the stream message
	 * it last applied (the token); anything at or below its end that
	 * arrives again is dropped.
	 */
	if (shmr_ring_open(opt.ring, NULL, &r) == 0) {
		struct shmr_info in;

		if (shmr_ring_mirror(r, &mi) == 1 &&
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
		struct hdr h;

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
		pull_apply(&p, m);
		if (p.w != NULL && natsMsg_GetMetaData(&md, m) == NATS_OK) {
			uint64_t up = hdr_parse(m, &h) == 0 ? h.head : 0;

			/* Behind by what the origin had when this left it,
			 * at least. */
			token = md->Sequence.Stream;
			shmr_writer_set_upstream(p.w, up, token);
			jsMsgMetaData_Destroy(md);
		}
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

/* ---- main ------------------------------------------------------------- */

static void
usage(int code)
{
	fputs(usage_text, code == 0 ? stdout : stderr);
	exit(code);
}

static uint64_t
num(const char *o, const char *s, uint64_t min, uint64_t max, bool size)
{
	const char *why = NULL;
	uint64_t v;

	if ((size ? cli_parse_size(s, min, max, &v, &why) :
	    cli_parse_u64(s, min, max, &v, &why)) < 0)
		errx(EXIT_USAGE, "--%s %s: %s", o, s, why ? why : "invalid");
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "nats", required_argument, NULL, 'n' },
		{ "stream", required_argument, NULL, 's' },
		{ "subject", required_argument, NULL, 'S' },
		{ "max-bytes", required_argument, NULL, 'B' },
		{ "max-msgs", required_argument, NULL, 'M' },
		{ "max-age", required_argument, NULL, 'A' },
		{ "replicas", required_argument, NULL, 'R' },
		{ "storage", required_argument, NULL, 'T' },
		{ "dup-window", required_argument, NULL, 'D' },
		{ "batch", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 'z' },
		{ "mode", required_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd, *stream = NULL, *subject = NULL, *why = NULL;
	struct sigaction sa;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+hqV", lopts, NULL)) != -1 &&
	    ch != '?') {
		if (ch == 'h')
			usage(0);
		if (ch == 'V') {
			printf("ringrelay %s (libshm %s, nats.c %s)\n",
			    shmr_version(), shmr_version(), nats_GetVersion());
			return 0;
		}
		break;
	}
	optind = 1;
	if (argc < 3)
		usage(EXIT_USAGE);
	cmd = argv[1];
	opt.ring = argv[2];
	if (strcmp(cmd, "push") != 0 && strcmp(cmd, "pull") != 0)
		usage(EXIT_USAGE);
	if (shmr_name_valid(opt.ring) < 0)
		errx(EXIT_USAGE, "%s: not a valid ring name", opt.ring);
	optind = 3;
	while ((ch = getopt_long(argc, argv, "hqV", lopts, NULL)) != -1) {
		switch (ch) {
		case 'n': opt.nats = optarg; break;
		case 's': stream = optarg; break;
		case 'S': subject = optarg; break;
		case 'B': opt.max_bytes = (int64_t)num("max-bytes", optarg,
		    1 << 20, (uint64_t)1 << 50, true); break;
		case 'M': opt.max_msgs = (int64_t)num("max-msgs", optarg, 1,
		    (uint64_t)1 << 50, false); break;
		case 'A': opt.max_age_s = (int64_t)num("max-age", optarg, 1,
		    (uint64_t)1 << 30, false); break;
		case 'R': opt.replicas = (int64_t)num("replicas", optarg, 1, 5,
		    false); break;
		case 'T':
			if (strcmp(optarg, "file") != 0 &&
			    strcmp(optarg, "memory") != 0)
				errx(EXIT_USAGE, "--storage: file or memory");
			opt.memory = optarg[0] == 'm';
			break;
		case 'D': opt.dup_s = (int64_t)num("dup-window", optarg, 1,
		    86400, false); break;
		case 'b': opt.batch = num("batch", optarg, 1024, 64 << 20,
		    true); break;
		case 'z': opt.size = num("size", optarg, SHMR_CAP_MIN,
		    SHMR_CAP_MAX, true); break;
		case 'm':
			if (cli_parse_mode(optarg, &opt.mode, &why) < 0)
				errx(EXIT_USAGE, "--mode %s: %s", optarg, why);
			break;
		case 'q': opt.quiet = true; break;
		case 'h': usage(0); break;
		case 'V':
			printf("ringrelay %s\n", shmr_version());
			return 0;
		default: usage(EXIT_USAGE);
		}
	}
	if (optind != argc || opt.nats == NULL)
		usage(EXIT_USAGE);
	/* Stream names allow no '.', '*', '>' or spaces. */
	if (stream == NULL) {
		size_t i;

		snprintf(opt.stream, sizeof(opt.stream), "SHMRING_%s",
		    opt.ring);
		for (i = 0; opt.stream[i] != '\0'; i++)
			if (opt.stream[i] == '.')
				opt.stream[i] = '_';
	} else if (strlen(stream) >= sizeof(opt.stream) ||
	    strpbrk(stream, ".*> \t") != NULL || *stream == '\0') {
		errx(EXIT_USAGE, "--stream %s: not a stream name", stream);
	} else {
		strcpy(opt.stream, stream);
	}
	if (subject == NULL)
		snprintf(opt.subject, sizeof(opt.subject), "shmring.%s",
		    opt.stream);
	else if (strlen(subject) >= sizeof(opt.subject) ||
	    strpbrk(subject, "*> \t") != NULL)
		errx(EXIT_USAGE, "--subject %s: not a plain subject", subject);
	else
		strcpy(opt.subject, subject);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = cmd[1] == 'u' && cmd[2] == 's' ? cmd_push() : cmd_pull();
	if (js != NULL)
		jsCtx_Destroy(js);
	if (nc != NULL) {
		natsConnection_Close(nc);
		natsConnection_Destroy(nc);
	}
	nats_Close();
	return rc;
}
