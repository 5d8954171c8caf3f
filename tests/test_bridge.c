/*
 * test_bridge.c - ringbridge end to end: the real binary on 127.0.0.1 with
 * a free port, a producer in this process (shmr_writer_*), real HTTP.
 * Nothing here depends on timing: every wait is for an outcome, bounded
 * only by generous timeouts that fail the test if the outcome never comes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmring.h"
#include "enc.h"
#include "bridge_client.h"
#include "layout.h"

#ifndef RINGBRIDGE_BIN
#define RINGBRIDGE_BIN "build/bin/ringbridge"
#endif
#ifndef RINGBRIDGE_HOOKS_BIN
#define RINGBRIDGE_HOOKS_BIN "build/tests/ringbridge-hooks"
#endif

#define T_WAIT	20000	/* ms: "never came", not a performance bound */

static char ring[64];
static struct shmr_writer *w;

/* The epoch of the ring named ring, whoever publishes into it. */
static unsigned long long
ring_epoch_now(void)
{
	struct shmr_ring *r;
	unsigned long long e;

	cr_assert_eq(shmr_ring_open(ring, NULL, &r), 0);
	e = (unsigned long long)shmr_ring_epoch(r);
	shmr_ring_close(r);
	return e;
}

/*
 * "EPOCH:SEQ" for the ring named ring as it is now (epochs are creation
 * times in microseconds, libshm(3)); four buffers, used in turn.
 */
static const char *
eid(uint64_t seq)
{
	static char buf[4][48];
	static int k;
	char *p = buf[k++ % 4];

	snprintf(p, sizeof(buf[0]), "%llu:%" PRIu64, ring_epoch_now(), seq);
	return p;
}

/* The epoch of the ring the test's writer w publishes into. */
static unsigned long long
w_epoch(void)
{
	struct shmr_info in;

	cr_assert_eq(shmr_writer_info(w, &in), 0);
	return (unsigned long long)in.epoch;
}
static struct bridge_proc bp;
static unsigned counter;

static void
mkname(void)
{
	snprintf(ring, sizeof(ring), "tbridge%d_%u", (int)getpid(), counter++);
}

static void
setup_ring(uint64_t cap)
{
	struct shmr_create_opts o = { .capacity = cap, .gid = (gid_t)-1 };

	mkname();
	cr_assert_eq(shmr_writer_create(ring, &o, &w), 0, "create %s", ring);
}

