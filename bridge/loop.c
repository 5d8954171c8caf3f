/*
 * loop.c - the event loops: one thread per --threads, each running its
 * own libmicrohttpd daemon (external epoll mode, see dispatch.c) and
 * resuming its suspended streams in batches when a ring's pump asks
 * (request_wake()), at most once per pass interval (--coalesce). Also
 * the orderly end of every stream at shutdown.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "bridge.h"
#include "../libshm/chaos.h"	/* CHAOS(): empty unless SAN=chaos */
#include "log.h"

struct loop g_loops[LOOPS_MAX];
static atomic_bool g_loop_stop;	/* the loops end (after g_stopping) */

/* Resume loop l's suspended clients of e; the caller holds its lock. */
static void
wake_locked(struct ring_ent *e, unsigned l)
{
	struct client *c, *next;

	for (c = e->lp[l].waiters; c != NULL; c = next) {
		next = c->wnext;
		c->wnext = c->wprev = NULL;
		c->waiting = false;
		CHAOS("bridge: resuming a waiter");
		MHD_resume_connection(c->conn);
	}
	e->lp[l].waiters = NULL;
	e->lp[l].pass++;
}

static void
wake(struct ring_ent *e, unsigned l)
{
	pthread_mutex_lock(&e->lp[l].lock);
	if (e->lp[l].waiters != NULL) {
		wake_locked(e, l);
		atomic_fetch_add_explicit(&e->lp[l].wakeups, 1,
		    memory_order_relaxed);
	}
	/* Even if the deferred clients went away meanwhile: else the loop
	 * would find the ring due again at once, forever. */
	e->lp[l].deferred = false;
	pthread_mutex_unlock(&e->lp[l].lock);
}

/*
 * Ask each event-loop thread to resume its waiters of e. Resuming from the
 * loop thread itself, between two MHD_run() calls, costs libmicrohttpd one
 * walk of its suspended list per batch; resuming from another thread while
 * the loop runs makes it walk that list once per resumed connection.
 */
void
request_wake(struct ring_ent *e)
{
	uint64_t one = 1;

	/* Before the flags: a loop that clears its flag and then finds no
	 * news since its pass was due is poked by the exchange below
	 * (pass_check()). */
	atomic_store(&e->news_ns, mono_ns());
	for (unsigned l = 0; l < conf.nloops; l++)
		if (!atomic_exchange(&e->lp[l].wake_pending, true))
			(void)!write(g_loops[l].wake_fd, &one, sizeof(one));
}

void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * --coalesce: a ring's clients are resumed at most once per interval, and
 * a client that wrote in the current pass waits for the next one (see
 * stream_defer()), so each write carries every event of the interval.
 * The kernel's cost is per write, not per byte: at 1000 clients it is
 * most of the bridge's CPU.
 *
 * By default (--coalesce auto) the interval follows the fan-out of the
 * ring on this loop, n clients. Coalescing buys CPU and costs latency:
 * with an interval T each client writes at most 1/T times a second, so
 * the loop's writes cost at most n * w / T of a core, w being the cost of
 * one write (2.5 to 10 us on the loopback of the VMs measured in
 * docs/BENCHMARKS.md, whatever its size). T = n * COALESCE_PER_CLIENT
 * holds that to about a third of a core at any message rate, and a
 * message waits about T/2 on average, 1.5 T at most (pass_check()).
 *
 * - n <= COALESCE_AUTO_MIN: T = 0, every message is written at once. A
 *   pass over so few clients takes under a millisecond, so latency is
 *   what a small fan-out should get; the CPU saved would be small.
 * - above it T grows with n, up to COALESCE_AUTO_MAX, which keeps the
 *   median latency (about T/2 plus the pass itself) under 10 ms. At the
 *   cap the write budget is no longer held: more clients then cost more
 *   CPU, not more latency.
 *
 * A ring whose messages come further apart than T is not delayed at all:
 * a message that arrives once T has passed since the last pass is written
 * at once. When T ends with messages waiting, the pass waits for the next
 * one (pass_check()).
 */
#define COALESCE_AUTO_MIN	100
#define COALESCE_PER_CLIENT	24e-6		/* seconds */
#define COALESCE_AUTO_MAX	0.012		/* seconds */


double
pass_interval(const struct ring_ent *e, unsigned l)
{
	unsigned n;

	if (conf.coalesce_ms != COALESCE_AUTO)
		return conf.coalesce_ms / 1000.0;
	n = atomic_load(&e->lp[l].streams);
	if (n <= COALESCE_AUTO_MIN)
		return 0;
	return n * COALESCE_PER_CLIENT < COALESCE_AUTO_MAX ?
	    n * COALESCE_PER_CLIENT : COALESCE_AUTO_MAX;
}

/*
 * Whether loop l resumes e's waiters now (true), else how long it may
 * sleep before it looks again (*tmo, ms, only ever lowered). A pass is
 * owed when the pump flagged news or clients were deferred.
 *
 * Without an interval: at once. With an interval t: not before
 * last_pass + t (due); from then on at the first news, and at due + t/2
 * at the latest. Waiting for the news that follows the due time lets a
 * write leave with a feed's newest message rather than just before it:
 * on a periodic feed the writes line up with the arrivals, and a message
 * waits (t - period) / 2 on average instead of t / 2, for fewer writes.
 * A message that arrives once t has passed since the last pass is written
 * at once (it is that news).
 *
 * To hear the first news after the due time, the loop clears its flag
 * (the pump pokes the eventfd only when it sets the flag) and remembers
 * the owed pass in deferred; then it looks at news_ns again: request_wake()
 * stores news_ns before it sets the flag (both seq_cst), so news is
 * either seen here or sets the cleared flag and pokes the loop.
 */
