/*
 * test_common.c - the program layer of common/ that ringd, ringctl,
 * ringbridge and ringrelay share: the ring creation rule, --from parsing,
 * state names, error wording and exit status, size formatting, clocks
 * and the descriptor limit.
 */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include <criterion/criterion.h>

#include "clock.h"
#include "exitcode.h"
#include "from.h"
#include "nofile.h"
#include "ringerr.h"
#include "ringpolicy.h"
#include "ringstate.h"
#include "sizes.h"

static int
policy(uint64_t size, uint64_t max_msg, mode_t mode,
    struct shmr_create_opts *o, char *why, size_t len)
{
	memset(o, 0, sizeof(*o));
	why[0] = '\0';
	return ring_policy(o, size, max_msg, mode, why, len);
}

Test(ringpolicy, defaults)
{
	struct shmr_create_opts o;
	char why[128];

	cr_assert_eq(policy(0, 0, 0, &o, why, sizeof(why)), 0);
	cr_assert_eq(o.capacity, RING_SIZE_DEFAULT);
	cr_assert_eq(o.max_msg, 1u << 20, "min(64M / 8, 1M)");
	cr_assert_eq(o.mode, 0600);
	/* A small ring: size / 8 is the smaller. */
	cr_assert_eq(policy(64 << 10, 0, 0644, &o, why, sizeof(why)), 0);
	cr_assert_eq(o.max_msg, 8u << 10);
	cr_assert_eq(o.mode, 0644);
}

Test(ringpolicy, refusals)
{
	struct shmr_create_opts o;
	char why[128];

	cr_assert_eq(policy(100 << 10, 0, 0, &o, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "--size") != NULL, "%s", why);
	cr_assert_eq(policy(32 << 10, 0, 0, &o, why, sizeof(why)), -EINVAL,
	    "below SHMR_CAP_MIN");
	cr_assert_eq(policy(64 << 10, 9 << 10, 0, &o, why, sizeof(why)),
	    -EINVAL);
	cr_assert(strstr(why, "at most size/8 = 8192B") != NULL, "%s", why);
	cr_assert_eq(policy(64 << 10, 8 << 10, 0, &o, why, sizeof(why)), 0);
	cr_assert_eq(policy(0, 0, 0666, &o, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "writable by group or other") != NULL, "%s",
	    why);
	cr_assert_eq(policy(0, 0, 0400, &o, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "read and write") != NULL, "%s", why);
	cr_assert_eq(o.capacity, 0, "nothing set on a refusal");
}

Test(from, words_and_numbers)
{
	enum shmr_from f;
	uint64_t seq = 7;

	cr_assert_eq(from_parse("oldest", &f, &seq), 0);
	cr_assert_eq(f, SHMR_FROM_OLDEST);
	cr_assert_eq(seq, 0);
	cr_assert_eq(from_parse("latest", &f, &seq), 0);
	cr_assert_eq(f, SHMR_FROM_LATEST);
	cr_assert_eq(from_parse("end", &f, &seq), 0);
	cr_assert_eq(f, SHMR_FROM_END);
	cr_assert_eq(from_parse("18446744073709551615", &f, &seq), 0);
	cr_assert_eq(f, SHMR_FROM_SEQ);
	cr_assert_eq(seq, UINT64_MAX);
	cr_assert_eq(from_parse("18446744073709551616", &f, &seq), -ERANGE);
	cr_assert_eq(from_parse("", &f, &seq), -EINVAL);
	cr_assert_eq(from_parse("-1", &f, &seq), -EINVAL);
	cr_assert_eq(from_parse("12a", &f, &seq), -EINVAL);
	cr_assert_eq(from_parse("Oldest", &f, &seq), -EINVAL);
}

