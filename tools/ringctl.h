/*
 * ringctl.h - what the parts of ringctl share: the command table's row
 * (ringctl.c holds the table, each tools/cmd_*.c defines the commands of
 * one group) and the helpers every command uses (util.c). Not installed.
 */
#ifndef RINGCTL_H
#define RINGCTL_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "clock.h"
#include "exitcode.h"
#include "ringerr.h"
#include "ringstate.h"
#include "shmring.h"
#include "sigbus.h"
#include "sizes.h"

#define SHM_PATH	"/dev/shm/shmring."

/* The options every command takes, ending a command's option table. */
#define COMMON_LOPTS \
	{ "json", no_argument, NULL, 'j' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }, \
	{ NULL, 0, NULL, 0 }
#define COMMON_SOPTS	"hjV"

/* One row of the command table. */
struct command {
	const char	*name;
	/* Its usage lines after "ringctl ", continuations pre-indented. */
	const char	*usage;
	/* argv[0] is "ringctl NAME"; returns the exit status. */
	int		(*fn)(int argc, char **argv);
};

extern bool json_out;			/* --json */
extern volatile sig_atomic_t stop;	/* SIGINT/SIGTERM seen (on_stop) */

/* ---- ringctl.c -------------------------------------------------------- */

/* A usage error: fmt (may be NULL), then the usage; EXIT_USAGE. */
int	usage_err(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * Parse the options every command takes. Returns -1 when ch was handled
 * and parsing should continue, or an exit status.
 */
int	common_opt(int ch, const char *cmd);
/* The one ring name left after the options, checked; 0 or an exit status. */
int	one_name(const char *cmd, int argc, char **argv, const char **name);

/* ---- util.c ----------------------------------------------------------- */

/* warnx() the ring error (ring_describe()); its exit status. */
int	ring_err(const char *name, int rc);
int	settled_info(struct shmr_ring *ring, struct shmr_info *in);
int	settled_check(struct shmr_ring *ring, char *why, size_t len);
int	check_name(const char *name);
void	sleep_ms(uint64_t ms);
void	fmt_age(char *buf, size_t len, uint64_t ns);
void	fmt_time(char *buf, size_t len, uint64_t ns);
const char *owner_name(uid_t uid, char *buf, size_t len);
void	json_str(FILE *f, const char *s);
void	json_key_str(FILE *f, const char *key, const char *val, bool comma);
void	json_key_u64(FILE *f, const char *key, uint64_t val);
void	on_stop(int sig);
int	finish(int status);
int	open_ring(const char *name, struct shmr_ring **ring);
int	open_reader(const char *name, enum shmr_from from, uint64_t seq,
	    struct shmr_reader **r);

#endif
