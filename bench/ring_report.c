/*
 * ring_report.c - bench_ring's report: the machine, then one Markdown
 * table per section (throughput, latency, fan-out, publish rate,
 * instructions per call) and the targets of issue 2. Peer rows come from
 * the transport table; the publish and instruction sections measure
 * shmring alone.
 */
#include <sys/utsname.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_ring.h"

static double
mps(const struct result *r)
{
	return r->rx_secs > 0 ? (double)r->msgs / r->rx_secs : 0;
}

static void
fmt_rate(char *buf, size_t len, double v)
{
	if (v >= 1e9)
		snprintf(buf, len, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
}

static void
fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns >= 10000000)
		snprintf(buf, len, "%.1f ms", (double)ns / 1e6);
	else if (ns >= 10000)
		snprintf(buf, len, "%.1f us", (double)ns / 1e3);
	else
		snprintf(buf, len, "%.2f us", (double)ns / 1e3);
}

void
print_machine(void)
{
	struct utsname u;
	char line[256], model[160] = "unknown";
	FILE *f;
	size_t i;

	if ((f = fopen("/proc/cpuinfo", "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "model name", 10) == 0) {
				char *p = strchr(line, ':');

				if (p != NULL) {
					snprintf(model, sizeof(model), "%s",
					    p + 2);
					model[strcspn(model, "\n")] = '\0';
				}
				break;
			}
		fclose(f);
	}
	(void)uname(&u);
	printf("machine: %s, %ld online CPUs (%d usable), %s %s %s\n", model,
	    sysconf(_SC_NPROCESSORS_ONLN), ncpus, u.sysname, u.release,
	    u.machine);
	printf("compiler: %s; libshm %s", __VERSION__, shmr_version());
	for (i = 0; i < ntransports; i++)
		if (transports[i]->version != NULL) {
			transports[i]->version(line, sizeof(line));
			printf("%s", line);
		}
	if (use_pin && ncpus >= 2)
		printf("\npinning: producer on CPU %d, readers on the other "
		    "%d", cpus[0], ncpus - 1);
	else
		printf("\npinning: none");
	printf("; shmring ring size %" PRIu64 " KiB; best of %d run%s per "
	    "row\n", ring_size >> 10, repeat, repeat == 1 ? "" : "s");
}

/* Other load on the machine skews every number: show it. */
void
print_load(const char *when)
{
	char line[128] = "unknown\n";
	FILE *f;

	if ((f = fopen("/proc/loadavg", "r")) != NULL) {
		if (fgets(line, sizeof(line), f) == NULL)
			snprintf(line, sizeof(line), "unknown\n");
		fclose(f);
	}
	printf("load average %s: %s", when, line);
}

static const char *
status_col(const struct result *r)
{
	return r->ok ? "" : r->err;
}

void
sect_throughput(const struct opts *o, struct summary *sum)
{
	static const struct row {
		const char	*name;
		const struct transport *tp;
		int		 spin, batch;
	} shm_rows[] = {
		{ "shmring busy-poll", &transport_shmring, 1, 0 },
		{ "shmring blocking", &transport_shmring, 0, 0 },
		{ "shmring busy-poll, read_batch", &transport_shmring, 1, 1 },
		{ "shmring busy-poll, both batched", &transport_shmring, 1, 3 },
		{ "shmring blocking, both batched", &transport_shmring, 0, 3 },
	};
	enum { NSHM = sizeof(shm_rows) / sizeof(shm_rows[0]), MAXROWS = 32 };
	struct row rows[MAXROWS];
	struct result r[MAXROWS];
	struct job j;
	double rate[MAXROWS], best;
	char a[32], b[32], ratio[32], label[64];
	int si, i, n;
	size_t t;

	/* shmring's variants, then one blocking row per peer */
	memcpy(rows, shm_rows, sizeof(shm_rows));
	for (n = NSHM, t = 0; t < ntransports && n < MAXROWS; t++) {
		const struct transport *tp = transports[t];

		if (tp == &transport_shmring || !transport_blocks(tp))
			continue;
		rows[n].name = tp->label != NULL ? tp->label : tp->name;
		rows[n].tp = tp;
		rows[n].spin = rows[n].batch = 0;
		n++;
	}

	printf("\n### Throughput, 1 producer -> 1 reader, %.1f s per row\n\n",
	    o->secs);
	printf("Readers copy every message out; pipe and stream readers read "
	    "up to 256 KiB per call,\nseqpacket and ZeroMQ one message per "
	    "call; peers' readers block. read_batch: the reader\ncalls "
	    "shmr_cursor_read_batch() for up to %d messages; both batched: "
	    "the producer also\ncalls shmr_writer_publish_batch() with %d "
	    "messages. Lost = sent - delivered\n(shmring: sum of msg.lost).\n",
	    RBATCH, o->batch);
	for (si = 0; si < o->nsizes; si++) {
		size_t sz = o->sizes[si];

		best = 0;
		for (i = 0; i < n; i++) {
			memset(&j, 0, sizeof(j));
			j.tp = rows[i].tp;
			j.spin = rows[i].spin;
			j.rbatch = rows[i].batch & 1 ? RBATCH : 0;
			j.batch = rows[i].batch & 2 ? o->batch : 0;
			j.nreaders = 1;
			j.size = sz;
			j.secs = o->secs;
			rate[i] = -1;
			memset(&r[i], 0, sizeof(r[i]));
			if (!transport_wanted(j.tp))
				continue;
			run_best(&j, &r[i], BEST_RX);
			rate[i] = r[i].ok ? mps(&r[i]) : -1;
			if (j.tp != &transport_shmring && rate[i] > best)
				best = rate[i];
		}
		printf("\n| %zu B | sent/s | delivered/s | MB/s | lost | "
		    "x best peer | note |\n", sz);
		printf("|---|---:|---:|---:|---:|---:|---|\n");
		for (i = 0; i < n; i++) {
			if (rate[i] < 0 && r[i].err[0] == '\0')
				continue;
			snprintf(label, sizeof(label), "%s", rows[i].name);
			fmt_rate(a, sizeof(a), r[i].send_secs > 0 ?
			    (double)r[i].sent / r[i].send_secs : 0);
			fmt_rate(b, sizeof(b), rate[i] < 0 ? 0 : rate[i]);
			ratio[0] = '\0';
			if (best > 0 && rate[i] > 0)
				snprintf(ratio, sizeof(ratio), "%.1fx",
				    rate[i] / best);
			printf("| %s | %s | %s | %.0f | %" PRIu64 " | %s | "
			    "%s%s%s |\n", label, a, b, rate[i] < 0 ? 0 :
			    rate[i] * (double)sz / 1e6, r[i].lost, ratio,
			    rows[i].tp->flags & TP_COUNTS_LOST && r[i].ok &&
			    r[i].gaps != r[i].lost ? "LOSS MISMATCH " : "",
			    r[i].disorder != 0 ? "DISORDER " : "",
			    status_col(&r[i]));
		}
		fflush(stdout);
		/* the targets take the best shmring row */
		for (i = 0; i < n; i++) {
			if (rows[i].tp != &transport_shmring)
				continue;
			if (sz == 64 && rate[i] > sum->shm64) {
				sum->shm64 = rate[i];
				sum->shm64_row = rows[i].name;
			}
			if (sz == 1024 && rate[i] * 1024 > sum->shm1k_bps) {
				sum->shm1k_bps = rate[i] * 1024;
				sum->shm1k_row = rows[i].name;
			}
		}
		if (sz == 64)
			sum->peer64 = best;
	}
}

void
sect_latency(const struct opts *o, struct summary *sum)
{
	struct job j;
	struct result r;
	/*
	 * apart: producer and reader pinned to different CPUs, the
	 * producer yielding until each send time (busy-poll needs that; for
	 * a blocking reader it makes every wake-up an interrupt to a halted
	 * vCPU). Otherwise nobody is pinned and the producer sleeps between
	 * sends, as a paced feed does.
	 */
	struct { int spin, slow, apart; } modes[] = { { 1, 0, 1 },
	    { 0, 0, 0 }, { 0, 1, 0 }, { 0, 1, 1 } };
	char p[4][32];
	int mi, k, pinning = use_pin;
	size_t ki;

	printf("\n### One-way latency, 64 B, %.1f s per run "
	    "(CLOCK_MONOTONIC in the payload)\n\n", o->lat_secs);
	printf("Paced at %" PRIu64 " msg/s, and blocking readers also at %"
	    PRIu64 " msg/s, slow enough for every\nreader to fall asleep "
	    "between messages. Reader CPU: the reader's user + system time\n"
	    "over the run (100%% = one core busy). Busy-poll and \"pinned "
	    "apart\" rows: producer and\nreader pinned to different CPUs, "
	    "the producer yields until each send time. Other\nblocking rows: "
	    "nobody pinned, the producer sleeps (clock_nanosleep) between "
	    "sends.\n\n", o->rate, o->slow_rate);
	printf("| transport | reader | msg/s | p50 | p90 | p99 | max | "
	    "samples | lost | reader CPU | note |\n"
	    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
	for (ki = 0; ki < ntransports; ki++) {
		for (mi = 0; mi < (int)(sizeof(modes) / sizeof(modes[0]));
		    mi++) {
			memset(&j, 0, sizeof(j));
			j.tp = transports[ki];
			j.spin = modes[mi].spin;
			j.nreaders = 1;
			j.size = 64;
			j.secs = o->lat_secs;
			j.rate = modes[mi].slow ? o->slow_rate : o->rate;
			j.nap = !modes[mi].apart;
			if (!transport_wanted(j.tp) ||
			    (!j.spin && !transport_blocks(j.tp)))
				continue;
			use_pin = pinning && modes[mi].apart;
			run_best(&j, &r, BEST_LAT);
			use_pin = pinning;
			for (k = 0; k < 4; k++)
				fmt_ns(p[k], sizeof(p[k]), r.lat[k]);
			printf("| %s | %s | %" PRIu64 " | %s | %s | %s | %s | %"
			    PRIu64 " | %" PRIu64 " | %.0f%% | %s |\n",
			    j.tp->name, j.spin ? "busy-poll" :
			    modes[mi].apart ? "blocking, pinned apart" :
			    "blocking", j.rate, p[0], p[1], p[2], p[3],
			    r.nlat, r.lost, r.cpu * 100, status_col(&r));
			fflush(stdout);
			if (j.tp == &transport_seqlock && r.ok)
				sum->p50_spin_floor = r.lat[0];
			if (j.tp != &transport_shmring || !r.ok)
				continue;
			if (j.spin)
				sum->p50_spin = r.lat[0];
			else if (modes[mi].apart)
				sum->p50_block_apart = r.lat[0];
			else if (modes[mi].slow)
				sum->p50_block = r.lat[0];
			else {
				sum->p50_block_fast = r.lat[0];
				sum->cpu_block_fast = r.cpu;
			}
		}
	}
	sum->slow_rate = o->slow_rate;
	sum->rate = o->rate;
}

void
sect_fanout(const struct opts *o)
{
	struct job j;
	struct result r;
	size_t sizes[] = { 64, 1024 };
	char a[32], b[32], c[32];
	size_t ki;
	int si;

	printf("\n### Fan-out, 1 producer -> 4 blocking readers, %.1f s per "
	    "row\n\n", o->secs);
	printf("fd peers write every message to 4 descriptors; ZeroMQ and "
	    "shmring publish once.\n\n");
	printf("| transport | size | sent/s | delivered/s per reader (min) | "
	    "total MB/s | lost (all readers) | note |\n"
	    "|---|---:|---:|---:|---:|---:|---|\n");
	for (si = 0; si < 2; si++)
		for (ki = 0; ki < ntransports; ki++) {
			memset(&j, 0, sizeof(j));
			j.tp = transports[ki];
			j.nreaders = 4;
			j.size = sizes[si];
			j.secs = o->secs;
			if (!transport_wanted(j.tp) ||
			    !transport_blocks(j.tp))
				continue;
			run_best(&j, &r, BEST_RX);
			fmt_rate(a, sizeof(a), r.send_secs > 0 ?
			    (double)r.sent / r.send_secs : 0);
			fmt_rate(b, sizeof(b), r.rx_secs > 0 ?
			    (double)r.min_msgs / r.rx_secs : 0);
			snprintf(c, sizeof(c), "%.0f", r.rx_secs > 0 ?
			    (double)r.msgs * (double)j.size / r.rx_secs / 1e6
			    : 0);
			printf("| %s | %zu B | %s | %s | %s | %" PRIu64
			    " | %s |\n", j.tp->name, j.size, a, b, c,
			    r.lost, status_col(&r));
			fflush(stdout);
		}
}

#define PAIRS	5	/* alternating runs behind each paired ratio */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The producer's rate with j's readers over its rate alone, as the median
 * of PAIRS ratios of back-to-back runs: the VM's speed drifts by more
 * than the effect between two rows run seconds apart, much less within
 * one pair.
 */
static double
paired_ratio(const struct job *j)
{
	struct job j0 = *j;
	struct result r0, r1;
	double v[PAIRS];
	int i, n = 0;

	j0.nreaders = 0;
	for (i = 0; i < PAIRS; i++) {
		run_job(&j0, &r0);
		run_job(j, &r1);
		if (!r0.ok || !r1.ok || r0.send_secs <= 0 ||
		    r1.send_secs <= 0 || r0.sent == 0)
			continue;
		v[n++] = ((double)r1.sent / r1.send_secs) /
		    ((double)r0.sent / r0.send_secs);
	}
	if (n == 0)
		return 0;
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void
sect_publish(const struct opts *o, struct summary *sum)
{
	struct job j;
	struct result r;
	struct { int n, spin; } rows[] = {
		{ 0, 0 }, { 1, 1 }, { 1, 0 }, { 4, 0 }, { 8, 0 }
	};
	double rate, base = 0, paired;
	char a[32], ipp[32], fx[32], pr[32];
	int i;

	perf_fd = perf_open();
	futex_fd = futex_open();
	printf("\n### Producer publish rate, 64 B, shmr_writer_publish() "
	    "flat out, %.1f s per row\n\n", o->secs);
	printf("Readers read until the ring is empty, then wait in "
	    "shmr_cursor_wait(). futex/1k: the producer's\nfutex(2) calls "
	    "(its wake-ups) per 1000 publishes, from the "
	    "syscalls:sys_enter_futex tracepoint. paired: the median over "
	    "%d pairs of back-to-back\nruns without and with the readers "
	    "of the ratio of the two rates (the VM drifts less within\na "
	    "pair than between rows).\n\n", PAIRS);
	printf("| readers attached | publishes/s | ns/publish | vs 0 readers "
	    "| vs 0 readers, paired | futex/1k | instructions/publish (perf) "
	    "| readers' lost | note |\n"
	    "|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
	for (i = 0; i < (int)(sizeof(rows) / sizeof(rows[0])); i++) {
		memset(&j, 0, sizeof(j));
		j.tp = &transport_shmring;
		j.nreaders = rows[i].n;
		j.spin = rows[i].spin;
		j.size = 64;
		j.secs = o->secs;
		run_best(&j, &r, BEST_TX);
		rate = r.send_secs > 0 ? (double)r.sent / r.send_secs : 0;
		if (i == 0)
			base = rate;
		paired = rows[i].n > 0 ? paired_ratio(&j) : 1;
		if (rows[i].n == 4 && !rows[i].spin)
			sum->pub4 = paired;
		snprintf(pr, sizeof(pr), "%.2fx", paired);
		fmt_rate(a, sizeof(a), rate);
		snprintf(ipp, sizeof(ipp), "n/a");
		if (perf_fd >= 0 && r.sent > 0)
			snprintf(ipp, sizeof(ipp), "%.1f",
			    (double)r.instr / (double)r.sent);
		snprintf(fx, sizeof(fx), "n/a");
		if (futex_fd >= 0 && r.sent > 0)
			snprintf(fx, sizeof(fx), "%.2f",
			    (double)r.futex * 1000 / (double)r.sent);
		printf("| %d %s | %s | %.1f | %.2fx | %s | %s | %s | %" PRIu64
		    " | %s |\n", rows[i].n, rows[i].n == 0 ? "" :
		    rows[i].spin ? "busy-poll" : "blocking", a, rate > 0 ?
		    1e9 / rate : 0, base > 0 ? rate / base : 0, pr, fx, ipp,
		    r.lost, status_col(&r));
		fflush(stdout);
	}
	sum->pub0 = base;
	if (perf_fd < 0)
		printf("\nInstruction counter: not available on this machine "
		    "(perf_event_open(PERF_COUNT_HW_INSTRUCTIONS) failed); "
		    "see the callgrind section.\n");
	if (perf_fd >= 0)
		close(perf_fd);
	if (futex_fd >= 0)
		close(futex_fd);
	perf_fd = futex_fd = -1;
}

void
sect_instr(const struct opts *o, struct summary *sum)
{
	struct {
		const char	*what;
		int		 read_mode, nreaders;
		size_t		 size;
	} rows[] = {
		{ "shmr_writer_publish, 0 readers", 0, 0, 64 },
		{ "shmr_writer_publish, 8 blocking readers asleep", 0, 8, 64 },
		{ "shmr_writer_publish, 0 readers", 0, 0, 1024 },
		{ "shmr_cursor_read (copy out)", 1, 0, 64 },
		{ "shmr_cursor_read (copy out)", 1, 0, 1024 },
	};
	double v[sizeof(rows) / sizeof(rows[0])];
	char ratio[32];
	int i;

	printf("\n### Instructions per call, callgrind (%" PRIu64 " calls "
	    "per row, user space only)\n\n", o->cg_count);
	printf("Readers of the 8-reader row are native processes blocked in "
	    "shmr_cursor_wait();\nthe kernel side of a futex wake is not "
	    "counted.\n\n");
	printf("| call | payload | instructions/call | vs 0 readers |\n"
	    "|---|---:|---:|---:|\n");
	for (i = 0; i < (int)(sizeof(rows) / sizeof(rows[0])); i++) {
		v[i] = callgrind_ipc(rows[i].read_mode, o->cg_count,
		    rows[i].nreaders, rows[i].size);
		if (v[i] < 0) {
			printf("| %s | %zu B | failed (is valgrind "
			    "installed?) | |\n", rows[i].what, rows[i].size);
			continue;
		}
		ratio[0] = '\0';
		if (i <= 1 && v[0] > 0)
			snprintf(ratio, sizeof(ratio), "%.2fx", v[i] / v[0]);
		printf("| %s | %zu B | %.1f | %s |\n", rows[i].what,
		    rows[i].size, v[i], ratio);
		fflush(stdout);
	}
	if (v[0] > 0 && v[1] > 0) {
		sum->ipp0 = v[0];
		sum->ipp8 = v[1];
		sum->have_ipp = 1;
	}
}

void
print_targets(const struct opts *o, const struct summary *s)
{
	char a[32], b[32];

	printf("\n### Against the targets of issue 2\n\n");
	printf("| target | measured | |\n|---|---|---|\n");
	if (o->s.throughput && s->shm64 > 0) {
		fmt_rate(a, sizeof(a), s->shm64);
		printf("| 64 B to 1 reader >= 40M msg/s | %s msg/s (%s) | %s "
		    "|\n", a, s->shm64_row, s->shm64 >= 40e6 ? "met" : "short");
		if (s->peer64 > 0)
			printf("| >= 30x best pipe/socket/zmq peer | %.1fx | "
			    "%s |\n", s->shm64 / s->peer64,
			    s->shm64 / s->peer64 >= 30 ? "met" : "short");
	}
	if (o->s.throughput && s->shm1k_bps > 0)
		printf("| 1 KiB >= 6 GB/s | %.2f GB/s (%s) | %s |\n",
		    s->shm1k_bps / 1e9, s->shm1k_row,
		    s->shm1k_bps >= 6e9 ? "met" : "short");
	if (o->s.latency && s->p50_spin > 0) {
		fmt_ns(a, sizeof(a), s->p50_spin);
		fmt_ns(b, sizeof(b), s->p50_block);
		printf("| p50 busy-poll <= 1 us | %s | %s |\n", a,
		    s->p50_spin <= 1000 ? "met" : "short");
		if (s->p50_spin_floor > 0) {
			fmt_ns(b, sizeof(b), s->p50_spin_floor);
			printf("| p50 busy-poll <= 1.5x a minimal seqlock ring "
			    "(issue 14) | %s vs %s (%.2fx) | %s |\n", a, b,
			    (double)s->p50_spin / (double)s->p50_spin_floor,
			    s->p50_spin * 2 <= s->p50_spin_floor * 3 ? "met" :
			    "short");
		}
		printf("| p50 blocking <= 20 us | %s at %" PRIu64 " msg/s | %s "
		    "|\n", b, s->slow_rate, s->p50_block <= 20000 ? "met" :
		    "short");
		fmt_ns(b, sizeof(b), s->p50_block_fast);
		printf("| (blocking at %" PRIu64 " msg/s) | %s, reader CPU "
		    "%.0f%% | |\n", s->rate, b, s->cpu_block_fast * 100);
		fmt_ns(b, sizeof(b), s->p50_block_apart);
		printf("| (blocking, pinned apart, %" PRIu64 " msg/s) | %s "
		    "(a wake-up of a halted vCPU) | |\n", s->slow_rate, b);
	}
	if (o->s.publish && s->pub0 > 0)
		printf("| publish rate, 4 blocking readers >= 0.9x none | "
		    "%.2fx (paired median) | %s |\n", s->pub4,
		    s->pub4 >= 0.9 ? "met" : "short");
	if (o->s.instr && s->have_ipp)
		printf("| publish cost 8 readers within 10%% of 0 | %.1f vs "
		    "%.1f instructions (%+.1f%%) | %s |\n", s->ipp8, s->ipp0,
		    (s->ipp8 / s->ipp0 - 1) * 100,
		    s->ipp8 <= s->ipp0 * 1.1 ? "met" : "short");
}

/* ---- command line ------------------------------------------------------- */
