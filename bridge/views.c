/*
 * views.c - what ringbridge says about its rings: GET /rings and
 * /rings/NAME as JSON, GET /metrics in the Prometheus text format. Each
 * view writes a body into a growing buffer; dispatch.c sends it.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bridge.h"
#include "ringstate.h"

void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p != NULL ? b->p + b->len : NULL,
		    b->p != NULL ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p != NULL && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = b->cap ? b->cap * 2 : 4096;
		while (ncap < b->len + (size_t)n + 1)
			ncap *= 2;
		char *np = realloc(b->p, ncap);
		if (np == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}

static uint64_t
counter_at(const void *base, size_t off)
{
	return atomic_load((atomic_uint_least64_t *)(void *)
	    ((char *)base + off));
}

/* A per-loop counter (offset in struct ring_loop) over all loops. */
static uint64_t
ring_loops_sum(struct ring_ent *e, size_t off)
{
	uint64_t sum = 0;

	for (unsigned l = 0; l < LOOPS_MAX; l++)
		sum += counter_at(&e->lp[l], off);
	return sum;
}

/*
 * A ring as JSON. Returns 0, or the transient error of a stalled ring,
 * which is shown as state "stalled" with no header values.
 */
int
view_ring(struct sbuf *b, struct ring_ent *e)
{
	struct shmr_info in;
	struct mapref *m = ring_current_map(e);
	int rc = m != NULL ? ring_info_quick(e, m, &in) : -ENOENT;
	int alive;

	sb_printf(b, "{\"name\":\"%s\",", e->name);
	if (ring_transient(rc)) {
		sb_printf(b, "\"state\":\"stalled\",\"error\":\"%s\","
		    "\"clients\":%" PRIu64 "}", shmr_strerror(rc),
		    (uint64_t)atomic_load(&e->clients));
		mapref_put(m);
		return rc;
	}
	if (rc != 0) {
		sb_printf(b, "\"state\":\"absent\",\"clients\":%" PRIu64 "}",
		    (uint64_t)atomic_load(&e->clients));
		mapref_put(m);
		return 0;
	}
	alive = shmr_ring_alive(m->ring);
	sb_printf(b, "\"state\":\"%s\",\"alive\":%s,\"epoch\":%" PRIu64
	    ",\"next_seq\":%" PRIu64 ",\"oldest_seq\":%" PRIu64
	    ",\"capacity\":%" PRIu64 ",\"max_msg\":%" PRIu32
	    ",\"used\":%" PRIu64 ",\"messages\":%" PRIu64
	    ",\"bytes\":%" PRIu64 ",\"rate\":%.2f,\"producer_pid\":%ld"
	    ",\"created_ns\":%" PRIu64 ",\"last_publish_ns\":%" PRIu64
	    ",\"clients\":%" PRIu64 ",\"events_sent\":%" PRIu64 "}",
	    ring_state_name(in.state, alive), alive == 1 ? "true" : "false",
	    in.epoch, in.next_seq, in.oldest_seq,
	    in.capacity, in.max_msg, in.used, in.messages, in.bytes,
	    atomic_load(&e->rate), (long)in.pid, in.created_ns,
	    in.last_publish_ns, (uint64_t)atomic_load(&e->clients),
	    ring_loops_sum(e, offsetof(struct ring_loop, events)));
	mapref_put(m);
	return 0;
}

/* In --all mode a ring whose name disappeared is no longer listed. */
bool
ring_listed(struct ring_ent *e)
{
	struct mapref *m;
	bool gone;

	if (!conf.all)
		return true;
	if ((m = ring_current_map(e)) == NULL)
		return false;
	gone = shmr_ring_stale(m->ring) == 1 && !shmr_ring_alive(m->ring);
	mapref_put(m);
	return !gone || atomic_load(&e->clients) > 0;
}

void
view_rings(struct sbuf *b)
{
	struct ring_ent *e;
	bool first = true;

	sb_printf(b, "[");
	for (e = atomic_load_explicit(&g_rings, memory_order_acquire);
	    e != NULL; e = e->next) {
		if (!ring_listed(e))
			continue;
		sb_printf(b, "%s", first ? "" : ",");
		(void)view_ring(b, e);
		first = false;
	}
	sb_printf(b, "]\n");
}

#define METRIC(b, name, type, help) \
	sb_printf(b, "# HELP ringbridge_%s %s\n# TYPE ringbridge_%s %s\n", \
	    name, help, name, type)