static void
start_bridge(const char *const *extra)
{
	const char *args[32];
	size_t n = 0;

	args[n++] = "--ring";
	args[n++] = ring;
	for (; extra != NULL && *extra != NULL; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	cr_assert_eq(bridge_start(&bp, RINGBRIDGE_BIN, args), 0,
	    "start %s", RINGBRIDGE_BIN);
}

/* The pause file of a hooked bridge (bridge/test_hooks.c), or "". */
static char pause_file[64];

/*
 * Start ringbridge-hooks paused at POINT (RINGBRIDGE_TEST_PAUSE): the
 * event-loop thread stops there until release_pause().
 */
static void
start_hooked_bridge(const char *point, const char *const *extra)
{
	const char *args[32];
	char env[128];
	size_t n = 0;
	int fd;

	snprintf(pause_file, sizeof(pause_file), "/tmp/rbpause.%d.%u",
	    (int)getpid(), counter++);
	fd = open(pause_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(env, sizeof(env), "%s:%s", point, pause_file);
	setenv("RINGBRIDGE_TEST_PAUSE", env, 1);
	args[n++] = "--ring";
	args[n++] = ring;
	for (; extra != NULL && *extra != NULL; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	cr_assert_eq(bridge_start(&bp, RINGBRIDGE_HOOKS_BIN, args), 0,
	    "start %s", RINGBRIDGE_HOOKS_BIN);
	unsetenv("RINGBRIDGE_TEST_PAUSE");
}

/* Wait until the bridge's stderr holds one of the texts; which one. */
static int
wait_stderr(const char *a, const char *b)
{
	char buf[8192];

	for (int i = 0; i < T_WAIT / 10; i++) {
		FILE *f = fopen(bp.errpath, "r");
		size_t n = 0;

		if (f != NULL) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
		if (strstr(buf, a) != NULL)
			return 0;
		if (b != NULL && strstr(buf, b) != NULL)
			return 1;
		usleep(10000);
	}
	cr_assert_fail("bridge never logged \"%s\": %s", a, buf);
	return -1;
}

static void
release_pause(void)
{
	unlink(pause_file);
}

static void
teardown(void)
{
	if (pause_file[0] != '\0')
		unlink(pause_file);
	if (bp.pid > 0) {
		int st = bridge_stop(&bp);

		cr_expect_eq(st, 0, "bridge exit status %d", st);
		cr_expect_eq(bridge_sanitizer_report(&bp), 0,
		    "sanitizer report in %s", bp.errpath);
	}
	unlink(bp.errpath);
	if (w != NULL)
		shmr_writer_close(w, SHMR_CLOSE_UNLINK);
	w = NULL;
	shmr_unlink(ring);
}

static void
init_default(void)
{
	setup_ring(1 << 20);
	start_bridge(NULL);
}

static uint64_t
pub(const void *p, size_t n)
{
	uint64_t seq;

	cr_assert_eq(shmr_writer_publish(w, p, n, &seq), 0);
	return seq;
}

static uint64_t
pubs(const char *s)
{
	return pub(s, strlen(s));
}

static void
open_stream(struct hc *h, const char *query, const char *extra)
{
	char path[512];
	char v[128];

	snprintf(path, sizeof(path), "/rings/%s/stream%s", ring,
	    query != NULL ? query : "");
	cr_assert_eq(hc_connect(h, bp.port, 0), 0);
	cr_assert_eq(hc_get(h, path, extra), 0);
	cr_assert(hc_wait_headers(h, T_WAIT), "no response headers");
	if (h->status != 200)
		hc_pump(h);
	cr_assert_eq(h->status, 200, "status %d for %s: %.*s", h->status,
	    path, (int)(h->body_len - h->body_off), h->body + h->body_off);
	cr_assert_not_null(hc_header(h, "Cache-Control", v, sizeof(v)));
	cr_assert_str_eq(v, "no-cache");
	cr_assert_not_null(hc_header(h, "X-Accel-Buffering", v, sizeof(v)));
}

static void
expect_msg(struct hc *h, uint64_t seq, const char *data)
{
	struct sse_event ev;
	char id[64];

	cr_assert(hc_sse_wait(h, &ev, T_WAIT), "no event for seq %" PRIu64,
	    seq);
	snprintf(id, sizeof(id), "%s", eid(seq));
	cr_assert_str_eq(ev.type, "message");
	cr_assert_str_eq(ev.id, id);
	cr_assert_str_eq(ev.data, data);
}

/* Parse {"lost":L,"next":N} */
static void
parse_lost_next(const char *json, uint64_t *lost, uint64_t *next)
{
	cr_assert_eq(sscanf(json, "{\"lost\":%" SCNu64 ",\"next\":%" SCNu64
	    "}", lost, next), 2, "bad json %s", json);
}

TestSuite(bridge, .fini = teardown, .timeout = 60);

Test(bridge, sse_framing_and_ids, .init = init_default)
{
	struct hc h;
	struct sse_event ev;
	char v[128], b64[64];
	static const unsigned char bin[] = { 0, 0xff, 'x', '\n' };

	pubs("hello");
	pubs("two\nlines");
	pub(bin, sizeof(bin));
	pubs("caf\xc3\xa9 ok");
	pubs("");
	open_stream(&h, "?from=oldest", NULL);
	cr_assert_not_null(hc_header(&h, "Content-Type", v, sizeof(v)));
	cr_assert(strncmp(v, "text/event-stream", 17) == 0, "%s", v);
	expect_msg(&h, 0, "hello");
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	cr_assert_str_eq(ev.type, "base64");
	cr_assert_str_eq(ev.id, eid(1));
	enc_base64(b64, sizeof(b64), "two\nlines", 9);
	b64[ENC_BASE64_LEN(9)] = '\0';
	cr_assert_str_eq(ev.data, b64);
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	cr_assert_str_eq(ev.type, "base64");
	enc_base64(b64, sizeof(b64), bin, sizeof(bin));
	b64[ENC_BASE64_LEN(sizeof(bin))] = '\0';
	cr_assert_str_eq(ev.data, b64);
	expect_msg(&h, 3, "caf\xc3\xa9 ok");
	expect_msg(&h, 4, "");
	/* Live: published after the client caught up. */
	pubs("live");
	expect_msg(&h, 5, "live");
	cr_assert_geq(h.comments, 1, "the stream starts with a comment");
	hc_close(&h);
}

/*
 * --coalesce: writes are spaced, nothing is lost or reordered, and a
 * message published after a burst still arrives although nothing else
 * follows it (the deferred client is resumed without new messages).
 */
Test(bridge, coalesce_keeps_every_message)
{
	static const char *const extra[] = { "--coalesce", "50", NULL };
	struct hc h1, h2;
	char msg[32];
	int i, k;

	setup_ring(1 << 20);
	start_bridge(extra);
	open_stream(&h1, "?from=oldest", NULL);
	open_stream(&h2, "?from=oldest", NULL);
	for (k = 0; k < 5; k++) {
		for (i = 0; i < 40; i++) {
			snprintf(msg, sizeof(msg), "m%d", k * 40 + i);
			pubs(msg);
		}
		usleep(20000);
	}
	for (i = 0; i < 200; i++) {
		snprintf(msg, sizeof(msg), "m%d", i);
		expect_msg(&h1, (uint64_t)i, msg);
		expect_msg(&h2, (uint64_t)i, msg);
	}
	pubs("last");
	expect_msg(&h1, 200, "last");
	expect_msg(&h2, 200, "last");
	hc_close(&h1);
	hc_close(&h2);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/*
 * --coalesce T: the first message after a quiet spell is written at once;
 * one that follows within T is not written before T has passed, and at
 * 1.5 T at the latest if nothing follows; but a due pass waits for the
 * next message up to then, so a periodic feed's write carries its newest
 * message (ringbridge(8)). Bounds from above are loose: only "not before"
 * and "together" are exact.
 */
Test(bridge, coalesce_pass_waits_for_the_next_message)
{
	static const char *const extra[] = { "--coalesce", "400", NULL };
	struct sse_event ev;
	struct hc h;
	long t0, tb, tc;

	setup_ring(1 << 20);
	start_bridge(extra);
	open_stream(&h, "", NULL);
	usleep(700000);		/* quiet for longer than T */
	t0 = now_ms();
	pubs("a");
	usleep(20000);
	pubs("b");
	expect_msg(&h, 0, "a");
	cr_assert_lt(now_ms() - t0, 350, "a quiet ring's message waited");
	expect_msg(&h, 1, "b");
	tb = now_ms();
	cr_assert_geq(tb - t0, 390, "b was written %ld ms after the pass "
	    "before it, under the 400 ms interval", tb - t0);
	/* The pass was due 400 ms after b's; c comes 50 ms after that. */
	usleep(50000);
	pubs("c");
	tc = now_ms();
	if (hc_sse_wait(&h, &ev, (int)(tb + 470 - tc)))
		cr_assert_fail("c was written alone at %ld ms, before the "
		    "message that followed its due pass", now_ms() - tb);
	pubs("d");
	expect_msg(&h, 2, "c");
	expect_msg(&h, 3, "d");
	cr_assert_lt(now_ms() - tb, 1500);
	hc_close(&h);
}

Test(bridge, encoding_base64_and_from, .init = init_default)
{
	struct hc h;
	struct sse_event ev;

	pubs("a");
	pubs("b");
	pubs("c");
	open_stream(&h, "?from=latest&encoding=base64", NULL);
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	cr_assert_str_eq(ev.type, "message");
	cr_assert_str_eq(ev.id, eid(2));
	cr_assert_str_eq(ev.data, "Yw==");
	hc_close(&h);
	open_stream(&h, "?from=1", NULL);
	expect_msg(&h, 1, "b");
	expect_msg(&h, 2, "c");
	hc_close(&h);
	/* Default: only what is published from now on. */
	open_stream(&h, "", NULL);
	pubs("d");
	expect_msg(&h, 3, "d");
	hc_close(&h);
}

Test(bridge, ndjson, .init = init_default)
{
	struct hc h;
	char line[512], v[64], want[512];
	static const unsigned char bin[] = { 0xff, 0xfe, 0 };

	pubs("say \"hi\"\n");
	pub(bin, sizeof(bin));
	open_stream(&h, "?from=oldest&format=ndjson", NULL);
	hc_header(&h, "Content-Type", v, sizeof(v));
	cr_assert_str_eq(v, "application/x-ndjson");
	cr_assert(hc_line_wait(&h, line, sizeof(line), T_WAIT));
	snprintf(want, sizeof(want),
	    "{\"epoch\":%llu,\"seq\":0,\"data\":\"say \\\"hi\\\"\\n\"}",
	    w_epoch());
	cr_assert_str_eq(line, want);
	cr_assert(hc_line_wait(&h, line, sizeof(line), T_WAIT));
	snprintf(want, sizeof(want),
	    "{\"epoch\":%llu,\"seq\":1,\"data_b64\":\"//4A\"}", w_epoch());
	cr_assert_str_eq(line, want);
	hc_close(&h);
}

Test(bridge, raw_frames_large_messages, .init = init_default)
{
	struct hc h;
	static unsigned char big[60000], got[60000];
	uint32_t type, len;
	uint64_t seq;

	/* Larger than libmicrohttpd's buffer: written over several calls. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + 3);
	pubs("x");
	pub(big, sizeof(big));
	pub(big, 1000);
	open_stream(&h, "?from=oldest&format=raw", NULL);
	cr_assert(hc_raw_wait(&h, &type, &seq, got, sizeof(got), &len,
	    T_WAIT));
	cr_assert_eq(type, 0);
	cr_assert_eq(seq, 0);
	cr_assert_eq(len, 1);
	cr_assert_eq(got[0], 'x');
	cr_assert(hc_raw_wait(&h, &type, &seq, got, sizeof(got), &len,
	    T_WAIT));
	cr_assert_eq(seq, 1);
	cr_assert_eq(len, sizeof(big));
	cr_assert_arr_eq(got, big, sizeof(big));
	cr_assert(hc_raw_wait(&h, &type, &seq, got, sizeof(got), &len,
	    T_WAIT));
	cr_assert_eq(seq, 2);
	cr_assert_eq(len, 1000);
	cr_assert_arr_eq(got, big, 1000);
	hc_close(&h);
}

Test(bridge, large_sse_base64_and_json, .init = init_default)
{
	struct hc h;
	struct sse_event ev;
	static unsigned char big[50001];
	static char b64[ENC_BASE64_LEN(sizeof(big)) + 1];
	static char line[400000];
	static char esc[sizeof(big) * 6 + 1];
	char pre[64];
	long n;
	int k;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i % 251);
	pub(big, sizeof(big));
	open_stream(&h, "?from=oldest", NULL);
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	n = enc_base64(b64, sizeof(b64), big, sizeof(big));
	b64[n] = '\0';
	cr_assert_str_eq(ev.type, "base64");
	cr_assert_eq(ev.len, (size_t)n);
	cr_assert_str_eq(ev.data, b64);
	hc_close(&h);
	/* Control characters expand 6x in JSON: still one intact line. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i % 32);
	pub(big, sizeof(big));
	open_stream(&h, "?from=1&format=ndjson", NULL);
	cr_assert(hc_line_wait(&h, line, sizeof(line), T_WAIT));
	n = enc_json_escape(esc, sizeof(esc), big, sizeof(big));
	esc[n] = '\0';
	k = snprintf(pre, sizeof(pre), "{\"epoch\":%llu,\"seq\":1,\"data\":\"",
	    w_epoch());
	cr_assert(strncmp(line, pre, (size_t)k) == 0, "%.80s", line);
	cr_assert_eq(strlen(line), (size_t)k + (size_t)n + 2);
	cr_assert(memcmp(line + k, esc, (size_t)n) == 0);
	hc_close(&h);
}

Test(bridge, resume_last_event_id, .init = init_default)
{
	struct hc h;
	struct sse_event ev;
	char hdr[128], q[128], buf[32];

	for (int i = 0; i < 10; i++) {
		snprintf(buf, sizeof(buf), "m%d", i);
		pubs(buf);
	}
	open_stream(&h, "?from=oldest", NULL);
	for (int i = 0; i < 5; i++) {
		snprintf(buf, sizeof(buf), "m%d", i);
		expect_msg(&h, (uint64_t)i, buf);
	}
	snprintf(hdr, sizeof(hdr), "Last-Event-ID: %s\r\n", h.last_id);
	hc_close(&h);
	for (int i = 10; i < 15; i++) {
		snprintf(buf, sizeof(buf), "m%d", i);
		pubs(buf);
	}
	/* The header wins over from=; no duplicate, no loss. */
	open_stream(&h, "?from=oldest", hdr);
	for (int i = 5; i < 15; i++) {
		snprintf(buf, sizeof(buf), "m%d", i);
		expect_msg(&h, (uint64_t)i, buf);
	}
	hc_close(&h);
	/* The query fallback for the first request. */
	snprintf(q, sizeof(q), "?last_event_id=%s", eid(12));
	open_stream(&h, q, NULL);
	expect_msg(&h, 13, "m13");
	expect_msg(&h, 14, "m14");
	hc_close(&h);
	/* Resuming at the newest: nothing until the next message. */
	snprintf(q, sizeof(q), "?last_event_id=%s", eid(14));
	open_stream(&h, q, NULL);
	pubs("m15");
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	cr_assert_str_eq(ev.id, eid(15));
	hc_close(&h);
}

Test(bridge, gap_on_resume)
{
	struct hc h;
	struct sse_event ev;
	struct shmr_info in;
	char payload[1000], id[64];
	uint64_t lost, next;

	setup_ring(64 << 10);
	start_bridge(NULL);
	memset(payload, 'p', sizeof(payload));
	for (int i = 0; i < 300; i++)
		pub(payload, sizeof(payload));
	cr_assert_eq(shmr_writer_info(w, &in), 0);
	cr_assert_gt(in.oldest_seq, 10);
	snprintf(id, sizeof(id), "Last-Event-ID: %s\r\n", eid(4));
	open_stream(&h, "", id);
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	cr_assert_str_eq(ev.type, "gap");
	parse_lost_next(ev.data, &lost, &next);
	cr_assert_eq(next, in.oldest_seq);
	cr_assert_eq(lost, in.oldest_seq - 5);
	snprintf(id, sizeof(id), "%s", eid(next - 1));
	cr_assert_str_eq(ev.id, id);
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	snprintf(id, sizeof(id), "%s", eid(next));
	cr_assert_str_eq(ev.id, id);
	hc_close(&h);
}

/*
 * A client that pauses long enough to be lapped: its socket buffers are
 * tiny, so the bridge sees the lap when it next reads for it. idle: it
 * connects to an empty ring and is lapped before its first message,
 * which is an overrun too (it was connected and in step), not a gap.
 */
static void
lapped_client(bool skip, bool idle)
{
	const char *extra[] = { "--sndbuf", "4096", NULL };
	struct hc h;
	struct sse_event ev;
	char payload[200];
	uint64_t lost, next;
	int64_t last = -1, seq;
	char *end;
	int n = 0;

	setup_ring(64 << 10);
	start_bridge(extra);
	memset(payload, 'q', sizeof(payload));
	payload[sizeof(payload) - 1] = '\0';
	cr_assert_eq(hc_connect(&h, bp.port, 2048), 0);
	{
		char path[256];

		snprintf(path, sizeof(path), "/rings/%s/stream?from=oldest%s",
		    ring, skip ? "&on_overrun=skip" : "");
		cr_assert_eq(hc_get(&h, path, NULL), 0);
	}
	if (idle) {
		/*
		 * The call that sends ": ok" goes on to find the ring empty,
		 * so once it is here the stream was in step.
		 */
		struct pollfd p = { .fd = h.fd, .events = POLLIN };

		while (memmem(h.body + h.body_off, h.body_len - h.body_off,
		    ": ok\n", 5) == NULL) {
			cr_assert_eq(poll(&p, 1, T_WAIT), 1, "no \": ok\"");
			cr_assert_gt(hc_pump(&h), 0);
		}
	} else {
		pubs("first");
		cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
		cr_assert_str_eq(ev.id, eid(0));
		last = 0;
	}
	/* Not reading now: 2000 x 200 bytes laps a 64 KiB ring. */
	for (int i = 0; i < 2000; i++)
		pubs(payload);
	for (;;) {
		cr_assert(hc_sse_wait(&h, &ev, T_WAIT), "stream stalled "
		    "after %" PRIu64, last);
		if (strcmp(ev.type, "message") == 0) {
			seq = strtoll(strchr(ev.id, ':') + 1, &end, 10);
			cr_assert_eq(seq, last + 1, "no loss before the "
			    "overrun event");
			last = seq;
			continue;
		}
		break;
	}
	cr_assert_str_eq(ev.type, skip ? "gap" : "overrun");
	parse_lost_next(ev.data, &lost, &next);
	cr_assert_gt(lost, 0);
	cr_assert_eq((int64_t)(next - lost), last + 1, "exact loss count");
	if (!skip) {
		cr_assert(hc_wait_end(&h, T_WAIT), "closed after overrun");
		cr_assert(h.clean_end);
	} else {
		/* It continues: from next on, then live messages. */
		pubs("after");
		for (;;) {
			cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
			if (strcmp(ev.type, "gap") == 0)
				continue;	/* lapped again: fine */
			if (strcmp(ev.data, "after") == 0)
				break;
			n++;
		}
		cr_assert_eq(ev.id[0], '1');
	}
	hc_close(&h);
}

Test(bridge, overrun_closes)
{
	lapped_client(false, false);
}

Test(bridge, overrun_skip)
{
	lapped_client(true, false);
}

Test(bridge, overrun_before_the_first_message)
{
	lapped_client(false, true);
}

/*
 * Issue 12 item 3: a lap between the reader's "nothing new" and its
 * re-check before suspending (a preemption there) must be an overrun
 * with the exact count. The re-check peeked with the client's own
 * cursor, which resynchronised it and dropped the count: the client's
 * ids jumped with no overrun event.
 */
Test(bridge, lap_before_suspend_is_an_overrun)
{
	struct hc h;
	struct sse_event ev;
	struct shmr_info in;
	char payload[200];
	uint64_t lost, next;

	setup_ring(64 << 10);
	start_hooked_bridge("suspend", NULL);
	open_stream(&h, "", NULL);
	/* In step at seq 0, about to suspend: lap it there. */
	wait_stderr("test pause: suspend", NULL);
	memset(payload, 'l', sizeof(payload) - 1);
	payload[sizeof(payload) - 1] = '\0';
	for (int i = 0; i < 2000; i++)
		pubs(payload);
	cr_assert_eq(shmr_writer_info(w, &in), 0);
	cr_assert_gt(in.oldest_seq, 0);
	release_pause();
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT), "no event after the lap");
	cr_assert_str_eq(ev.type, "overrun", "lap swallowed: got %s %s",
	    ev.type, ev.id);
	parse_lost_next(ev.data, &lost, &next);
	cr_assert_eq(lost, in.oldest_seq, "exact loss");
	cr_assert_eq(next, in.oldest_seq);
	cr_assert(hc_wait_end(&h, T_WAIT));
	cr_assert(h.clean_end);
	hc_close(&h);
}

Test(bridge, end_of_stream, .init = init_default)
{
	struct hc h;
	struct sse_event ev;

	pubs("one");
	pubs("two");
	open_stream(&h, "?from=oldest", NULL);
	expect_msg(&h, 0, "one");
	cr_assert_eq(shmr_writer_close(w, 0), 0);
	w = NULL;
	expect_msg(&h, 1, "two");
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	cr_assert_str_eq(ev.type, "eof");
	cr_assert_str_eq(ev.data, "{\"next\":2}");
	cr_assert(hc_wait_end(&h, T_WAIT));
	cr_assert(h.clean_end, "terminating chunk");
	hc_close(&h);
}

/*
 * A producer in a child process that creates the ring, publishes msgs
 * and, once crash_producer() is called, dies without closing it.
 */
static struct {
	pid_t	pid;
	int	go[2];
} crasher;

static void
fork_producer(const struct shmr_create_opts *o, const char *const *msgs)
{
	int ready[2];
	char c;

	mkname();
	cr_assert_eq(pipe(crasher.go), 0);
	cr_assert_eq(pipe(ready), 0);
	if ((crasher.pid = fork()) == 0) {
		struct shmr_writer *cw;

		if (shmr_writer_create(ring, o, &cw) != 0)
			_exit(1);
		for (; *msgs != NULL; msgs++)
			shmr_writer_publish(cw, *msgs, strlen(*msgs), NULL);
		(void)!write(ready[1], "r", 1);
		(void)!read(crasher.go[0], &c, 1);
		_exit(0);	/* dies without closing: a crash */
	}
	cr_assert_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	close(ready[1]);
}

static void
crash_producer(void)
{
	cr_assert_eq(write(crasher.go[1], "g", 1), 1);
	cr_assert_eq(waitpid(crasher.pid, NULL, 0), crasher.pid);
	close(crasher.go[0]);
	close(crasher.go[1]);
}

/*
 * Issue 13: after the producer closed a ring, a new stream with nothing
 * left to read got 200 and an immediate eof, so an EventSource that does
 * not close on eof reconnected every 2 s forever. Now 204 while the ring
 * is still there and 503 + Retry-After once it was removed; a stream
 * with messages left still gets them, then eof.
 */
Test(bridge, closed_or_removed_ring_new_stream)
{
	struct hc h;
	struct sse_event ev;
	char path[256], body[512], hdrs[2048];

	setup_ring(1 << 20);
	start_bridge(NULL);
	pubs("last");
	cr_assert_eq(shmr_writer_close(w, 0), 0);
	w = NULL;
	snprintf(path, sizeof(path), "/rings/%s/stream", ring);
	cr_assert_eq(http_request(bp.port, "GET", path, NULL, body,
	    sizeof(body), hdrs, sizeof(hdrs)), 204, "%s", hdrs);
	snprintf(hdrs, sizeof(hdrs), "Last-Event-ID: %s\r\n", eid(0));
	cr_assert_eq(http_request(bp.port, "GET", path, hdrs, body,
	    sizeof(body), NULL, 0), 204);
	open_stream(&h, "?from=oldest", NULL);
	expect_msg(&h, 0, "last");
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	cr_assert_str_eq(ev.type, "eof");
	hc_close(&h);
	cr_assert_eq(shmr_unlink(ring), 0);
	/* The pump notices the name is gone (it polls a closed ring). */
	for (int i = 0; i < 200; i++) {
		if (http_request(bp.port, "GET", path, NULL, body,
		    sizeof(body), hdrs, sizeof(hdrs)) == 503)
			break;
		usleep(50000);
	}
	cr_assert_eq(http_request(bp.port, "GET", path, NULL, body,
	    sizeof(body), hdrs, sizeof(hdrs)), 503, "%s", body);
	cr_assert(strstr(body, "removed") != NULL, "%s", body);
	cr_assert(strstr(hdrs, "Retry-After:") != NULL, "%s", hdrs);
	cr_assert(strstr(hdrs, "Connection: close") != NULL, "%s", hdrs);
}

static int get_status(const char *path, const char *extra, char *body,
    size_t len);

Test(bridge, restart_new_epoch)
{
	static const char *const old[] = { "old0", "old1", NULL };
	struct shmr_create_opts o = { .capacity = 1 << 20, .gid = (gid_t)-1 };
	struct hc h;
	struct sse_event ev;
	unsigned long long e1, e2, e3;
	char want[96], hdr[96];

	fork_producer(&o, old);
	start_bridge(NULL);
	open_stream(&h, "?from=oldest", NULL);
	expect_msg(&h, 0, "old0");
	expect_msg(&h, 1, "old1");
	e1 = ring_epoch_now();
	crash_producer();
	cr_assert_eq(shmr_writer_create(ring, &o, &w), 0, "take over");
	e2 = w_epoch();
	cr_assert_gt(e2, e1);
	pubs("new0");
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	cr_assert_str_eq(ev.type, "restart");
	snprintf(want, sizeof(want), "\"epoch\":%llu", e2);
	cr_assert(strstr(ev.data, want) != NULL, "%s", ev.data);
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	cr_assert_str_eq(ev.type, "message");
	snprintf(want, sizeof(want), "%llu:0", e2);
	cr_assert_str_eq(ev.id, want);
	cr_assert_str_eq(ev.data, "new0");
	hc_close(&h);
	/* Resuming with an id of the old epoch: restart, then the new one. */
	snprintf(hdr, sizeof(hdr), "Last-Event-ID: %llu:1\r\n", e1);
	open_stream(&h, "", hdr);
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	cr_assert_str_eq(ev.type, "restart");
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	cr_assert_str_eq(ev.id, want);
	hc_close(&h);
	/*
	 * Issue 12 item 2: a clean close with unlink leaves nothing behind,
	 * and the next ring of the name used to start at epoch 1 again. A
	 * client resuming at the old ring's id then continued in the new
	 * one silently; now the epoch differs, so it is told "restart".
	 */
	pubs("new1");
	pubs("new2");
	cr_assert_eq(shmr_writer_close(w, SHMR_CLOSE_UNLINK), 0);
	cr_assert_eq(shmr_writer_create(ring, &o, &w), 0, "create afresh");
	e3 = w_epoch();
	cr_assert_gt(e3, e2);
	for (int i = 0; i < 5; i++)
		pubs("fresh");
	/* Until the bridge serves the new ring, the old one is still
	 * there for it (unlinked, mapped): wait for the switch. */
	snprintf(want, sizeof(want), "\"epoch\":%llu", e3);
	snprintf(hdr, sizeof(hdr), "/rings/%s", ring);
	for (int i = 0; i < 200; i++) {
		static char body[4096];

		cr_assert_eq(get_status(hdr, NULL, body, sizeof(body)), 200);
		if (strstr(body, want) != NULL)
			break;
		cr_assert_lt(i, 199, "bridge still serves %s", body);
		usleep(50 * 1000);
	}
	snprintf(hdr, sizeof(hdr), "Last-Event-ID: %llu:1\r\n", e2);
	open_stream(&h, "", hdr);
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	cr_assert_str_eq(ev.type, "restart", "%s: %s", ev.type, ev.data);
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	snprintf(want, sizeof(want), "%llu:0", e3);
	cr_assert_str_eq(ev.id, want);
	hc_close(&h);
}

/*
 * Issue 12 item 8: a new epoch whose cursor cannot be set yet (its
 * header does not read back sound for a moment) must be retried, not
 * ignored. Ignored, the client was sent "restart" and then cut off with
 * a stale cursor ("stream read: ... stale").
 */
Test(bridge, epoch_switch_retries_a_failed_cursor_init)
{
	static const char *const old[] = { "old0", NULL };
	struct shmr_create_opts o = { .capacity = 1 << 20, .gid = (gid_t)-1 };
	struct hc h;
	struct sse_event ev;
	struct seg_hdr *hdr;
	char path[96];
	uint64_t last_pos;
	int fd;

	fork_producer(&o, old);
	start_hooked_bridge("epoch-switch", NULL);
	open_stream(&h, "?from=oldest", NULL);
	expect_msg(&h, 0, "old0");
	crash_producer();
	cr_assert_eq(shmr_writer_create(ring, &o, &w), 0, "take over");
	/* The bridge mapped epoch 2; the client is about to move to it. */
	wait_stderr("test pause: epoch-switch", NULL);
	snprintf(path, sizeof(path), "/shmring.%s", ring);
	fd = shm_open(path, O_RDWR, 0);
	cr_assert_geq(fd, 0);
	hdr = mmap(NULL, HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cr_assert_neq(hdr, MAP_FAILED);
	close(fd);
	/* A misaligned last_pos: the header does not validate. */
	last_pos = atomic_load(&hdr->last_pos);
	atomic_store(&hdr->last_pos, last_pos | 1);
	release_pause();
	snprintf(path, sizeof(path), "cannot start reading epoch %llu",
	    w_epoch());
	cr_assert_eq(wait_stderr(path, "stream read"), 0,
	    "the failed cursor init was ignored");
	atomic_store(&hdr->last_pos, last_pos);
	munmap(hdr, HDR_SIZE);
	pubs("new0");
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT), "stream ended");
	cr_assert_str_eq(ev.type, "restart");
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT), "stream ended after restart");
	cr_assert_str_eq(ev.type, "message");
	cr_assert_str_eq(ev.id, eid(0));
	cr_assert_str_eq(ev.data, "new0");
	hc_close(&h);
}

