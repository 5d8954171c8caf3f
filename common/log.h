/*
 * log.h - leveled logging to stderr for the daemons, journald-friendly:
 * each line starts with "<N>" (sd-daemon(3) priority prefix) when stderr is
 * not a terminal, so journald records the level; plain text otherwise.
 */
#ifndef SHMRING_LOG_H
#define SHMRING_LOG_H

#include <stdarg.h>

enum { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_NOTICE = 5,
    LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

void log_init(const char *progname, int verbosity);
void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/*
 * Rate limiter for warnings a flood could trigger: allows `burst` lines per
 * `interval_s` seconds and counts the rest; log_ratelimit() returns 1 when
 * the caller may log, and *suppressed says how many were dropped since.
 */
struct log_ratelimit {
	int		interval_s;
	int		burst;
	long long	window_start;
	int		count;
	unsigned long	suppressed;
};
int log_ratelimit(struct log_ratelimit *rl, unsigned long *suppressed);

#endif
