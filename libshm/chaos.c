/*
 * chaos.c - the delays behind CHAOS() in the chaos build (see chaos.h).
 * In every other build this file defines nothing.
 */
#include "chaos.h"

#ifdef SHMR_CHAOS
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static _Atomic int chaos_pm = -1;	/* per mille; -1: not read yet */
static uint64_t chaos_seed;
static _Atomic uint64_t chaos_points, chaos_delays;
static pthread_once_t chaos_once = PTHREAD_ONCE_INIT;
static _Thread_local uint64_t chaos_state;

static void
chaos_report(void)
{
	fprintf(stderr, "chaos[%ld]: %llu points, %llu delays (%d per "
	    "mille)\n", (long)getpid(),
	    (unsigned long long)atomic_load(&chaos_points),
	    (unsigned long long)atomic_load(&chaos_delays),
	    atomic_load(&chaos_pm));
}

static void
chaos_init(void)
{
	const char *v = getenv("SHMR_CHAOS");
	const char *s = getenv("SHMR_CHAOS_SEED");
	int pm = v != NULL && *v != '\0' ? atoi(v) : 10;

	chaos_seed = s != NULL && *s != '\0' ? strtoull(s, NULL, 0) : 1;
	atomic_store(&chaos_pm, pm < 0 ? 0 : pm > 1000 ? 1000 : pm);
	if (getenv("SHMR_CHAOS_STATS") != NULL)
		atexit(chaos_report);
}

/* splitmix64: a cheap, well-mixed stream per thread. */
static uint64_t
chaos_next(void)
{
	uint64_t z;

	if (chaos_state == 0)
		chaos_state = chaos_seed ^ ((uint64_t)getpid() << 32) ^
		    (uint64_t)(uintptr_t)&chaos_state ^ 0x9e3779b97f4a7c15u;
	z = (chaos_state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

void
shmr_chaos(const char *point)
{
	uint64_t r;

	(void)point;	/* named for the reader of the code and debuggers */
	if (atomic_load_explicit(&chaos_pm, memory_order_relaxed) < 0)
		pthread_once(&chaos_once, chaos_init);
	atomic_fetch_add_explicit(&chaos_points, 1, memory_order_relaxed);
	r = chaos_next();
	if (r % 1000 >= (uint64_t)atomic_load_explicit(&chaos_pm,
	    memory_order_relaxed))
		return;
	atomic_fetch_add_explicit(&chaos_delays, 1, memory_order_relaxed);
	r >>= 10;
	switch (r % 8) {
	case 0: case 1: case 2: case 3:
		sched_yield();	/* let the other side run a whole slice */
		break;
	case 4: case 5: case 6: {
		/* A short spin: a window of a few hundred ns to a few us. */
		volatile unsigned spin = 0;
		unsigned n = (unsigned)(r >> 3) % 4000;

		while (spin < n)
			spin = spin + 1;
		break;
	}
	default: {
		/* A sleep: as if preempted (timer slack makes it >= 50 us);
		 * one in four up to 2 ms, a whole scheduler tick or two. */
		struct timespec ts = { 0, (long)((r >> 3) % 4 == 0 ?
		    (r >> 5) % 2000000 : (r >> 5) % 20000) };

		nanosleep(&ts, NULL);
		break;
	}
	}
}
#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int shmr_chaos_unused;
#endif
