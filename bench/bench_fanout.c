/*
 * bench_fanout - SSE fan-out through ringbridge: N clients on one epoll
 * thread parse the streams incrementally; a producer publishes messages
 * that carry their CLOCK_REALTIME send time, so every delivery yields a
 * latency sample. Reports delivered events/s, whether every client got
 * every message, latency p50/p90/p99/max, and the bridge's CPU and RSS.
 *
 * The producer is a thread here (exact --size byte messages) or, with
 * --ringd PATH, ringd's "ticks" demo feed (its JSON "ts" field).
 * The bridge runs on CPU 0, this program on the others when there are two;
 * with --bridges N, N ringbridge processes share the port (--reuseport)
 * and nothing is pinned: the kernel spreads the connections over them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmring.h"
#include "bridge_client.h"
#include "cli.h"
#include "sizes.h"
#include "fanout.h"

struct fanout_opts opt = {
	.ring_size = 64 << 20,
	.ring_size_arg = "64M",
	.bridges = 1,
	.bridge = "build/bin/ringbridge",
	.clients = 100,
	.rate = 1000,
	.seconds = 5,
	.size = 100,
};


static char ring[64];
static struct shmr_writer *w;
static atomic_bool prod_stop;
static atomic_uint_least64_t published;

static void
pin(int cpu)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 2 || opt.bridges > 1 || getenv("BENCH_NO_PIN") != NULL)
		return;
	CPU_ZERO(&set);
	if (cpu >= 0) {
		CPU_SET(cpu, &set);
	} else {
		for (long i = 1; i < n; i++)
			CPU_SET(i, &set);
	}
	sched_setaffinity(0, sizeof(set), &set);
}

#define MAX_BRIDGES	4
static pid_t server_pid[MAX_BRIDGES];
static char server_name[32] = "ringbridge";	/* in every report line */

/* Early exits too: remove the ring, stop the servers. */
static void
cleanup(void)
{
	for (unsigned i = 0; i < MAX_BRIDGES; i++) {
		if (server_pid[i] > 0) {
			kill(server_pid[i], SIGTERM);
			waitpid(server_pid[i], NULL, 0);
			server_pid[i] = 0;
		}
	}
	if (w != NULL)
		shmr_writer_close(w, SHMR_CLOSE_UNLINK);
	w = NULL;
	if (ring[0] != '\0')
		shmr_unlink(ring);
}

static void *
producer(void *arg)
{
	char *buf = malloc(opt.size + 32);
	uint64_t t0 = now_ns(CLOCK_MONOTONIC), n = 0;
	int nchan_fd = opt.nginx != NULL ? nchan_connect() : -1;

	(void)arg;
	memset(buf, 'x', opt.size + 32);
	while (!atomic_load(&prod_stop)) {
		uint64_t due = t0 + n * 1000000000u / opt.rate;
		uint64_t now = now_ns(CLOCK_MONOTONIC);

		if (now < due) {
			struct timespec ts = { 0, (long)(due - now) };

			if (due - now > 2000000)
				ts.tv_nsec = 2000000;
			nanosleep(&ts, NULL);
			continue;
		}
		int k = snprintf(buf, 32, "T%" PRIu64 "_",
		    now_ns(CLOCK_REALTIME));
		buf[k] = 'x';
		if (nchan_fd >= 0) {
			if (nchan_publish(nchan_fd, buf, opt.size) != 0) {
				fprintf(stderr, "bench_fanout: publish to "
				    "Nchan failed\n");
				break;
			}
		} else {
			shmr_writer_publish(w, buf, opt.size, NULL);
		}
		n++;
		atomic_store(&published, n);
	}
	free(buf);
	if (nchan_fd >= 0)
		close(nchan_fd);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * --flood: publish flat out for opt.flood seconds in five slices; the
 * median slice's messages per second (this VM loses its CPU for
 * milliseconds now and then).
 */
static double
flood(void)
{
	char *buf = malloc(opt.size);
	double rate[5];

	memset(buf, 'x', opt.size);
	for (int k = 0; k < 5; k++) {
		uint64_t t0 = now_ns(CLOCK_MONOTONIC), t, n = 0;

		do {
			for (int i = 0; i < 1024; i++)
				shmr_writer_publish(w, buf, opt.size, NULL);
			n += 1024;
			t = now_ns(CLOCK_MONOTONIC);
		} while (t - t0 < (uint64_t)(opt.flood / 5 * 1e9));
		rate[k] = (double)n * 1e9 / (double)(t - t0);
	}
	free(buf);
	qsort(rate, 5, sizeof(rate[0]), cmp_double);
	return rate[2];
}

