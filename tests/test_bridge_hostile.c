/*
 * test_bridge_hostile.c - ringbridge against hostile HTTP, connection
 * floods and slowloris clients, and a bridge killed with SIGKILL.
 *
 * Every hostile-input test keeps one well-behaved SSE client streaming
 * from a ring that a producer thread feeds during the whole test; at the
 * end that client must have received every message, in order, exactly
 * once. After each hostile request the bridge must still be running
 * (waitpid WNOHANG) and its stderr must hold no sanitizer report.
 * Raw sockets throughout: the requests are not ones a client library
 * would send. No timing assumptions: every wait is for an outcome,
 * bounded by T_WAIT only to fail instead of hanging.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmring.h"
#include "bridge_client.h"

#ifndef RINGBRIDGE_BIN
#define RINGBRIDGE_BIN "build/bin/ringbridge"
#endif

#define T_WAIT	20000	/* ms: "never came", not a performance bound */
#define CLOSED	0	/* raw_req(): closed or reset without a response */
#define MAXC	16	/* --max-clients of the matrix bridge */

static char ring[64], quiet[64];
static struct shmr_writer *w, *wq;

/*
 * The epoch of the ring named ring (a creation time in microseconds,
 * libshm(3)); read from the ring itself, not the writer, which another
 * thread may be using.
 */
static unsigned long long
w_epoch(void)
{
	struct shmr_ring *r;
	unsigned long long e;

	cr_assert_eq(shmr_ring_open(ring, NULL, &r), 0);
	e = (unsigned long long)shmr_ring_epoch(r);
	shmr_ring_close(r);
	return e;
}
static struct bridge_proc bp;
static unsigned counter;

/* ---- the background stream ------------------------------------------- */

static pthread_t prod_thr, read_thr;
static bool bg_running;
static atomic_bool prod_stop, read_stop;
static atomic_uint_least64_t published;
static struct {
	uint64_t	got;		/* messages received in order */
	uint64_t	bad;		/* wrong id, data or event type */
	char		why[320];	/* the first problem */
} bg;

static void *
producer_main(void *arg)
{
	struct timespec ts = { 0, 500000 };
	char msg[64];
	uint64_t seq;

	(void)arg;
	/* At least one message, however soon the test stops us: a thread
	 * started late on a loaded machine must still have something for
	 * background_check() to verify. */
	do {
		int n = snprintf(msg, sizeof(msg), "bg-%" PRIu64,
		    (uint64_t)atomic_load(&published));

		if (shmr_writer_publish(w, msg, (size_t)n, &seq) != 0)
			break;
		atomic_store(&published, seq + 1);
		nanosleep(&ts, NULL);
	} while (!atomic_load(&prod_stop));
	return NULL;
}

static void *
reader_main(void *arg)
{
	struct hc *h = arg;
	struct sse_event ev;
	char want_id[64], want[64];
	unsigned long long ep = 0;

	for (int idle = 0;;) {
		if (atomic_load(&read_stop) &&
		    bg.got == atomic_load(&published))
			break;
		/* Short waits, to see read_stop; T_WAIT without progress. */
		if (!hc_sse_wait(h, &ev, 100)) {
			if ((idle += 100) < T_WAIT && !h->closed)
				continue;
			if (bg.bad++ == 0)
				snprintf(bg.why, sizeof(bg.why), "stream "
				    "stalled or ended after %" PRIu64
				    " messages", bg.got);
			break;
		}
		idle = 0;
		if (ep == 0)
			ep = w_epoch();
		snprintf(want_id, sizeof(want_id), "%llu:%" PRIu64, ep,
		    bg.got);
		snprintf(want, sizeof(want), "bg-%" PRIu64, bg.got);
		if (strcmp(ev.type, "message") != 0 ||
		    strcmp(ev.id, want_id) != 0 || strcmp(ev.data, want) != 0) {
			if (bg.bad++ == 0)
				snprintf(bg.why, sizeof(bg.why), "expected %s "
				    "%s, got %s %s %.40s", want_id, want,
				    ev.type, ev.id, ev.data);
			break;
		}
		bg.got++;
	}
	return NULL;
}

static struct hc bg_h;

static void
mkname(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "thost%s%d_%u", what, (int)getpid(), counter++);
}

static void
create_ring(const char *name, uint64_t cap, struct shmr_writer **wp)
{
	struct shmr_create_opts o = { .capacity = cap, .gid = (gid_t)-1 };

	cr_assert_eq(shmr_writer_create(name, &o, wp), 0, "create %s", name);
}

static void
start_bridge(struct bridge_proc *p, const char *const *extra)
{
	const char *args[32];
	size_t n = 0;

	args[n++] = "--ring";
	args[n++] = ring;
	args[n++] = "--ring";
	args[n++] = quiet;
	for (; extra != NULL && *extra != NULL; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	cr_assert_eq(bridge_start(p, RINGBRIDGE_BIN, args), 0, "start %s",
	    RINGBRIDGE_BIN);
}

/* The bridge is running and has not reported a sanitizer error. */
static void
assert_alive(const char *after)
{
	int st;

	cr_assert_eq(waitpid(bp.pid, &st, WNOHANG), 0, "bridge died after "
	    "%s (status 0x%x), see %s", after, st, bp.errpath);
	cr_assert_eq(bridge_sanitizer_report(&bp), 0, "sanitizer report "
	    "after %s in %s", after, bp.errpath);
}

/* Start a producer thread and a client streaming everything it writes. */
static void
background_start(void)
{
	char path[160];

	atomic_store(&prod_stop, false);
	atomic_store(&read_stop, false);
	atomic_store(&published, 0);
	memset(&bg, 0, sizeof(bg));
	snprintf(path, sizeof(path), "/rings/%s/stream?from=oldest", ring);
	cr_assert_eq(hc_connect(&bg_h, bp.port, 0), 0);
	cr_assert_eq(hc_get(&bg_h, path, NULL), 0);
	cr_assert(hc_wait_headers(&bg_h, T_WAIT));
	cr_assert_eq(bg_h.status, 200);
	cr_assert_eq(pthread_create(&prod_thr, NULL, producer_main, NULL), 0);
	cr_assert_eq(pthread_create(&read_thr, NULL, reader_main, &bg_h), 0);
	bg_running = true;
}

/* Stop the producer; the client must have had every message in order. */
static void
background_check(void)
{
	uint64_t n;

	atomic_store(&prod_stop, true);
	pthread_join(prod_thr, NULL);
	atomic_store(&read_stop, true);
	pthread_join(read_thr, NULL);
	bg_running = false;
	n = atomic_load(&published);
	hc_close(&bg_h);
	cr_assert_eq(bg.bad, 0, "background stream: %s", bg.why);
	cr_assert_eq(bg.got, n, "background stream got %" PRIu64 " of %"
	    PRIu64, bg.got, n);
	cr_assert_gt(n, 0);
}

static void
init_matrix_args(const char *const *extra)
{
	mkname(ring, sizeof(ring), "r");
	mkname(quiet, sizeof(quiet), "q");
	create_ring(ring, 1 << 20, &w);
	create_ring(quiet, 64 << 10, &wq);
	start_bridge(&bp, extra);
	background_start();
}

static void
init_matrix(void)
{
	/* Heartbeats notice closed idle streams (suspended connections). */
	static const char *const extra[] = { "--max-clients", "16",
	    "--heartbeat", "1", NULL };

	init_matrix_args(extra);
}

static void
init_slow(void)
{
	static const char *const extra[] = { "--write-timeout", "2", NULL };

	init_matrix_args(extra);
}

static void
init_cors(void)
{
	static const char *const extra[] = { "--cors-origin",
	    "https://app.example", NULL };

	init_matrix_args(extra);
}

static void
teardown(void)
{
	if (bg_running) {
		atomic_store(&prod_stop, true);
		pthread_join(prod_thr, NULL);
		atomic_store(&read_stop, true);
		atomic_store(&published, bg.got);	/* let it go */
		pthread_join(read_thr, NULL);
		hc_close(&bg_h);
		bg_running = false;
	}
	if (bp.pid > 0) {
		int st = bridge_stop(&bp);

		cr_expect_eq(st, 0, "bridge exit status %d", st);
		cr_expect_eq(bridge_sanitizer_report(&bp), 0,
		    "sanitizer report in %s", bp.errpath);
	}
	unlink(bp.errpath);
	if (w != NULL)
		shmr_writer_close(w, SHMR_CLOSE_UNLINK);
	if (wq != NULL)
		shmr_writer_close(wq, SHMR_CLOSE_UNLINK);
	w = wq = NULL;
	shmr_unlink(ring);
	shmr_unlink(quiet);
}

/* ---- raw requests ------------------------------------------------------ */

static int
tcp_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
	    "connect: %s", strerror(errno));
	return fd;
}

