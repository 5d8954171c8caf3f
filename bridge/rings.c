/*
 * rings.c - the served rings: the registry (g_rings), each ring's current
 * read-only mapping (shared by the streams of one epoch, reference
 * counted), its pump thread, its stall state and its message rate.
 *
 * A pump sleeps in shmr_cursor_wait() and, when its ring moves, asks the
 * event loops to resume the ring's waiting streams (request_wake()); a
 * closed or replaced ring is polled until a producer maps the name again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "../libshm/chaos.h"	/* CHAOS(): empty unless SAN=chaos */
#include "log.h"

void
mapref_put(struct mapref *m)
{
	if (m != NULL && atomic_fetch_sub(&m->refs, 1) == 1) {
		shmr_ring_close(m->ring);
		free(m);
	}
}

/* The current mapping with a reference taken, or NULL. */
struct mapref *
ring_current_map(struct ring_ent *e)
{
	struct mapref *m;

	pthread_mutex_lock(&e->lock);
	m = e->map;
	if (m != NULL)
		atomic_fetch_add(&m->refs, 1);
	pthread_mutex_unlock(&e->lock);
	return m;
}

void
ring_stall_set(struct ring_ent *e, int rc)
{
	if (atomic_exchange(&e->stalled, rc) == 0)
		log_warn("ring %s: %s: its streams wait and retry",
		    e->name, ring_error(rc));
}

/*
 * The header reads sound again: under the loops' waiter locks, so that a
 * client that saw the stall in try_suspend() is on its waiter list before
 * the wake-up.
 */
static void
ring_stall_clear(struct ring_ent *e)
{
	int was;

	if (atomic_load(&e->stalled) == 0)
		return;
	for (unsigned l = 0; l < conf.nloops; l++)
		pthread_mutex_lock(&e->lp[l].lock);
	was = atomic_exchange(&e->stalled, 0);
	for (unsigned l = conf.nloops; l-- > 0; )
		pthread_mutex_unlock(&e->lp[l].lock);
	if (was != 0) {
		log_notice("ring %s: header readable again: streams continue",
		    e->name);
		request_wake(e);
	}
}

/*
 * shmr_ring_info() off the event loops (pump, main thread): records a
 * stall, or its end.
 */
static int
ring_probe(struct ring_ent *e, struct mapref *m, struct shmr_info *in)
{
	int rc = shmr_ring_info(m->ring, in);

	if (ring_transient(rc))
		ring_stall_set(e, rc);
	else if (rc == 0)
		ring_stall_clear(e);
	return rc;
}

/*
 * shmr_ring_info() on an event loop: while the ring is known to be
 * stalled, its error at once (a stalled read costs ~2 ms, and every
 * stream of the loop waits meanwhile).
 */
int
ring_info_quick(struct ring_ent *e, struct mapref *m, struct shmr_info *in)
{
	int rc = atomic_load(&e->stalled);

	if (rc != 0)
		return rc;
	if (ring_transient(rc = shmr_ring_info(m->ring, in)))
		ring_stall_set(e, rc);
	return rc;
}

/* Map ring e (again). 0 if a new mapping is installed. */
static int
ring_reopen(struct ring_ent *e)
{
	struct shmr_open_opts oo = { .trust_any_owner = conf.trust_any_owner };
	struct shmr_ring *r;
	struct mapref *m, *old;
	int rc;

	if ((rc = shmr_ring_open(e->name, &oo, &r)) != 0) {
		if (!e->absent_logged && (rc == -ENOENT || rc == -EAGAIN))
			log_info("ring %s: not there (yet): %s", e->name,
			    ring_error(rc));
		else if (!e->absent_logged)
			log_warn("ring %s: cannot open: %s", e->name,
			    ring_error(rc));
		e->absent_logged = true;
		return rc;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		shmr_ring_close(r);
		return -ENOMEM;
	}
	m->ring = r;
	m->epoch = shmr_ring_epoch(r);
	atomic_init(&m->refs, 1);
	pthread_mutex_lock(&e->lock);
	old = e->map;
	e->map = m;
	pthread_mutex_unlock(&e->lock);
	request_wake(e);
	if (old != NULL)
		log_notice("ring %s: now serving epoch %" PRIu64
		    " (was %" PRIu64 ")", e->name, m->epoch, old->epoch);
	else
		log_info("ring %s: serving epoch %" PRIu64, e->name,
		    m->epoch);
	e->absent_logged = false;
	mapref_put(old);
	return 0;
}

/*
 * One pump per ring: sleep on the ring's futex until it moves, then resume
 * its waiting clients in one pass. A closed or replaced ring is polled
 * until a new producer maps the name again.
 */
