/*
 * ringctl.c - the operator's tool: list, inspect, tail, watch, check,
 * create and remove shmring rings.
 *
 * Rings are only ever mapped read-only through libshm, except by the
 * explicit create and rm commands. Nothing in a ring is trusted: libshm
 * validates every header field and record, and a SIGBUS (an object
 * truncated under our mapping) ends the program with a message instead of
 * a core dump.
 */
#include <stdlib.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shmring.h"
#include "cli.h"
#include "enc.h"

#define EXIT_NEG	1	/* negative answer: not found, corrupt, busy */
#define EXIT_USAGE	2
#define EXIT_SYS	3	/* system error */

#define SHM_PATH	"/dev/shm/shmring."
#define DEFAULT_TAIL	10
/* list: the two header samples for the rate are this far apart */
#define RATE_SAMPLE_MS	100
/* tail -f: how often a quiet follower checks the producer and the name */
#define FOLLOW_POLL_MS	500
/* humanize_number scales until the number fits: 8 gives "64KiB". */
#define HUMAN_LEN	8

enum fmt { FMT_TEXT, FMT_HEX, FMT_JSON, FMT_RAW };

struct buf {
	char	*p;
	size_t	 cap;
};

static bool json_out;
static volatile sig_atomic_t stop;
static char cur_ring[SHMR_NAME_MAX + 1];

static const char usage_text[] =
"usage: ringctl [--json] command [options] [name]\n"
"       ringctl list [--json] [--names]\n"
"       ringctl info [--json] name\n"
"       ringctl tail [-f] [-n count] [--from oldest|latest|end|seq]\n"
"                    [--format text|hex|json|raw] [--json] name\n"
"       ringctl watch [-i seconds] [-c count] [--json] name\n"
"       ringctl check [--json] name\n"
"       ringctl create --size size [--max-msg size] [--mode mode] [--force]\n"
"                      name\n"
"       ringctl rm [--force] name ...\n";

#define COMMON_LOPTS \
	{ "json", no_argument, NULL, 'j' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }, \
	{ NULL, 0, NULL, 0 }
#define COMMON_SOPTS	"hjV"

/* ---- small helpers ---------------------------------------------------- */

static void
usage(FILE *f)
{
	fputs(usage_text, f);
}

static void
version(void)
{
	printf("ringctl %d.%d (libshm %s)\n", SHMR_VERSION_MAJOR,
	    SHMR_VERSION_MINOR, shmr_version());
}

/*
 * Print the usage lines of one command: its line of usage_text and the
 * continuation lines after it.
 */
static void
cmd_usage(FILE *f, const char *cmd)
{
	const char *p, *nl, *w;
	size_t clen = strlen(cmd);
	bool in = false;

	for (p = usage_text; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		w = p + strspn(p, " ");
		if (strncmp(w, "usage: ", 7) == 0)
			w += 7;
		if (strncmp(w, "ringctl ", 8) == 0) {
			in = strncmp(w + 8, cmd, clen) == 0 &&
			    w[8 + clen] == ' ';
			if (in) {
				fprintf(f, "usage: %.*s\n", (int)(nl - w), w);
				continue;
			}
		}
		if (in)
			fprintf(f, "%.*s\n", (int)(nl - p), p);
	}
}

static int
usage_err(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vwarnx(fmt, ap);
		va_end(ap);
	}
	if (cmd != NULL)
		cmd_usage(stderr, cmd);
	else
		usage(stderr);
	return EXIT_USAGE;
}

/* Exit status for a negative errno value or libshm status. */
static int
exit_for(int rc)
{
	switch (-rc) {
	case ENOENT:
	case EPROTO:
	case EBADMSG:
	case EAGAIN:
	case EBUSY:
	case EPERM:
	case ERANGE:
	case ESTALE:
	case EEXIST:
	case EDEADLK:
		return EXIT_NEG;
	default:
		return EXIT_SYS;
	}
}

/* A reason for a failure to use a ring, worded for operators. */
static const char *
reason(int rc)
{
	switch (-rc) {
	case ENOENT:
		return "no such ring";
	case EPROTO:
		return "not a shmring ring (bad magic or another layout "
		    "version)";
	case EBADMSG:
		return "corrupt ring header";
	case EPERM:
		return "refused: untrusted owner or writable by group/other";
	case EAGAIN:
		return "still being created";
	case EBUSY:
		return "a live producer owns the ring";
	case EDEADLK:
		return "producer stalled mid-update (it is stopped inside a "
		    "header update; continue or kill it)";
	default:
		return shmr_strerror(rc);
	}
}

/*
 * reason() plus, for an object too small to be any ring (a valid one is
 * at least SHMR_CAP_MIN bytes), its size: truncated or foreign.
 */
static const char *
describe(const char *name, int rc, char *buf, size_t len)
{
	char path[sizeof(SHM_PATH) + SHMR_NAME_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", SHM_PATH, name);
	if ((rc == -EBADMSG || rc == -EPROTO || rc == -EAGAIN) &&
	    stat(path, &st) == 0 && (uint64_t)st.st_size < SHMR_CAP_MIN)
		snprintf(buf, len, "%s (object is only %lld bytes: truncated "
		    "or not a ring)", reason(rc), (long long)st.st_size);
	else
		snprintf(buf, len, "%s", reason(rc));
	return buf;
}

static int
ring_err(const char *name, int rc)
{
	char why[160];

	warnx("%s: %s", name, describe(name, rc, why, sizeof(why)));
	return exit_for(rc);
}

static int
check_name(const char *name)
{
	int rc;

	if ((rc = shmr_name_valid(name)) < 0) {
		warnx("%s: invalid ring name: %s", name, rc == -ENAMETOOLONG ?
		    "too long" : "use 1 to 128 of [A-Za-z0-9._-], not "
		    "starting with '.'");
		return EXIT_USAGE;
	}
	/* for the SIGBUS message */
	snprintf(cur_ring, sizeof(cur_ring), "%s", name);
	return 0;
}

static int
buf_reserve(struct buf *b, size_t n)
{
	char *p;

	if (n <= b->cap)
		return 0;
	if ((p = realloc(b->p, n)) == NULL)
		return -ENOMEM;
	b->p = p;
	b->cap = n;
	return 0;
}

static uint64_t
now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000),
	    (long)(ms % 1000) * 1000000L };

	while (!stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void
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

static void
fmt_time(char *buf, size_t len, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%" PRIu64, ns);
}

static const char *
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

/* "live", "dead", "closed", ...: the header state and the lock probe. */
static const char *
state_name(const struct shmr_info *in, int alive)
{
	switch (in->state) {
	case SHMR_STATE_INIT:
		return "init";
	case SHMR_STATE_LIVE:
		return alive == 1 ? "live" : "dead";
	case SHMR_STATE_CLOSED:
		return "closed";
	case SHMR_STATE_REPLACED:
		return "replaced";
	default:
		return "unknown";
	}
}

/* Write s as a JSON string, quotes included. */
static void
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

static void
json_key_str(FILE *f, const char *key, const char *val, bool comma)
{
	fprintf(f, "%s\"%s\":", comma ? "," : "", key);
	json_str(f, val);
}

static void
json_key_u64(FILE *f, const char *key, uint64_t val)
{
	fprintf(f, ",\"%s\":%" PRIu64, key, val);
}

static void
on_sigbus(int sig)
{
	static const char m1[] = "ringctl: ";
	static const char m2[] = ": bus error reading the ring "
	    "(object truncated while mapped)\n";
	ssize_t w;

	(void)sig;
	w = write(STDERR_FILENO, m1, sizeof(m1) - 1);
	w = write(STDERR_FILENO, cur_ring, strlen(cur_ring));
	w = write(STDERR_FILENO, m2, sizeof(m2) - 1);
	(void)w;
	_exit(EXIT_NEG);
}

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static int
finish(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		warn("stdout");
		return EXIT_SYS;
	}
	return status;
}

