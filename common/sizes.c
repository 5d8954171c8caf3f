/* sizes.c - byte counts for people (sizes.h). */
#include <libutil.h>
#include <stdio.h>

#include "sizes.h"

const char *
size_format(char *buf, size_t len, uint64_t bytes)
{
	/*
	 * humanize_number scales only until the number fits the buffer it is
	 * given, so give it room for "1023KiB" and no more.
	 */
	if (len > SIZE_FORMAT_LEN)
		len = SIZE_FORMAT_LEN;
	if (humanize_number(buf, len, (int64_t)bytes, "B", HN_AUTOSCALE,
	    HN_DECIMAL | HN_NOSPACE | HN_IEC_PREFIXES) < 0)
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
	return buf;
}
