/*
 * sizes.h - byte counts as the programs show them: at most four digits
 * and an IEC prefix, no space, so that a size is one column of ringctl
 * list and one word of a log line: "100B", "8192B", "9.8KiB", "64MiB",
 * "1024GiB".
 */
#ifndef SHMRING_SIZES_H
#define SHMRING_SIZES_H

#include <stddef.h>
#include <stdint.h>

/*
 * "65536", "64K", "64k", "1M", "16G", "1T" (binary multiples) into *out,
 * within [min, max]: 0, or -EINVAL/-ERANGE with the reason in *why (may
 * be NULL), as cli.h's parsers do.
 */
int		 size_parse(const char *s, uint64_t min, uint64_t max,
		    uint64_t *out, const char **why);

/* Big enough for every size_format() result ("1023KiB"). */
#define SIZE_FORMAT_LEN	8

/* bytes into buf (len >= SIZE_FORMAT_LEN); returns buf. */
const char	*size_format(char *buf, size_t len, uint64_t bytes);

#endif
