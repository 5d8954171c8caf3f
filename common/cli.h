/*
 * cli.h - argument parsing shared by the shmring programs (not part of
 * libshm). Every function returns 0 or -errno and writes a reason into
 * why (may be NULL) so callers can print "ringd: --size 12Q: <why>".
 */
#ifndef SHMRING_CLI_H
#define SHMRING_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Decimal unsigned integer in [min, max] (libbsd strtonum for <= LLONG_MAX). */
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char **why);
/* Octal permission bits, e.g. "0640" or "640"; only 0..0777. */
int cli_parse_mode(const char *s, mode_t *out, const char **why);
/* Set *why (if why) to reason and return -err: for parsers built on these. */
int cli_fail(const char **why, const char *reason, int err);

#endif