/*
 * Parse the options every command takes. Returns -1 when ch was handled
 * and parsing should continue, or an exit status.
 */
static int
common_opt(int ch, const char *cmd)
{
	switch (ch) {
	case 'j':
		json_out = true;
		return -1;
	case 'h':
		cmd_usage(stdout, cmd);
		return finish(0);
	case 'V':
		version();
		return finish(0);
	default:
		return usage_err(cmd, NULL);
	}
}

static int
one_name(const char *cmd, int argc, char **argv, const char **name)
{
	int rc;

	if (argc - optind != 1)
		return usage_err(cmd, argc - optind < 1 ? "%s: missing ring "
		    "name" : "%s: too many arguments", cmd);
	*name = argv[optind];
	if ((rc = check_name(*name)) != 0)
		return rc;
	return 0;
}

static int
open_ring(const char *name, struct shmr_ring **ring)
{
	struct shmr_open_opts o = { .trust_any_owner = true };

	return shmr_ring_open(name, &o, ring);
}

/* ---- list ------------------------------------------------------------- */

struct lentry {
	char		*name;
	struct shmr_ring *ring;
	int		 err;	/* open or snapshot error, 0 if none */
	bool		 skip;	/* foreign object: not listed */
	int		 alive;
	struct shmr_info a, b;
	double		 rate;	/* messages/s, < 0 if unknown */
	struct stat	 st;	/* for unreadable rings */
	bool		 have_st;
	char		 why[160];	/* for unreadable rings */
};

struct names {
	struct lentry	*v;
	size_t		 n, cap;
};

static int
collect(const char *name, void *arg)
{
	struct names *ns = arg;
	struct lentry *v;

	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 64;

		if ((v = realloc(ns->v, cap * sizeof(*v))) == NULL)
			return -ENOMEM;
		ns->v = v;
		ns->cap = cap;
	}
	memset(&ns->v[ns->n], 0, sizeof(ns->v[ns->n]));
	if ((ns->v[ns->n].name = strdup(name)) == NULL)
		return -ENOMEM;
	ns->n++;
	return 0;
}

static int
lentry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lentry *)a)->name,
	    ((const struct lentry *)b)->name);
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

enum { C_NAME, C_CAP, C_MAXMSG, C_MSGS, C_NEXT, C_OLDEST, C_RATE, C_STATE,
    C_OWNER, C_MODE, NCOL };

static const char *const col_head[NCOL] = { "NAME", "CAPACITY", "MAXMSG",
    "MESSAGES", "NEXT", "OLDEST", "RATE/s", "STATE", "OWNER", "MODE" };

static void
list_cells(const struct lentry *e, char cell[NCOL][64])
{
	const struct shmr_info *in = &e->b;

	snprintf(cell[C_NAME], 64, "%s", e->name);
	cli_human(cell[C_CAP], HUMAN_LEN, in->capacity);
	cli_human(cell[C_MAXMSG], HUMAN_LEN, in->max_msg);
	snprintf(cell[C_MSGS], 64, "%" PRIu64, in->messages);
	snprintf(cell[C_NEXT], 64, "%" PRIu64, in->next_seq);
	snprintf(cell[C_OLDEST], 64, "%" PRIu64, in->oldest_seq);
	if (e->rate < 0)
		snprintf(cell[C_RATE], 64, "-");
	else
		snprintf(cell[C_RATE], 64, "%.1f", e->rate);
	snprintf(cell[C_STATE], 64, "%s", state_name(in, e->alive));
	owner_name(in->uid, cell[C_OWNER], 64);
	snprintf(cell[C_MODE], 64, "%04o", (unsigned)(in->mode & 07777));
}

static void
list_print_text(const struct names *ns)
{
	char cell[NCOL][64];
	int w[NCOL];
	size_t i;
	int c;

	for (c = 0; c < NCOL; c++)
		w[c] = (int)strlen(col_head[c]);
	for (i = 0; i < ns->n; i++) {
		const struct lentry *e = &ns->v[i];

		if (e->skip)
			continue;
		if (e->err != 0) {
			if ((int)strlen(e->name) > w[C_NAME])
				w[C_NAME] = (int)strlen(e->name);
			continue;
		}
		list_cells(e, cell);
		for (c = 0; c < NCOL; c++)
			if ((int)strlen(cell[c]) > w[c])
				w[c] = (int)strlen(cell[c]);
	}
	for (c = 0; c < NCOL; c++)
		printf(c == 0 ? "%-*s" : c >= C_STATE ? "  %-*s" : "  %*s",
		    c == NCOL - 1 ? 0 : w[c], col_head[c]);
	putchar('\n');
	for (i = 0; i < ns->n; i++) {
		const struct lentry *e = &ns->v[i];

		if (e->skip)
			continue;
		if (e->err != 0) {
			char own[64] = "?";

			if (e->have_st)
				owner_name(e->st.st_uid, own, sizeof(own));
			printf("%-*s  unreadable: %s (owner %s, mode %04o)\n",
			    w[C_NAME], e->name, e->why, own,
			    e->have_st ? (unsigned)(e->st.st_mode & 07777) :
			    0u);
			continue;
		}
		list_cells(e, cell);
		for (c = 0; c < NCOL; c++)
			printf(c == 0 ? "%-*s" : c >= C_STATE ?
			    "  %-*s" : "  %*s", c == NCOL - 1 ? 0 : w[c],
			    cell[c]);
		putchar('\n');
	}
}