/*
 * Read until the peer closes; the response (NUL-terminated, truncated)
 * into resp. Returns its status code, CLOSED if the peer closed or reset
 * without answering, -ETIMEDOUT if it neither answered nor closed.
 */
static int
read_response(int fd, char *resp, size_t rlen)
{
	size_t got = 0;
	char sink[4096];
	int status = CLOSED;

	resp[0] = '\0';
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;

		if (poll(&p, 1, T_WAIT) <= 0)
			return -ETIMEDOUT;
		if (got < rlen - 1)
			r = recv(fd, resp + got, rlen - 1 - got, 0);
		else
			r = recv(fd, sink, sizeof(sink), 0);
		if (r <= 0)
			break;
		if (got < rlen - 1) {
			got += (size_t)r;
			resp[got] = '\0';
		}
	}
	if (got >= 12 && strncmp(resp, "HTTP/1.", 7) == 0)
		status = atoi(resp + 9);
	return status;
}

/* Send len bytes (the peer may stop reading early) and read the answer. */
static int
raw_req(const void *req, size_t len, char *resp, size_t rlen)
{
	const char *p = req;
	int fd = tcp_connect(bp.port), st;

	while (len > 0) {
		ssize_t r = send(fd, p, len, MSG_NOSIGNAL);

		if (r <= 0)
			break;	/* answered and closed before the end */
		p += r;
		len -= (size_t)r;
	}
	st = read_response(fd, resp, rlen);
	close(fd);
	return st;
}

static int
raw_reqs(const char *req, char *resp, size_t rlen)
{
	return raw_req(req, strlen(req), resp, rlen);
}

/* A request line and headers, ending the header block. */
static int
req3(const char *method, const char *path, const char *hdrs, char *resp,
    size_t rlen)
{
	char *buf;
	size_t n = strlen(method) + strlen(path) + (hdrs ? strlen(hdrs) : 0) +
	    128;
	int st;

	buf = malloc(n);
	cr_assert_not_null(buf);
	snprintf(buf, n, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "
	    "close\r\n%s\r\n", method, path, hdrs != NULL ? hdrs : "");
	st = raw_reqs(buf, resp, rlen);
	free(buf);
	return st;
}

static char *
repeat(const char *prefix, char c, size_t n, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char *s = malloc(pl + n + sl + 1);

	cr_assert_not_null(s);
	memcpy(s, prefix, pl);
	memset(s + pl, c, n);
	memcpy(s + pl + n, suffix, sl + 1);
	return s;
}

static bool
in_set(int st, const int *set)
{
	for (; *set != -1; set++)
		if (st == *set)
			return true;
	return false;
}

#define EXPECT(st, what, ...) do {					\
	static const int set_[] = { __VA_ARGS__, -1 };			\
	int st_ = (st);							\
	cr_assert(in_set(st_, set_), "%s: status %d", what, st_);	\
	assert_alive(what);						\
} while (0)

TestSuite(hostile, .fini = teardown, .timeout = 120);
TestSuite(failover, .timeout = 120);

/* ---- the matrix -------------------------------------------------------- */

Test(hostile, oversize_requests, .init = init_matrix)
{
	char resp[4096], *s;
	int st;

	/* A 100 KB URL: the request line does not fit the 8 KiB pool. */
	s = repeat("/rings/", 'a', 100000, "/stream");
	EXPECT(req3("GET", s, NULL, resp, sizeof(resp)), "100 KB URL",
	    414, CLOSED);
	free(s);
	/* A URL just under the pool: parsed, the name is too long. */
	s = repeat("/rings/", 'a', 4000, "/stream");
	EXPECT(req3("GET", s, NULL, resp, sizeof(resp)), "4 KB ring name",
	    400);
	cr_assert(strstr(resp, "longer than") != NULL, "%s", resp);
	free(s);
	/* A long query string. */
	{
		char path[200];

		snprintf(path, sizeof(path), "/rings/%s/stream?from=", ring);
		s = repeat(path, '9', 5000, "");
		EXPECT(req3("GET", s, NULL, resp, sizeof(resp)),
		    "5000-digit from", 400);
		free(s);
	}
	/* One 100 KB header. */
	s = repeat("X-Long: ", 'h', 100000, "\r\n");
	EXPECT(req3("GET", "/healthz", s, resp, sizeof(resp)),
	    "100 KB header", 431, CLOSED);
	free(s);
	/* 5000 small headers. */
	{
		size_t n = 5000 * 12 + 1, off = 0;
		char *hs = malloc(n);

		cr_assert_not_null(hs);
		for (int i = 0; i < 5000; i++)
			off += (size_t)snprintf(hs + off, n - off,
			    "X-%04d: v\r\n", i);
		EXPECT(req3("GET", "/healthz", hs, resp, sizeof(resp)),
		    "5000 headers", 431, CLOSED);
		free(hs);
	}
	/* 100 headers fit: served. */
	{
		char hs[2000];
		size_t off = 0;

		for (int i = 0; i < 100; i++)
			off += (size_t)snprintf(hs + off, sizeof(hs) - off,
			    "X-%03d: v\r\n", i);
		EXPECT(req3("GET", "/healthz", hs, resp, sizeof(resp)),
		    "100 headers", 200);
	}
	/* A very long Last-Event-ID. */
	{
		char path[160];

		s = repeat("Last-Event-ID: 1:", '7', 3000, "\r\n");
		snprintf(path, sizeof(path), "/rings/%s/stream", ring);
		EXPECT(req3("GET", path, s, resp, sizeof(resp)),
		    "3000-digit Last-Event-ID", 400);
		free(s);
	}
	st = req3("GET", "/healthz", NULL, resp, sizeof(resp));
	cr_assert_eq(st, 200);
	background_check();
}

