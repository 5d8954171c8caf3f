/* cli.c - argument parsing shared by ringd, ringctl and ringbridge. */
#include <libutil.h>
#include <stdlib.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int
fail(const char **why, const char *reason, int err)
{
	if (why != NULL)
		*why = reason;
	return -err;
}

int
cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char **why)
{
	const char *errstr;
	long long v;

	if (s == NULL || *s == '\0')
		return fail(why, "empty number", EINVAL);
	if (*s == '-' || *s == '+' || *s == ' ')
		return fail(why, "not a plain decimal number", EINVAL);
	if (max > LLONG_MAX)
		max = LLONG_MAX;
	v = strtonum(s, (long long)min, (long long)max, &errstr);
	if (errstr != NULL)
		return fail(why, strcmp(errstr, "invalid") == 0 ?
		    "not a number" : errstr[0] == 't' && errstr[4] == 's' ?
		    "too small" : errstr[0] == 't' ? "too large" : errstr,
		    strcmp(errstr, "invalid") == 0 ? EINVAL : ERANGE);
	*out = (uint64_t)v;
	return 0;
}

int
cli_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char **why)
{
	char num[32];
	size_t n;
	unsigned shift = 0;
	uint64_t v;
	int rc;

	if (s == NULL || (n = strlen(s)) == 0)
		return fail(why, "empty size", EINVAL);
	if (n >= sizeof(num))
		return fail(why, "size too long", EINVAL);
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
		return fail(why, "too small", ERANGE);
	if (v > max)
		return fail(why, "too large", ERANGE);
	*out = v;
	return 0;
}

int
cli_parse_mode(const char *s, mode_t *out, const char **why)
{
	unsigned long v = 0;
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 4)
		return fail(why, "mode must be 3 or 4 octal digits", EINVAL);
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '7')
			return fail(why, "mode must be octal, e.g. 0640",
			    EINVAL);
		v = v * 8 + (unsigned long)(*p - '0');
	}
	if (v > 0777)
		return fail(why, "only permission bits (0..0777) allowed",
		    EINVAL);
	*out = (mode_t)v;
	return 0;
}

void
cli_human(char *buf, size_t len, uint64_t bytes)
{
	/*
	 * humanize_number scales only until the number fits the buffer it is
	 * given, so give it room for "1023KiB" and no more.
	 */
	if (len > 8)
		len = 8;
	if (humanize_number(buf, len, (int64_t)bytes, "B", HN_AUTOSCALE,
	    HN_DECIMAL | HN_NOSPACE | HN_IEC_PREFIXES) < 0)
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
}