static void
list_print_json(const struct names *ns)
{
	char own[64], mode[8];
	bool first = true;
	size_t i;

	printf("{\"rings\":[");
	for (i = 0; i < ns->n; i++) {
		const struct lentry *e = &ns->v[i];
		const struct shmr_info *in = &e->b;

		if (e->skip)
			continue;
		printf("%s{", first ? "" : ",");
		first = false;
		json_key_str(stdout, "name", e->name, false);
		if (e->err != 0) {
			json_key_str(stdout, "error", e->why, true);
			if (e->have_st) {
				snprintf(mode, sizeof(mode), "%04o",
				    (unsigned)(e->st.st_mode & 07777));
				json_key_u64(stdout, "uid", e->st.st_uid);
				json_key_str(stdout, "owner", owner_name(
				    e->st.st_uid, own, sizeof(own)), true);
				json_key_str(stdout, "mode", mode, true);
			}
			putchar('}');
			continue;
		}
		json_key_u64(stdout, "capacity", in->capacity);
		json_key_u64(stdout, "max_msg", in->max_msg);
		json_key_u64(stdout, "messages", in->messages);
		json_key_u64(stdout, "bytes", in->bytes);
		json_key_u64(stdout, "next_seq", in->next_seq);
		json_key_u64(stdout, "oldest_seq", in->oldest_seq);
		json_key_u64(stdout, "used", in->used);
		if (e->rate < 0)
			printf(",\"rate\":null");
		else
			printf(",\"rate\":%.3f", e->rate);
		json_key_str(stdout, "state", state_name(in, e->alive), true);
		printf(",\"alive\":%s", e->alive == 1 ? "true" : "false");
		json_key_u64(stdout, "pid", (uint64_t)in->pid);
		json_key_u64(stdout, "epoch", in->epoch);
		json_key_u64(stdout, "uid", in->uid);
		json_key_str(stdout, "owner", owner_name(in->uid, own,
		    sizeof(own)), true);
		snprintf(mode, sizeof(mode), "%04o", (unsigned)(in->mode &
		    07777));
		json_key_str(stdout, "mode", mode, true);
		putchar('}');
	}
	printf("]}\n");
}

static int
cmd_list(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "names", no_argument, NULL, '1' },
		COMMON_LOPTS
	};
	struct names ns = { NULL, 0, 0 };
	bool names_only = false, any_live = false;
	uint64_t t0 = 0, t1;
	size_t i;
	int ch, rc, status = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "1" COMMON_SOPTS, lopts,
	    NULL)) != -1) {
		if (ch == '1')
			names_only = true;
		else if ((rc = common_opt(ch, "list")) >= 0)
			return rc;
	}
	if (optind != argc)
		return usage_err("list", "list: too many arguments");

	if ((rc = shmr_list(collect, &ns)) < 0) {
		warnx("cannot enumerate rings: %s", shmr_strerror(rc));
		status = EXIT_SYS;
		goto out;
	}
	qsort(ns.v, ns.n, sizeof(*ns.v), lentry_cmp);
	if (names_only) {
		for (i = 0; i < ns.n; i++)
			printf("%s\n", ns.v[i].name);
		goto out;
	}

	/*
	 * Open every ring and take a first snapshot, then (only if some
	 * producer is live) a second one RATE_SAMPLE_MS later: the rate is
	 * the difference in published messages over the elapsed time.
	 */
	raise_nofile();
	for (i = 0; i < ns.n; i++) {
		struct lentry *e = &ns.v[i];
		char path[sizeof(SHM_PATH) + SHMR_NAME_MAX];

		e->rate = -1;
		snprintf(cur_ring, sizeof(cur_ring), "%s", e->name);
		rc = open_ring(e->name, &e->ring);
		if (rc == -EPROTO) {
			e->skip = true;
			continue;
		}
		if (rc == 0 && (rc = shmr_ring_info(e->ring, &e->a)) == 0) {
			e->alive = shmr_ring_alive(e->ring);
			e->b = e->a;
			if (e->a.state == SHMR_STATE_LIVE && e->alive == 1)
				any_live = true;
			continue;
		}
		e->err = rc;
		describe(e->name, rc, e->why, sizeof(e->why));
		snprintf(path, sizeof(path), "%s%s", SHM_PATH, e->name);
		e->have_st = stat(path, &e->st) == 0;
		if (e->ring != NULL) {
			shmr_ring_close(e->ring);
			e->ring = NULL;
		}
	}
	if (any_live) {
		t0 = now_ns(CLOCK_MONOTONIC);
		sleep_ms(RATE_SAMPLE_MS);
	}
	t1 = now_ns(CLOCK_MONOTONIC);
	for (i = 0; i < ns.n; i++) {
		struct lentry *e = &ns.v[i];

		if (e->ring == NULL)
			continue;
		snprintf(cur_ring, sizeof(cur_ring), "%s", e->name);
		if (any_live && shmr_ring_info(e->ring, &e->b) < 0)
			e->b = e->a;
		e->alive = shmr_ring_alive(e->ring);
		if (e->b.state != SHMR_STATE_LIVE || e->alive != 1)
			e->rate = 0;
		else if (any_live && e->b.epoch == e->a.epoch &&
		    e->b.messages >= e->a.messages && t1 > t0)
			e->rate = (double)(e->b.messages - e->a.messages) /
			    ((double)(t1 - t0) / 1e9);
		shmr_ring_close(e->ring);
		e->ring = NULL;
	}
	if (json_out)
		list_print_json(&ns);
	else
		list_print_text(&ns);
out:
	for (i = 0; i < ns.n; i++) {
		if (ns.v[i].ring != NULL)
			shmr_ring_close(ns.v[i].ring);
		free(ns.v[i].name);
	}
	free(ns.v);
	return finish(status);
}

/* ---- info ------------------------------------------------------------- */