Test(hostile, encoding_nul_and_names, .init = init_matrix)
{
	static const struct {
		const char	*path;
		int		 st;
	} cases[] = {
		/* bad percent-encoding: kept literally, then refused */
		{ "/rings/%zz/stream", 400 },
		{ "/rings/%/stream", 400 },
		{ "/rings/abc%2/stream", 400 },
		{ "/rings/%%%%/stream", 400 },
		/* non-ASCII, encoded or raw */
		{ "/rings/caf%C3%A9/stream", 400 },
		{ "/rings/caf\xc3\xa9/stream", 400 },
		{ "/rings/%ff%fe/stream", 400 },
		{ "/rings/\x80\x81/stream", 400 },
		/* path traversal */
		{ "/rings/../stream", 400 },
		{ "/rings/%2e%2e/stream", 400 },
		{ "/rings/%2E%2E", 400 },
		{ "/rings/.", 400 },
		{ "/rings/..%2f..%2fetc%2fpasswd/stream", 404 },
		{ "/rings/a%2fb/stream", 404 },
		{ "/rings/%2fetc%2fpasswd", 404 },
		{ "/rings/a/../../x", 404 },
		{ "/../rings", 404 },
		{ "/rings/a%5cb/stream", 400 },
		/* NUL encoded: refused before libmicrohttpd decodes it
		 * (it would cut the name at the NUL) */
		{ "/rings/a%00b/stream", 400 },
		{ "/rings/%00/stream", 400 },
		/* control characters and spaces */
		{ "/rings/a%0d%0aX-Injected:%201/stream", 400 },
		{ "/rings/a%20b/stream", 400 },
		{ "/rings/a%09b", 400 },
		/* not served */
		{ "/rings/unknown_ring_x/stream", 404 },
		{ "/rings/ab/stream/more", 404 },
		{ "//rings", 404 },
		{ "*", 404 },
	};
	char resp[4096], what[300];
	int st;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st = req3("GET", cases[i].path, NULL, resp, sizeof(resp));
		snprintf(what, sizeof(what), "GET %s", cases[i].path);
		cr_assert_eq(st, cases[i].st, "%s: status %d, want %d: %s",
		    what, st, cases[i].st, resp);
		cr_assert(strstr(resp, "X-Injected") == NULL);
		assert_alive(what);
	}
	/* Raw NUL bytes in the request line and in a header. */
	{
		static const char nul_line[] = "GET /rings/a\0b/stream HTTP/1.1"
		    "\r\nHost: x\r\nConnection: close\r\n\r\n";
		static const char nul_hdr[] = "GET /healthz HTTP/1.1\r\nHost: x"
		    "\r\nX-A: a\0b\r\nConnection: close\r\n\r\n";

		EXPECT(raw_req(nul_line, sizeof(nul_line) - 1, resp,
		    sizeof(resp)), "NUL in the request line", 400, 404,
		    CLOSED);
		EXPECT(raw_req(nul_hdr, sizeof(nul_hdr) - 1, resp,
		    sizeof(resp)), "NUL in a header", 200, 400, CLOSED);
	}
	/* Garbage that is not HTTP at all. */
	EXPECT(raw_reqs("GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", resp,
	    sizeof(resp)), "HTTP/9.9", 505, 400, CLOSED);
	EXPECT(raw_reqs("GET /healthz\r\n\r\n", resp, sizeof(resp)),
	    "HTTP/0.9 request", 400, 505, CLOSED);
	EXPECT(raw_reqs("GET /healthz HTTP/1.1\r\nHost: x\r\nBadHeader\r\n"
	    "Connection: close\r\n\r\n", resp, sizeof(resp)),
	    "header without a colon", 400, 200, CLOSED);
	EXPECT(raw_reqs("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
	    resp, sizeof(resp)), "HTTP/1.1 without Host", 400);
	background_check();
}