/*
 * Issue 12 (found by tests/exact.c, EXACT_ISSUE12=R): a restart event
 * said only the new epoch, so a client whose switch came after the new
 * ring had already lapped could not tell that it missed the epoch's first
 * messages. Now it says where the stream continues ("first") and how many
 * of the epoch's messages are gone ("lost"), and a gap with that exact
 * count follows, in every format.
 */
Test(bridge, restart_says_where_the_new_epoch_starts)
{
	static const char *const old[] = { "old0", NULL };
	struct shmr_create_opts o = { .capacity = 1 << 20, .gid = (gid_t)-1 };
	struct hc h, hn;
	struct sse_event ev;
	char want[128], line[512], msg[128];
	unsigned long long first, e2;
	const char *p;

	fork_producer(&o, old);
	start_hooked_bridge("epoch-switch", NULL);
	open_stream(&h, "?from=oldest", NULL);
	expect_msg(&h, 0, "old0");
	snprintf(want, sizeof(want), "/rings/%s/stream?format=ndjson&"
	    "from=oldest", ring);
	cr_assert_geq(hc_connect(&hn, bp.port, 0), 0);
	cr_assert_geq(hc_get(&hn, want, NULL), 0);
	cr_assert(hc_wait_headers(&hn, T_WAIT));
	cr_assert(hc_line_wait(&hn, line, sizeof(line), T_WAIT));
	cr_assert(strstr(line, "\"seq\":0,") != NULL, "%s", line);
	crash_producer();
	o.capacity = 1 << 16;
	cr_assert_eq(shmr_writer_create(ring, &o, &w), 0, "take over");
	e2 = w_epoch();
	/* Both clients stop at the switch; the new ring laps meanwhile. */
	wait_stderr("test pause: epoch-switch", NULL);
	memset(msg, 'x', sizeof(msg));
	for (int i = 0; i < 2000; i++) {
		int n = snprintf(msg, sizeof(msg), "n-%d-", i);

		msg[n] = 'x';
		(void)pub(msg, 100);
	}
	release_pause();
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT), "stream ended");
	cr_assert_str_eq(ev.type, "restart", "%s: %s", ev.type, ev.data);
	p = strstr(ev.data, "\"first\":");
	cr_assert(p != NULL, "restart without first: %s", ev.data);
	first = strtoull(p + 8, NULL, 10);
	cr_assert_gt(first, 0, "%s", ev.data);
	snprintf(want, sizeof(want), "{\"epoch\":%llu,\"previous_epoch\":",
	    e2);
	cr_assert(strncmp(ev.data, want, strlen(want)) == 0, "%s", ev.data);
	snprintf(want, sizeof(want), "\"first\":%llu,\"lost\":%llu}",
	    first, first);
	cr_assert(strstr(ev.data, want) != NULL, "%s", ev.data);
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT), "no gap after the restart");
	cr_assert_str_eq(ev.type, "gap", "%s: %s", ev.type, ev.data);
	snprintf(want, sizeof(want), "{\"lost\":%llu,\"next\":%llu}", first,
	    first);
	cr_assert_str_eq(ev.data, want);
	cr_assert_str_eq(ev.id, eid(first - 1));
	cr_assert(hc_sse_wait(&h, &ev, T_WAIT));
	cr_assert_str_eq(ev.type, "message");
	cr_assert_str_eq(ev.id, eid(first));
	snprintf(want, sizeof(want), "n-%llu-", first);
	cr_assert(strncmp(ev.data, want, strlen(want)) == 0, "%s", ev.data);
	hc_close(&h);
	/* NDJSON: the same two control lines (this client may have
	 * switched later, so its own first). */
	cr_assert(hc_line_wait(&hn, line, sizeof(line), T_WAIT));
	snprintf(want, sizeof(want), "{\"event\":\"restart\",\"epoch\":%llu,",
	    e2);
	cr_assert(strncmp(line, want, strlen(want)) == 0, "%s", line);
	p = strstr(line, "\"first\":");
	cr_assert(p != NULL, "%s", line);
	first = strtoull(p + 8, NULL, 10);
	cr_assert_gt(first, 0, "%s", line);
	cr_assert(hc_line_wait(&hn, line, sizeof(line), T_WAIT));
	snprintf(want, sizeof(want), "{\"event\":\"gap\",\"lost\":%llu,"
	    "\"next\":%llu}", first, first);
	cr_assert_str_eq(line, want);
	cr_assert(hc_line_wait(&hn, line, sizeof(line), T_WAIT));
	snprintf(want, sizeof(want), "{\"epoch\":%llu,\"seq\":%llu,", e2,
	    first);
	cr_assert(strncmp(line, want, strlen(want)) == 0, "%s", line);
	hc_close(&hn);
}

