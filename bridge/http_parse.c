/*
 * http_parse.c - request path routing and parameter parsing for
 * ringbridge. Nothing here touches the file system: a ring name is
 * checked with shmr_name_valid() before it is looked up in the served set.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bridge.h"

const char *
target_path(const char *target)
{
	const char *p;

	/* RFC 9112 3.2.2: the absolute form names the authority too. */
	if (strncasecmp(target, "http://", 7) == 0)
		p = target + 7;
	else if (strncasecmp(target, "https://", 8) == 0)
		p = target + 8;
	else
		return target;
	p = strchr(p, '/');
	return p != NULL ? p : "/";
}

static bool
ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * The q value of one media range's parameters ("; q=0.5; x=y"), in
 * thousandths; 1000 without one, -1 if malformed.
 */
static int
accept_q(const char *p, const char *end)
{
	while (p < end) {
		const char *semi;

		while (p < end && (ows(*p) || *p == ';'))
			p++;
		for (semi = p; semi < end && *semi != ';'; semi++)
			;
		if (semi - p >= 2 && (p[0] == 'q' || p[0] == 'Q') &&
		    p[1] == '=') {
			const char *v = p + 2, *e = semi;
			int q, digits = 0;

			while (e > v && ows(e[-1]))
				e--;
			if (v == e || (*v != '0' && *v != '1'))
				return -1;
			q = (*v++ - '0') * 1000;
			if (v < e && *v++ != '.')
				return -1;
			for (int scale = 100; v < e; v++, scale /= 10) {
				if (*v < '0' || *v > '9' || ++digits > 3)
					return -1;
				q += (*v - '0') * scale;
			}
			return q > 1000 ? -1 : q;
		}
		p = semi;
	}
	return 1000;
}

const struct stream_format *
accept_format(const char *accept)
{
	const struct stream_format *best = NULL;
	const char *p = accept, *comma, *semi, *e;
	int best_q = 0;

	if (accept == NULL)
		return NULL;
	for (; *p != '\0'; p = *comma != '\0' ? comma + 1 : comma) {
		size_t n;
		int q;

		comma = strchr(p, ',');
		if (comma == NULL)
			comma = p + strlen(p);
		while (p < comma && ows(*p))
			p++;
		for (semi = p; semi < comma && *semi != ';'; semi++)
			;
		e = semi;
		while (e > p && ows(e[-1]))
			e--;
		n = (size_t)(e - p);
		for (const struct stream_format *const *f = stream_formats;
		    *f != NULL; f++)
			for (const char *const *t = (*f)->accept; *t != NULL;
			    t++) {
				if (strlen(*t) != n ||
				    strncasecmp(p, *t, n) != 0)
					continue;
				q = accept_q(semi, comma);
				/* The first of equal preferences wins. */
				if (q > best_q) {
					best = *f;
					best_q = q;
				}
			}
	}
	return best;
}

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