Test(hostile, methods_and_bodies, .init = init_matrix)
{
	static const char *const bad[] = { "POST", "PUT", "DELETE", "PATCH",
	    "TRACE", "CONNECT", "BREW", "get", "X-UNKNOWN-METHOD" };
	char resp[4096], path[200], req[1024];
	int st;

	snprintf(path, sizeof(path), "/rings/%s", ring);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st = req3(bad[i], path, "Content-Length: 0\r\n", resp,
		    sizeof(resp));
		cr_assert_eq(st, 405, "%s: status %d", bad[i], st);
		cr_assert(strstr(resp, "Allow: GET, HEAD, OPTIONS") != NULL,
		    "%s", resp);
		assert_alive(bad[i]);
	}
	/* HEAD: headers only, for the ring and for a stream. */
	st = req3("HEAD", path, NULL, resp, sizeof(resp));
	cr_assert_eq(st, 200);
	cr_assert(strstr(resp, "\r\n\r\n") != NULL);
	cr_assert_str_eq(strstr(resp, "\r\n\r\n"), "\r\n\r\n", "HEAD body: "
	    "%s", resp);
	snprintf(path, sizeof(path), "/rings/%s/stream?from=oldest", ring);
	st = req3("HEAD", path, NULL, resp, sizeof(resp));
	cr_assert_eq(st, 200);
	cr_assert(strstr(resp, "text/event-stream") != NULL, "%s", resp);
	cr_assert_str_eq(strstr(resp, "\r\n\r\n"), "\r\n\r\n",
	    "HEAD stream body: %s", resp);
	assert_alive("HEAD stream");
	/* OPTIONS without --cors-origin: allowed methods, no CORS. */
	st = req3("OPTIONS", path, "Origin: https://evil.example\r\n"
	    "Access-Control-Request-Method: GET\r\n", resp, sizeof(resp));
	cr_assert_eq(st, 204, "OPTIONS: %d %s", st, resp);
	cr_assert(strstr(resp, "Allow: GET, HEAD, OPTIONS") != NULL, "%s",
	    resp);
	cr_assert(strstr(resp, "Access-Control-Allow-Origin") == NULL, "%s",
	    resp);
	st = req3("OPTIONS", "*", NULL, resp, sizeof(resp));
	cr_assert_eq(st, 204, "OPTIONS *: %d", st);
	/* Bodies on GET: ignored, the request is served. */
	snprintf(path, sizeof(path), "/rings/%s", ring);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection:"
	    " close\r\nContent-Length: 10\r\n\r\n0123456789", path);
	EXPECT(raw_reqs(req, resp, sizeof(resp)), "GET with a body", 200);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection:"
	    " close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
	    "\r\n", path);
	EXPECT(raw_reqs(req, resp, sizeof(resp)), "GET with a chunked body",
	    200);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection:"
	    " close\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n",
	    path);
	EXPECT(raw_reqs(req, resp, sizeof(resp)), "GET with a bad chunk",
	    400, CLOSED);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection:"
	    " close\r\nContent-Length: -5\r\n\r\n", path);
	EXPECT(raw_reqs(req, resp, sizeof(resp)), "negative Content-Length",
	    400, CLOSED);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection:"
	    " close\r\nContent-Length: 99999999999999999999999\r\n\r\n", path);
	EXPECT(raw_reqs(req, resp, sizeof(resp)), "huge Content-Length",
	    400, 413, CLOSED);
	snprintf(req, sizeof(req), "GET %s/stream?from=oldest&format=ndjson "
	    "HTTP/1.1\r\n"
	    "Host: x\r\nContent-Length: 3\r\n\r\nabc", path);
	{
		struct hc h;

		char line[256], want[128];

		/* A stream whose request had a body still streams. */
		cr_assert_eq(hc_connect(&h, bp.port, 0), 0);
		cr_assert_eq(send(h.fd, req, strlen(req), MSG_NOSIGNAL),
		    (ssize_t)strlen(req));
		cr_assert(hc_wait_headers(&h, T_WAIT));
		cr_assert_eq(h.status, 200);
		cr_assert(hc_line_wait(&h, line, sizeof(line), T_WAIT));
		snprintf(want, sizeof(want),
		    "{\"epoch\":%llu,\"seq\":0,\"data\":\"bg-0\"}", w_epoch());
		cr_assert_str_eq(line, want);
		hc_close(&h);
	}
	/* Two requests pipelined on one connection, the first with a body. */
	snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 4\r\n\r\nbodyGET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	{
		int fd = tcp_connect(bp.port);
		char big[8192];

		cr_assert_eq(send(fd, req, strlen(req), MSG_NOSIGNAL),
		    (ssize_t)strlen(req));
		st = read_response(fd, big, sizeof(big));
		close(fd);
		cr_assert_eq(st, 200);
		cr_assert(strstr(strstr(big, "\r\n\r\n"), "HTTP/1.1 200") !=
		    NULL, "second pipelined answer: %s", big);
	}
	assert_alive("pipelining");
	background_check();
}

/* How many responses a connection got (status lines in resp). */
static int
responses(const char *resp)
{
	int n = 0;

	for (const char *p = resp; (p = strstr(p, "HTTP/1.1 ")) != NULL; p++)
		n++;
	return n;
}

/* Issue 13, RFC 9110/9112: each case failed before. */
Test(hostile, rfc9112_framing, .init = init_matrix)
{
	char resp[8192], req[1024], path[200];
	const char *body;
	int st;

	/*
	 * HEAD on a stream: headers only. libmicrohttpd sent "0\r\n\r\n"
	 * after them, which a keep-alive client (Node's http) read as the
	 * start of the next response. A GET pipelined behind it gets either
	 * its own answer or the close, never stray bytes.
	 */
	snprintf(req, sizeof(req), "HEAD /rings/%s/stream HTTP/1.1\r\n"
	    "Host: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n", ring);
	st = raw_reqs(req, resp, sizeof(resp));
	cr_assert_eq(st, 200, "%s", resp);
	body = strstr(resp, "\r\n\r\n") + 4;
	cr_assert(*body == '\0' || strncmp(body, "HTTP/1.1 200", 12) == 0,
	    "bytes after the HEAD answer: %s", body);
	cr_assert(strstr(resp, "text/event-stream") != NULL, "%s", resp);
	/* Content-Length and Transfer-Encoding: 400, closed, and the
	 * request pipelined behind it is not served. */
	snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
	    "\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	st = raw_reqs(req, resp, sizeof(resp));
	cr_assert_eq(st, 400, "CL+TE: %s", resp);
	cr_assert_eq(responses(resp), 1, "smuggled request served: %s", resp);
	cr_assert(strstr(resp, "Connection: close") != NULL, "%s", resp);
	assert_alive("CL+TE");
	/* Two Content-Lengths (libmicrohttpd used the first). */
	snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 0\r\nContent-Length: 44\r\n\r\n"
	    "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	st = raw_reqs(req, resp, sizeof(resp));
	cr_assert_eq(st, 400, "two Content-Lengths: %s", resp);
	cr_assert_eq(responses(resp), 1, "%s", resp);
	/* Host: none or two in HTTP/1.1 is 400; HTTP/1.0 needs none. */
	EXPECT(raw_reqs("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
	    resp, sizeof(resp)), "no Host", 400);
	EXPECT(raw_reqs("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n"
	    "Connection: close\r\n\r\n", resp, sizeof(resp)), "two Hosts",
	    400);
	EXPECT(raw_reqs("GET /healthz HTTP/1.0\r\n\r\n", resp, sizeof(resp)),
	    "HTTP/1.0 without Host", 200);
	/* The absolute form of the target is accepted. */
	snprintf(path, sizeof(path), "http://127.0.0.1:%d/rings/%s", bp.port,
	    ring);
	EXPECT(req3("GET", path, NULL, resp, sizeof(resp)), "absolute form",
	    200);
	cr_assert(strstr(resp, "\"next_seq\"") != NULL, "%s", resp);
	EXPECT(req3("GET", "HTTP://example.org/healthz", NULL, resp,
	    sizeof(resp)), "absolute form, other authority", 200);
	EXPECT(req3("GET", "http://example.org", NULL, resp, sizeof(resp)),
	    "absolute form without a path", 200);
	snprintf(path, sizeof(path), "http://127.0.0.1:%d/rings/%s/stream?"
	    "from=oldest&format=ndjson", bp.port, ring);
	{
		struct hc h;
		char line[256], want[128];

		cr_assert_eq(hc_connect(&h, bp.port, 0), 0);
		cr_assert_eq(hc_get(&h, path, NULL), 0);
		cr_assert(hc_wait_headers(&h, T_WAIT));
		cr_assert_eq(h.status, 200);
		cr_assert(hc_line_wait(&h, line, sizeof(line), T_WAIT));
		snprintf(want, sizeof(want),
		    "{\"epoch\":%llu,\"seq\":0,\"data\":\"bg-0\"}", w_epoch());
		cr_assert_str_eq(line, want);
		hc_close(&h);
	}
	/* %00 anywhere in the target: 400, not a name cut short. */
	snprintf(path, sizeof(path), "/rings/%s%%00junk/stream", ring);
	EXPECT(req3("GET", path, NULL, resp, sizeof(resp)), "%00 in a name",
	    400);
	snprintf(path, sizeof(path), "/rings/%s%%00junk", ring);
	EXPECT(req3("GET", path, NULL, resp, sizeof(resp)), "%00 in a name",
	    400);
	snprintf(path, sizeof(path), "/rings/%s/stream?format=sse%%00x", ring);
	EXPECT(req3("GET", path, NULL, resp, sizeof(resp)), "%00 in a query",
	    400);
	background_check();
}