Test(ringstate, one_vocabulary)
{
	cr_assert_str_eq(ring_state_name(SHMR_STATE_LIVE, 1), "live");
	cr_assert_str_eq(ring_state_name(SHMR_STATE_LIVE, 0), "dead");
	cr_assert_str_eq(ring_state_name(SHMR_STATE_LIVE, -5), "dead");
	cr_assert_str_eq(ring_state_name(SHMR_STATE_INIT, 0), "init");
	cr_assert_str_eq(ring_state_name(SHMR_STATE_CLOSED, 0), "closed");
	cr_assert_str_eq(ring_state_name(SHMR_STATE_REPLACED, 1), "replaced");
	cr_assert_str_eq(ring_state_name(99, 1), "unknown");
}

Test(ringerr, wording_and_status)
{
	cr_assert_str_eq(ring_error(-ENOENT), "no such ring");
	cr_assert_str_eq(ring_error(-EBUSY), "a live producer owns the ring");
	cr_assert_str_eq(ring_error(-ENOSPC), "not enough room in /dev/shm");
	cr_assert_str_eq(ring_error(-ENOMEM), shmr_strerror(-ENOMEM));
	cr_assert_eq(ring_exit(-ENOENT), EXIT_NEG);
	cr_assert_eq(ring_exit(-EDEADLK), EXIT_NEG);
	cr_assert_eq(ring_exit(-EACCES), EXIT_SYS);
	cr_assert_eq(ring_exit(-ENOMEM), EXIT_SYS);
}

Test(sizes, iec_no_space)
{
	char b[SIZE_FORMAT_LEN];

	cr_assert_str_eq(size_format(b, sizeof(b), 100), "100B");
	cr_assert_str_eq(size_format(b, sizeof(b), 8192), "8192B");
	cr_assert_str_eq(size_format(b, sizeof(b), 10000), "9.8KiB");
	cr_assert_str_eq(size_format(b, sizeof(b), 64 << 20), "64MiB");
	cr_assert_str_eq(size_format(b, sizeof(b), (uint64_t)1 << 40),
	    "1024GiB");
}

Test(sizes, parse_binary_suffixes)
{
	const char *why = NULL;
	uint64_t v = 0;

	cr_assert_eq(size_parse("65536", 0, UINT64_MAX, &v, &why), 0);
	cr_assert_eq(v, 65536);
	cr_assert_eq(size_parse("64k", 0, UINT64_MAX, &v, &why), 0);
	cr_assert_eq(v, 64 << 10);
	cr_assert_eq(size_parse("1T", 0, UINT64_MAX, &v, &why), 0);
	cr_assert_eq(v, (uint64_t)1 << 40);
	cr_assert_eq(size_parse("12Q", 0, UINT64_MAX, &v, &why), -EINVAL);
	cr_assert_eq(size_parse("", 0, UINT64_MAX, &v, &why), -EINVAL);
	cr_assert_eq(size_parse("4K", 64 << 10, UINT64_MAX, &v, &why),
	    -ERANGE);
	cr_assert_str_eq(why, "too small");
	cr_assert_eq(size_parse("2T", 0, (uint64_t)1 << 40, &v, &why),
	    -ERANGE);
	cr_assert_eq(size_parse("16777216T", 0, UINT64_MAX, &v, &why),
	    -ERANGE, "2^64: overflows");
}

Test(clock, monotonic_and_real)
{
	uint64_t a = mono_ns(), b = mono_ns();

	cr_assert_geq(b, a);
	cr_assert_leq(mono_ms(), mono_ns() / 1000000u + 1);
	cr_assert_leq(mono_s(), (double)mono_ns() / 1e9 + 1e-3);
	/* After 2020-01-01 in ns: the real clock, not the monotonic one. */
	cr_assert_gt(real_ns(), 1577836800ull * 1000000000u);
}

Test(nofile, raises_never_lowers)
{
	struct rlimit rl;
	uint64_t got;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	got = nofile_raise(16);
	cr_assert_eq(got, rl.rlim_cur, "a limit above 16 stays");
	got = nofile_raise(0);
	cr_assert_eq(got, rl.rlim_max > 1048576 ? got : rl.rlim_max,
	    "raised to the hard limit");
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	cr_assert_eq(rl.rlim_cur, got);
}