static void
cpu_of(pid_t pid, double *sec)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	*sec = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		    "%lu %lu", &ut, &st);
	fclose(f);
	*sec = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds of every server process so far. */
static double
servers_cpu(void)
{
	double sum = 0, t;

	for (unsigned i = 0; i < MAX_BRIDGES; i++) {
		if (server_pid[i] > 0) {
			cpu_of(server_pid[i], &t);
			sum += t;
		}
	}
	return sum;
}

/*
 * --flood: the producer publishes flat out again, now with every client
 * connected and none reading, and the bridge serving them (its pump and
 * every client cursor read the ring). Then the clients read what they
 * got: each must have been dropped with an exact "overrun" count.
 */
static int
flood_run(struct sub *subs, double alone)
{
	double cpu0 = servers_cpu(), cpu1, with, t0, t1;
	unsigned evicted = 0, exact = 0;

	for (unsigned i = 0; i < opt.clients; i++)
		subs[i].slow = true;	/* no latency samples */
	t0 = (double)now_ns(CLOCK_MONOTONIC) / 1e9;
	with = flood();
	t1 = (double)now_ns(CLOCK_MONOTONIC) / 1e9;
	cpu1 = servers_cpu();
	sub_slow_drain(subs, opt.clients);
	for (unsigned i = 0; i < opt.clients; i++) {
		evicted += subs[i].overrun || subs[i].ended;
		exact += subs[i].overrun && subs[i].exact;
	}
	printf("flood server=%s clients=%u size=%u seconds=%.1f: "
	    "publish_msgs_per_s alone=%.0f with_clients=%.0f (%.2fx) "
	    "server_cpu=%.1f%% evicted=%u/%u overrun_exact=%u\n",
	    server_name, opt.clients, opt.size, opt.flood,
	    alone, with, with / alone, 100 * (cpu1 - cpu0) / (t1 - t0),
	    evicted, opt.clients, exact);
	return exact == opt.clients ? 0 : 1;
}