static int
cmd_info(int argc, char **argv)
{
	static const struct option lopts[] = {
		COMMON_LOPTS
	};
	struct shmr_ring *ring;
	struct shmr_info in;
	struct shmr_mirror_info mi;
	const char *name;
	char h1[32], h2[32], h3[32], own[64], t[40], age[32], lage[32];
	uint64_t now, avail;
	int ch, rc, alive, mirror;

	optind = 0;
	while ((ch = getopt_long(argc, argv, COMMON_SOPTS, lopts, NULL)) != -1)
		if ((rc = common_opt(ch, "info")) >= 0)
			return rc;
	if ((rc = one_name("info", argc, argv, &name)) != 0)
		return rc;
	if ((rc = open_ring(name, &ring)) < 0)
		return ring_err(name, rc);
	if ((rc = shmr_ring_info(ring, &in)) < 0) {
		shmr_ring_close(ring);
		return ring_err(name, rc);
	}
	alive = shmr_ring_alive(ring);
	/* An error here only hides the mirror lines: the rest is sound. */
	if ((mirror = shmr_ring_mirror(ring, &mi)) < 0)
		mirror = 0;
	shmr_ring_close(ring);

	now = now_ns(CLOCK_REALTIME);
	avail = in.next_seq - in.oldest_seq;
	fmt_time(t, sizeof(t), in.created_ns);
	fmt_age(age, sizeof(age), now > in.created_ns ? now - in.created_ns :
	    0);
	if (in.last_publish_ns != 0)
		fmt_age(lage, sizeof(lage), now > in.last_publish_ns ?
		    now - in.last_publish_ns : 0);
	owner_name(in.uid, own, sizeof(own));

	if (json_out) {
		char mode[8];

		snprintf(mode, sizeof(mode), "%04o", (unsigned)(in.mode &
		    07777));
		putchar('{');
		json_key_str(stdout, "name", name, false);
		json_key_str(stdout, "state", state_name(&in, alive), true);
		printf(",\"alive\":%s", alive == 1 ? "true" : "false");
		json_key_u64(stdout, "pid", (uint64_t)in.pid);
		json_key_u64(stdout, "epoch", in.epoch);
		json_key_u64(stdout, "layout_version", in.layout_version);
		json_key_u64(stdout, "capacity", in.capacity);
		json_key_u64(stdout, "max_msg", in.max_msg);
		json_key_u64(stdout, "used", in.used);
		json_key_u64(stdout, "messages", in.messages);
		json_key_u64(stdout, "bytes", in.bytes);
		json_key_u64(stdout, "next_seq", in.next_seq);
		json_key_u64(stdout, "oldest_seq", in.oldest_seq);
		json_key_u64(stdout, "available", avail);
		json_key_u64(stdout, "created_ns", in.created_ns);
		json_key_u64(stdout, "last_publish_ns", in.last_publish_ns);
		if (in.last_publish_ns != 0)
			printf(",\"last_publish_age_s\":%.3f",
			    now > in.last_publish_ns ?
			    (double)(now - in.last_publish_ns) / 1e9 : 0.0);
		else
			printf(",\"last_publish_age_s\":null");
		json_key_u64(stdout, "uid", in.uid);
		json_key_str(stdout, "owner", own, true);
		json_key_str(stdout, "mode", mode, true);
		if (mirror) {
			printf(",\"mirror\":{");
			json_key_str(stdout, "origin", mi.origin, false);
			json_key_u64(stdout, "upstream_next_seq",
			    mi.upstream_next_seq);
			json_key_u64(stdout, "behind", mi.behind);
			json_key_u64(stdout, "upstream_ns", mi.upstream_ns);
			putchar('}');
		}
		printf("}\n");
		return finish(0);
	}
	cli_human(h1, HUMAN_LEN, in.capacity);
	cli_human(h2, HUMAN_LEN, in.max_msg);
	cli_human(h3, HUMAN_LEN, in.used);
	printf("name:          %s\n", name);
	printf("state:         %s (pid %ld, producer %s)\n",
	    state_name(&in, alive), (long)in.pid, alive == 1 ? "alive" :
	    "not running");
	printf("epoch:         %" PRIu64 "\n", in.epoch);
	printf("capacity:      %s (%" PRIu64 " bytes)\n", h1, in.capacity);
	printf("max message:   %s (%" PRIu32 " bytes)\n", h2, in.max_msg);
	printf("used:          %s (%" PRIu64 " bytes, %.1f%%)\n", h3, in.used,
	    in.capacity ? 100.0 * (double)in.used / (double)in.capacity : 0.0);
	cli_human(h1, HUMAN_LEN, in.bytes);
	printf("published:     %" PRIu64 " messages, %s this epoch\n",
	    in.messages, h1);
	printf("next seq:      %" PRIu64 "\n", in.next_seq);
	printf("oldest seq:    %" PRIu64 " (%" PRIu64 " messages available)\n",
	    in.oldest_seq, avail);
	printf("created:       %s (%s ago)\n", t, age);
	if (in.last_publish_ns != 0)
		printf("last publish:  %s ago\n", lage);
	else
		printf("last publish:  never\n");
	printf("owner:         %s (uid %u)\n", own, (unsigned)in.uid);
	printf("mode:          %04o\n", (unsigned)(in.mode & 07777));
	printf("layout:        %" PRIu32 "\n", in.layout_version);
	if (mirror) {
		if (mi.upstream_ns != 0)
			fmt_age(lage, sizeof(lage), now > mi.upstream_ns ?
			    now - mi.upstream_ns : 0);
		printf("mirror:        mirror of %s, %" PRIu64 " behind"
		    " (upstream next seq %" PRIu64 ", heard %s%s)\n",
		    mi.origin[0] != '\0' ? mi.origin : "(unnamed)",
		    mi.behind, mi.upstream_next_seq,
		    mi.upstream_ns != 0 ? lage : "never",
		    mi.upstream_ns != 0 ? " ago" : "");
	}
	return finish(0);
}

/* ---- tail ------------------------------------------------------------- */

/*
 * Text format: printable ASCII as is, backslash doubled, \n \t \r, valid
 * UTF-8 sequences above U+009F as is, everything else (controls, C1
 * controls, invalid bytes) as \xHH. Worst case 4 bytes per input byte.
 */
static size_t
escape_text(char *out, const unsigned char *s, size_t n, bool utf8)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i = 0, k;
	unsigned char c;

	while (i < n) {
		c = s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (c == '\\' || c == '\n' || c == '\t' || c == '\r') {
			out[o++] = '\\';
			out[o++] = c == '\\' ? '\\' : c == '\n' ? 'n' :
			    c == '\t' ? 't' : 'r';
			i++;
			continue;
		}
		if (utf8 && c >= 0xc2 && !(c == 0xc2 && i + 1 < n &&
		    s[i + 1] < 0xa0)) {
			k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
			if (k > n - i)
				k = n - i;
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
		i++;
	}
	return o;
}

/* hexdump -C style: offset, 16 bytes in two groups, printable column. */
static void
print_hex(uint64_t seq, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char line[80];
	size_t off, i, o;

	printf("seq %" PRIu64 " len %zu\n", seq, n);
	for (off = 0; off < n; off += 16) {
		o = (size_t)snprintf(line, sizeof(line), "%08zx ", off);
		for (i = 0; i < 16; i++) {
			if (i == 8)
				line[o++] = ' ';
			line[o++] = ' ';
			line[o++] = off + i < n ? hex[s[off + i] >> 4] : ' ';
			line[o++] = off + i < n ? hex[s[off + i] & 15] : ' ';
		}
		line[o++] = ' ';
		line[o++] = ' ';
		line[o++] = '|';
		for (i = 0; i < 16 && off + i < n; i++)
			line[o++] = s[off + i] >= 0x20 && s[off + i] < 0x7f ?
			    (char)s[off + i] : '.';
		line[o++] = '|';
		line[o++] = '\n';
		fwrite(line, 1, o, stdout);
	}
}