void
view_metrics(struct sbuf *b)
{
	/* Counters of the ring, or (loop) of each ring_loop, summed. */
	static const struct {
		const char	*name, *type, *help;
		size_t		 off;
		bool		 loop;
	} per[] = {
		{ "clients", "gauge", "Streams connected.",
		    offsetof(struct ring_ent, clients), false },
		{ "clients_total", "counter", "Streams accepted.",
		    offsetof(struct ring_ent, clients_total), false },
		{ "events_total", "counter", "Messages sent to clients.",
		    offsetof(struct ring_loop, events), true },
		{ "bytes_total", "counter", "Stream body bytes produced.",
		    offsetof(struct ring_loop, bytes), true },
		{ "chunks_total", "counter",
		    "Stream body pieces produced, about one write each.",
		    offsetof(struct ring_loop, chunks), true },
		{ "gaps_total", "counter", "Gap events sent.",
		    offsetof(struct ring_ent, gaps), false },
		{ "lost_messages_total", "counter",
		    "Messages clients lost to overruns.",
		    offsetof(struct ring_ent, lost), false },
		{ "overruns_total", "counter",
		    "Streams ended because the client was lapped.",
		    offsetof(struct ring_ent, overruns), false },
		{ "evictions_total", "counter",
		    "Streams closed by the write timeout.",
		    offsetof(struct ring_ent, evictions), false },
		{ "eofs_total", "counter", "Streams ended by end of ring.",
		    offsetof(struct ring_ent, eofs), false },
		{ "restarts_total", "counter", "Restart events sent.",
		    offsetof(struct ring_ent, restarts), false },
		{ "wakeups_total", "counter", "Pump passes resuming clients.",
		    offsetof(struct ring_loop, wakeups), true },
	};
	struct ring_ent *e, *head;
	struct shmr_info in;
	struct mapref *m;

	head = atomic_load_explicit(&g_rings, memory_order_acquire);
	for (size_t i = 0; i < sizeof(per) / sizeof(per[0]); i++) {
		METRIC(b, per[i].name, per[i].type, per[i].help);
		for (e = head; e != NULL; e = e->next)
			sb_printf(b, "ringbridge_%s{ring=\"%s\"} %" PRIu64
			    "\n", per[i].name, e->name, per[i].loop ?
			    ring_loops_sum(e, per[i].off) : counter_at(e,
			    per[i].off));
	}
	METRIC(b, "ring_next_seq", "gauge", "Next sequence number.");
	for (e = head; e != NULL; e = e->next) {
		if ((m = ring_current_map(e)) == NULL)
			continue;
		if (ring_info_quick(e, m, &in) == 0)
			sb_printf(b, "ringbridge_ring_next_seq{ring=\"%s\"} %"
			    PRIu64 "\n", e->name, in.next_seq);
		mapref_put(m);
	}
	METRIC(b, "ring_stalled", "gauge",
	    "1 while the producer is stalled mid-update.");
	for (e = head; e != NULL; e = e->next)
		sb_printf(b, "ringbridge_ring_stalled{ring=\"%s\"} %d\n",
		    e->name, atomic_load(&e->stalled) != 0);
	METRIC(b, "ring_rate", "gauge", "Messages per second published.");
	for (e = head; e != NULL; e = e->next)
		sb_printf(b, "ringbridge_ring_rate{ring=\"%s\"} %.2f\n",
		    e->name, atomic_load(&e->rate));
	METRIC(b, "coalesce_seconds", "gauge",
	    "Interval between resume passes (0: writes at once).");
	for (e = head; e != NULL; e = e->next)
		for (unsigned l = 0; l < conf.nloops; l++)
			sb_printf(b, "ringbridge_coalesce_seconds{ring=\"%s\","
			    "loop=\"%u\"} %.6f\n", e->name, l,
			    pass_interval(e, l));
	METRIC(b, "streams", "gauge", "Streams connected, all rings.");
	sb_printf(b, "ringbridge_streams %" PRIu64 "\n",
	    (uint64_t)atomic_load(&g_streams));
	METRIC(b, "max_streams", "gauge", "Configured stream limit.");
	sb_printf(b, "ringbridge_max_streams %u\n", conf.max_clients);
	METRIC(b, "rejected_total", "counter", "Requests refused.");
	sb_printf(b, "ringbridge_rejected_total{reason=\"limit\"} %" PRIu64
	    "\n", (uint64_t)atomic_load(&g_rejected_limit));
	sb_printf(b, "ringbridge_rejected_total{reason=\"auth\"} %" PRIu64
	    "\n", (uint64_t)atomic_load(&g_rejected_auth));
	sb_printf(b, "ringbridge_rejected_total{reason=\"slow_head\"} %"
	    PRIu64 "\n", (uint64_t)atomic_load(&g_cut_slow));
	METRIC(b, "event_loops", "gauge", "Event-loop threads.");
	sb_printf(b, "ringbridge_event_loops %u\n", conf.nloops);
	METRIC(b, "requests_total", "counter", "HTTP requests handled.");
	sb_printf(b, "ringbridge_requests_total %" PRIu64 "\n",
	    (uint64_t)atomic_load(&g_requests));
}