static bool
pass_check(struct ring_ent *e, unsigned l, uint64_t now, bool all, int *tmo)
{
	struct ring_loop *lp = &e->lp[l];
	uint64_t t, due, late, wait;
	double ti;

	if (!atomic_load(&lp->wake_pending) && !lp->deferred && !all)
		return false;
	ti = all ? 0 : pass_interval(e, l);
	if (ti <= 0)
		return true;
	t = (uint64_t)(ti * 1e9);
	due = lp->last_pass + t;
	late = due + t / 2;
	if (now >= late)
		return true;
	if (now < due) {
		wait = due - now;
	} else {
		if (atomic_load(&e->news_ns) >= due)
			return true;
		if (atomic_exchange(&lp->wake_pending, false))
			lp->deferred = true;
		if (atomic_load(&e->news_ns) >= due)
			return true;
		wait = late - now;
	}
	if (wait / 1000000 + 1 < (uint64_t)*tmo)
		*tmo = (int)(wait / 1000000 + 1);
	return false;
}

/* An event loop: its daemon's epoll fd plus the pumps' eventfd. */
static void *
loop_main(void *arg)
{
	struct loop *lp = arg;
	const union MHD_DaemonInfo *di;
	struct epoll_event ev = { .events = EPOLLIN }, evs[4];
	struct ring_ent *e;
	unsigned l = lp->idx;
	uint64_t v;
	int ep, n, gt;

	di = MHD_get_daemon_info(lp->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL || (ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		log_err("cannot set up the event loop: %s", strerror(errno));
		exit(EXIT_SYS);
	}
	ev.data.u32 = 0;
	epoll_ctl(ep, EPOLL_CTL_ADD, di->epoll_fd, &ev);
	ev.data.u32 = 1;
	epoll_ctl(ep, EPOLL_CTL_ADD, lp->wake_fd, &ev);
	while (!atomic_load(&g_loop_stop)) {
		MHD_UNSIGNED_LONG_LONG to;
		uint64_t now;
		int tmo = 1000;
		bool all = atomic_load(&g_stopping);

		if (MHD_get_timeout(lp->d, &to) == MHD_YES && to < 1000)
			tmo = (int)to;
		if (conf.coalesce_ms != 0)
			for (e = atomic_load(&g_rings); e != NULL; e = e->next)
				if (pass_check(e, l, mono_ns(), false, &tmo))
					tmo = 0;
		if ((gt = guard_check(&lp->guard, false)) >= 0 && gt < tmo)
			tmo = gt;
		n = epoll_wait(ep, evs, 4, tmo);
		for (int i = 0; i < n; i++)
			if (evs[i].data.u32 == 1)
				(void)!read(lp->wake_fd, &v, sizeof(v));
		/* Resume in batches, before libmicrohttpd runs. */
		now = mono_ns();
		for (e = atomic_load(&g_rings); e != NULL; e = e->next) {
			int ignored = INT_MAX;

			if (!pass_check(e, l, now, all, &ignored))
				continue;
			/* Before the resumes: news from here on is news for
			 * the next pass. */
			atomic_store(&e->lp[l].wake_pending, false);
			e->lp[l].last_pass = now;
			wake(e, l);
		}
		MHD_run(lp->d);
	}
	close(ep);
	return NULL;
}

int
loops_init(void)
{
	for (unsigned l = 0; l < conf.nloops; l++) {
		g_loops[l].idx = (uint8_t)l;
		if ((g_loops[l].wake_fd = eventfd(0, EFD_CLOEXEC |
		    EFD_NONBLOCK)) < 0) {
			log_err("eventfd: %s", strerror(errno));
			return -errno;
		}
	}
	return 0;
}

int
loops_run(void)
{
	int rc;

	for (unsigned l = 0; l < conf.nloops; l++)
		if ((rc = pthread_create(&g_loops[l].thr, NULL, loop_main,
		    &g_loops[l])) != 0) {
			log_err("cannot start an event loop: %s",
			    strerror(rc));
			return -rc;
		}
	return 0;
}

static void
poke_loops(void)
{
	uint64_t one = 1;

	for (unsigned l = 0; l < conf.nloops; l++)
		(void)!write(g_loops[l].wake_fd, &one, sizeof(one));
}

void
loops_shutdown(void)
{
	struct ring_ent *e;
	double t0;

	atomic_store(&g_stopping, true);
	/* Readers see g_stopping and end their streams cleanly. */
	poke_loops();
	for (e = atomic_load(&g_rings); e != NULL; e = e->next)
		if (e->pump_started)
			pthread_join(e->pump, NULL);
	t0 = mono_s();
	while (atomic_load(&g_streams) > 0 && mono_s() - t0 < 2.0) {
		poke_loops();
		nap_ms(20);
	}
	/* The loops resume everything once more before they stop. */
	atomic_store(&g_loop_stop, true);
	poke_loops();
	for (unsigned l = 0; l < conf.nloops; l++)
		pthread_join(g_loops[l].thr, NULL);
	for (e = atomic_load(&g_rings); e != NULL; e = e->next)
		for (unsigned l = 0; l < conf.nloops; l++)
			wake(e, l);
	for (unsigned l = 0; l < conf.nloops; l++) {
		MHD_stop_daemon(g_loops[l].d);
		close(g_loops[l].wake_fd);
	}
}

/* --threads 0: one event loop per CPU this process may run on. */
unsigned
loops_cpus(void)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	if (n <= 0)
		n = (int)sysconf(_SC_NPROCESSORS_ONLN);
	return n <= 0 ? 1 : n > LOOPS_MAX ? LOOPS_MAX : (unsigned)n;
}