/*
 * Issue 12 item 8: a seek lapped on every try starts at the oldest
 * message. ringbridge overwrote the cursor's expected sequence number
 * after a seek (a workaround for libshm 0.1), so that fallback read the
 * oldest record against the wrong number: -EBADMSG, the stream cut off.
 * Now the messages before the resume point are skipped.
 */
Test(bridge, resume_after_a_lapped_seek)
{
	struct hc h;
	char msg[32];

	setup_ring(1 << 20);
	for (int i = 0; i < 100; i++) {
		snprintf(msg, sizeof(msg), "m-%d", i);
		pubs(msg);
	}
	setenv("RINGBRIDGE_TEST_SEEK_LAPPED", "1", 1);
	start_hooked_bridge("none", NULL);
	unsetenv("RINGBRIDGE_TEST_SEEK_LAPPED");
	{
		char hdr[96];

		snprintf(hdr, sizeof(hdr), "Last-Event-ID: %s\r\n", eid(49));
		open_stream(&h, "", hdr);
	}
	for (int i = 50; i < 100; i++) {
		snprintf(msg, sizeof(msg), "m-%d", i);
		expect_msg(&h, (uint64_t)i, msg);
	}
	pubs("m-100");
	expect_msg(&h, 100, "m-100");
	hc_close(&h);
}

