/*
 * test_bridge_fanout.c - ringbridge with many clients: 1,000 concurrent
 * SSE streams (one epoll loop here) all receive every message, the
 * bridge's memory grows by a bounded amount per client, a client that
 * stops reading is evicted while the others keep receiving, and writes
 * are coalesced by default only when a ring has many clients on a loop.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "shmring.h"
#include "bridge_client.h"

#ifndef RINGBRIDGE_BIN
#define RINGBRIDGE_BIN "build/bin/ringbridge"
#endif

#define T_WAIT	30000

static char ring[64];
static struct shmr_writer *w;
static struct bridge_proc bp;

static void
setup(const char *const *extra)
{
	struct shmr_create_opts o = { .capacity = 1 << 20, .gid = (gid_t)-1 };
	const char *args[16];
	size_t n = 0;

	snprintf(ring, sizeof(ring), "tfanout%d", (int)getpid());
	cr_assert_eq(shmr_writer_create(ring, &o, &w), 0);
	args[n++] = "--ring";
	args[n++] = ring;
	for (; extra != NULL && *extra != NULL; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	cr_assert_eq(bridge_start(&bp, RINGBRIDGE_BIN, args), 0);
}

static void
teardown(void)
{
	if (bp.pid > 0) {
		cr_expect_eq(bridge_stop(&bp), 0);
		cr_expect_eq(bridge_sanitizer_report(&bp), 0, "see %s",
		    bp.errpath);
	}
	unlink(bp.errpath);
	if (w != NULL)
		shmr_writer_close(w, SHMR_CLOSE_UNLINK);
	shmr_unlink(ring);
}

TestSuite(fanout, .fini = teardown, .timeout = 300);

struct sub {
	struct hc	h;
	uint64_t	next;	/* next sequence number expected */
};

/*
 * Read everything available on one client; check order and content.
 * Parse after every read: the parse buffer (1 MiB) must never fill.
 */
static void
drain(struct sub *s)
{
	struct sse_event ev;
	char want[64];
	uint64_t seq;
	int r;

	do {
		r = hc_pump(&s->h);
		while (hc_sse_next(&s->h, &ev)) {
			cr_assert_str_eq(ev.type, "message", "%s: %s",
			    ev.type, ev.data);
			seq = strtoull(strchr(ev.id, ':') + 1, NULL, 10);
			cr_assert_eq(seq, s->next, "no loss, no duplicate");
			snprintf(want, sizeof(want), "msg-%" PRIu64, seq);
			cr_assert_str_eq(ev.data, want);
			s->next++;
		}
	} while (r > 0);
}

static void
subscribe(struct sub *s, int ep, size_t idx, int rcvbuf)
{
	struct epoll_event ee = { .events = EPOLLIN };
	char path[128];

	cr_assert_eq(hc_connect(&s->h, bp.port, rcvbuf), 0, "client %zu",
	    idx);
	snprintf(path, sizeof(path), "/rings/%s/stream?from=0", ring);
	cr_assert_eq(hc_get(&s->h, path, NULL), 0);
	fcntl(s->h.fd, F_SETFL, fcntl(s->h.fd, F_GETFL) | O_NONBLOCK);
	s->next = 0;
	if (ep >= 0) {
		ee.data.u64 = idx;
		cr_assert_eq(epoll_ctl(ep, EPOLL_CTL_ADD, s->h.fd, &ee), 0);
	}
}

static void
publish(uint64_t from, uint64_t to)
{
	char buf[64];

	for (uint64_t i = from; i < to; i++) {
		int n = snprintf(buf, sizeof(buf), "msg-%" PRIu64, i);

		cr_assert_eq(shmr_writer_publish(w, buf, (size_t)n, NULL), 0);
	}
}

/* Run the epoll loop until every client in subs[0..n) reached target. */
static void
run_until(int ep, struct sub *subs, size_t n, uint64_t target)
{
	struct epoll_event evs[256];
	size_t behind;

	for (;;) {
		behind = 0;
		for (size_t i = 0; i < n; i++)
			if (subs[i].next < target)
				behind++;
		if (behind == 0)
			return;
		int k = epoll_wait(ep, evs, 256, T_WAIT);

		cr_assert_gt(k, 0, "%zu clients still behind", behind);
		for (int i = 0; i < k; i++) {
			struct sub *s = &subs[evs[i].data.u64];

			drain(s);
			cr_assert(!s->h.closed, "client %" PRIu64 " closed",
			    evs[i].data.u64);
		}
	}
}

