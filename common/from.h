/*
 * from.h - where a reader starts, as the programs take it (ringctl tail
 * --from, ringbridge's ?from=): "oldest", "latest", "end" or a sequence
 * number.
 */
#ifndef SHMRING_FROM_H
#define SHMRING_FROM_H

#include <stdint.h>

#include "shmring.h"

/*
 * s into *from and, for a sequence number (plain decimal digits, up to
 * 2^64 - 1), *seq (0 otherwise). 0, -EINVAL (not one of those) or
 * -ERANGE (a number too large).
 */
int	from_parse(const char *s, enum shmr_from *from, uint64_t *seq);

#endif