/* BENCH_DEBUG=1: which fast clients missed the last message. */
static void
debug_behind(const struct sub *subs, unsigned nslow, int64_t lastseq)
{
	for (unsigned i = nslow; i < opt.clients; i++)
		if (subs[i].last != lastseq)
			fprintf(stderr, "client %u: first %" PRId64 " last %"
			    PRId64 " of %" PRId64 " closed %d\n", i,
			    subs[i].first, subs[i].last, lastseq,
			    subs[i].h.closed);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_fanout [--bridge PATH] [--ringd PATH] "
	    "[-c clients] [-r rate]\n"
	    "                    [-t seconds] [-s size] [--slow PCT] "
	    "[--bridge-args ARGS]\n"
	    "                    [--bridges N] [--ring-size BYTES] "
	    "[--nchan NGINX]\n"
	    "                    [--flood SECONDS]\n");
	exit(100);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "bridge", required_argument, NULL, 'b' },
		{ "ringd", required_argument, NULL, 'd' },
		{ "clients", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "slow", required_argument, NULL, 'S' },
		{ "bridge-args", required_argument, NULL, 'a' },
		{ "nchan", required_argument, NULL, 'n' },
		{ "bridges", required_argument, NULL, 'B' },
		{ "ring-size", required_argument, NULL, 'R' },
		{ "flood", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct shmr_create_opts co = { .gid = (gid_t)-1 };
	const char *why;
	struct bridge_proc bp = { 0 }, more[MAX_BRIDGES - 1];
	const char *args[28];
	char maxc[32], path[160], listen[32];
	struct sub *subs;
	struct epoll_event evs[512];
	struct rlimit rl;
	pthread_t pt;
	pid_t ringd = 0;
	int ch, ep, na = 0, rc;
	unsigned nslow, connected = 0;
	double cpu0, cpu1, ccpu0, ccpu1, t0, t1, t2, flood_alone = 0;
	struct shmr_info winfo;
	int64_t start_seq = -1;
	uint64_t total = 0, lost = 0, gaps = 0, pub = 0, complete = 0;
	uint64_t slow_evicted = 0, slow_exact = 0;
	long rss;

	while ((ch = getopt_long(argc, argv, "c:r:t:s:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'b': opt.bridge = optarg; break;
		case 'd': opt.ringd = optarg; break;
		case 'c': opt.clients = (unsigned)atoi(optarg); break;
		case 'r': opt.rate = (unsigned)atoi(optarg); break;
		case 't': opt.seconds = (unsigned)atoi(optarg); break;
		case 's': opt.size = (unsigned)atoi(optarg); break;
		case 'S': opt.slow_pct = (unsigned)atoi(optarg); break;
		case 'a': opt.extra = optarg; break;
		case 'n': opt.nginx = optarg; break;
		case 'B': opt.bridges = (unsigned)atoi(optarg); break;
		case 'F': opt.flood = atof(optarg); break;
		case 'R':
			if (size_parse(optarg, 64 << 10, 1ull << 32,
			    &opt.ring_size, &why) != 0 ||
			    (opt.ring_size & (opt.ring_size - 1)) != 0) {
				fprintf(stderr, "bench_fanout: --ring-size "
				    "%s: a power of two from 64K to 4G\n",
				    optarg);
				usage();
			}
			opt.ring_size_arg = optarg;
			break;
		default: usage();
		}
	}
	co.capacity = opt.ring_size;
	if (opt.clients == 0 || opt.rate == 0 || opt.size < 32 ||
	    opt.bridges < 1 || opt.bridges > MAX_BRIDGES ||
	    (opt.bridges > 1 && opt.nginx != NULL) || opt.flood < 0 ||
	    opt.flood > 60 || (opt.flood > 0 && (opt.nginx != NULL ||
	    opt.ringd != NULL)))
		usage();
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	signal(SIGPIPE, SIG_IGN);
	snprintf(ring, sizeof(ring), "benchfan%d", (int)getpid());
	atexit(cleanup);
	if (opt.nginx != NULL) {
		pin(0);
		if ((bp.pid = nchan_start()) <= 0) {
			fprintf(stderr, "bench_fanout: cannot start %s with "
			    "Nchan\n", opt.nginx);
			return 111;
		}
		bp.port = nchan_port;
		server_pid[0] = bp.pid;
		snprintf(server_name, sizeof(server_name), "nchan");
		pin(-1);
	} else {
		if (opt.ringd != NULL) {
			char rate[16];

			snprintf(rate, sizeof(rate), "%u", opt.rate);
			snprintf(server_name, sizeof(server_name),
			    "ringd+ringbridge");
			if ((ringd = fork()) == 0) {
				execl(opt.ringd, "ringd", "-q", "--demo",
				    "ticks", "-r", rate, "-s",
				    opt.ring_size_arg, ring,
				    (char *)NULL);
				_exit(127);
			}
			/* Wait for ringd to create the ring. */
			for (int i = 0; i < 500; i++) {
				struct shmr_ring *r;

				if (shmr_ring_open(ring, NULL, &r) == 0) {
					shmr_ring_close(r);
					break;
				}
				usleep(10000);
			}
		} else if (shmr_writer_create(ring, &co, &w) != 0) {
			fprintf(stderr, "bench_fanout: cannot create "
			    "ring %s\n", ring);
			return 111;
		}
		if (opt.flood > 0) {
			/* The baseline: no bridge, no reader at all. */
			pin(-1);
			flood_alone = flood();
		}
		snprintf(maxc, sizeof(maxc), "%u", opt.clients + 16);
		args[na++] = "--ring";
		args[na++] = ring;
		args[na++] = "--max-clients";
		args[na++] = maxc;
		if (opt.bridges > 1)
			args[na++] = "--reuseport";
		if (opt.extra != NULL) {
			char *dup = strdup(opt.extra), *tok, *save = NULL;

			for (tok = strtok_r(dup, " ", &save);
			    tok != NULL && na < 24;
			    tok = strtok_r(NULL, " ", &save))
				args[na++] = tok;
		}
		args[na] = NULL;
		pin(0);		/* the child inherits CPU 0 */
		if (bridge_start(&bp, opt.bridge, args) != 0) {
			fprintf(stderr, "bench_fanout: cannot start %s\n",
			    opt.bridge);
			return 111;
		}
		server_pid[0] = bp.pid;
		/* The others listen on the first one's port (the last
		 * --listen wins). */
		snprintf(listen, sizeof(listen), "127.0.0.1:%d", bp.port);
		args[na++] = "--listen";
		args[na++] = listen;
		args[na] = NULL;
		for (unsigned i = 1; i < opt.bridges; i++) {
			if (bridge_start(&more[i - 1], opt.bridge, args) != 0) {
				fprintf(stderr, "bench_fanout: cannot start "
				    "bridge %u\n", i + 1);
				return 111;
			}
			server_pid[i] = more[i - 1].pid;
		}
		if (opt.bridges > 1)
			snprintf(server_name, sizeof(server_name),
			    "ringbridgex%u", opt.bridges);
		pin(-1);
	}
	subs = calloc(opt.clients, sizeof(*subs));
	/* Streams start at the newest message: known if we publish. */
	if (w != NULL && shmr_writer_info(w, &winfo) == 0)
		start_seq = (int64_t)winfo.next_seq;
	ep = epoll_create1(EPOLL_CLOEXEC);
	nslow = opt.clients * opt.slow_pct / 100;
	if (opt.nginx != NULL)
		snprintf(path, sizeof(path), "/sub");
	else
		snprintf(path, sizeof(path), "/rings/%s/stream", ring);
	for (unsigned i = 0; i < opt.clients; i++) {
		struct sub *s = &subs[i];
		struct epoll_event ee = { .events = EPOLLIN, .data.u32 = i };

		s->slow = i < nslow;
		s->first = s->last = -1;
		s->expect = start_seq;
		if (hc_connect(&s->h, bp.port, s->slow ? 4096 : 0) != 0 ||
		    hc_get(&s->h, path, "Accept: text/event-stream\r\n") !=
		    0) {
			fprintf(stderr, "bench_fanout: client %u cannot "
			    "connect\n", i);
			return 111;
		}
		fcntl(s->h.fd, F_SETFL, fcntl(s->h.fd, F_GETFL) | O_NONBLOCK);
		if (!s->slow)
			epoll_ctl(ep, EPOLL_CTL_ADD, s->h.fd, &ee);
	}
	/* All fast streams answered before the clock starts. */
	while (connected < opt.clients - nslow) {
		int k = epoll_wait(ep, evs, 512, 10000);

		if (k <= 0) {
			fprintf(stderr, "bench_fanout: only %u of %u streams "
			    "answered\n", connected, opt.clients - nslow);
			return 1;
		}
		for (int i = 0; i < k; i++) {
			struct sub *s = &subs[evs[i].data.u32];
			bool was = s->h.st != HC_HEADERS;

			sub_pump(s);
			if (!was && s->h.st != HC_HEADERS)
				connected++;
		}
	}
	if (opt.flood > 0) {
		rc = flood_run(subs, flood_alone);
		goto stop;
	}
	cpu0 = servers_cpu();
	cpu_of(getpid(), &ccpu0);
	t0 = (double)now_ns(CLOCK_MONOTONIC) / 1e9;
	if (w != NULL || opt.nginx != NULL)
		pthread_create(&pt, NULL, producer, NULL);
	{
		double end = t0 + opt.seconds, next_slow = t0;

		for (;;) {
			double now = (double)now_ns(CLOCK_MONOTONIC) / 1e9;
			int k;

			if (now >= end)
				break;
			k = epoll_wait(ep, evs, 512, 50);
			for (int i = 0; i < k; i++) {
				struct sub *s = &subs[evs[i].data.u32];

				sub_pump(s);
			}
			/* Slow clients: 100 bytes every 100 ms = 1 KB/s. */
			if (nslow > 0 && now >= next_slow) {
				char b[100];

				for (unsigned i = 0; i < nslow; i++) {
					ssize_t r;

					if (subs[i].ended)
						continue;
					r = read(subs[i].h.fd, b, sizeof(b));
					if (r > 0) {
						hc_feed(&subs[i].h, b,
						    (size_t)r);
						sub_handle(&subs[i]);
					} else if (r == 0 || errno != EAGAIN) {
						subs[i].ended = true;
					}
				}
				next_slow = now + 0.1;
			}
		}
	}
	if (w != NULL || opt.nginx != NULL) {
		atomic_store(&prod_stop, true);
		pthread_join(pt, NULL);
		pub = atomic_load(&published);
	}
	t1 = (double)now_ns(CLOCK_MONOTONIC) / 1e9;
	/* Drain: up to 5 s for the fast clients to get the last message. */
	{
		struct shmr_ring *r;
		struct shmr_info in;
		int64_t lastseq = -1;

		if (opt.nginx != NULL) {
			lastseq = (int64_t)pub - 1;
		} else if (shmr_ring_open(ring, NULL, &r) == 0) {
			if (ringd > 0) {
				kill(ringd, SIGSTOP);
			}
			shmr_ring_info(r, &in);
			lastseq = (int64_t)in.next_seq - 1;
			shmr_ring_close(r);
		}
		double dl = (double)now_ns(CLOCK_MONOTONIC) / 1e9 + 5;

		while ((double)now_ns(CLOCK_MONOTONIC) / 1e9 < dl) {
			unsigned behind = 0;

			for (unsigned i = nslow; i < opt.clients; i++)
				if (subs[i].last < lastseq)
					behind++;
			if (behind == 0)
				break;
			int k = epoll_wait(ep, evs, 512, 50);

			for (int i = 0; i < k; i++) {
				struct sub *s = &subs[evs[i].data.u32];

				sub_pump(s);
			}
		}
		if (ringd > 0)
			pub = (uint64_t)(lastseq + 1);
		if (getenv("BENCH_DEBUG") != NULL)
			debug_behind(subs, nslow, lastseq);
		for (unsigned i = nslow; i < opt.clients; i++) {
			total += subs[i].events;
			lost += subs[i].lost;
			gaps += subs[i].gaps;
			if (subs[i].first >= 0 && subs[i].last == lastseq &&
			    subs[i].lost == 0 && subs[i].gaps == 0)
				complete++;
		}
	}
	cpu1 = servers_cpu();
	cpu_of(getpid(), &ccpu1);
	/* CPU shares over the whole measured span, the drain included. */
	t2 = (double)now_ns(CLOCK_MONOTONIC) / 1e9;
	/*
	 * Evicted slow clients: a stream that ended with an "overrun" event
	 * (lapped) or was closed (write timeout). The first kind is exact
	 * when its count matches; the second when a resume says so.
	 */
	sub_slow_drain(subs, nslow);
	for (unsigned i = 0; i < nslow; i++) {
		if (subs[i].overrun) {
			slow_evicted++;
			slow_exact += subs[i].exact;
		} else if (subs[i].ended) {
			slow_evicted++;
			slow_exact += sub_resume_exact(&subs[i], bp.port, path);
		}
	}
	rss = 0;
	for (unsigned i = 0; i < opt.bridges; i++)
		rss += proc_rss_kib(server_pid[i]);
	printf("fanout server=%s clients=%u slow=%u rate=%u size=%u "
	    "seconds=%.1f: "
	    "published=%" PRIu64 " delivered=%" PRIu64 " (%.0f events/s) "
	    "complete=%" PRIu64 "/%u lost=%" PRIu64 " gaps=%" PRIu64
	    " latency_ms p50=%.2f p90=%.2f p99=%.2f max=%.2f "
	    "server_cpu=%.1f%% cpu_per_event_us=%.2f server_rss_kib=%ld "
	    "slow_evicted=%" PRIu64 "/%u evicted_exact=%" PRIu64
	    " client_cpu=%.1f%%\n",
	    server_name,
	    opt.clients, nslow, opt.rate, opt.size, t1 - t0, pub, total,
	    (double)total / (t1 - t0), complete, opt.clients - nslow, lost,
	    gaps, lat_pct(0.5), lat_pct(0.9), lat_pct(0.99), (double)lat_max_ns / 1e6,
	    100 * (cpu1 - cpu0) / (t2 - t0),
	    total ? (cpu1 - cpu0) * 1e6 / (double)total : 0.0, rss,
	    slow_evicted, nslow, slow_exact,
	    100 * (ccpu1 - ccpu0) / (t2 - t0));
	rc = complete == opt.clients - nslow ? 0 : 1;
stop:
	for (unsigned i = 0; i < opt.clients; i++)
		hc_close(&subs[i].h);
	if (opt.nginx != NULL) {
		nchan_stop(bp.pid);
		server_pid[0] = 0;
	} else {
		bridge_stop(&bp);
		unlink(bp.errpath);
		for (unsigned i = 1; i < opt.bridges; i++) {
			bridge_stop(&more[i - 1]);
			unlink(more[i - 1].errpath);
		}
		memset(server_pid, 0, sizeof(server_pid));
	}
	if (ringd > 0) {
		kill(ringd, SIGCONT);
		kill(ringd, SIGTERM);
		waitpid(ringd, NULL, 0);
	}
	return rc;
}