/* Accept chooses the format when ?format= is absent (issue 13). */
Test(hostile, accept_negotiation, .init = init_matrix)
{
	static const struct {
		const char	*query, *accept, *ctype;
	} cases[] = {
		{ "", "application/x-ndjson", "application/x-ndjson" },
		{ "", "application/ndjson", "application/x-ndjson" },
		{ "", "application/octet-stream", "application/octet-stream" },
		{ "", "text/event-stream", "text/event-stream" },
		{ "", "*/*", "text/event-stream" },
		{ "", "application/json", "text/event-stream" },
		{ "", "text/event-stream;q=0.5, application/x-ndjson",
		    "application/x-ndjson" },
		{ "", "application/x-ndjson;q=0, application/octet-stream;q=0.1",
		    "application/octet-stream" },
		{ "", "APPLICATION/X-NDJSON ; q=1", "application/x-ndjson" },
		{ "?format=sse", "application/x-ndjson", "text/event-stream" },
		{ "?format=raw", "text/event-stream", "application/octet-stream" },
	};
	char path[300], accept[160], ctype[128], what[600];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hc h;

		snprintf(path, sizeof(path), "/rings/%s/stream%s", quiet,
		    cases[i].query);
		snprintf(accept, sizeof(accept), "Accept: %s\r\n",
		    cases[i].accept);
		snprintf(what, sizeof(what), "%s with %s", path,
		    cases[i].accept);
		cr_assert_eq(hc_connect(&h, bp.port, 0), 0);
		cr_assert_eq(hc_get(&h, path, accept), 0);
		cr_assert(hc_wait_headers(&h, T_WAIT), "%s", what);
		cr_assert_eq(h.status, 200, "%s", what);
		cr_assert_not_null(hc_header(&h, "Content-Type", ctype,
		    sizeof(ctype)), "%s", what);
		cr_assert(strncmp(ctype, cases[i].ctype,
		    strlen(cases[i].ctype)) == 0, "%s: %s", what, ctype);
		hc_close(&h);
	}
	assert_alive("Accept");
	background_check();
}

Test(hostile, sequence_numbers, .init = init_matrix)
{
	static const struct {
		const char	*query;
		const char	*hdr;
		int		 st;
	} cases[] = {
		{ "?from=-1", NULL, 400 },
		{ "?from=-0", NULL, 400 },
		{ "?from=+1", NULL, 400 },
		{ "?from=%2d1", NULL, 400 },
		{ "?from=0x10", NULL, 400 },
		{ "?from=1e3", NULL, 400 },
		{ "?from=%20%31", NULL, 400 },
		{ "?from=", NULL, 400 },
		{ "?from=18446744073709551615", NULL, 400 },
		{ "?from=18446744073709551616", NULL, 400 },
		{ "?from=99999999999999999999999999", NULL, 400 },
		{ "?from=184467440737095516150", NULL, 400 },
		{ "?from=9223372036854775808", NULL, 400 },
		{ "", "Last-Event-ID: -1\r\n", 400 },
		{ "", "Last-Event-ID: 1:-1\r\n", 400 },
		{ "", "Last-Event-ID: -1:5\r\n", 400 },
		{ "", "Last-Event-ID: 1:18446744073709551616\r\n", 400 },
		{ "", "Last-Event-ID: 18446744073709551615:0\r\n", 400 },
		{ "", "Last-Event-ID: 18446744073709551616:0\r\n", 400 },
		{ "", "Last-Event-ID: 1:1:1\r\n", 400 },
		{ "", "Last-Event-ID: 1:\r\n", 400 },
		{ "", "Last-Event-ID: :\r\n", 400 },
		{ "", "Last-Event-ID: 1: 2\r\n", 400 },
		{ "?last_event_id=1:-5", NULL, 400 },
		{ "?last_event_id=1%3a99999999999999999999", NULL, 400 },
		{ "?last_event_id=abc", NULL, 400 },
		/* a valid id wins over from= */
		{ "?from=junk&last_event_id=1:0", NULL, 200 },
		{ "?from=0", NULL, 200 },
		{ "?from=oldest&from=-1", NULL, 200 },
	};
	char resp[4096], path[300], what[400];
	int st;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hc h;

		snprintf(path, sizeof(path), "/rings/%s/stream%s", ring,
		    cases[i].query);
		snprintf(what, sizeof(what), "%s %s", path, cases[i].hdr ?
		    cases[i].hdr : "");
		if (cases[i].st != 200) {
			st = req3("GET", path, cases[i].hdr, resp,
			    sizeof(resp));
			cr_assert_eq(st, cases[i].st, "%s: %d %s", what, st,
			    resp);
			assert_alive(what);
			continue;
		}
		cr_assert_eq(hc_connect(&h, bp.port, 0), 0);
		cr_assert_eq(hc_get(&h, path, cases[i].hdr), 0);
		cr_assert(hc_wait_headers(&h, T_WAIT));
		cr_assert_eq(h.status, 200, "%s: %d", what, h.status);
		hc_close(&h);
		assert_alive(what);
	}
	/* Ids of this ring's epoch (creation time): a sequence number
	 * beyond any, and an epoch newer than the ring's. */
	for (int i = 0; i < 2; i++) {
		char hdr[96];

		snprintf(hdr, sizeof(hdr), i == 0 ?
		    "Last-Event-ID: %llu:18446744073709551615\r\n" :
		    "Last-Event-ID: %llu:0\r\n", w_epoch() + (i == 0 ? 0 : 1));
		snprintf(path, sizeof(path), "/rings/%s/stream", ring);
		st = req3("GET", path, hdr, resp, sizeof(resp));
		cr_assert_eq(st, 400, "%s: %d %s", hdr, st, resp);
		assert_alive(hdr);
	}
	background_check();
}

