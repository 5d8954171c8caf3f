/*
 * util.c - helpers every ringctl command uses: ring errors, names,
 * settled header reads, time and owner formatting, JSON output.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "clock.h"
#include "enc.h"
#include "ringctl.h"

volatile sig_atomic_t stop;

/*
 * shmr_ring_info() and shmr_ring_check() on a live ring, retried for a
 * while on -EDEADLK/-EAGAIN: libshm gives up after ~2 ms on a header
 * update that does not settle, which on loaded cores is often only a
 * producer descheduled mid-update. A producer stopped for good is still
 * reported, after STALL_RETRY_MS.
 */
#define STALL_RETRY_MS	100

/*
 * Whether rc is worth another try before the deadline (0: first try;
 * set then). Each try itself takes the ~2 ms libshm waits, so the limit
 * is a time, not a count of tries.
 */
static bool
unsettled(int rc, uint64_t *deadline)
{
	if (rc != -EDEADLK && rc != -EAGAIN)
		return false;
	if (*deadline == 0)
		*deadline = mono_ms() + STALL_RETRY_MS;
	if (mono_ms() >= *deadline)
		return false;
	usleep(1000);
	return true;
}

int
settled_info(struct shmr_ring *ring, struct shmr_info *in)
{
	uint64_t deadline = 0;
	int rc;

	while (unsettled(rc = shmr_ring_info(ring, in), &deadline))
		;
	return rc;
}

int
settled_check(struct shmr_ring *ring, char *why, size_t len)
{
	uint64_t deadline = 0;
	int rc;

	while (unsettled(rc = shmr_ring_check(ring, why, len), &deadline))
		;
	return rc;
}

int
ring_err(const char *name, int rc)
{
	char why[160];

	warnx("%s: %s", name, ring_describe(name, rc, why, sizeof(why)));
	return ring_exit(rc);
}

int
check_name(const char *name)
{
	int rc;

	if ((rc = shmr_name_valid(name)) < 0) {
		warnx("%s: invalid ring name: %s", name, rc == -ENAMETOOLONG ?
		    "too long" : "use 1 to 128 of [A-Za-z0-9._-], not "
		    "starting with '.'");
		return EXIT_USAGE;
	}
	sigbus_ring(name);
	return 0;
}

void
sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000),
	    (long)(ms % 1000) * 1000000L };

	while (!stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void
fmt_age(char *buf, size_t len, uint64_t ns)
{
	uint64_t s = ns / 1000000000u;

	if (s < 60)
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
	else if (s < 3600)
		snprintf(buf, len, "%um%02us", (unsigned)(s / 60),
		    (unsigned)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%uh%02um", (unsigned)(s / 3600),
		    (unsigned)(s / 60 % 60));
	else
		snprintf(buf, len, "%ud%02uh", (unsigned)(s / 86400),
		    (unsigned)(s / 3600 % 24));
}

void
fmt_time(char *buf, size_t len, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%" PRIu64, ns);
}

const char *
owner_name(uid_t uid, char *buf, size_t len)
{
	static uid_t last_uid = (uid_t)-1;
	static char last[64];
	struct passwd *pw;

	if (uid != last_uid) {
		if ((pw = getpwuid(uid)) != NULL)
			snprintf(last, sizeof(last), "%s", pw->pw_name);
		else
			snprintf(last, sizeof(last), "%u", (unsigned)uid);
		last_uid = uid;
	}
	snprintf(buf, len, "%s", last);
	return buf;
}

/* Write s as a JSON string, quotes included. */
void
json_str(FILE *f, const char *s)
{
	char out[6 * 128];
	size_t n = strlen(s);
	long k;

	putc('"', f);
	while (n > 0) {
		size_t chunk = n > 128 ? 128 : n;

		k = enc_json_escape(out, sizeof(out), s, chunk);
		fwrite(out, 1, (size_t)k, f);
		s += chunk;
		n -= chunk;
	}
	putc('"', f);
}

void
json_key_str(FILE *f, const char *key, const char *val, bool comma)
{
	fprintf(f, "%s\"%s\":", comma ? "," : "", key);
	json_str(f, val);
}

void
json_key_u64(FILE *f, const char *key, uint64_t val)
{
	fprintf(f, ",\"%s\":%" PRIu64, key, val);
}

void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

int
finish(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		warn("stdout");
		return EXIT_SYS;
	}
	return status;
}

/*
 * Every command reads rings of any owner (ringctl(1)): it is run to look
 * at rings, whoever made them; libshm still refuses objects that group or
 * other may write.
 */
static const struct shmr_open_opts any_owner = { .trust_any_owner = true };

int
open_ring(const char *name, struct shmr_ring **ring)
{
	return shmr_ring_open(name, &any_owner, ring);
}

int
open_reader(const char *name, enum shmr_from from, uint64_t seq,
    struct shmr_reader **r)
{
	return shmr_reader_open_opts(name, from, seq, &any_owner, r);
}