static void
more_files(size_t n)
{
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < n) {
		rl.rlim_cur = rl.rlim_max < n ? rl.rlim_max : n;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	cr_assert_geq(rl.rlim_cur, n, "RLIMIT_NOFILE too low");
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

Test(fanout, thousand_clients_get_everything)
{
	enum { N = 1000, MSGS = 300 };
	struct sub *subs;
	long rss0, rss1;
	int ep;

	more_files(N + 100);
	setup(NULL);
	subs = calloc(N, sizeof(*subs));
	cr_assert_not_null(subs);
	ep = epoll_create1(EPOLL_CLOEXEC);
	/* One stream first, so the baseline includes the first-use costs. */
	subscribe(&subs[0], ep, 0, 0);
	publish(0, 1);
	run_until(ep, subs, 1, 1);
	rss0 = proc_rss_kib(bp.pid);
	/* from=0: a client that connects late still gets everything. */
	for (size_t i = 1; i < N; i++)
		subscribe(&subs[i], ep, i, 0);
	publish(1, MSGS / 2);
	run_until(ep, subs, N, MSGS / 2);
	publish(MSGS / 2, MSGS);
	run_until(ep, subs, N, MSGS);
	rss1 = proc_rss_kib(bp.pid);
	cr_log_info("bridge RSS %ld KiB with 1 stream, %ld KiB with %d: "
	    "%.1f KiB per stream", rss0, rss1, N,
	    (double)(rss1 - rss0) / (N - 1));
	/* The documented bound: 16 KiB per stream at the default settings. */
	cr_assert_leq(rss1 - rss0, 16L * (N - 1), "RSS grew %ld KiB for %d "
	    "streams", rss1 - rss0, N - 1);
	for (size_t i = 0; i < N; i++)
		hc_close(&subs[i].h);
	close(ep);
	free(subs);
}

static uint64_t
metric(const char *name)
{
	char body[16384], key[256], *p;

	if (http_request(bp.port, "GET", "/metrics", NULL, body, sizeof(body),
	    NULL, 0) != 200)
		return UINT64_MAX;
	snprintf(key, sizeof(key), "\n%s{ring=\"%s\"} ", name, ring);
	if ((p = strstr(body, key)) == NULL)
		return UINT64_MAX;
	return strtoull(p + strlen(key), NULL, 10);
}

Test(fanout, stalled_client_is_evicted)
{
	const char *extra[] = { "--write-timeout", "2", "--sndbuf", "4096",
	    NULL };
	enum { N = 4, MSGS = 3000 };
	struct sub subs[N + 1];
	char junk[65536];
	int ep;

	setup(extra);
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (size_t i = 0; i < N; i++)
		subscribe(&subs[i], ep, i, 0);
	/* The staller: tiny receive buffer, never reads. */
	subscribe(&subs[N], -1, N, 2048);
	publish(0, MSGS);
	run_until(ep, subs, N, MSGS);
	/* Wait for the eviction, however long the timer takes. */
	for (int i = 0; i < 600 && metric("ringbridge_evictions_total") != 1;
	    i++)
		usleep(100000);
	cr_assert_eq(metric("ringbridge_evictions_total"), 1);
	/* The others still receive. */
	publish(MSGS, MSGS + 10);
	run_until(ep, subs, N, MSGS + 10);
	/* The staller finds its connection closed after what was queued. */
	fcntl(subs[N].h.fd, F_SETFL, fcntl(subs[N].h.fd, F_GETFL) &
	    ~O_NONBLOCK);
	for (;;) {
		ssize_t r = read(subs[N].h.fd, junk, sizeof(junk));

		if (r <= 0)
			break;
	}
	cr_assert_eq(metric("ringbridge_clients"), N);
	for (size_t i = 0; i <= N; i++)
		hc_close(&subs[i].h);
	close(ep);
}

/* The resume-pass interval loop 0 uses for the ring, in seconds. */
static double
coalesce_seconds(void)
{
	char body[16384], key[256], *p;

	if (http_request(bp.port, "GET", "/metrics", NULL, body, sizeof(body),
	    NULL, 0) != 200)
		return -1;
	snprintf(key, sizeof(key), "\nringbridge_coalesce_seconds{ring=\"%s\","
	    "loop=\"0\"} ", ring);
	if ((p = strstr(body, key)) == NULL)
		return -1;
	return strtod(p + strlen(key), NULL);
}

/* Start the bridge for up to n clients: their array and epoll fd. */
static struct sub *
clients_start(const char *const *extra, size_t n, int *ep)
{
	struct sub *subs;

	more_files(n + 100);
	setup(extra);
	subs = calloc(n, sizeof(*subs));
	cr_assert_not_null(subs);
	*ep = epoll_create1(EPOLL_CLOEXEC);
	cr_assert_geq(*ep, 0);
	return subs;
}

static void
subscribe_range(struct sub *subs, int ep, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		subscribe(&subs[i], ep, i, 0);
}

static void
close_subs(struct sub *subs, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		hc_close(&subs[i].h);
}

/* The interval with --coalesce opt and n clients that got a message. */
static double
forced_interval(const char *opt, size_t n)
{
	const char *extra[] = { "--threads", "1", "--coalesce", opt, NULL };
	struct sub *subs;
	double t;
	int ep;

	subs = clients_start(extra, n, &ep);
	subscribe_range(subs, ep, 0, n);
	publish(0, 10);
	run_until(ep, subs, n, 10);
	t = coalesce_seconds();
	close_subs(subs, 0, n);
	close(ep);
	free(subs);
	return t;
}

/*
 * The default (--coalesce auto): a ring with few clients on a loop is
 * written at once; with many, each write carries several events. Not a
 * timing test: messages are published on a wall-clock schedule (one per
 * 2 ms for 200 ms, several at once if this thread was held up, which
 * only merges writes further) and the bound follows from the interval
 * alone: each client writes at most once per pass, so at most
 * 200 ms / interval + 2 times for the 100 messages.
 */
Test(fanout, auto_coalescing_follows_fan_out)
{
	/* A heartbeat a second: closed clients are noticed soon. */
	const char *extra[] = { "--threads", "1", "--heartbeat", "1", NULL };
	enum { FEW = 4, N = 400, MSGS = 100 };
	struct sub *subs;
	uint64_t ev0, ch0, ev1, ch1, sent = 1;
	double t, t0, ratio;
	int ep;

	subs = clients_start(extra, N, &ep);
	subscribe_range(subs, ep, 0, FEW);
	publish(0, 1);
	run_until(ep, subs, FEW, 1);
	cr_assert_eq(coalesce_seconds(), 0, "%d clients: written at once",
	    FEW);
	subscribe_range(subs, ep, FEW, N);
	run_until(ep, subs, N, 1);
	t = coalesce_seconds();
	cr_log_info("%d clients on one loop: interval %.1f ms", N, t * 1000);
	cr_assert(t > 0.005 && t <= 0.012, "%d clients: interval %f s", N, t);
	ev0 = metric("ringbridge_events_total");
	ch0 = metric("ringbridge_chunks_total");
	t0 = now_s();
	while (sent < 1 + MSGS) {
		uint64_t due = 1 + (uint64_t)((now_s() - t0) / 0.002);

		if (due > 1 + MSGS)
			due = 1 + MSGS;
		if (due > sent) {
			publish(sent, due);
			sent = due;
		}
		usleep(500);
	}
	run_until(ep, subs, N, 1 + MSGS);
	ev1 = metric("ringbridge_events_total");
	ch1 = metric("ringbridge_chunks_total");
	cr_assert_eq(ev1 - ev0, (uint64_t)N * MSGS);
	ratio = (double)(ch1 - ch0) / (double)(ev1 - ev0);
	cr_log_info("%d clients, %d messages 2 ms apart: %.3f writes per "
	    "event", N, MSGS, ratio);
	cr_assert_lt(ratio, 0.5, "writes per event %f", ratio);
	/* Back to few clients: immediate again. */
	close_subs(subs, FEW, N);
	for (int i = 0; i < 600 && metric("ringbridge_clients") != FEW; i++)
		usleep(50000);
	cr_assert_eq(metric("ringbridge_clients"), FEW);
	cr_assert_eq(coalesce_seconds(), 0);
	close_subs(subs, 0, FEW);
	close(ep);
	free(subs);
}

/* --coalesce 0 means immediate writes however many clients there are. */
Test(fanout, coalesce_zero_is_immediate)
{
	cr_assert_eq(forced_interval("0", 400), 0);
}

/* --coalesce MS is that interval however few clients there are. */
Test(fanout, coalesce_ms_is_fixed)
{
	double t = forced_interval("7", 2);

	cr_assert_float_eq(t, 0.007, 1e-9);
}
