/*
 * cmd_watch.c - ringctl watch: a ring's rates and state, refreshed every
 * interval.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "enc.h"
#include "ringctl.h"

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

	fmt_time(ts, sizeof(ts), real_ns());
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
		json_key_str(stdout, "state", ring_state_name(in->state,
		    c->alive), true);
		printf("}\n");
		fflush(stdout);
		return;
	}
	if (rated)
		size_format(hb, SIZE_FORMAT_LEN, (uint64_t)(brate + 0.5));
	else
		snprintf(hb, sizeof(hb), "-");
	size_format(hc, SIZE_FORMAT_LEN, in->capacity);
	size_format(hu, SIZE_FORMAT_LEN, in->used);
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
		    ring_state_name(in->state, c->alive), (long)in->pid,
		    in->epoch);
		printf(EL "(interrupt to stop)" EL "\033[J");
	} else {
		if (rated)
			printf("%s %s msgs/s %.1f bytes/s %s", ts, name,
			    mrate, hb);
		else
			printf("%s %s msgs/s - bytes/s -", ts, name);
		printf(" fill %.1f%% next %" PRIu64 " oldest %" PRIu64
		    " state %s\n", fill, in->next_seq, in->oldest_seq,
		    ring_state_name(in->state, c->alive));
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
			err = ring_error(rc);
		cur.t = mono_ns();
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

const struct command watch_command = {
	.name = "watch",
	.usage = "watch [-i seconds] [-c count] [--json] name",
	.fn = cmd_watch,
};
