/* cli.c - argument parsing shared by the programs (cli.h). */
#include <stdlib.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int
cli_fail(const char **why, const char *reason, int err)
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
		return cli_fail(why, "empty number", EINVAL);
	if (*s == '-' || *s == '+' || *s == ' ')
		return cli_fail(why, "not a plain decimal number", EINVAL);
	if (max > LLONG_MAX)
		max = LLONG_MAX;
	v = strtonum(s, (long long)min, (long long)max, &errstr);
	if (errstr != NULL)
		return cli_fail(why, strcmp(errstr, "invalid") == 0 ?
		    "not a number" : errstr[0] == 't' && errstr[4] == 's' ?
		    "too small" : errstr[0] == 't' ? "too large" : errstr,
		    strcmp(errstr, "invalid") == 0 ? EINVAL : ERANGE);
	*out = (uint64_t)v;
	return 0;
}

int
cli_parse_mode(const char *s, mode_t *out, const char **why)
{
	unsigned long v = 0;
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 4)
		return cli_fail(why, "mode must be 3 or 4 octal digits",
		    EINVAL);
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '7')
			return cli_fail(why, "mode must be octal, e.g. 0640",
			    EINVAL);
		v = v * 8 + (unsigned long)(*p - '0');
	}
	if (v > 0777)
		return cli_fail(why, "only permission bits (0..0777) "
		    "allowed", EINVAL);
	*out = (mode_t)v;
	return 0;
}
