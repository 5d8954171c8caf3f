/*
 * fuzz_http.c - libFuzzer target for ringbridge's request parsing
 * (bridge/http_parse.c, and common/from.c): route_parse() on request
 * paths (ring names included), from_parse() on the "from" parameter,
 * parse_event_id() on Last-Event-ID / last_event_id, ct_equal() on
 * bearer tokens, target_path() on request targets (absolute form) and
 * accept_format() on Accept headers.
 *
 * The first input byte picks the parser (low 3 bits); the rest, cut at
 * the first NUL as libmicrohttpd would hand it over, is the string. Every
 * call checks what its caller relies on and aborts if a promise breaks:
 *   - route_parse: 0 only for the known routes; a ring name comes back
 *     NUL-terminated, at most SHMR_NAME_MAX bytes, without '/', accepted
 *     by shmr_name_valid() and equal to the bytes after "/rings/";
 *   - from_parse / parse_event_id: 0 only for decimal numbers that fit
 *     in 64 bits, and then the value printed back parses to itself;
 *   - ct_equal: the same answer as a length check plus memcmp();
 *   - target_path: the target itself unless it starts with http:// or
 *     https://, else the part from the first '/' after the authority
 *     ("/" if none); routing its result keeps route_parse's promises;
 *   - accept_format: NULL or a format of the table (format.c) one of
 *     whose media types the header names.
 * tests/fuzz_replay.c replays tests/corpus/http in `make test`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bridge.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_http: %s " \
	"(line %d)\n", #c, __LINE__); abort(); } } while (0)

static bool
all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static void
check_route(const char *s)
{
	/* One byte more than the handler's buffer, as a canary. */
	char name[SHMR_NAME_MAX + 3];
	enum route rt;
	size_t n;
	int rc;

	memset(name, 0x5a, sizeof(name));
	rc = route_parse(s, &rt, name, SHMR_NAME_MAX + 2);
	CHECK(name[SHMR_NAME_MAX + 2] == 0x5a);
	CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL ||
	    rc == -ENAMETOOLONG);
	if (rc != 0)
		return;
	switch (rt) {
	case ROUTE_RINGS:
		CHECK(strcmp(s, "/rings") == 0 || strcmp(s, "/rings/") == 0);
		return;
	case ROUTE_METRICS:
		CHECK(strcmp(s, "/metrics") == 0);
		return;
	case ROUTE_HEALTHZ:
		CHECK(strcmp(s, "/healthz") == 0);
		return;
	case ROUTE_RING:
	case ROUTE_STREAM:
		break;
	default:
		CHECK(!"unexpected route");
	}
	n = strnlen(name, sizeof(name));
	CHECK(n > 0 && n <= SHMR_NAME_MAX);
	CHECK(strchr(name, '/') == NULL);
	CHECK(shmr_name_valid(name) == 0);
	CHECK(strcmp(name, ".") != 0 && strcmp(name, "..") != 0);
	CHECK(strncmp(s, "/rings/", 7) == 0);
	CHECK(strncmp(s + 7, name, n) == 0);
	if (rt == ROUTE_RING)
		CHECK(s[7 + n] == '\0');
	else
		CHECK(strcmp(s + 7 + n, "/stream") == 0);
}

static void
check_from(const char *s)
{
	enum shmr_from from;
	uint64_t seq = 1, seq2;
	char back[32];
	int rc;

	rc = from_parse(s, &from, &seq);
	CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
	if (rc != 0)
		return;
	if (from != SHMR_FROM_SEQ) {
		CHECK(seq == 0);
		CHECK(strcmp(s, "oldest") == 0 || strcmp(s, "latest") == 0 ||
		    strcmp(s, "end") == 0);
		return;
	}
	CHECK(all_digits(s, strlen(s)));
	CHECK(strtoull(s, NULL, 10) == seq);
	snprintf(back, sizeof(back), "%" PRIu64, seq);
	CHECK(from_parse(back, &from, &seq2) == 0 && seq2 == seq);
}

static void
check_event_id(const char *s)
{
	uint64_t epoch = 7, seq = 7, e2, s2;
	const char *colon;
	char back[48];
	int rc;

	rc = parse_event_id(s, &epoch, &seq);
	CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
	if (rc != 0)
		return;
	colon = strchr(s, ':');
	CHECK(colon != NULL);
	CHECK(all_digits(s, (size_t)(colon - s)));
	CHECK(all_digits(colon + 1, strlen(colon + 1)));
	CHECK(strtoull(s, NULL, 10) == epoch);
	CHECK(strtoull(colon + 1, NULL, 10) == seq);
	snprintf(back, sizeof(back), "%" PRIu64 ":%" PRIu64, epoch, seq);
	CHECK(parse_event_id(back, &e2, &s2) == 0 && e2 == epoch &&
	    s2 == seq);
}

static void
check_ct_equal(const char *s, size_t n)
{
	/* The first half is the candidate, the second the secret. */
	size_t alen = n / 2, blen = n - alen;
	bool want = alen == blen && memcmp(s, s + alen, alen) == 0;

	CHECK(ct_equal(s, alen, s + alen, blen) == want);
	CHECK(ct_equal(s, alen, s, alen));
}

/* strcasestr() without _GNU_SOURCE's reliance: s contains t, any case. */
static bool
contains_ci(const char *s, const char *t)
{
	size_t n = strlen(t);

	for (; *s != '\0'; s++)
		if (strncasecmp(s, t, n) == 0)
			return true;
	return false;
}

static void
check_target(const char *s)
{
	const char *p = target_path(s), *auth;

	if (strncasecmp(s, "http://", 7) == 0)
		auth = s + 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		auth = s + 8;
	else {
		CHECK(p == s);
		check_route(p);
		return;
	}
	if (strchr(auth, '/') == NULL) {
		CHECK(strcmp(p, "/") == 0);
	} else {
		CHECK(p >= auth && p < s + strlen(s));
		CHECK(*p == '/');
		CHECK(memchr(auth, '/', (size_t)(p - auth)) == NULL);
	}
	check_route(p);
}

static void
check_accept(const char *s)
{
	const struct stream_format *f = accept_format(s), *const *t;
	bool named = false;

	for (t = stream_formats; *t != NULL && *t != f; t++)
		;
	CHECK(f == NULL || *t == f);
	CHECK(accept_format(s) == f);
	if (f != NULL)
		for (const char *const *a = f->accept; *a != NULL; a++)
			named = named || contains_ci(s, *a);
	CHECK(f == NULL || named);
	if (!contains_ci(s, "/"))
		CHECK(f == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t n;

	if (size == 0)
		return 0;
	n = size - 1;
	if ((s = malloc(n + 1)) == NULL)
		return 0;
	memcpy(s, data + 1, n);
	s[n] = '\0';
	switch (data[0] & 7) {
	case 0:
		check_route(s);
		break;
	case 1:
		check_from(s);
		break;
	case 2:
		check_event_id(s);
		break;
	case 3:
		check_ct_equal(s, n);
		break;
	case 4:
	case 6:
		check_target(s);
		break;
	default:
		check_accept(s);
		break;
	}
	free(s);
	return 0;
}
