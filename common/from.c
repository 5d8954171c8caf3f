/* from.c - a reader's starting point from text (from.h). */
#include <errno.h>
#include <string.h>

#include "from.h"

int
from_parse(const char *s, enum shmr_from *from, uint64_t *seq)
{
	uint64_t v = 0;

	*seq = 0;
	if (strcmp(s, "oldest") == 0)
		*from = SHMR_FROM_OLDEST;
	else if (strcmp(s, "latest") == 0)
		*from = SHMR_FROM_LATEST;
	else if (strcmp(s, "end") == 0)
		*from = SHMR_FROM_END;
	else {
		if (*s == '\0')
			return -EINVAL;
		for (; *s != '\0'; s++) {
			if (*s < '0' || *s > '9')
				return -EINVAL;
			if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
				return -ERANGE;
			v = v * 10 + (uint64_t)(*s - '0');
		}
		*from = SHMR_FROM_SEQ;
		*seq = v;
	}
	return 0;
}
