/* clock.c - monotonic and real time in ns/ms (clock.h). */
#include <time.h>

#include "clock.h"

static uint64_t
ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
mono_ns(void)
{
	return ns(CLOCK_MONOTONIC);
}

uint64_t
mono_ms(void)
{
	return ns(CLOCK_MONOTONIC) / 1000000u;
}

double
mono_s(void)
{
	return (double)ns(CLOCK_MONOTONIC) / 1e9;
}

uint64_t
real_ns(void)
{
	return ns(CLOCK_REALTIME);
}