static int
get_status(const char *path, const char *extra, char *body, size_t len)
{
	return http_request(bp.port, "GET", path, extra, body, len, NULL, 0);
}

Test(bridge, error_statuses, .init = init_default)
{
	char path[40000], body[4096], hdrs[4096], hdr[128];
	int st;

	pubs("x");
	snprintf(path, sizeof(path), "/rings/%s/stream?from=99", ring);
	cr_assert_eq(get_status(path, NULL, body, sizeof(body)), 400);
	cr_assert(strstr(body, "beyond") != NULL, "%s", body);
	snprintf(path, sizeof(path), "/rings/%s/stream?from=abc", ring);
	cr_assert_eq(get_status(path, NULL, body, sizeof(body)), 400);
	snprintf(path, sizeof(path), "/rings/%s/stream?format=xml", ring);
	cr_assert_eq(get_status(path, NULL, body, sizeof(body)), 400);
	snprintf(path, sizeof(path), "/rings/%s/stream?encoding=rot13", ring);
	cr_assert_eq(get_status(path, NULL, body, sizeof(body)), 400);
	snprintf(path, sizeof(path), "/rings/%s/stream?on_overrun=wait", ring);
	cr_assert_eq(get_status(path, NULL, body, sizeof(body)), 400);
	snprintf(path, sizeof(path), "/rings/%s/stream", ring);
	cr_assert_eq(get_status(path, "Last-Event-ID: junk\r\n", body,
	    sizeof(body)), 400);
	snprintf(hdr, sizeof(hdr), "Last-Event-ID: %s\r\n", eid(5));
	cr_assert_eq(get_status(path, hdr, body, sizeof(body)), 400);
	/* an epoch newer than the ring's */
	snprintf(hdr, sizeof(hdr), "Last-Event-ID: %llu:0\r\n",
	    ring_epoch_now() + 1000);
	cr_assert_eq(get_status(path, hdr, body, sizeof(body)), 400);
	snprintf(hdr, sizeof(hdr), "Last-Event-ID: %llu:99999999999999999999"
	    "9\r\n", ring_epoch_now());
	cr_assert_eq(get_status(path, hdr, body, sizeof(body)), 400);
	/* Unknown and hostile names. */
	cr_assert_eq(get_status("/rings/nosuchring", NULL, body,
	    sizeof(body)), 404);
	cr_assert_eq(get_status("/rings/nosuchring/stream", NULL, body,
	    sizeof(body)), 404);
	cr_assert_eq(get_status("/rings/../stream", NULL, body,
	    sizeof(body)), 400);
	cr_assert_eq(get_status("/rings/..", NULL, body, sizeof(body)), 400);
	cr_assert_eq(get_status("/rings/.hidden/stream", NULL, body,
	    sizeof(body)), 400);
	st = get_status("/rings/..%2f..%2fetc%2fpasswd/stream", NULL, body,
	    sizeof(body));
	cr_assert(st == 400 || st == 404, "status %d", st);
	st = get_status("/rings/a%00b/stream", NULL, body, sizeof(body));
	cr_assert(st == 400 || st == 404, "status %d", st);
	cr_assert_eq(get_status("/rings/%2e%2e/stream", NULL, body,
	    sizeof(body)), 400);
	cr_assert_eq(get_status("/rings/a%2fb/stream", NULL, body,
	    sizeof(body)), 404);
	memset(path, 'a', 300);
	memcpy(path, "/rings/", 7);
	strcpy(path + 300, "/stream");
	cr_assert_eq(get_status(path, NULL, body, sizeof(body)), 400);
	memset(path, 'b', 30000);
	memcpy(path, "/rings/", 7);
	path[30000] = '\0';
	st = get_status(path, NULL, body, sizeof(body));
	cr_assert(st == 400 || st == 414 || st == 431 || st < 0,
	    "status %d", st);
	cr_assert_eq(get_status("/nothing", NULL, body, sizeof(body)), 404);
	/* "/" is the dashboard (tests/bridge_dashboard.sh). */
	cr_assert_eq(get_status("/", NULL, body, sizeof(body)), 200);
	cr_assert(strstr(body, "<!DOCTYPE html>") != NULL, "%.80s", body);
	cr_assert_eq(get_status("/rings/x/y/z", NULL, body, sizeof(body)),
	    404);
	/* Methods. */
	snprintf(path, sizeof(path), "/rings/%s", ring);
	cr_assert_eq(http_request(bp.port, "POST", path, "Content-Length: 0"
	    "\r\n", body, sizeof(body), hdrs, sizeof(hdrs)), 405);
	cr_assert(strstr(hdrs, "Allow: GET") != NULL, "%s", hdrs);
	cr_assert_eq(http_request(bp.port, "DELETE", "/rings", NULL, body,
	    sizeof(body), NULL, 0), 405);
	/* The good ones. */
	cr_assert_eq(get_status("/healthz", NULL, body, sizeof(body)), 200);
	cr_assert_eq(get_status(path, NULL, body, sizeof(body)), 200);
	cr_assert(strstr(body, "\"next_seq\":1") != NULL, "%s", body);
	cr_assert_eq(get_status("/rings", NULL, body, sizeof(body)), 200);
	cr_assert(strstr(body, ring) != NULL, "%s", body);
	cr_assert_eq(get_status("/metrics", NULL, body, sizeof(body)), 200);
	cr_assert(strstr(body, "ringbridge_clients{ring=") != NULL);
}