static int
print_msg(enum fmt fmt, const struct shmr_msg *m, struct buf *b)
{
	const unsigned char *s = m->data;
	size_t n = m->len, o;
	bool utf8;
	long k;

	switch (fmt) {
	case FMT_RAW:
		fwrite(s, 1, n, stdout);
		return 0;
	case FMT_HEX:
		print_hex(m->seq, s, n);
		return 0;
	case FMT_TEXT:
		if (buf_reserve(b, 4 * n + 1) < 0)
			return -ENOMEM;
		o = escape_text(b->p, s, n, enc_utf8_valid(s, n));
		printf("%" PRIu64 "\t", m->seq);
		fwrite(b->p, 1, o, stdout);
		putchar('\n');
		return 0;
	case FMT_JSON:
		utf8 = enc_utf8_valid(s, n);
		if (buf_reserve(b, utf8 ? 6 * n + 1 : ENC_BASE64_LEN(n) + 1) <
		    0)
			return -ENOMEM;
		if (utf8)
			k = enc_json_escape(b->p, b->cap, s, n);
		else
			k = enc_base64(b->p, b->cap, s, n);
		if (k < 0)
			return -ENOMEM;
		printf("{\"seq\":%" PRIu64 ",\"len\":%zu,\"%s\":\"", m->seq, n,
		    utf8 ? "data" : "data_base64");
		fwrite(b->p, 1, (size_t)k, stdout);
		fputs("\"}\n", stdout);
		return 0;
	}
	return 0;
}

/*
 * Overruns are reported with the exact number of messages lost. A reader
 * lapped again and again by a fast producer reports at most one line per
 * second, with the total lost over the overruns it covers.
 */
struct overruns {
	uint64_t	lost;	/* not yet reported */
	uint64_t	events;
	uint64_t	next;	/* sequence number after the last one */
	uint64_t	last_ns; /* CLOCK_MONOTONIC of the last report */
};

static void
overrun_report(const char *name, struct overruns *ov, bool flush)
{
	uint64_t now;

	if (ov->events == 0)
		return;
	now = now_ns(CLOCK_MONOTONIC);
	if (!flush && ov->last_ns != 0 && now - ov->last_ns < 1000000000u)
		return;
	fflush(stdout);
	if (ov->events == 1)
		warnx("%s: overrun: lost %" PRIu64 " messages, continuing at "
		    "seq %" PRIu64, name, ov->lost, ov->next);
	else
		warnx("%s: overrun: lost %" PRIu64 " messages in %" PRIu64
		    " overruns, continuing at seq %" PRIu64, name, ov->lost,
		    ov->events, ov->next);
	ov->lost = ov->events = 0;
	ov->last_ns = now;
}

/* The name refers to a new ring (removed and created again): switch. */
static int
reopen(const char *name, struct shmr_reader **rp)
{
	struct shmr_reader *nr;
	int rc;

	if ((rc = shmr_reader_open(name, SHMR_FROM_OLDEST, 0, &nr)) < 0)
		return rc;
	shmr_reader_close(*rp);
	*rp = nr;
	/* Messages already printed go out before the notice (2>&1). */
	fflush(stdout);
	warnx("%s: ring was created again (epoch %" PRIu64 "); following it "
	    "from its start", name, shmr_ring_epoch(shmr_reader_ring(nr)));
	return 0;
}

/*
 * While following: the producer died (report once per producer), or the
 * name now refers to a new object that libshm's reader did not follow.
 */
static void
follow_check(const char *name, struct shmr_reader **rp, bool *dead_said,
    bool *gone_said)
{
	struct shmr_ring *ring = shmr_reader_ring(*rp);
	struct shmr_info in;
	int rc;

	if (shmr_ring_stale(ring) == 1) {
		if ((rc = reopen(name, rp)) == 0)
			*dead_said = *gone_said = false;
		else if (!*gone_said) {
			fflush(stdout);
			warnx("%s: ring %s; waiting for it to come back", name,
			    rc == -ENOENT ? "was removed" : reason(rc));
			*gone_said = true;
		}
		return;
	}
	if (!*dead_said && shmr_ring_alive(ring) == 0 &&
	    shmr_ring_info(ring, &in) == 0 && in.state == SHMR_STATE_LIVE) {
		fflush(stdout);
		warnx("%s: producer (pid %ld) died; waiting for a new producer",
		    name, (long)in.pid);
		*dead_said = true;
	}
}

