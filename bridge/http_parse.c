/*
 * http_parse.c - request path routing and parameter parsing for
 * ringbridge. Nothing here touches the file system: a ring name is
 * checked with shmr_name_valid() before it is looked up in the served set.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"

int
route_parse(const char *url, enum route *rt, char *name, size_t namelen)
{
	const char *p, *slash;
	size_t n;
	int rc;

	*rt = ROUTE_NONE;
	if (strcmp(url, "/rings") == 0 || strcmp(url, "/rings/") == 0) {
		*rt = ROUTE_RINGS;
		return 0;
	}
	if (strcmp(url, "/metrics") == 0) {
		*rt = ROUTE_METRICS;
		return 0;
	}
	if (strcmp(url, "/healthz") == 0) {
		*rt = ROUTE_HEALTHZ;
		return 0;
	}
	if (strncmp(url, "/rings/", 7) != 0)
		return -ENOENT;
	p = url + 7;
	slash = strchr(p, '/');
	n = slash != NULL ? (size_t)(slash - p) : strlen(p);
	if (n == 0)
		return -ENOENT;
	if (n > SHMR_NAME_MAX || n >= namelen)
		return -ENAMETOOLONG;
	memcpy(name, p, n);
	name[n] = '\0';
	if (slash == NULL)
		*rt = ROUTE_RING;
	else if (strcmp(slash, "/stream") == 0)
		*rt = ROUTE_STREAM;
	else
		return -ENOENT;
	if ((rc = shmr_name_valid(name)) != 0)
		return rc == -ENAMETOOLONG ? rc : -EINVAL;
	return 0;
}

static int
parse_u64(const char *s, const char *end, uint64_t *out)
{
	uint64_t v = 0;

	if (s == end || end - s > 20)
		return -EINVAL;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

int
parse_from(const char *s, enum shmr_from *from, uint64_t *seq)
{
	*seq = 0;
	if (strcmp(s, "oldest") == 0)
		*from = SHMR_FROM_OLDEST;
	else if (strcmp(s, "latest") == 0)
		*from = SHMR_FROM_LATEST;
	else if (strcmp(s, "end") == 0)
		*from = SHMR_FROM_END;
	else {
		*from = SHMR_FROM_SEQ;
		return parse_u64(s, s + strlen(s), seq);
	}
	return 0;
}

int
parse_event_id(const char *s, uint64_t *epoch, uint64_t *seq)
{
	const char *colon = strchr(s, ':');
	int rc;

	if (colon == NULL)
		return -EINVAL;
	if ((rc = parse_u64(s, colon, epoch)) != 0)
		return rc;
	return parse_u64(colon + 1, colon + 1 + strlen(colon + 1), seq);
}

bool
ct_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	volatile unsigned char diff = (unsigned char)(alen != blen);
	size_t i;

	/* Walk the expected secret (b) whatever the candidate's length. */
	for (i = 0; i < blen; i++)
		diff |= (unsigned char)(b[i] ^ (i < alen ? a[i] : 0));
	return diff == 0;
}