/* Streams past --max-clients: 503 + Retry-After; other routes still work. */
Test(hostile, stream_flood_past_max_clients, .init = init_matrix)
{
	struct hc hs[MAXC];
	char path[200], body[512], hdrs[2048];
	int n, st;

	snprintf(path, sizeof(path), "/rings/%s/stream", quiet);
	/* The background stream is one of the MAXC. */
	for (n = 0; n < MAXC - 1; n++) {
		cr_assert_eq(hc_connect(&hs[n], bp.port, 0), 0);
		cr_assert_eq(hc_get(&hs[n], path, NULL), 0);
		cr_assert(hc_wait_headers(&hs[n], T_WAIT));
		cr_assert_eq(hs[n].status, 200, "stream %d: %d", n,
		    hs[n].status);
	}
	for (int i = 0; i < 20; i++) {
		st = http_request(bp.port, "GET", path, NULL, body,
		    sizeof(body), hdrs, sizeof(hdrs));
		cr_assert_eq(st, 503, "stream %d past the limit: %d", i, st);
		cr_assert(strstr(hdrs, "Retry-After:") != NULL, "%s", hdrs);
		cr_assert(strstr(body, "too many streams") != NULL, "%s",
		    body);
	}
	assert_alive("503 flood");
	cr_assert_eq(http_request(bp.port, "GET", "/healthz", NULL, body,
	    sizeof(body), NULL, 0), 200);
	cr_assert_eq(http_request(bp.port, "GET", "/metrics", NULL, body,
	    sizeof(body), NULL, 0), 200);
	/* One ends: its slot is free again (once the bridge has seen it). */
	hc_close(&hs[0]);
	for (int tries = 0; ; tries++) {
		struct hc h;

		cr_assert_lt(tries, 2000, "the freed slot never came back");
		cr_assert_eq(hc_connect(&h, bp.port, 0), 0);
		cr_assert_eq(hc_get(&h, path, NULL), 0);
		cr_assert(hc_wait_headers(&h, T_WAIT));
		if (h.status == 200) {
			hs[0] = h;
			break;
		}
		cr_assert_eq(h.status, 503);
		hc_close(&h);
		usleep(10000);
	}
	for (n = 0; n < MAXC - 1; n++)
		hc_close(&hs[n]);
	background_check();
}

/*
 * TCP connections past libmicrohttpd's own limit (--max-clients + 64):
 * libmicrohttpd stops accepting, so they wait in the listen backlog and
 * are served in turn as others end. Every one of them gets its answer,
 * and the running stream does not notice.
 */
Test(hostile, connection_flood_past_mhd_limit, .init = init_matrix)
{
	enum { EXTRA = 300 };
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n";
	int fds[EXTRA], st;
	char resp[1024];

	for (int i = 0; i < EXTRA; i++) {
		fds[i] = tcp_connect(bp.port);
		cr_assert_eq(send(fds[i], req, sizeof(req) - 1, MSG_NOSIGNAL),
		    (ssize_t)sizeof(req) - 1);
	}
	assert_alive("connection flood");
	/* Read them last first: the queued ones are answered meanwhile. */
	for (int i = EXTRA - 1; i >= 0; i--) {
		st = read_response(fds[i], resp, sizeof(resp));
		cr_assert_eq(st, 200, "connection %d of the flood: %d", i, st);
		close(fds[i]);
	}
	assert_alive("connection flood");
	background_check();
}

/*
 * Slowloris: connections that trickle their headers hold a connection
 * slot each but never the event loop; completed late they are answered,
 * headers grown past the connection's memory get 431, and others are
 * served all along.
 */
Test(hostile, slowloris_trickle, .init = init_matrix)
{
	enum { N = 24 };
	static const char head[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
	int fds[N];
	char resp[4096], body[256];
	int st;

	for (int i = 0; i < N; i++) {
		fds[i] = tcp_connect(bp.port);
		cr_assert_eq(send(fds[i], head, sizeof(head) - 1,
		    MSG_NOSIGNAL), (ssize_t)sizeof(head) - 1);
	}
	/* 300 rounds, one byte per connection each, with normal requests. */
	for (int r = 0; r < 300; r++) {
		for (int i = 0; i < N; i++) {
			char c = (char)("X-Trickle: abcdefgh\r\n"[r % 21]);

			cr_assert_eq(send(fds[i], &c, 1, MSG_NOSIGNAL), 1,
			    "connection %d closed early", i);
		}
		if (r % 50 == 0) {
			cr_assert_eq(http_request(bp.port, "GET", "/healthz",
			    NULL, body, sizeof(body), NULL, 0), 200);
			assert_alive("slowloris round");
		}
	}
	/* 300 bytes = 14 headers + "X-Tr": finish it, then end the block. */
	for (int i = 0; i < N / 2; i++) {
		static const char tail[] = ": x\r\nConnection: close\r\n\r\n";

		cr_assert_eq(send(fds[i], tail, sizeof(tail) - 1,
		    MSG_NOSIGNAL), (ssize_t)sizeof(tail) - 1);
		st = read_response(fds[i], resp, sizeof(resp));
		cr_assert_eq(st, 200, "completed slow request %d: %d", i, st);
		close(fds[i]);
	}
	/* The others keep one header growing until it does not fit. */
	for (int i = N / 2; i < N; i++) {
		char chunk[1024];
		int sent = 0;

		memset(chunk, 'z', sizeof(chunk));
		while (sent < 64 * 1024) {
			if (send(fds[i], chunk, sizeof(chunk), MSG_NOSIGNAL) <=
			    0)
				break;
			sent += (int)sizeof(chunk);
		}
		st = read_response(fds[i], resp, sizeof(resp));
		cr_assert(st == 431 || st == CLOSED, "grown header %d: %d", i,
		    st);
		close(fds[i]);
	}
	assert_alive("slowloris");
	background_check();
}

/* ---- slowloris from several addresses --------------------------------- */

enum { SLOW_N = 300 };
static int slow_fds[SLOW_N];
static atomic_bool slow_stop;

/* Connect from 127.0.0.<host> (any 127/8 address is local). */
static int
tcp_connect_from(int port, int host)
{
	struct sockaddr_in sa = { .sin_family = AF_INET }, me = sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK + (uint32_t)host - 1);
	cr_assert_eq(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0,
	    "bind 127.0.0.%d: %s", host, strerror(errno));
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
	    "connect: %s", strerror(errno));
	return fd;
}

