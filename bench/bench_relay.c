/*
 * bench_relay.c - ringrelay(8) end to end, against the engine's own limit
 * and against ringbridge's raw stream used as a relay (`make bench`; a
 * report, not a test). In one run, on one host (the mirror ring has
 * another name than the origin; the path is the same as between hosts):
 *
 *	relay	origin ring -> ringrelay push -> nats-server -> ringrelay pull
 *		-> mirror ring -> a reader here: sustained msg/s and MB/s at
 *		offered rates, with the loss counted (exactly, from the seqs),
 *		and p50/p99 publish-to-delivery latency at 10k msg/s
 *	engine	nats.c async JetStream publisher + ordered consumer moving the
 *		same bytes in the same stream-message size
 *	bridge	origin ring -> ringbridge raw stream -> a client here that
 *		publishes into a mirror ring at the carried seqs -> a reader
 *	origin	the producer's publish rate alone and with push + pull
 *		attached
 *
 * Rates are sustained: messages delivered over the time from the first
 * publish to the last delivery.
 *
 * usage: bench_relay [--quick] [--only relay|engine|bridge|origin]
 * (BENCH_RELAY_BIN: the ringrelay to run, default this build's)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "shmring.h"

#ifndef BIN_DIR
#define BIN_DIR "build/bin"
#endif

static int quick;
static const char *only;	/* one kind of case, or all */
/* BENCH_RELAY_BIN: another ringrelay (a before/after pair in one run). */
static char *relay_bin = BIN_DIR "/ringrelay";
static int nats_port;
static char tmpdir[64];
static pid_t nats_pid;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
		perror("bench_relay: port");
		exit(1);
	}
	p = ntohs(a.sin_port);
	close(fd);
	return p;
}

static int
port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/*
 * How the relay's processes run beside the origin producer (case_origin):
 * as started (nice 0, any CPU), on the other CPU (the producer pinned to
 * CPU 0, everything else to CPU 1: what is left is the protocol's cost,
 * not CPU sharing), or below it (push at nice 10 as the docs' unit sets
 * it; pull and nats-server, which the docs put on other hosts, at nice 19
 * as the closest stand-in on one machine).
 */
enum setup { SETUP_PLAIN, SETUP_PINNED, SETUP_NICE };
static enum setup setup;
#define PUSH_NICE	10	/* docs/ringrelay-push@.service Nice= */
#define AWAY_NICE	19

/* Put pid (0: this thread) on cpu, or on any CPU for -1. */
static void
pin(pid_t pid, int cpu)
{
	cpu_set_t cs;

	CPU_ZERO(&cs);
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (cpu < 0 ? i < sysconf(_SC_NPROCESSORS_ONLN) : i == cpu)
			CPU_SET(i, &cs);
	sched_setaffinity(pid, sizeof(cs), &cs);
}

/* A relay process (push: 1, pull: 0) as the setup wants it. */
static void
place(pid_t pid, int is_push)
{
	if (setup == SETUP_NICE) {
		struct sched_param sp = { .sched_priority = 0 };

		/* batch: no wake-up preemption of the producer */
		sched_setscheduler(pid, SCHED_BATCH, &sp);
		setpriority(PRIO_PROCESS, (id_t)pid, is_push ? PUSH_NICE :
		    AWAY_NICE);
	}
	else if (setup == SETUP_PINNED)
		pin(pid, 1);
}

