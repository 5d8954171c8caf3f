/*
 * cmd_tail.c - ringctl tail: print a ring's messages as text, hex, JSON or
 * raw, and follow it.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "enc.h"
#include "from.h"
#include "ringctl.h"

#define DEFAULT_TAIL	10
/* tail -f: how often a quiet follower checks the producer and the name */
#define FOLLOW_POLL_MS	500

enum fmt { FMT_TEXT, FMT_HEX, FMT_JSON, FMT_RAW };

struct buf {
	char	*p;
	size_t	 cap;
};

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
	now = mono_ns();
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

/*
 * Every command reads rings of any owner (ringctl(1)), tail included.
 * Name the owner when it is neither the caller nor root, so that another
 * user's ring under the expected name is seen for what it is: once, and
 * again only when a ring the name comes to refer to has a new owner.
 */
static void
owner_note(const char *name, struct shmr_reader *r, uid_t *noted)
{
	struct shmr_info in;
	char who[64];

	if (shmr_ring_info(shmr_reader_ring(r), &in) < 0 || in.uid == *noted)
		return;
	*noted = in.uid;
	if (in.uid == geteuid() || in.uid == 0)
		return;
	fflush(stdout);
	warnx("note: ring %s is owned by user %s", name,
	    owner_name(in.uid, who, sizeof(who)));
}

/* The name refers to a new ring (removed and created again): switch. */
static int
reopen(const char *name, struct shmr_reader **rp, uid_t *noted)
{
	struct shmr_reader *nr;
	int rc;

	if ((rc = open_reader(name, SHMR_FROM_OLDEST, 0, &nr)) < 0)
		return rc;
	shmr_reader_close(*rp);
	*rp = nr;
	/* Messages already printed go out before the notice (2>&1). */
	fflush(stdout);
	warnx("%s: ring was created again (epoch %" PRIu64 "); following it "
	    "from its start", name, shmr_ring_epoch(shmr_reader_ring(nr)));
	owner_note(name, nr, noted);
	return 0;
}

/*
 * While following: the producer died (report once per producer), or the
 * name now refers to a new object that libshm's reader did not follow.
 */
static void
follow_check(const char *name, struct shmr_reader **rp, uid_t *noted,
    bool *dead_said, bool *gone_said)
{
	struct shmr_ring *ring = shmr_reader_ring(*rp);
	struct shmr_info in;
	int rc;

	if (shmr_ring_stale(ring) == 1) {
		if ((rc = reopen(name, rp, noted)) == 0)
			*dead_said = *gone_said = false;
		else if (!*gone_said) {
			fflush(stdout);
			warnx("%s: ring %s; waiting for it to come back", name,
			    rc == -ENOENT ? "was removed" : ring_error(rc));
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
	uid_t noted = geteuid();
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
		from = SHMR_FROM_SEQ;	/* the last n, below */
	else if (from_parse(from_arg, &from, &start) < 0)
		return usage_err("tail", "--from %s: use oldest, latest, end "
		    "or a sequence number", from_arg);
	if ((rc = one_name("tail", argc, argv, &name)) != 0)
		return rc;

	if (from == SHMR_FROM_SEQ) {
		if ((rc = open_ring(name, &ring)) < 0)
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

	if ((rc = open_reader(name, from, start, &r)) < 0) {
		if (rc == -ERANGE) {
			warnx("%s: sequence %" PRIu64 " is beyond the next "
			    "sequence number", name, start);
			return EXIT_NEG;
		}
		return ring_err(name, rc);
	}
	owner_note(name, r, &noted);
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
				warnx("%s: %s", name, ring_error(rc));
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
			owner_note(name, r, &noted);
			dead_said = gone_said = false;
			continue;
		case SHMR_EOF:
			/* The end of a ring the name no longer refers to. */
			if (follow && shmr_ring_stale(shmr_reader_ring(r)) ==
			    1 && reopen(name, &r, &noted) == 0) {
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
					    ring_error(rc));
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
				    ring_error(rc));
			status = ring_exit(rc);
			goto out;
		}
		if (!follow)
			break;
		if (fflush(stdout) != 0)
			break;
		rc = shmr_reader_wait(r, FOLLOW_POLL_MS, 0);
		if (rc == -ETIMEDOUT)
			follow_check(name, &r, &noted, &dead_said,
			    &gone_said);
		else if (rc < 0 && rc != -EINTR) {
			warnx("%s: wait failed: %s", name, ring_error(rc));
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

const struct command tail_command = {
	.name = "tail",
	.usage = "tail [-f] [-n count] [--from oldest|latest|end|seq]\n"
	    "                    [--format text|hex|json|raw] [--json] name",
	.fn = cmd_tail,
};
