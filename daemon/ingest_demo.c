/*
 * ingest_demo.c - the built-in demo feeds of ringd, for the README, the
 * tests and the benchmarks:
 *
 *   ticks  JSON lines like a market data feed, one per message:
 *          {"seq":1,"sym":"ACME","px":101.25,"ts":1700000000123456789}
 *          seq counts from 1, sym cycles through eight symbols, px is a
 *          random walk in cents per symbol, ts is CLOCK_REALTIME in ns.
 *   sine   8-byte little-endian IEEE 754 doubles, sample k being
 *          sin(2 pi k / 1000): one period per 1000 messages.
 *
 * The clock drives the rate: at rate R, the k-th message is due k/R
 * seconds after the start, so the feed catches up after a stall instead of
 * drifting. Rate 0 publishes a full batch on every turn of the loop.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "input.h"

#define NSEC		1000000000ull
#define TICK_MAX	96
#define SINE_PERIOD	1000

static const char *const symbols[] = {
	"ACME", "GLOBX", "INITECH", "UMBRL", "HOOLI", "STARK", "WAYNE", "CYBDN"
};
#define NSYM	(sizeof(symbols) / sizeof(symbols[0]))

extern const struct input_ops demo_ops;

struct demo {
	bool		 sine;
	uint64_t	 rate;
	uint64_t	 count;		/* 0: no end */
	uint64_t	 sent;
	uint64_t	 start_ns;
	uint64_t	 rng;
	int64_t		 px[NSYM];	/* cents */
	unsigned char	*scratch;	/* RINGD_BATCH records */
	struct shmr_iov	 iov[RINGD_BATCH];
};

/* which: "ticks" or "sine". */
static int
demo_open(struct ringd *rd, const char *which, struct input **out)
{
	const struct ringd_conf *conf = ringd_conf(rd);
	struct input *in;
	struct demo *d;

	if (strcmp(which, "ticks") != 0 && strcmp(which, "sine") != 0)
		return -EINVAL;
	if (ringd_max_msg(rd) < (strcmp(which, "sine") == 0 ? 8 : TICK_MAX))
		return -EMSGSIZE;
	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (d = calloc(1, sizeof(*d))) == NULL) {
		free(in);
		return -ENOMEM;
	}
	d->sine = strcmp(which, "sine") == 0;
	if ((d->scratch = malloc((size_t)RINGD_BATCH * TICK_MAX)) == NULL) {
		free(d);
		free(in);
		return -ENOMEM;
	}
	d->rate = conf->rate;
	d->count = conf->count;
	d->start_ns = mono_ns();
	d->rng = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < NSYM; i++)
		d->px[i] = 5000 + 2500 * (int64_t)i;
	in->ops = &demo_ops;
	in->fd = -1;
	in->priv = d;
	snprintf(in->name, sizeof(in->name), "demo:%s", which);
	*out = in;
	return 0;
}

/* Messages due by now_ns since the start. */
static uint64_t
due(const struct demo *d, uint64_t now_ns)
{
	uint64_t el = now_ns - d->start_ns;

	/* Split to stay in 64 bits: rate <= 1e9, so (el % NSEC) * rate fits. */
	return (el / NSEC) * d->rate + (el % NSEC) * d->rate / NSEC;
}

/* When k messages are due: the first instant with due() >= k. */
static uint64_t
due_at(const struct demo *d, uint64_t k)
{
	return d->start_ns + (k / d->rate) * NSEC +
	    ((k % d->rate) * NSEC + d->rate - 1) / d->rate;
}

/* Nanoseconds until the next message is due; 0: due now; -1: ended. */
static int64_t
demo_timeout_ns(struct input *in, uint64_t now_ns)
{
	struct demo *d = in->priv;
	uint64_t at;

	if (d->count != 0 && d->sent >= d->count)
		return -1;
	if (d->rate == 0 || due(d, now_ns) > d->sent)
		return 0;
	/* Message number sent (from 0) is due once sent + 1 are due. */
	at = due_at(d, d->sent + 1);
	return at > now_ns ? (int64_t)(at - now_ns) : 0;
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t
make_tick(struct demo *d, unsigned char *buf)
{
	uint64_t seq = d->sent + 1, r = xorshift(&d->rng);
	size_t sym = (size_t)(d->sent % NSYM);
	int64_t px;
	int n;

	/* A step of -25..+25 cents, never below one dollar. */
	d->px[sym] += (int64_t)(r % 51) - 25;
	if (d->px[sym] < 100)
		d->px[sym] = 100;
	px = d->px[sym];
	n = snprintf((char *)buf, TICK_MAX,
	    "{\"seq\":%llu,\"sym\":\"%s\",\"px\":%lld.%02lld,\"ts\":%llu}",
	    (unsigned long long)seq, symbols[sym], (long long)(px / 100),
	    (long long)(px % 100), (unsigned long long)real_ns());
	return n < 0 ? 0 : (size_t)n < TICK_MAX ? (size_t)n : TICK_MAX - 1;
}

static size_t
make_sample(struct demo *d, unsigned char *buf)
{
	double v = sin(2.0 * M_PI * (double)(d->sent % SINE_PERIOD) /
	    SINE_PERIOD);
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	for (int i = 0; i < 8; i++)
		buf[i] = (unsigned char)(u >> (8 * i));
	return 8;
}

/* Publish every message due at now_ns (at most one batch). */
static int
demo_run(struct ringd *rd, struct input *in, uint64_t now_ns)
{
	struct demo *d = in->priv;
	uint64_t n;
	size_t i;

	if (d->rate == 0)
		n = RINGD_BATCH;
	else {
		uint64_t k = due(d, now_ns);

		n = k > d->sent ? k - d->sent : 0;
		if (n > RINGD_BATCH)
			n = RINGD_BATCH;
	}
	if (d->count != 0 && n > d->count - d->sent)
		n = d->count - d->sent;
	for (i = 0; i < n; i++) {
		unsigned char *p = d->scratch + i * TICK_MAX;

		d->iov[i].data = p;
		d->iov[i].len = d->sine ? make_sample(d, p) : make_tick(d, p);
		d->sent++;
	}
	if (d->count != 0 && d->sent >= d->count)
		in->done = true;
	return n > 0 ? ringd_publish(rd, in, d->iov, (size_t)n) : 0;
}

static void
demo_free(struct input *in)
{
	struct demo *d = in->priv;

	free(d->scratch);
	free(d);
	free(in);
}

/* Driven by the clock (timeout), not by a file descriptor. */
const struct input_ops demo_ops = {
	.open = demo_open,
	.ready = demo_run,
	.free = demo_free,
	.timeout = demo_timeout_ns,
};
