/*
 * guard.c - connections that do not become requests: a deadline for the
 * request headers, a reserve of free connection slots, and per-address
 * limits, so that slow or idle connections cannot keep others out.
 *
 * libmicrohttpd 0.9.75 restarts a connection's idle timer on every byte,
 * so a client that sends its headers a byte a second holds its slot for
 * ever (slowloris), and at its connection limit libmicrohttpd stops
 * accepting: /healthz, /metrics and new streams then wait in the listen
 * backlog. Here each event loop keeps its connections that are waiting
 * for request headers in a list, oldest first, and cuts them (shutdown()
 * of the socket, which libmicrohttpd then closes as usual):
 *   - past --header-timeout seconds since the connection (or the end of
 *     its previous request) without a complete request head;
 *   - when fewer than --slow-reserve slots of the loop are free, the
 *     oldest waiting longer than GUARD_GRACE;
 *   - when one address has more than --slow-per-ip waiting, its oldest
 *     ones waiting longer than GUARD_GRACE.
 * A request whose head arrived in one piece waits microseconds, so only
 * slow ones are ever cut. --per-ip counts every connection of an address
 * across all event loops (libmicrohttpd's own limit is per daemon).
 *
 * Threads: a connection's state is touched only by its loop's thread,
 * from libmicrohttpd's callbacks or guard_check(); the address table is
 * shared by the loops, under its lock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "bridge.h"
#include "log.h"

#define GUARD_GRACE		1.0	/* s before a slow head may be cut */
#define IP_BUCKETS		1024

unsigned g_header_timeout = 5;
unsigned g_slow_reserve = 16;	/* free slots kept per loop */
unsigned g_slow_per_ip = 16;	/* pending heads per address */
unsigned g_per_ip;
atomic_uint_least64_t g_cut_slow;

struct ip_ent {
	struct ip_ent	*next;
	unsigned char	 key[16];
	unsigned	 conns;
	unsigned	 pending;
};

struct conn_st {
	struct conn_st	*prev, *next;	/* pending list; loop thread */
	struct ip_ent	*ip;
	int		 fd;
	bool		 pending;	/* waiting for a request head */
	bool		 cut;
	double		 since;		/* monotonic seconds */
};

static struct ip_ent *ips[IP_BUCKETS];
static pthread_mutex_t ips_lock = PTHREAD_MUTEX_INITIALIZER;

/* An address as 16 bytes (IPv4 mapped); false for other families. */
static bool
ip_key(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

static unsigned
ip_hash(const unsigned char key[16])
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % IP_BUCKETS;
}

/* The entry of key, created if need be; ips_lock held. */
static struct ip_ent *
ip_get(const unsigned char key[16], bool create)
{
	struct ip_ent **b = &ips[ip_hash(key)], *e;

	for (e = *b; e != NULL; e = e->next)
		if (memcmp(e->key, key, 16) == 0)
			return e;
	if (!create || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	memcpy(e->key, key, 16);
	e->next = *b;
	*b = e;
	return e;
}

/* Drop an entry with nothing counted; ips_lock held. */
static void
ip_put(struct ip_ent *e)
{
	struct ip_ent **b;

	if (e->conns != 0 || e->pending != 0)
		return;
	for (b = &ips[ip_hash(e->key)]; *b != NULL; b = &(*b)->next)
		if (*b == e) {
			*b = e->next;
			free(e);
			return;
		}
}

bool
guard_accept_ok(const struct sockaddr *sa)
{
	unsigned char key[16];
	struct ip_ent *e;
	bool ok;

	if (g_per_ip == 0 || !ip_key(sa, key))
		return true;
	pthread_mutex_lock(&ips_lock);
	e = ip_get(key, false);
	ok = e == NULL || e->conns < g_per_ip;
	pthread_mutex_unlock(&ips_lock);
	return ok;
}

static void
pending_add(struct guard *g, struct conn_st *s)
{
	s->pending = true;
	s->since = mono_s();
	s->next = NULL;
	s->prev = g->tail;
	if (g->tail != NULL)
		g->tail->next = s;
	else
		g->head = s;
	g->tail = s;
	g->npending++;
	if (s->ip != NULL) {
		pthread_mutex_lock(&ips_lock);
		s->ip->pending++;
		pthread_mutex_unlock(&ips_lock);
	}
}

static void
pending_del(struct guard *g, struct conn_st *s)
{
	if (!s->pending)
		return;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		g->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		g->tail = s->prev;
	s->prev = s->next = NULL;
	s->pending = false;
	g->npending--;
	if (s->ip != NULL) {
		pthread_mutex_lock(&ips_lock);
		s->ip->pending--;
		pthread_mutex_unlock(&ips_lock);
	}
}

void
guard_open(struct guard *g, struct MHD_Connection *conn, int fd,
    void **sock_ctx)
{
	const union MHD_ConnectionInfo *ci;
	unsigned char key[16];
	struct conn_st *s;

	*sock_ctx = NULL;
	g->conns++;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return;		/* not guarded: still served */
	s->fd = fd;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ip_key(ci->client_addr, key)) {
		pthread_mutex_lock(&ips_lock);
		if ((s->ip = ip_get(key, true)) != NULL)
			s->ip->conns++;
		pthread_mutex_unlock(&ips_lock);
	}
	pending_add(g, s);
	*sock_ctx = s;
	guard_check(g, true);
}

void
guard_close(struct guard *g, void **sock_ctx)
{
	struct conn_st *s = *sock_ctx;

	g->conns--;
	if (s == NULL)
		return;
	pending_del(g, s);
	if (s->ip != NULL) {
		pthread_mutex_lock(&ips_lock);
		s->ip->conns--;
		ip_put(s->ip);
		pthread_mutex_unlock(&ips_lock);
	}
	free(s);
	*sock_ctx = NULL;
}

static struct conn_st *
conn_state(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

void
guard_head_done(struct guard *g, struct MHD_Connection *conn)
{
	struct conn_st *s = conn_state(conn);

	if (s != NULL)
		pending_del(g, s);
}

void
guard_request_done(struct guard *g, struct MHD_Connection *conn)
{
	struct conn_st *s = conn_state(conn);

	/* Kept alive: the next request head has the same deadline. */
	if (s != NULL && !s->pending && !s->cut)
		pending_add(g, s);
}

static void
cut(struct guard *g, struct conn_st *s, const char *why)
{
	pending_del(g, s);
	s->cut = true;
	/* libmicrohttpd sees the end of the stream and closes it. */
	shutdown(s->fd, SHUT_RDWR);
	atomic_fetch_add(&g_cut_slow, 1);
	log_debug("closed a connection: %s", why);
}

int
guard_check(struct guard *g, bool now)
{
	double t = mono_s();
	struct conn_st *s, *next;

	if (g->head == NULL)
		return -1;
	if (!now && t - g->last_check < 0.1)
		return 100;
	g->last_check = t;
	for (s = g->head; s != NULL; s = next) {
		double age = t - s->since;
		bool crowd = false;

		next = s->next;
		if (age > g_header_timeout) {
			cut(g, s, "no request head in time");
			continue;
		}
		if (age < GUARD_GRACE)
			break;		/* the rest are younger */
		if (s->ip != NULL) {
			pthread_mutex_lock(&ips_lock);
			crowd = s->ip->pending > g_slow_per_ip;
			pthread_mutex_unlock(&ips_lock);
		}
		if (crowd)
			cut(g, s, "too many slow request heads from one "
			    "address");
		else if (g->conns + g_slow_reserve > g->limit)
			cut(g, s, "slow request head while slots run short");
	}
	return g->head != NULL ? 100 : -1;
}
