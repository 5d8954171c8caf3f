/*
 * test_hooks.c - pause points for tests, linked only into the tests'
 * ringbridge-hooks binary (built with -DRINGBRIDGE_TEST_HOOKS; the
 * installed ringbridge has none of this).
 *
 * RINGBRIDGE_TEST_PAUSE=POINT:FILE makes the thread that reaches
 * TEST_PAUSE(POINT) while FILE exists write "test pause: POINT" to stderr
 * and wait until FILE is removed (at most 20 s). A test creates FILE,
 * waits for the line, changes the world (laps the ring, breaks a header)
 * and removes FILE: an interleaving that a preemption makes rare happens
 * every time.
 *
 * RINGBRIDGE_TEST_SEEK_LAPPED=1 makes every seek to a sequence number
 * end as libshm's seek does when it was lapped on every try: at the
 * oldest message, or at seq if that is older (the binary is linked with
 * --wrap=shmr_cursor_init).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"

void
test_pause(const char *point)
{
	const char *env = getenv("RINGBRIDGE_TEST_PAUSE"), *colon;
	struct timespec ts = { 0, 1000000 };
	size_t n = strlen(point);

	if (env == NULL || (colon = strchr(env, ':')) == NULL ||
	    (size_t)(colon - env) != n || strncmp(env, point, n) != 0 ||
	    access(colon + 1, F_OK) != 0)
		return;
	fprintf(stderr, "test pause: %s\n", point);
	fflush(stderr);
	for (int i = 0; i < 20000 && access(colon + 1, F_OK) == 0; i++)
		nanosleep(&ts, NULL);
}

int	__real_shmr_cursor_init(const struct shmr_ring *r,
	    struct shmr_cursor *c, enum shmr_from from, uint64_t seq);
int	__wrap_shmr_cursor_init(const struct shmr_ring *r,
	    struct shmr_cursor *c, enum shmr_from from, uint64_t seq);

int
__wrap_shmr_cursor_init(const struct shmr_ring *r, struct shmr_cursor *c,
    enum shmr_from from, uint64_t seq)
{
	int rc;

	rc = __real_shmr_cursor_init(r, c, from, seq);
	if (rc != 0 || from != SHMR_FROM_SEQ ||
	    getenv("RINGBRIDGE_TEST_SEEK_LAPPED") == NULL)
		return rc;
	if ((rc = __real_shmr_cursor_init(r, c, SHMR_FROM_OLDEST, 0)) == 0 &&
	    seq < c->seq)
		c->seq = seq;
	return rc;
}
