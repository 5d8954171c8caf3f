/* log.c - leveled stderr logging shared by ringd and ringbridge. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *prog = "shmring";
static int max_level = LOG_LVL_INFO;
static int prefix_priority;

void
log_init(const char *progname, int verbosity)
{
	prog = progname;
	max_level = LOG_LVL_INFO + verbosity;
	prefix_priority = !isatty(STDERR_FILENO);
}

void
log_msg(int level, const char *fmt, ...)
{
	static const char *names[] = { "emerg", "alert", "crit", "error",
	    "warning", "notice", "info", "debug" };
	char line[1024];
	va_list ap;
	int n;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* One write per line so lines from threads never interleave. */
	if (prefix_priority)
		dprintf(STDERR_FILENO, "<%d>%s: %s: %s\n", level, prog,
		    names[level], line);
	else
		dprintf(STDERR_FILENO, "%s: %s: %s\n", prog, names[level],
		    line);
}

int
log_ratelimit(struct log_ratelimit *rl, unsigned long *suppressed)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if (ts.tv_sec - rl->window_start >= rl->interval_s) {
		rl->window_start = ts.tv_sec;
		rl->count = 0;
	}
	if (rl->count >= rl->burst) {
		rl->suppressed++;
		return 0;
	}
	rl->count++;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return 1;
}