Test(bridge, limit_503_and_absent_ring)
{
	const char *extra[] = { "--max-clients", "1", "--ring", "notyet_x",
	    NULL };
	struct hc h;
	char path[256], body[512], hdrs[2048];

	setup_ring(1 << 20);
	start_bridge(extra);
	open_stream(&h, "", NULL);
	snprintf(path, sizeof(path), "/rings/%s/stream", ring);
	cr_assert_eq(http_request(bp.port, "GET", path, NULL, body,
	    sizeof(body), hdrs, sizeof(hdrs)), 503);
	cr_assert(strstr(hdrs, "Retry-After:") != NULL, "%s", hdrs);
	hc_close(&h);
	cr_assert_eq(http_request(bp.port, "GET", "/rings/notyet_x/stream",
	    NULL, body, sizeof(body), hdrs, sizeof(hdrs)), 503);
	cr_assert(strstr(hdrs, "Retry-After:") != NULL, "%s", hdrs);
	cr_assert_eq(http_request(bp.port, "GET", "/rings/notyet_x", NULL,
	    body, sizeof(body), NULL, 0), 200);
	cr_assert(strstr(body, "absent") != NULL, "%s", body);
}

Test(bridge, bearer_token_and_cors)
{
	char tf[64], path[256], body[512], hdrs[2048];
	const char *extra[] = { "--token-file", tf, "--cors-origin",
	    "https://example.org", NULL };
	FILE *f;

	snprintf(tf, sizeof(tf), "/tmp/rbtoken.%d", (int)getpid());
	f = fopen(tf, "w");
	cr_assert_not_null(f);
	fputs("s3cret-token\n", f);
	fclose(f);
	setup_ring(1 << 20);
	start_bridge(extra);
	unlink(tf);
	snprintf(path, sizeof(path), "/rings/%s", ring);
	cr_assert_eq(http_request(bp.port, "GET", path, NULL, body,
	    sizeof(body), hdrs, sizeof(hdrs)), 401);
	cr_assert(strstr(hdrs, "WWW-Authenticate: Bearer") != NULL);
	cr_assert_eq(http_request(bp.port, "GET", path, "Authorization: "
	    "Bearer s3cret-tokeX\r\n", body, sizeof(body), NULL, 0), 401);
	cr_assert_eq(http_request(bp.port, "GET", path, "Authorization: "
	    "Bearer s3cret-token\r\n", body, sizeof(body), hdrs,
	    sizeof(hdrs)), 200);
	cr_assert(strstr(hdrs, "Access-Control-Allow-Origin: "
	    "https://example.org") != NULL, "%s", hdrs);
	snprintf(path, sizeof(path), "/rings/%s?access_token=s3cret-token",
	    ring);
	cr_assert_eq(http_request(bp.port, "GET", path, NULL, body,
	    sizeof(body), NULL, 0), 200);
	cr_assert_eq(http_request(bp.port, "GET", "/healthz", NULL, body,
	    sizeof(body), NULL, 0), 200);
	cr_assert_eq(http_request(bp.port, "OPTIONS", path, NULL, body,
	    sizeof(body), hdrs, sizeof(hdrs)), 204);
	cr_assert(strstr(hdrs, "Last-Event-ID") != NULL, "%s", hdrs);
}

