/*
 * fanout_clients.c - what bench_fanout's SSE clients make of their
 * streams: sequence numbers, losses announced by "gap" and "overrun"
 * events, and a latency sample per message from the send time it
 * carries.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fanout.h"

/* Latency histogram: 10 us buckets up to 1 s, then one overflow bucket. */
#define LAT_BUCKETS	100001
static uint64_t lat[LAT_BUCKETS], lat_n;
uint64_t lat_max_ns;

static void
lat_record(const char *data)
{
	const char *p;
	uint64_t sent, d;

	if (data[0] == 'T')
		sent = strtoull(data + 1, NULL, 10);
	else if ((p = strstr(data, "\"ts\":")) != NULL)
		sent = strtoull(p + 5, NULL, 10);
	else
		return;
	d = now_ns(CLOCK_REALTIME) - sent;
	if ((int64_t)d < 0)
		d = 0;
	lat[d / 10000 < LAT_BUCKETS - 1 ? d / 10000 : LAT_BUCKETS - 1]++;
	lat_n++;
	if (d > lat_max_ns)
		lat_max_ns = d;
}

double
lat_pct(double q)
{
	uint64_t want = (uint64_t)(q * (double)lat_n), acc = 0;

	for (size_t i = 0; i < LAT_BUCKETS; i++) {
		acc += lat[i];
		if (acc > want)
			return (double)i * 0.01 + 0.005;
	}
	return 1000;
}

/* The body of a gap or overrun event: {"lost":L,"next":N,...}. */
static bool
parse_loss(const char *data, int64_t *lost, int64_t *next)
{
	return sscanf(data, "{\"lost\":%" SCNd64 ",\"next\":%" SCNd64,
	    lost, next) == 2;
}

void
sub_handle(struct sub *s)
{
	struct sse_event ev;
	int64_t lost, next;

	while (hc_sse_next(&s->h, &ev)) {
		const char *colon = strchr(ev.id, ':');
		int64_t seq = colon != NULL ? strtoll(colon + 1, NULL, 10) :
		    -1;

		if (opt.nginx != NULL) {
			/* Nchan ids are "time:tag": count the events. */
			seq = s->last + 1;
		}
		if (strcmp(ev.type, "message") == 0) {
			if (s->first < 0)
				s->first = seq;
			else if (seq != s->last + 1)
				s->lost += (uint64_t)(seq - s->last - 1);
			s->last = seq;
			s->expect = seq + 1;
			s->events++;
			memcpy(s->last_id, ev.id, sizeof(s->last_id));
			if (!s->slow)
				lat_record(ev.data);
		} else if (strcmp(ev.type, "overrun") == 0) {
			/* Exact: it lost just the ones from the next due. */
			s->gaps++;
			s->overrun = true;
			s->exact = s->expect >= 0 &&
			    parse_loss(ev.data, &lost, &next) &&
			    lost == next - s->expect;
		} else if (strcmp(ev.type, "gap") == 0) {
			s->gaps++;
			s->expect = parse_loss(ev.data, &lost, &next) ? next :
			    -1;
		}
	}
}

/*
 * A readable fast client: parse after every read, so that a client that
 * fell megabytes behind never overfills its 1 MiB body buffer; read
 * again only after a full read (level-triggered epoll reports the rest).
 */
void
sub_pump(struct sub *s)
{
	int r;

	do {
		r = hc_pump(&s->h);
		sub_handle(s);
	} while (r == HC_PUMP_MAX);
}

/* Read what the slow clients have left at full speed, up to 5 s. */
void
sub_slow_drain(struct sub *subs, unsigned nslow)
{
	double end = (double)now_ns(CLOCK_MONOTONIC) / 1e9 + 5;
	unsigned open;

	do {
		open = 0;
		for (unsigned i = 0; i < nslow; i++) {
			struct sub *s = &subs[i];
			int r;

			if (s->ended)
				continue;
			while ((r = hc_pump(&s->h)) > 0)
				sub_handle(s);
			if (r == -EAGAIN)
				open++;
			else
				s->ended = true;
		}
		if (open > 0)
			usleep(10000);
	} while (open > 0 && (double)now_ns(CLOCK_MONOTONIC) / 1e9 < end);
}

/*
 * An evicted slow client reconnects with the id of the last message it
 * parsed. Exact: the stream goes on at the next message, or first says
 * how many were overwritten meanwhile ({"lost":L,"next":N} with
 * L = N - last - 1) and then goes on at N.
 */
bool
sub_resume_exact(struct sub *s, int port, const char *path)
{
	struct sse_event ev;
	char hdr[128];
	int64_t want = s->last + 1, lost, next;

	hc_close(&s->h);
	if (s->last < 0)
		return false;
	snprintf(hdr, sizeof(hdr), "Accept: text/event-stream\r\n"
	    "Last-Event-ID: %s\r\n", s->last_id);
	if (hc_connect(&s->h, port, 0) != 0 || hc_get(&s->h, path, hdr) != 0 ||
	    !hc_sse_wait(&s->h, &ev, 5000))
		return false;
	if (strcmp(ev.type, "gap") == 0) {
		if (!parse_loss(ev.data, &lost, &next) || lost != next - want ||
		    !hc_sse_wait(&s->h, &ev, 5000))
			return false;
		want = next;
	}
	return strcmp(ev.type, "message") == 0 &&
	    strrchr(ev.id, ':') != NULL &&
	    strtoll(strrchr(ev.id, ':') + 1, NULL, 10) == want;
}