static pid_t
spawn(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (getenv("BENCH_RELAY_VERBOSE") == NULL && fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Stop a child; the CPU seconds it used (user + system). */
static double
stop(pid_t pid)
{
	struct rusage ru;

	if (pid <= 0)
		return 0;
	memset(&ru, 0, sizeof(ru));
	kill(pid, SIGTERM);
	for (int i = 0; i < 50; i++) {
		if (wait4(pid, NULL, WNOHANG, &ru) == pid)
			goto done;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	wait4(pid, NULL, 0, &ru);
done:
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
start_nats(void)
{
	char port[16], store[96];
	char *argv[] = { "/usr/sbin/nats-server", "-a", "127.0.0.1", "-p",
	    port, "-js", "-sd", store, NULL };

	if (access(argv[0], X_OK) != 0)
		argv[0] = "/usr/bin/nats-server";
	strcpy(tmpdir, "/tmp/bench_relay.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	nats_port = free_port();
	snprintf(port, sizeof(port), "%d", nats_port);
	snprintf(store, sizeof(store), "%s/js", tmpdir);
	nats_pid = spawn(argv);
	for (int i = 0; i < 100 && !port_open(nats_port); i++)
		usleep(50000);
}

/* ---- a reader of the mirror ring, in a thread ------------------------- */

struct rd {
	char		 name[64];
	uint64_t	 want;		/* stop after this sequence number */
	uint64_t	 got, lost, bytes;
	uint64_t	 first_ns, last_ns;
	uint64_t	*lat;		/* latencies, if the payload has a ts */
	size_t		 nlat, maxlat;
	int		 bad;
	uint64_t	 from;		/* measured from this seq on */
	atomic_int	 warm;
	atomic_int	 stop;
};

/* One message the reader got: count it, check its seq, take its latency. */
static void
reader_msg(struct rd *r, const struct shmr_msg *m, uint64_t *expect,
    uint64_t t)
{
	if (*expect != UINT64_MAX && m->seq != *expect)
		r->bad++;
	*expect = m->seq + 1;
	if (r->got == 0)
		r->first_ns = t;
	r->last_ns = t;
	r->got++;
	r->bytes += m->len;
	if (r->lat != NULL && r->nlat < r->maxlat && m->len >= 8) {
		uint64_t ts;

		memcpy(&ts, m->data, 8);
		r->lat[r->nlat++] = t - ts;
	}
}

/*
 * Drain the mirror as a fast consumer would: batches of up to 64 KiB with
 * one synchronisation each (shmr_cursor_read_batch()), so the bench's own
 * reading takes as little of the 2 CPUs as it can.
 */
static void *
reader(void *arg)
{
	static _Thread_local unsigned char buf[64 << 10];
	static _Thread_local struct shmr_msg ms[1024];
	struct rd *r = arg;
	struct shmr_ring *ring = NULL;
	struct shmr_cursor c;
	uint64_t expect = UINT64_MAX;
	size_t k;
	int rc;

	while (shmr_ring_open(r->name, NULL, &ring) < 0 ||
	    shmr_cursor_init(ring, &c, SHMR_FROM_OLDEST, 0) < 0) {
		shmr_ring_close(ring);
		ring = NULL;
		if (atomic_load(&r->stop))
			return NULL;
		usleep(1000);
	}
	while (!atomic_load(&r->stop)) {
		rc = shmr_cursor_read_batch(ring, &c, buf, sizeof(buf), ms,
		    sizeof(ms) / sizeof(ms[0]), &k);
		if (rc == SHMR_MSG) {
			uint64_t t = now_ns();
			int done = 0;

			for (size_t i = 0; i < k && !done; i++) {
				if (ms[i].seq < r->from) {
					/* the pipeline is up */
					atomic_store(&r->warm, 1);
					continue;
				}
				reader_msg(r, &ms[i], &expect, t);
				done = ms[i].seq + 1 >= r->want;
			}
			if (done)
				break;
		} else if (rc == SHMR_OVERRUN) {
			r->lost += ms[0].lost;
			expect = ms[0].seq;
		} else if (rc == SHMR_EMPTY || rc == -EDEADLK || rc == -EAGAIN) {
			shmr_cursor_wait(ring, &c, 20, 0);
		} else {
			r->bad++;	/* no restarts in these runs */
			break;
		}
	}
	shmr_ring_close(ring);
	return NULL;
}

static int
cmp64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* ---- the producer --------------------------------------------------- */

/*
 * Publish n messages of len bytes at rate per second (0: flat out), in
 * batches of up to 1 ms worth; the first 8 bytes carry the publish time.
 * Returns the publish rate achieved.
 */
static double
produce(struct shmr_writer *w, uint64_t n, size_t len, double rate)
{
	static unsigned char buf[64][4096];
	struct shmr_iov iov[64];
	uint64_t t0 = now_ns(), done = 0;

	for (int i = 0; i < 64; i++) {
		memset(buf[i], 'a' + i % 26, sizeof(buf[i]));
		iov[i].data = buf[i];
		iov[i].len = len;
	}
	while (done < n) {
		size_t k = n - done < 64 ? (size_t)(n - done) : 64;
		uint64_t ts = now_ns();

		if (rate > 0) {
			uint64_t due = t0 + (uint64_t)((double)done / rate * 1e9);

			if (ts < due) {
				if (due - ts > 50000)
					usleep((useconds_t)((due - ts) / 1000));
				continue;
			}
			/* behind schedule: catch up by whole batches */
		}
		for (size_t i = 0; i < k; i++)
			memcpy(buf[i], &ts, 8);
		shmr_writer_publish_batch(w, iov, k, NULL);
		done += k;
	}
	return (double)n / ((double)(now_ns() - t0) / 1e9);
}

/* ---- cases ------------------------------------------------------------ */

struct relay {
	pid_t push, pull;
};

static void
relay_start(struct relay *rl, const char *origin, const char *mirror,
    const char *stream)
{
	char url[64], s1[80], s2[80], o[80], m[80];
	char *pa[] = { relay_bin, "push", o, "--nats", url,
	    "--stream", s1, "--max-bytes", "2G", "-q", NULL };
	char *pb[] = { relay_bin, "pull", m, "--nats", url,
	    "--stream", s2, "-q", NULL };

	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", nats_port);
	snprintf(s1, sizeof(s1), "%s", stream);
	snprintf(s2, sizeof(s2), "%s", stream);
	snprintf(o, sizeof(o), "%s", origin);
	snprintf(m, sizeof(m), "%s", mirror);
	rl->push = spawn(pa);
	rl->pull = spawn(pb);
	place(rl->push, 1);
	place(rl->pull, 0);
}

/* Stop both; the CPU seconds each used in *push, *pull (may be NULL). */
static void
relay_stop(struct relay *rl, double *push, double *pull)
{
	double a = stop(rl->push), b = stop(rl->pull);

	if (push != NULL)
		*push = a;
	if (pull != NULL)
		*pull = b;
}

/* One offered rate through the relay; prints a row. */
static void
case_relay(size_t len, double rate, double secs, int lat)
{
	static int n_case;
	char o[64], m[64], st[64];
	struct shmr_create_opts co = { .capacity = (uint64_t)256 << 20,
	    .gid = (gid_t)-1 };
	struct shmr_writer *w;
	struct relay rl;
	struct rd r;
	pthread_t th;
	uint64_t n = (uint64_t)(rate * secs), deadline, t_start;
	double pub, cpu_push, cpu_pull;

	n_case++;
	snprintf(o, sizeof(o), "bro.%d.%d", (int)getpid(), n_case);
	snprintf(m, sizeof(m), "brm.%d.%d", (int)getpid(), n_case);
	snprintf(st, sizeof(st), "BR_%d_%d", (int)getpid(), n_case);
	if (shmr_writer_create(o, &co, &w) < 0) {
		fprintf(stderr, "bench_relay: cannot create %s\n", o);
		exit(1);
	}
	relay_start(&rl, o, m, st);
	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", m);
	r.want = n + 1;
	r.from = 1;
	if (lat) {
		r.maxlat = n;
		r.lat = calloc(n, sizeof(uint64_t));
	}
	pthread_create(&th, NULL, reader, &r);
	/* One message through first: the stream, the mirror, the reader. */
	shmr_writer_publish(w, "warm-up.", 8, NULL);
	deadline = now_ns() + 30000000000ull;
	while (!atomic_load(&r.warm) && now_ns() < deadline)
		usleep(10000);
	t_start = now_ns();
	pub = produce(w, n, len, rate);
	deadline = now_ns() + 20000000000ull;
	while (r.got + r.lost < n && now_ns() < deadline)
		usleep(10000);
	atomic_store(&r.stop, 1);
	pthread_join(th, NULL);
	relay_stop(&rl, &cpu_push, &cpu_pull);
	{
		/* Sustained: from the first publish to the last delivery. */
		double el = r.got > 0 ? (double)(r.last_ns - t_start) / 1e9 : 0;
		double mps = el > 0 ? (double)r.got / el : 0;

		printf("| relay | %4zu B | %9.0f | %9.0f | %9.0f | %7.1f | "
		    "%" PRIu64 " | %" PRIu64 " / %" PRIu64 " |", len, rate, pub,
		    mps, mps * (double)len / 1e6, r.got, r.lost,
		    n - r.got - r.lost);
		if (lat && r.nlat > 0) {
			qsort(r.lat, r.nlat, sizeof(uint64_t), cmp64);
			printf(" %.2f / %.2f |", r.lat[r.nlat / 2] / 1e6,
			    r.lat[r.nlat * 99 / 100] / 1e6);
		} else {
			printf(" |");
		}
		/* CPU per message relayed: what the machine's noise moves
		 * least (the rates above share 2 CPUs with everything). */
		printf(" %.2f / %.2f |%s\n", r.got > 0 ? cpu_push * 1e6 /
		    (double)r.got : 0, r.got > 0 ? cpu_pull * 1e6 /
		    (double)r.got : 0, r.bad ? " SEQUENCE ERRORS" : "");
	}
	fflush(stdout);
	free(r.lat);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
	shmr_unlink(m);
}

/* The engine alone: the same payload bytes, the same message size. */
static void
case_engine(size_t len, size_t pack, uint64_t nring)
{
	char url[64], subj[96], name[64];
	natsConnection *pc = NULL, *sc = NULL;
	jsCtx *pjs = NULL, *sjs = NULL;
	natsSubscription *sub = NULL;
	jsStreamConfig cfg;
	jsStreamInfo *si = NULL;
	jsOptions jo;
	jsSubOptions so;
	const char *subjs[1];
	unsigned char *buf;
	size_t per = pack / (len + 4);
	uint64_t nmsg = nring / per, got = 0, t0, t1 = 0;
	natsMsg *m;

	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", nats_port);
	snprintf(name, sizeof(name), "BE_%d_%zu", (int)getpid(), len);
	snprintf(subj, sizeof(subj), "bench.%s", name);
	subjs[0] = subj;
	if (natsConnection_ConnectTo(&pc, url) != NATS_OK ||
	    natsConnection_ConnectTo(&sc, url) != NATS_OK) {
		fprintf(stderr, "bench_relay: engine: no connection\n");
		return;
	}
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = 256;
	natsConnection_JetStream(&pjs, pc, &jo);
	natsConnection_JetStream(&sjs, sc, NULL);
	jsStreamConfig_Init(&cfg);
	cfg.Name = name;
	cfg.Subjects = subjs;
	cfg.SubjectsLen = 1;
	cfg.MaxBytes = (int64_t)2 << 30;
	js_AddStream(&si, pjs, &cfg, NULL, NULL);
	jsStreamInfo_Destroy(si);
	jsSubOptions_Init(&so);
	so.Ordered = true;
	js_SubscribeSync(&sub, sjs, subj, NULL, &so, NULL);
	buf = malloc(pack);
	memset(buf, 'e', pack);
	t0 = now_ns();
	for (uint64_t i = 0; i < nmsg; i++) {
		while (js_PublishAsync(pjs, subj, buf, (int)(per * (len + 4)),
		    NULL) == NATS_TIMEOUT)
			;
		/* drain what arrived meanwhile, without waiting */
		while (natsSubscription_NextMsg(&m, sub, 0) == NATS_OK) {
			got++;
			natsMsg_Destroy(m);
			t1 = now_ns();
		}
	}
	while (got < nmsg && natsSubscription_NextMsg(&m, sub, 5000) ==
	    NATS_OK) {
		got++;
		natsMsg_Destroy(m);
		t1 = now_ns();
	}
	{
		double el = (double)(t1 - t0) / 1e9;
		double ring_msgs = (double)got * (double)per;

		printf("| engine | %4zu B | - | - | %9.0f | %7.1f | %" PRIu64
		    " | - / %" PRIu64 " | |\n", len, el > 0 ? ring_msgs / el : 0,
		    el > 0 ? ring_msgs * (double)len / el / 1e6 : 0,
		    (uint64_t)ring_msgs, (nmsg - got) * per);
	}
	fflush(stdout);
	free(buf);
	natsSubscription_Unsubscribe(sub);
	natsSubscription_Destroy(sub);
	js_DeleteStream(pjs, name, NULL, NULL);
	jsCtx_Destroy(pjs);
	jsCtx_Destroy(sjs);
	natsConnection_Destroy(pc);
	natsConnection_Destroy(sc);
}

struct prod {
	struct shmr_writer	*w;
	uint64_t		 n;
	size_t			 len;
	double			 rate;
};

static void *
producer(void *arg)
{
	struct prod *p = arg;

	produce(p->w, p->n, p->len, p->rate);
	return NULL;
}

/* ringbridge's raw stream as the relay: bridge -> client -> mirror. */
static void
case_bridge(size_t len, double rate, double secs)
{
	static int n_case;
	char o[64], m[64], lport[32], hdr[512];
	struct shmr_create_opts co = { .capacity = (uint64_t)256 << 20,
	    .gid = (gid_t)-1 };
	struct shmr_mirror_opts mo = { .epoch = 1, .origin = "bridge" };
	struct shmr_writer *w, *mw = NULL;
	struct sockaddr_in a = { .sin_family = AF_INET };
	uint64_t n = (uint64_t)(rate * secs), got = 0, t_first = 0,
	    t_last = 0, lost = 0;
	int port = free_port(), fd, started = 0;
	pid_t bridge;
	unsigned char *buf;
	size_t have = 0, cap = 1 << 22;
	char *argv[] = { BIN_DIR "/ringbridge", "-l", lport, "-r", o,
	    "--sndbuf", "0", NULL };

	n_case++;
	snprintf(o, sizeof(o), "bbo.%d.%d", (int)getpid(), n_case);
	snprintf(m, sizeof(m), "bbm.%d.%d", (int)getpid(), n_case);
	snprintf(lport, sizeof(lport), "127.0.0.1:%d", port);
	if (shmr_writer_create(o, &co, &w) < 0)
		return;
	bridge = spawn(argv);
	for (int i = 0; i < 100 && !port_open(port); i++)
		usleep(50000);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		stop(bridge);
		return;
	}
	snprintf(hdr, sizeof(hdr), "GET /rings/%s/stream?format=raw&"
	    "from=oldest&on_overrun=skip HTTP/1.0\r\n\r\n", o);	/* 1.0: not chunked */
	if (write(fd, hdr, strlen(hdr)) < 0)
		return;
	buf = malloc(cap);
	{
		uint64_t t0 = now_ns();
		struct shmr_info in;
		struct prod pr = { w, n, len, rate };
		pthread_t th;
		int body = 0;

		shmr_writer_info(w, &in);
		mo.epoch = in.epoch;
		t_first = now_ns();
		pthread_create(&th, NULL, producer, &pr);
		while (got + lost < n && now_ns() - t0 < (uint64_t)(secs +
		    20) * 1000000000ull) {
			ssize_t k;
			size_t off = 0;

			k = recv(fd, buf + have, cap - have, 0);
			if (k <= 0)
				break;
			have += (size_t)k;
			if (!body) {
				unsigned char *e = memmem(buf, have,
				    "\r\n\r\n", 4);

				if (e == NULL)
					continue;
				off = (size_t)(e + 4 - buf);
				body = 1;
			}
			while (have - off >= 16) {
				uint32_t flen, type;
				uint64_t seq;
				unsigned char *p = buf + off;

				flen = ntohl(*(uint32_t *)(void *)p);
				type = ntohl(*(uint32_t *)(void *)(p + 4));
				seq = (uint64_t)ntohl(*(uint32_t *)(void *)
				    (p + 8)) << 32 | ntohl(*(uint32_t *)
				    (void *)(p + 12));
				if (have - off < 16 + flen)
					break;
				if (type == 0) {
					if (!started) {
						mo.start_seq = seq;
						shmr_writer_create_mirror(m, &co,
						    &mo, &mw);
						started = 1;
					}
					shmr_writer_publish_at(mw, seq, p + 16,
					    flen);
					got++;
					t_last = now_ns();
				} else if ((type == 1 || type == 2) &&
				    flen == 8) {
					lost += (uint64_t)ntohl(*(uint32_t *)
					    (void *)(p + 16)) << 32 |
					    ntohl(*(uint32_t *)(void *)
					    (p + 20));
				}
				off += 16 + flen;
			}
			memmove(buf, buf + off, have - off);
			have -= off;
		}
		pthread_join(th, NULL);
	}
	{
		double el = (double)(t_last - t_first) / 1e9;

		printf("| bridge raw | %4zu B | %9.0f | - | %9.0f | %7.1f | %"
		    PRIu64 " | %" PRIu64 " / %" PRIu64 " | |\n", len, rate,
		    el > 0 ? (double)got / el : 0,
		    el > 0 ? (double)got * (double)len / el / 1e6 : 0, got,
		    lost, n - got - lost);
	}
	fflush(stdout);
	free(buf);
	close(fd);
	stop(bridge);
	if (mw != NULL)
		shmr_writer_close(mw, SHMR_CLOSE_UNLINK);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
}

/* This thread's CPU seconds (user, system) and involuntary switches. */
struct tuse {
	double	 user, sys;
	long	 preempted;
};

static struct tuse
thread_use(void)
{
	struct rusage ru;
	struct tuse u;

	getrusage(RUSAGE_THREAD, &ru);
	u.user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	u.sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	u.preempted = ru.ru_nivcsw;
	return u;
}

/*
 * The origin producer flat out, alone and with the relay attached, in
 * alternating rounds (alone: push and pull stopped with SIGSTOP, so the
 * machine's drift hits both alike), in one setup (enum setup). The
 * wall-clock rate also counts the CPU the relay takes from the producer
 * on 2 CPUs; the producer's own CPU time per message (user and system:
 * system time would be wake-ups of the relay) is what the relay's reading
 * costs it; involuntary context switches count the times the scheduler
 * gave its CPU to someone else.
 */
static void
case_origin(size_t len, double secs)
{
	static const char *names[] = { "as started (nice 0, any CPU)",
	    "producer on CPU 0, the rest on CPU 1",
	    "SCHED_BATCH, push nice 10, pull + nats-server nice 19" };
	char o[64], m[64], st[64];
	struct shmr_create_opts co = { .capacity = (uint64_t)256 << 20,
	    .gid = (gid_t)-1 };
	struct shmr_writer *w;
	struct relay rl;
	uint64_t n = secs > 1 ? 20000000 : 5000000;
	double rate[2] = { 0, 0 }, user[2] = { 0, 0 }, sys[2] = { 0, 0 };
	long pre[2] = { 0, 0 };
	int rounds = secs > 1 ? 10 : 4;

	snprintf(o, sizeof(o), "boo.%d.%d", (int)getpid(), (int)setup);
	snprintf(m, sizeof(m), "bom.%d.%d", (int)getpid(), (int)setup);
	snprintf(st, sizeof(st), "BO_%d_%d", (int)getpid(), (int)setup);
	if (shmr_writer_create(o, &co, &w) < 0)
		return;
	if (setup == SETUP_PINNED) {
		pin(0, 0);
		pin(nats_pid, 1);
	} else if (setup == SETUP_NICE) {
		place(nats_pid, 0);
	}
	relay_start(&rl, o, m, st);
	sleep(2);
	for (int i = 0; i < rounds; i++) {
		int with = i % 2, sig = with ? SIGCONT : SIGSTOP;
		struct tuse a, b;

		kill(rl.push, sig);
		kill(rl.pull, sig);
		usleep(200000);
		a = thread_use();
		rate[with] += produce(w, n, len, 0) / (rounds / 2);
		b = thread_use();
		user[with] += (b.user - a.user) / (double)n / (rounds / 2);
		sys[with] += (b.sys - a.sys) / (double)n / (rounds / 2);
		pre[with] += b.preempted - a.preempted;
	}
	relay_stop(&rl, NULL, NULL);
	if (setup == SETUP_PINNED) {
		pin(0, -1);
		pin(nats_pid, -1);
	}
	printf("| origin, %zu B flat out, %d rounds each, %s | alone %.0f "
	    "msg/s, %.1f + %.1f ns CPU/msg, %ld preempted | with push + pull "
	    "%.0f msg/s, %.1f + %.1f ns CPU/msg, %ld preempted | rate ratio "
	    "%.2f, CPU per msg ratio %.2f |\n", len, rounds / 2,
	    names[setup], rate[0], user[0] * 1e9, sys[0] * 1e9, pre[0],
	    rate[1], user[1] * 1e9, sys[1] * 1e9, pre[1], rate[1] / rate[0],
	    (user[0] + sys[0]) / (user[1] + sys[1]));
	fflush(stdout);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);
	shmr_unlink(m);
}

static int
want(const char *kind)
{
	return only == NULL || strcmp(only, kind) == 0;
}

int
main(int argc, char **argv)
{
	double secs;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = 1;
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			only = argv[++i];
		else {
			fprintf(stderr, "usage: bench_relay [--quick] [--only "
			    "relay|engine|bridge|origin]\n");
			return 1;
		}
	}
	secs = quick ? 1 : 3;
	if (getenv("BENCH_RELAY_BIN") != NULL)
		relay_bin = getenv("BENCH_RELAY_BIN");
	if (access(relay_bin, X_OK) != 0) {
		printf("bench_relay: %s not built (libnats)\n", relay_bin);
		return 0;
	}
	start_nats();
	printf("nats-server 127.0.0.1:%d, file storage in %s; %d s per "
	    "case; %s\n\n", nats_port, tmpdir, (int)secs, relay_bin);
	printf("| path | size | offered msg/s | producer msg/s | delivered "
	    "msg/s | MB/s | delivered | lost announced / unaccounted | p50 / p99 ms "
	    "| push / pull CPU us per msg |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|\n");
	if (want("relay")) {
		case_relay(64, 10000, secs, 1);
		case_relay(1024, 10000, secs, 1);
		case_relay(64, 250000, secs, 0);
		case_relay(64, 500000, secs, 0);
		case_relay(64, 1000000, secs, 0);
		case_relay(64, 2000000, secs, 0);
		case_relay(64, 3000000, secs, 0);
		case_relay(1024, 100000, secs, 0);
		case_relay(1024, 150000, secs, 0);
		case_relay(1024, 200000, secs, 0);
		case_relay(1024, 300000, secs, 0);
	}
	if (want("engine")) {
		case_engine(64, 256 << 10, (uint64_t)(secs * 2e6));
		case_engine(1024, 256 << 10, (uint64_t)(secs * 3e5));
	}
	if (want("bridge")) {
		case_bridge(64, 250000, secs);
		case_bridge(64, 1000000, secs);
		case_bridge(1024, 300000, secs);
	}
	printf("\n");
	/* Last: the niced setup leaves nats-server at nice 19. */
	if (want("origin"))
		for (setup = SETUP_PLAIN; setup <= SETUP_NICE; setup++)
			case_origin(64, secs);
	stop(nats_pid);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}