static int
cmd_tail(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "lines", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'n' },
		{ "from", required_argument, NULL, 'F' },
		{ "format", required_argument, NULL, 'o' },
		COMMON_LOPTS
	};
	struct shmr_reader *r = NULL;
	struct shmr_ring *ring;
	struct shmr_info in;
	struct shmr_msg m;
	struct buf b = { NULL, 0 };
	struct overruns ov = { 0, 0, 0, 0 };
	enum shmr_from from = SHMR_FROM_SEQ;
	enum fmt fmt = FMT_TEXT;
	const char *name, *why, *from_arg = NULL, *fmt_arg = NULL;
	uint64_t n = DEFAULT_TAIL, start = 0, limit = UINT64_MAX, printed = 0;
	bool follow = false, have_n = false, dead_said = false;
	bool stall_said = false;
	bool gone_said = false;
	int ch, rc, status = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "fn:" COMMON_SOPTS, lopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			follow = true;
			break;
		case 'n':
			if (cli_parse_u64(optarg, 0, UINT64_MAX, &n, &why) < 0)
				return usage_err("tail", "-n %s: %s", optarg,
				    why);
			have_n = true;
			break;
		case 'F':
			from_arg = optarg;
			break;
		case 'o':
			fmt_arg = optarg;
			break;
		default:
			if ((rc = common_opt(ch, "tail")) >= 0)
				return rc;
		}
	}
	if (fmt_arg == NULL)
		fmt = json_out ? FMT_JSON : FMT_TEXT;
	else if (strcmp(fmt_arg, "text") == 0)
		fmt = FMT_TEXT;
	else if (strcmp(fmt_arg, "hex") == 0)
		fmt = FMT_HEX;
	else if (strcmp(fmt_arg, "json") == 0)
		fmt = FMT_JSON;
	else if (strcmp(fmt_arg, "raw") == 0)
		fmt = FMT_RAW;
	else
		return usage_err("tail", "--format %s: use text, hex, json or "
		    "raw", fmt_arg);
	if (from_arg == NULL)
		from = SHMR_FROM_SEQ;
	else if (strcmp(from_arg, "oldest") == 0)
		from = SHMR_FROM_OLDEST;
	else if (strcmp(from_arg, "latest") == 0)
		from = SHMR_FROM_LATEST;
	else if (strcmp(from_arg, "end") == 0)
		from = SHMR_FROM_END;
	else if (cli_parse_u64(from_arg, 0, UINT64_MAX, &start, &why) == 0)
		from = SHMR_FROM_SEQ;
	else
		return usage_err("tail", "--from %s: use oldest, latest, end "
		    "or a sequence number", from_arg);
	if ((rc = one_name("tail", argc, argv, &name)) != 0)
		return rc;

	if (from == SHMR_FROM_SEQ) {
		if ((rc = shmr_ring_open(name, NULL, &ring)) < 0)
			return ring_err(name, rc);
		rc = shmr_ring_info(ring, &in);
		shmr_ring_close(ring);
		if (rc < 0)
			return ring_err(name, rc);
		if (from_arg == NULL) {
			/* The last n: n before next_seq, not before oldest. */
			start = in.next_seq - in.oldest_seq > n ?
			    in.next_seq - n : in.oldest_seq;
			if (!follow)
				limit = n;
		} else if (start > in.next_seq) {
			warnx("%s: sequence %" PRIu64 " is beyond the next "
			    "sequence number %" PRIu64, name, start,
			    in.next_seq);
			return EXIT_NEG;
		}
	}
	if (from_arg != NULL && have_n)
		limit = n;

	if ((rc = shmr_reader_open(name, from, start, &r)) < 0) {
		if (rc == -ERANGE) {
			warnx("%s: sequence %" PRIu64 " is beyond the next "
			    "sequence number", name, start);
			return EXIT_NEG;
		}
		return ring_err(name, rc);
	}
	while (printed < limit && !stop) {
		rc = shmr_reader_next(r, &m);
		if (rc != SHMR_MSG && rc != SHMR_OVERRUN)
			overrun_report(name, &ov, true);
		switch (rc) {
		case SHMR_MSG:
			stall_said = false;
			if (ov.events != 0)
				overrun_report(name, &ov, false);
			if ((rc = print_msg(fmt, &m, &b)) < 0) {
				warnx("%s: %s", name, shmr_strerror(rc));
				status = EXIT_SYS;
				goto out;
			}
			printed++;
			continue;
		case SHMR_OVERRUN:
			ov.lost += m.lost;
			ov.events++;
			ov.next = m.seq;
			overrun_report(name, &ov, false);
			continue;
		case SHMR_RESTART:
			fflush(stdout);
			warnx("%s: producer restarted the ring (epoch %" PRIu64
			    "); continuing at seq %" PRIu64, name,
			    shmr_ring_epoch(shmr_reader_ring(r)), m.seq);
			dead_said = gone_said = false;
			continue;
		case SHMR_EOF:
			/* The end of a ring the name no longer refers to. */
			if (follow && shmr_ring_stale(shmr_reader_ring(r)) ==
			    1 && reopen(name, &r) == 0) {
				dead_said = gone_said = false;
				continue;
			}
			goto out;
		case SHMR_EMPTY:
			break;
		case -EDEADLK:
			if (follow) {
				/* It may be continued: say so once, retry. */
				fflush(stdout);
				if (!stall_said)
					warnx("%s: %s; waiting", name,
					    reason(rc));
				stall_said = true;
				usleep(100 * 1000);
				continue;
			}
			/* FALLTHROUGH */
		default:
			fflush(stdout);
			if (rc == -EBADMSG)
				warnx("%s: corrupt record where seq %" PRIu64
				    " was expected; see ringctl check %s", name,
				    m.seq, name);
			else
				warnx("%s: read failed: %s", name,
				    reason(rc));
			status = exit_for(rc);
			goto out;
		}
		if (!follow)
			break;
		if (fflush(stdout) != 0)
			break;
		rc = shmr_reader_wait(r, FOLLOW_POLL_MS, 0);
		if (rc == -ETIMEDOUT)
			follow_check(name, &r, &dead_said, &gone_said);
		else if (rc < 0 && rc != -EINTR) {
			warnx("%s: wait failed: %s", name, shmr_strerror(rc));
			status = EXIT_SYS;
			goto out;
		}
	}
out:
	overrun_report(name, &ov, true);
	shmr_reader_close(r);
	free(b.p);
	return finish(status);
}

/* ---- watch ------------------------------------------------------------ */

/* "2.5", "10", "0.25": seconds with up to 3 decimals, as milliseconds. */
static int
parse_interval(const char *s, uint64_t *ms)
{
	uint64_t v = 0, frac = 0;
	int digits = 0, fd = 0;

	for (; *s >= '0' && *s <= '9'; s++, digits++)
		if ((v = v * 10 + (uint64_t)(*s - '0')) > 86400)
			return -ERANGE;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, fd++) {
			if (fd == 3)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*s - '0');
		}
	if (*s != '\0' || (digits == 0 && fd == 0))
		return -EINVAL;
	for (; fd < 3; fd++)
		frac *= 10;
	*ms = v * 1000 + frac;
	return *ms < 10 || *ms > 86400000 ? -ERANGE : 0;
}

/* end of line on a terminal: erase what the last frame left there */
#define EL	"\033[K\n"

struct sample {
	struct shmr_info in;
	uint64_t	 t;
	int		 alive;
};