/* One byte of a header to every slow connection, every 300 ms. */
static void *
trickle_main(void *arg)
{
	struct timespec ts = { 0, 300000000 };

	(void)arg;
	while (!atomic_load(&slow_stop)) {
		for (int i = 0; i < SLOW_N; i++)
			if (slow_fds[i] >= 0 && send(slow_fds[i], "a", 1,
			    MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
			    errno != EAGAIN)
				slow_fds[i] = -slow_fds[i] - 2;	/* cut */
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void
init_slowloris(void)
{
	static const char *const extra[] = { "--max-clients", "100",
	    "--threads", "1", "--header-timeout", "3", NULL };

	init_matrix_args(extra);
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Issue 13: 300 connections sending their request heads a byte at a time
 * (half from 127.0.0.1, half from 127.0.0.2-4) against --max-clients 100:
 * more than libmicrohttpd's connection limit (164), which then stopped
 * accepting, and /healthz, /metrics and new streams waited in the listen
 * backlog for as long as the slow clients kept trickling (5 of 12 timed
 * out). Now slow heads are cut when slots run short, per address, and
 * after --header-timeout: every normal request is answered within a few
 * seconds and every slow connection is closed.
 */
Test(hostile, slowloris_many_addresses, .init = init_slowloris,
    .timeout = 180)
{
	static const char head[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-S: ";
	pthread_t thr;
	char body[512], path[200];
	double worst = 0;
	int open_left = 0;

	for (int i = 0; i < SLOW_N; i++) {
		slow_fds[i] = tcp_connect_from(bp.port, i < SLOW_N / 2 ? 1 :
		    2 + i % 3);
		cr_assert_eq(send(slow_fds[i], head, sizeof(head) - 1,
		    MSG_NOSIGNAL), (ssize_t)sizeof(head) - 1);
	}
	atomic_store(&slow_stop, false);
	cr_assert_eq(pthread_create(&thr, NULL, trickle_main, NULL), 0);
	snprintf(path, sizeof(path), "/rings/%s/stream", quiet);
	for (int i = 0; i < 12; i++) {
		const char *what = i % 3 == 0 ? "/healthz" : i % 3 == 1 ?
		    "/metrics" : path;
		double t0 = mono_s(), dt;
		struct hc h;

		if (i % 3 != 2) {
			cr_assert_eq(http_request(bp.port, "GET", what, NULL,
			    body, sizeof(body), NULL, 0), 200, "%s", what);
		} else {
			cr_assert_eq(hc_connect(&h, bp.port, 0), 0);
			cr_assert_eq(hc_get(&h, what, NULL), 0);
			cr_assert(hc_wait_headers(&h, T_WAIT), "new stream");
			cr_assert_eq(h.status, 200);
			hc_close(&h);
		}
		dt = mono_s() - t0;
		if (dt > worst)
			worst = dt;
		usleep(200000);
	}
	/* The grace for a slow head is 1 s, checks run every 100 ms. */
	cr_assert_lt(worst, 5.0, "a normal request waited %.1f s", worst);
	/* --header-timeout 3: by now every slow one was cut. */
	usleep(4000000);
	atomic_store(&slow_stop, true);
	pthread_join(thr, NULL);
	for (int i = 0; i < SLOW_N; i++) {
		int fd = slow_fds[i] >= 0 ? slow_fds[i] : -slow_fds[i] - 2;
		char c;

		if (slow_fds[i] >= 0 && recv(fd, &c, 1, MSG_DONTWAIT) < 0 &&
		    errno == EAGAIN)
			open_left++;
		close(fd);
	}
	cr_assert_eq(open_left, 0, "%d slow connections still open",
	    open_left);
	cr_assert_eq(http_request(bp.port, "GET", "/metrics", NULL, body,
	    sizeof(body), NULL, 0), 200);
	assert_alive("slowloris from several addresses");
	background_check();
}

static void
init_slow_per_ip(void)
{
	static const char *const extra[] = { "--threads", "1",
	    "--header-timeout", "60", "--slow-per-ip", "2", NULL };

	init_matrix_args(extra);
}

/* 1 if fd's peer closed it (EOF or reset), 0 if it is still open. */
static int
peer_closed(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/*
 * --slow-per-ip N (it was a constant, 16): beyond N connections of one
 * address waiting for their request heads, its oldest are cut once they
 * waited the 1 s grace, long before --header-timeout; another address's
 * slow head and the youngest N stay.
 */
Test(hostile, slow_per_ip_option, .init = init_slow_per_ip, .timeout = 60)
{
	static const char head[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-S: ";
	int fds[5], other;

	for (int i = 0; i < 5; i++) {
		fds[i] = tcp_connect_from(bp.port, 1);
		cr_assert_eq(send(fds[i], head, sizeof(head) - 1,
		    MSG_NOSIGNAL), (ssize_t)sizeof(head) - 1);
		usleep(50000);	/* oldest first, whatever the load */
	}
	other = tcp_connect_from(bp.port, 2);
	cr_assert_eq(send(other, head, sizeof(head) - 1, MSG_NOSIGNAL),
	    (ssize_t)sizeof(head) - 1);
	for (int i = 0; i < 100 && !(peer_closed(fds[0]) &&
	    peer_closed(fds[1]) && peer_closed(fds[2])); i++)
		usleep(100000);
	for (int i = 0; i < 3; i++)
		cr_assert(peer_closed(fds[i]), "slow head %d of 127.0.0.1 "
		    "still open", i);
	/* The checks run every 100 ms: a cut too many would show now. */
	usleep(500000);
	for (int i = 3; i < 5; i++)
		cr_assert(!peer_closed(fds[i]), "slow head %d cut, only 3 of "
		    "5 were over --slow-per-ip 2", i);
	cr_assert(!peer_closed(other), "127.0.0.2's only slow head was cut");
	for (int i = 0; i < 5; i++)
		close(fds[i]);
	close(other);
	assert_alive("--slow-per-ip 2");
}

/* Stalled partial requests are closed by the connection timeout. */
Test(hostile, slowloris_stalled_closed, .init = init_slow)
{
	enum { N = 16 };
	static const char part[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A";
	static const char nul_first[] = "\0\0\0\0GET / HTTP/1.1\r\n\r\n";
	int fds[N];
	char resp[512], body[256];

	for (int i = 0; i < N - 2; i++) {
		fds[i] = tcp_connect(bp.port);
		cr_assert_eq(send(fds[i], part, sizeof(part) - 1,
		    MSG_NOSIGNAL), (ssize_t)sizeof(part) - 1);
	}
	/* A TLS hello on plain HTTP, NUL bytes before the method: held. */
	fds[N - 2] = tcp_connect(bp.port);
	cr_assert_eq(send(fds[N - 2], "\x16\x03\x01\x02\x00\x01\x00\x01\xfc"
	    "\x03\x03\r\n\r\n", 15, MSG_NOSIGNAL), 15);
	fds[N - 1] = tcp_connect(bp.port);
	cr_assert_eq(send(fds[N - 1], nul_first, sizeof(nul_first) - 1,
	    MSG_NOSIGNAL), (ssize_t)sizeof(nul_first) - 1);
	cr_assert_eq(http_request(bp.port, "GET", "/healthz", NULL, body,
	    sizeof(body), NULL, 0), 200);
	for (int i = 0; i < N; i++) {
		int st = read_response(fds[i], resp, sizeof(resp));

		cr_assert(st == CLOSED || st == 408 || st == 400,
		    "stalled %d: %d", i, st);
		close(fds[i]);
	}
	assert_alive("stalled requests");
	background_check();
}

Test(hostile, cors_preflight, .init = init_cors)
{
	char resp[4096], path[200];
	int st;

	snprintf(path, sizeof(path), "/rings/%s/stream", ring);
	st = req3("OPTIONS", path, "Origin: https://app.example\r\n"
	    "Access-Control-Request-Method: GET\r\n"
	    "Access-Control-Request-Headers: last-event-id\r\n", resp,
	    sizeof(resp));
	cr_assert_eq(st, 204, "%d %s", st, resp);
	cr_assert(strstr(resp, "Access-Control-Allow-Origin: "
	    "https://app.example\r\n") != NULL, "%s", resp);
	cr_assert(strstr(resp, "Access-Control-Allow-Methods: GET, HEAD, "
	    "OPTIONS") != NULL, "%s", resp);
	cr_assert(strstr(resp, "Access-Control-Allow-Headers: "
	    "Authorization, Last-Event-ID") != NULL, "%s", resp);
	/* The origin is the configured one whoever asks. */
	st = req3("OPTIONS", path, "Origin: https://evil.example\r\n", resp,
	    sizeof(resp));
	cr_assert_eq(st, 204);
	cr_assert(strstr(resp, "evil") == NULL, "%s", resp);
	/* A preflight with a body, and one for an unknown path. */
	EXPECT(req3("OPTIONS", "/nowhere", "Content-Length: 3\r\n\r\nabc",
	    resp, sizeof(resp)), "OPTIONS with a body", 204, 400);
	st = req3("GET", "/healthz", "Origin: https://app.example\r\n", resp,
	    sizeof(resp));
	cr_assert_eq(st, 200);
	cr_assert(strstr(resp, "Access-Control-Allow-Origin: "
	    "https://app.example") != NULL, "%s", resp);
	st = req3("HEAD", path, NULL, resp, sizeof(resp));
	cr_assert_eq(st, 200);
	cr_assert(strstr(resp, "Access-Control-Allow-Origin") != NULL);
	assert_alive("CORS");
	background_check();
}

/* ---- a bridge killed with SIGKILL ------------------------------------- */

static struct bridge_proc bp2;

static void
failover_fini(void)
{
	if (bp2.pid > 0) {
		int st = bridge_stop(&bp2);

		cr_expect_eq(st, 0, "second bridge exit status %d", st);
		cr_expect_eq(bridge_sanitizer_report(&bp2), 0,
		    "sanitizer report in %s", bp2.errpath);
	}
	unlink(bp2.errpath);
	teardown();
}

/* Read n messages "f-<seq>" in order starting at *next; false on EOF. */
static bool
read_in_order(struct hc *h, uint64_t *next, uint64_t upto)
{
	struct sse_event ev;
	char id[64], data[64];
	unsigned long long ep = w_epoch();

	while (*next < upto) {
		if (!hc_sse_wait(h, &ev, T_WAIT))
			return false;
		snprintf(id, sizeof(id), "%llu:%" PRIu64, ep, *next);
		snprintf(data, sizeof(data), "f-%" PRIu64, *next);
		cr_assert_str_eq(ev.type, "message", "at %" PRIu64, *next);
		cr_assert_str_eq(ev.id, id, "duplicate or loss at %" PRIu64,
		    *next);
		cr_assert_str_eq(ev.data, data);
		(*next)++;
	}
	return true;
}

static void
fpub(uint64_t n)
{
	char msg[64];
	uint64_t seq;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t want = atomic_load(&published);
		int k = snprintf(msg, sizeof(msg), "f-%" PRIu64, want);

		cr_assert_eq(shmr_writer_publish(w, msg, (size_t)k, &seq), 0,
		    "the producer noticed: publish failed");
		cr_assert_eq(seq, want);
		atomic_store(&published, seq + 1);
	}
}

/*
 * Two bridges serve one ring. Bridge A is killed with SIGKILL while a
 * client streams from it and the producer keeps publishing: the producer
 * and bridge B do not notice (B's client gets every message), and A's
 * client reconnects to B with Last-Event-ID and resumes exactly after
 * the last event it had: no loss, no duplicate.
 */
Test(failover, sigkill_bridge_resume_elsewhere, .fini = failover_fini)
{
	struct hc ha, hb, hr;
	uint64_t next_a = 0, next_b = 0, next_r;
	char path[160], extra[96], body[4096];
	int st;

	mkname(ring, sizeof(ring), "r");
	mkname(quiet, sizeof(quiet), "q");
	create_ring(ring, 1 << 20, &w);
	create_ring(quiet, 64 << 10, &wq);
	atomic_store(&published, 0);
	start_bridge(&bp, NULL);
	start_bridge(&bp2, NULL);
	snprintf(path, sizeof(path), "/rings/%s/stream?from=oldest", ring);
	cr_assert_eq(hc_connect(&ha, bp.port, 0), 0);
	cr_assert_eq(hc_get(&ha, path, NULL), 0);
	cr_assert_eq(hc_connect(&hb, bp2.port, 0), 0);
	cr_assert_eq(hc_get(&hb, path, NULL), 0);
	fpub(500);
	cr_assert(read_in_order(&ha, &next_a, 300));
	cr_assert(read_in_order(&hb, &next_b, 500));
	/* SIGKILL bridge A mid-stream; publish on at once. */
	cr_assert_eq(kill(bp.pid, SIGKILL), 0);
	fpub(1000);
	cr_assert_eq(waitpid(bp.pid, &st, 0), bp.pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	bp.pid = 0;
	fpub(1000);
	/* B and its client did not notice. */
	cr_assert(read_in_order(&hb, &next_b, 2500), "bridge B's client "
	    "stopped at %" PRIu64, next_b);
	cr_assert_eq(http_request(bp2.port, "GET", "/healthz", NULL, body,
	    sizeof(body), NULL, 0), 200);
	/* A's client drains what reached it, then sees the end. */
	(void)read_in_order(&ha, &next_a, 2500);
	cr_assert(hc_wait_end(&ha, T_WAIT), "A's stream did not end");
	cr_assert_lt(next_a, 2500, "A died before sending everything");
	cr_assert(!ha.clean_end, "a killed bridge cannot end cleanly");
	/* Reconnect to B with the last id seen. */
	snprintf(extra, sizeof(extra), "Last-Event-ID: %s\r\n", ha.last_id);
	cr_assert_eq(strtoull(strchr(ha.last_id, ':') + 1, NULL, 10),
	    next_a - 1);
	hc_close(&ha);
	snprintf(path, sizeof(path), "/rings/%s/stream", ring);
	cr_assert_eq(hc_connect(&hr, bp2.port, 0), 0);
	cr_assert_eq(hc_get(&hr, path, extra), 0);
	cr_assert(hc_wait_headers(&hr, T_WAIT));
	cr_assert_eq(hr.status, 200);
	next_r = next_a;
	fpub(500);
	cr_assert(read_in_order(&hr, &next_r, 3000), "resumed client "
	    "stopped at %" PRIu64, next_r);
	cr_assert(read_in_order(&hb, &next_b, 3000));
	/* Nothing more: no duplicate after the end either. */
	{
		struct sse_event ev;

		cr_assert_eq(hc_sse_next(&hr, &ev), 0);
	}
	hc_close(&hr);
	hc_close(&hb);
	cr_assert_eq(bridge_sanitizer_report(&bp2), 0);
}
