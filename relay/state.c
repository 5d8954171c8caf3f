/*
 * state.c - what every part of ringrelay reads: the options (written by
 * main() before push or pull starts), the stop flag (set by the signal
 * handler) and say(), the progress line. It sits below push.c, pull.c and
 * stream.c so that none of them calls back up into ringrelay.c.
 */
#include <err.h>
#include <signal.h>
#include <stdarg.h>

#include "relay.h"

#define DEFAULT_BATCH	(256u << 10)

struct relay_opts opt = {
	.max_bytes = -1, .max_msgs = -1, .max_age_s = 0, .replicas = 1,
	.dup_s = 30, .batch = DEFAULT_BATCH, .mode = 0644,
};

volatile sig_atomic_t stop;

void
say(const char *fmt, ...)
{
	va_list ap;

	if (opt.quiet)
		return;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}
