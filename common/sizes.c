/* sizes.c - byte counts from and for people (sizes.h). */
#include <errno.h>
#include <libutil.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
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

int
size_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char **why)
{
	char num[32];
	size_t n;
	unsigned shift = 0;
	uint64_t v;
	int rc;

	if (s == NULL || (n = strlen(s)) == 0)
		return cli_fail(why, "empty size", EINVAL);
	if (n >= sizeof(num))
		return cli_fail(why, "size too long", EINVAL);
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	default: break;
	}
	if (shift != 0)
		num[--n] = '\0';
	if ((rc = cli_parse_u64(num, 0, UINT64_MAX >> shift, &v, why)) < 0)
		return rc;
	v <<= shift;
	if (v < min)
		return cli_fail(why, "too small", ERANGE);
	if (v > max)
		return cli_fail(why, "too large", ERANGE);
	*out = v;
	return 0;
}