static void
watch_render(const char *name, const struct sample *p, const struct sample *c,
    bool tty, const char *err)
{
	char ts[40], hb[32], hc[32], hu[32];
	double dt, mrate = -1, brate = -1, fill;
	const struct shmr_info *in = &c->in;
	bool rated;

	fmt_time(ts, sizeof(ts), now_ns(CLOCK_REALTIME));
	if (err != NULL) {
		if (json_out) {
			printf("{\"time\":\"%s\"", ts);
			json_key_str(stdout, "name", name, true);
			json_key_str(stdout, "error", err, true);
			printf("}\n");
		} else if (tty)
			printf("\033[H%s  %s" EL EL "  %s" EL "\033[J", name,
			    ts, err);
		else
			printf("%s %s error: %s\n", ts, name, err);
		fflush(stdout);
		return;
	}
	rated = p != NULL && p->in.epoch == in->epoch && c->t > p->t &&
	    in->messages >= p->in.messages && in->bytes >= p->in.bytes;
	if (rated) {
		dt = (double)(c->t - p->t) / 1e9;
		mrate = (double)(in->messages - p->in.messages) / dt;
		brate = (double)(in->bytes - p->in.bytes) / dt;
	}
	fill = in->capacity ? 100.0 * (double)in->used /
	    (double)in->capacity : 0;
	if (json_out) {
		printf("{\"time\":\"%s\"", ts);
		json_key_str(stdout, "name", name, true);
		if (rated)
			printf(",\"msgs_per_s\":%.3f,\"bytes_per_s\":%.3f",
			    mrate, brate);
		else
			printf(",\"msgs_per_s\":null,\"bytes_per_s\":null");
		printf(",\"fill\":%.3f", fill);
		json_key_u64(stdout, "next_seq", in->next_seq);
		json_key_u64(stdout, "oldest_seq", in->oldest_seq);
		json_key_u64(stdout, "epoch", in->epoch);
		json_key_str(stdout, "state", state_name(in, c->alive), true);
		printf("}\n");
		fflush(stdout);
		return;
	}
	if (rated)
		cli_human(hb, HUMAN_LEN, (uint64_t)(brate + 0.5));
	else
		snprintf(hb, sizeof(hb), "-");
	cli_human(hc, HUMAN_LEN, in->capacity);
	cli_human(hu, HUMAN_LEN, in->used);
	if (tty) {
		/* Home, overwrite each line (EL), then erase the rest (ED). */
		printf("\033[H%s  %s" EL EL, name, ts);
		if (rated)
			printf("  rate        %.1f msgs/s  %s/s" EL, mrate, hb);
		else
			printf("  rate        - msgs/s  - B/s" EL);
		printf("  fill        %.1f%%  (%s of %s)" EL, fill, hu, hc);
		printf("  next seq    %" PRIu64 EL, in->next_seq);
		printf("  oldest seq  %" PRIu64 EL, in->oldest_seq);
		printf("  messages    %" PRIu64 EL, in->messages);
		printf("  state       %s (pid %ld, epoch %" PRIu64 ")" EL,
		    state_name(in, c->alive), (long)in->pid, in->epoch);
		printf(EL "(interrupt to stop)" EL "\033[J");
	} else {
		if (rated)
			printf("%s %s msgs/s %.1f bytes/s %s", ts, name,
			    mrate, hb);
		else
			printf("%s %s msgs/s - bytes/s -", ts, name);
		printf(" fill %.1f%% next %" PRIu64 " oldest %" PRIu64
		    " state %s\n", fill, in->next_seq, in->oldest_seq,
		    state_name(in, c->alive));
	}
	fflush(stdout);
}

static int
cmd_watch(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		COMMON_LOPTS
	};
	struct shmr_ring *ring = NULL, *nr;
	struct sample prev, cur;
	struct sigaction sa;
	const char *name, *why, *err;
	uint64_t interval = 1000, count = 0, done = 0;
	bool tty = isatty(STDOUT_FILENO), have_prev = false;
	int ch, rc;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "i:c:" COMMON_SOPTS, lopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'i':
			if (parse_interval(optarg, &interval) < 0)
				return usage_err("watch", "-i %s: use seconds "
				    "between 0.01 and 86400", optarg);
			break;
		case 'c':
			if (cli_parse_u64(optarg, 1, UINT64_MAX, &count,
			    &why) < 0)
				return usage_err("watch", "-c %s: %s", optarg,
				    why);
			break;
		default:
			if ((rc = common_opt(ch, "watch")) >= 0)
				return rc;
		}
	}
	if ((rc = one_name("watch", argc, argv, &name)) != 0)
		return rc;
	if ((rc = open_ring(name, &ring)) < 0)
		return ring_err(name, rc);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (json_out)
		tty = false;
	if (tty)
		printf("\033[H\033[2J");	/* clear once; frames redraw */

	for (;;) {
		err = NULL;
		if (ring != NULL && shmr_ring_stale(ring) == 1) {
			/* Taken over or removed: follow the name. */
			if (open_ring(name, &nr) == 0) {
				shmr_ring_close(ring);
				ring = nr;
				have_prev = false;
			}
		}
		if ((rc = shmr_ring_info(ring, &cur.in)) < 0)
			err = reason(rc);
		cur.t = now_ns(CLOCK_MONOTONIC);
		cur.alive = shmr_ring_alive(ring);
		if (have_prev || tty || err != NULL) {
			watch_render(name, have_prev ? &prev : NULL, &cur, tty,
			    err);
			if ((have_prev || err != NULL) && count != 0 &&
			    ++done >= count)
				break;
		}
		if (err == NULL) {
			prev = cur;
			have_prev = true;
		} else
			have_prev = false;
		if (stop)
			break;
		sleep_ms(interval);
		if (stop)
			break;
	}
	shmr_ring_close(ring);
	if (tty)
		putchar('\n');
	return finish(0);
}

/* ---- check ------------------------------------------------------------ */

/* Cross-field checks on a header snapshot; libshm checks each field. */
static const char *
check_info(const struct shmr_info *in, char *why, size_t len)
{
	if (in->capacity < SHMR_CAP_MIN || in->capacity > SHMR_CAP_MAX ||
	    (in->capacity & (in->capacity - 1)) != 0)
		snprintf(why, len, "capacity %" PRIu64 " is not a power of two "
		    "in range", in->capacity);
	else if (in->max_msg == 0 || in->max_msg > in->capacity / 8)
		snprintf(why, len, "max_msg %" PRIu32 " is not in "
		    "1..capacity/8", in->max_msg);
	else if (in->oldest_seq > in->next_seq)
		snprintf(why, len, "oldest seq %" PRIu64 " is after next seq %"
		    PRIu64, in->oldest_seq, in->next_seq);
	else if (in->used > in->capacity)
		snprintf(why, len, "used %" PRIu64 " exceeds capacity %" PRIu64,
		    in->used, in->capacity);
	else if (in->state > SHMR_STATE_REPLACED)
		snprintf(why, len, "unknown state %" PRIu32, in->state);
	else
		return NULL;
	return why;
}