static void *
pump_main(void *arg)
{
	struct ring_ent *e = arg;
	struct shmr_cursor pc;
	struct shmr_info info;
	struct mapref *m, *cur = NULL;
	bool init_warned = false;
	int rc;

	while (!atomic_load(&g_stopping)) {
		m = ring_current_map(e);
		if (m == NULL) {
			if (ring_reopen(e) != 0)
				nap_ms(500);
			continue;
		}
		/* The epoch too: a freed mapping's address can come back. */
		if (m != cur || pc.epoch != m->epoch) {
			if ((rc = shmr_cursor_init(m->ring, &pc, SHMR_FROM_END,
			    0)) != 0) {
				/* Waiting on a cursor that is not set would
				 * watch the wrong place: retry, and let the
				 * clients retry their own reads meanwhile. */
				if (ring_transient(rc))
					ring_stall_set(e, rc);
				else if (!init_warned)
					log_warn("ring %s: cannot watch epoch %"
					    PRIu64 ": %s (retrying)", e->name,
					    m->epoch, ring_error(rc));
				init_warned = true;
				cur = NULL;
				request_wake(e);
				mapref_put(m);
				nap_ms(200);
				continue;
			}
			init_warned = false;
			cur = m;
		}
		if (ring_transient(rc = ring_probe(e, m, &info))) {
			/* Stalled: look again soon; its clients wait for
			 * ring_stall_clear()'s wake-up, not for ours. */
			mapref_put(m);
			nap_ms(50);
			continue;
		}
		if (rc != 0 || info.state != SHMR_STATE_LIVE) {
			/* Readers drain it and see EOF or RESTART. */
			request_wake(e);
			if (shmr_ring_stale(m->ring) == 1 &&
			    ring_reopen(e) == 0) {
				mapref_put(m);
				continue;
			}
			mapref_put(m);
			nap_ms(200);
			continue;
		}
		/* Stalled: a read that succeeds ends it soon, even if nothing
		 * is published once the producer continues. */
		rc = shmr_cursor_wait(m->ring, &pc, atomic_load(&e->stalled) !=
		    0 ? 50 : 1000, 0);
		CHAOS("pump: woken, not yet re-armed");
		if (rc == 0) {
			/*
			 * Re-arm at the end before waking: anything published
			 * from here on wakes the next wait, anything before
			 * is seen by the clients we resume (or by their
			 * re-check under the lock in try_suspend()). If it
			 * cannot be set, the next pass sets it again.
			 */
			if (shmr_cursor_init(m->ring, &pc, SHMR_FROM_END, 0) != 0)
				cur = NULL;
			request_wake(e);
		} else if (rc == -ETIMEDOUT) {
			if (shmr_ring_stale(m->ring) == 1)
				ring_reopen(e);
		} else if (rc != -EINTR) {
			log_warn("ring %s: wait: %s", e->name,
			    ring_error(rc));
			cur = NULL;	/* set the cursor again */
			nap_ms(200);
		}
		mapref_put(m);
	}
	return NULL;
}

struct ring_ent *
ring_find(const char *name)
{
	struct ring_ent *e;

	for (e = atomic_load(&g_rings); e != NULL; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static void
ring_ent_free(struct ring_ent *e)
{
	for (unsigned l = 0; l < LOOPS_MAX; l++)
		pthread_mutex_destroy(&e->lp[l].lock);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

/* Add a ring to the served set (main thread only). */
int
ring_add(const char *name, bool start)
{
	struct ring_ent *e;
	int rc;

	if (ring_find(name) != NULL)
		return 0;
	/* Its ring_loops are cache-line aligned: calloc() does not promise
	 * that. */
	if ((e = aligned_alloc(_Alignof(struct ring_ent), sizeof(*e))) == NULL)
		return -ENOMEM;
	memset(e, 0, sizeof(*e));
	strlcpy(e->name, name, sizeof(e->name));
	pthread_mutex_init(&e->lock, NULL);
	for (unsigned l = 0; l < LOOPS_MAX; l++)
		pthread_mutex_init(&e->lp[l].lock, NULL);
	ring_reopen(e);
	if (start) {
		if ((rc = pthread_create(&e->pump, NULL, pump_main, e)) != 0) {
			log_err("ring %s: cannot start its pump thread: %s",
			    name, strerror(rc));
			mapref_put(e->map);
			ring_ent_free(e);
			return -rc;
		}
		e->pump_started = true;
	}
	/* release: the entry is complete before readers can see it. */
	e->next = atomic_load(&g_rings);
	atomic_store_explicit(&g_rings, e, memory_order_release);
	return 0;
}

static int
scan_one(const char *name, void *arg)
{
	(void)arg;
	if (shmr_name_valid(name) == 0 && ring_find(name) == NULL)
		ring_add(name, true);
	return 0;
}

void
rings_scan(void)
{
	shmr_list(scan_one, NULL);
}

void
rings_free(void)
{
	for (struct ring_ent *e = atomic_load(&g_rings); e != NULL; ) {
		struct ring_ent *next = e->next;

		mapref_put(e->map);
		ring_ent_free(e);
		e = next;
	}
}

void
rings_update_rates(double dt)
{
	struct ring_ent *e;
	struct shmr_info info;
	struct mapref *m;

	for (e = atomic_load(&g_rings); e != NULL; e = e->next) {
		if ((m = ring_current_map(e)) == NULL)
			continue;
		if (ring_probe(e, m, &info) == 0) {
			/*
			 * Only within one epoch of one ring: a ring created
			 * afresh starts again at epoch 1 with lower sequence
			 * numbers.
			 */
			if (info.epoch == e->rate_epoch &&
			    info.created_ns == e->rate_created && dt > 0)
				atomic_store(&e->rate,
				    (double)(info.next_seq - e->rate_seq) / dt);
			else
				atomic_store(&e->rate, 0.0);
			e->rate_epoch = info.epoch;
			e->rate_created = info.created_ns;
			e->rate_seq = info.next_seq;
		}
		mapref_put(m);
	}
}