Test(bridge, heartbeat_on_idle_stream)
{
	const char *extra[] = { "--heartbeat", "1", NULL };
	struct hc h;
	struct pollfd p;

	setup_ring(1 << 20);
	start_bridge(extra);
	open_stream(&h, "", NULL);
	/* Wait for two heartbeat comments (one is the opening ": ok"). */
	while (h.comments < 2) {
		struct sse_event ev;

		p.fd = h.fd;
		p.events = POLLIN;
		cr_assert_gt(poll(&p, 1, T_WAIT), 0, "no heartbeat");
		cr_assert_gt(hc_pump(&h), 0);
		cr_assert_eq(hc_sse_next(&h, &ev), 0);
	}
	hc_close(&h);
}

/*
 * The bridge writes nothing to its standard input. It used to: the rings
 * named with --ring were opened, and their pumps started, before the
 * event loops' eventfds existed, so each "wake the loops" wrote its 8
 * bytes to fd 0, the eventfd slots' initial value (garbage on a
 * terminal, or in a file opened read-write as stdin).
 */
Test(bridge, nothing_written_to_stdin)
{
	char path[64];
	struct stat st;
	struct hc h;
	int fd, saved;

	setup_ring(1 << 20);
	pubs("before");
	snprintf(path, sizeof(path), "/tmp/rbtest.%d.stdin", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	saved = dup(STDIN_FILENO);
	cr_assert_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	start_bridge(NULL);
	if (saved >= 0) {
		dup2(saved, STDIN_FILENO);
		close(saved);
	} else
		close(STDIN_FILENO);
	open_stream(&h, "?from=oldest", NULL);
	expect_msg(&h, 0, "before");
	pubs("after");
	expect_msg(&h, 1, "after");
	hc_close(&h);
	cr_assert_eq(bridge_stop(&bp), 0);
	cr_assert_eq(fstat(fd, &st), 0);
	close(fd);
	unlink(path);
	cr_assert_eq(st.st_size, 0, "ringbridge wrote %lld bytes to its "
	    "standard input", (long long)st.st_size);
}

Test(bridge, sigterm_ends_streams_cleanly, .init = init_default)
{
	struct hc h[3];

	for (int i = 0; i < 3; i++)
		open_stream(&h[i], "", NULL);
	pubs("x");
	for (int i = 0; i < 3; i++)
		expect_msg(&h[i], 0, "x");
	cr_assert_eq(bridge_stop(&bp), 0);
	for (int i = 0; i < 3; i++) {
		cr_assert(hc_wait_end(&h[i], T_WAIT));
		cr_assert(h[i].clean_end, "stream %d ended cleanly", i);
		hc_close(&h[i]);
	}
	cr_expect_eq(bridge_sanitizer_report(&bp), 0);
}

Test(bridge, all_mode_finds_new_rings)
{
	const char *args[] = { "--all", NULL };
	char path[256], body[1024];

	mkname();
	cr_assert_eq(bridge_start(&bp, RINGBRIDGE_BIN, args), 0);
	snprintf(path, sizeof(path), "/rings/%s", ring);
	cr_assert_eq(get_status(path, NULL, body, sizeof(body)), 404);
	{
		struct shmr_create_opts o = { .capacity = 1 << 16,
		    .gid = (gid_t)-1 };

		cr_assert_eq(shmr_writer_create(ring, &o, &w), 0);
	}
	/* The scan runs every 2 s: wait for it, however long it takes. */
	for (int i = 0; i < 200; i++) {
		if (get_status(path, NULL, body, sizeof(body)) == 200)
			break;
		usleep(100000);
	}
	cr_assert_eq(get_status(path, NULL, body, sizeof(body)), 200);
}

Test(bridge, tls_with_curl)
{
	char cert[64], key[64], cmd[512], out[4096];
	const char *extra[] = { "--tls-cert", cert, "--tls-key", key, NULL };
	FILE *p;
	size_t n;

	if (system("command -v openssl >/dev/null && command -v curl "
	    ">/dev/null") != 0)
		cr_skip_test("needs openssl and curl");
	snprintf(cert, sizeof(cert), "/tmp/rbcert.%d.pem", (int)getpid());
	snprintf(key, sizeof(key), "/tmp/rbkey.%d.pem", (int)getpid());
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey rsa:2048 "
	    "-nodes -keyout %s -out %s -days 1 -subj /CN=127.0.0.1 "
	    ">/dev/null 2>&1", key, cert);
	cr_assert_eq(system(cmd), 0);
	setup_ring(1 << 20);
	start_bridge(extra);
	unlink(cert);
	unlink(key);
	pubs("over tls");
	snprintf(cmd, sizeof(cmd), "curl -sk --max-time 20 "
	    "'https://127.0.0.1:%d/rings/%s'", bp.port, ring);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	cr_assert(strstr(out, "\"next_seq\":1") != NULL, "%s", out);
	/* A stream over TLS: read the first event, then hang up. */
	snprintf(cmd, sizeof(cmd), "curl -skN --max-time 20 "
	    "'https://127.0.0.1:%d/rings/%s/stream?from=oldest' | "
	    "head -n 5", bp.port, ring);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	snprintf(cmd, sizeof(cmd), "id: %s\ndata: over tls\n", eid(0));
	cr_assert(strstr(out, cmd) != NULL, "%s", out);
}