static int
cmd_check(int argc, char **argv)
{
	static const struct option lopts[] = {
		COMMON_LOPTS
	};
	struct shmr_ring *ring = NULL;
	struct shmr_info in;
	const char *name, *problem = NULL;
	char why[256] = "";
	int ch, rc;

	optind = 0;
	while ((ch = getopt_long(argc, argv, COMMON_SOPTS, lopts, NULL)) != -1)
		if ((rc = common_opt(ch, "check")) >= 0)
			return rc;
	if ((rc = one_name("check", argc, argv, &name)) != 0)
		return rc;
	if ((rc = open_ring(name, &ring)) < 0)
		problem = describe(name, rc, why, sizeof(why));
	else if ((rc = shmr_ring_info(ring, &in)) < 0)
		problem = reason(rc);
	else if ((problem = check_info(&in, why, sizeof(why))) != NULL)
		rc = -EBADMSG;
	else if ((rc = shmr_ring_check(ring, why, sizeof(why))) < 0)
		problem = why[0] != '\0' ? why : reason(rc);
	if (ring != NULL)
		shmr_ring_close(ring);

	if (json_out) {
		putchar('{');
		json_key_str(stdout, "name", name, false);
		printf(",\"ok\":%s", rc == 0 ? "true" : "false");
		if (rc == 0) {
			json_key_u64(stdout, "oldest_seq", in.oldest_seq);
			json_key_u64(stdout, "next_seq", in.next_seq);
			json_key_u64(stdout, "messages_checked", in.next_seq -
			    in.oldest_seq);
		} else {
			json_key_str(stdout, "error", shmr_strerror(rc), true);
			json_key_str(stdout, "reason", problem, true);
		}
		printf("}\n");
	} else if (rc == 0)
		printf("%s: ok (%" PRIu64 " messages, seq %" PRIu64 "..%" PRIu64
		    ")\n", name, in.next_seq - in.oldest_seq, in.oldest_seq,
		    in.next_seq);
	if (rc < 0) {
		warnx("%s: %s", name, problem);
		return finish(exit_for(rc));
	}
	return finish(0);
}

/* ---- create and rm ---------------------------------------------------- */

static int
cmd_create(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "max-msg", required_argument, NULL, 'm' },
		{ "mode", required_argument, NULL, 'M' },
		{ "force", no_argument, NULL, 'f' },
		COMMON_LOPTS
	};
	struct shmr_create_opts o = { 0, 0, 0600, (gid_t)-1 };
	struct shmr_writer *w;
	struct shmr_ring *ring;
	const char *name, *why;
	uint64_t v;
	bool force = false, have_size = false;
	int ch, rc;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "s:m:M:f" COMMON_SOPTS, lopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			if (cli_parse_size(optarg, SHMR_CAP_MIN, SHMR_CAP_MAX,
			    &o.capacity, &why) < 0)
				return usage_err("create", "--size %s: %s "
				    "(64K..1T)", optarg, why);
			if ((o.capacity & (o.capacity - 1)) != 0)
				return usage_err("create", "--size %s: not a "
				    "power of two", optarg);
			have_size = true;
			break;
		case 'm':
			if (cli_parse_size(optarg, 1, SHMR_MSG_LIMIT, &v,
			    &why) < 0)
				return usage_err("create", "--max-msg %s: %s",
				    optarg, why);
			o.max_msg = (uint32_t)v;
			break;
		case 'M':
			if (cli_parse_mode(optarg, &o.mode, &why) < 0)
				return usage_err("create", "--mode %s: %s",
				    optarg, why);
			if ((o.mode & 022) != 0)
				return usage_err("create", "--mode %s: readers "
				    "refuse rings writable by group or other",
				    optarg);
			if ((o.mode & 0600) != 0600)
				return usage_err("create", "--mode %s: the "
				    "owner needs read and write", optarg);
			break;
		case 'f':
			force = true;
			break;
		default:
			if ((rc = common_opt(ch, "create")) >= 0)
				return rc;
		}
	}
	if (!have_size)
		return usage_err("create", "create: --size is required");
	if ((rc = one_name("create", argc, argv, &name)) != 0)
		return rc;
	if (o.max_msg > o.capacity / 8)
		return usage_err("create", "--max-msg: at most capacity / 8 "
		    "(%" PRIu64 ")", o.capacity / 8);

	rc = open_ring(name, &ring);
	if (rc == 0)
		shmr_ring_close(ring);
	if (rc != -ENOENT && !force) {
		warnx("%s: ring exists (remove it first, or use --force to "
		    "take it over as a new epoch)", name);
		return EXIT_NEG;
	}
	if ((rc = shmr_writer_create(name, &o, &w)) < 0)
		return ring_err(name, rc);
	/* Closing marks it closed; a later producer takes it over. */
	if ((rc = shmr_writer_close(w, 0)) < 0)
		return ring_err(name, rc);
	return finish(0);
}

static int
rm_one(const char *name, bool force)
{
	struct shmr_ring *ring;
	struct shmr_info in;
	int rc, alive;

	if ((rc = check_name(name)) != 0)
		return rc;
	rc = open_ring(name, &ring);
	if (rc == -ENOENT)
		return ring_err(name, rc);
	if (rc == 0) {
		alive = shmr_ring_alive(ring);
		if (shmr_ring_info(ring, &in) < 0)
			in.pid = 0;
		shmr_ring_close(ring);
		if (alive == 1 && !force) {
			warnx("%s: producer (pid %ld) is alive; stop it first "
			    "or use --force", name, (long)in.pid);
			return EXIT_NEG;
		}
	}
	/* Corrupt and foreign objects under a ring name can be removed. */
	if ((rc = shmr_unlink(name)) < 0)
		return ring_err(name, rc);
	return 0;
}

static int
cmd_rm(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "force", no_argument, NULL, 'f' },
		COMMON_LOPTS
	};
	bool force = false;
	int ch, rc, status = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "f" COMMON_SOPTS, lopts,
	    NULL)) != -1) {
		if (ch == 'f')
			force = true;
		else if ((rc = common_opt(ch, "rm")) >= 0)
			return rc;
	}
	if (optind >= argc)
		return usage_err("rm", "rm: missing ring name");
	for (; optind < argc; optind++)
		if ((rc = rm_one(argv[optind], force)) > status)
			status = rc;
	return finish(status);
}

/* ---- main ------------------------------------------------------------- */

static const struct command {
	const char	*name;
	int		(*fn)(int, char **);
} commands[] = {
	{ "list", cmd_list },
	{ "info", cmd_info },
	{ "tail", cmd_tail },
	{ "watch", cmd_watch },
	{ "check", cmd_check },
	{ "create", cmd_create },
	{ "rm", cmd_rm },
};

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		COMMON_LOPTS
	};
	const struct command *cmd = NULL;
	struct sigaction sa;
	char prog[32];
	size_t i;
	int ch;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);

	while ((ch = getopt_long(argc, argv, "+" COMMON_SOPTS, lopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'j':
			json_out = true;
			break;
		case 'h':
			usage(stdout);
			return finish(0);
		case 'V':
			version();
			return finish(0);
		default:
			return usage_err(NULL, NULL);
		}
	}
	if (optind >= argc)
		return usage_err(NULL, "missing command");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL)
		return usage_err(NULL, "unknown command: %s", argv[optind]);

	/* getopt messages then read "ringctl tail: ...". */
	snprintf(prog, sizeof(prog), "ringctl %s", cmd->name);
	argv += optind;
	argc -= optind;
	argv[0] = prog;
	return cmd->fn(argc, argv);
}