Test(bridge, per_ip_limit)
{
	const char *extra[] = { "--per-ip", "2", NULL };
	struct hc h[2];
	char body[256];

	setup_ring(1 << 20);
	start_bridge(extra);
	for (int i = 0; i < 2; i++)
		open_stream(&h[i], "", NULL);
	/* A third connection from 127.0.0.1 is closed without an answer. */
	cr_assert_lt(http_request(bp.port, "GET", "/healthz", NULL, body,
	    sizeof(body), NULL, 0), 0);
	hc_close(&h[1]);
	/* The bridge notices the close at the next write: a heartbeat or
	 * a message. Publish until a new connection is accepted. */
	for (int i = 0; i < 400; i++) {
		pubs("tick");
		if (http_request(bp.port, "GET", "/healthz", NULL, body,
		    sizeof(body), NULL, 0) == 200)
			break;
		usleep(50000);
	}
	cr_assert_eq(http_request(bp.port, "GET", "/healthz", NULL, body,
	    sizeof(body), NULL, 0), 200);
	hc_close(&h[0]);
}

/* The rate of /rings/NAME, or -1 without one. */
static double
ring_rate(char *body, size_t len)
{
	char path[128];
	const char *p;

	snprintf(path, sizeof(path), "/rings/%s", ring);
	if (get_status(path, NULL, body, len) != 200 ||
	    (p = strstr(body, "\"rate\":")) == NULL)
		return -1;
	return strtod(p + 7, NULL);
}

/*
 * A ring removed and created afresh starts again at epoch 1 with lower
 * sequence numbers: its rate must not be the difference to the old ring's
 * (once 1.8e19 messages a second, seen on the dashboard's sparkline).
 */
Test(bridge, rate_of_a_ring_created_afresh, .init = init_default)
{
	struct shmr_create_opts o = { .capacity = 1 << 20, .gid = (gid_t)-1 };
	char path[128], body[4096];
	double rate, top = 0;

	for (int i = 0; i < 1000; i++)
		pubs("old");
	/* Two rate ticks: the bridge has sampled next_seq 1000. */
	usleep(2500 * 1000);
	cr_assert_eq(shmr_writer_close(w, SHMR_CLOSE_UNLINK), 0);
	cr_assert_eq(shmr_writer_create(ring, &o, &w), 0, "create again");
	for (int i = 0; i < 10; i++)
		pubs("new");
	snprintf(path, sizeof(path), "/rings/%s", ring);
	for (int i = 0; i < 200; i++) {
		cr_assert_eq(get_status(path, NULL, body, sizeof(body)), 200);
		if (strstr(body, "\"next_seq\":10,") != NULL)
			break;
		usleep(50000);
	}
	cr_assert(strstr(body, "\"next_seq\":10,") != NULL, "%s", body);
	/* Over the next rate ticks. */
	for (int i = 0; i < 25; i++) {
		rate = ring_rate(body, sizeof(body));
		cr_assert_geq(rate, 0, "%s", body);
		if (rate > top)
			top = rate;
		usleep(100 * 1000);
	}
	cr_assert_leq(top, 1000, "rate %g msg/s after the ring was created "
	    "afresh with 10 messages", top);
}
