/*
 * bridge.h - ringbridge internals shared by its sources: the served rings,
 * the per-client stream state, the shared state and each file's entry
 * points.
 *
 * The files, each with one job, from the top down (a file calls only
 * those below it, and state.c's data):
 *   ringbridge.c    options, usage, main(): fills conf, starts the rest,
 *                   runs the main thread's once-a-second jobs
 *   dispatch.c      the HTTP server: daemons, callbacks, the handler
 *                   (framing checks, methods, routes, bearer token)
 *   stream_open.c   GET /rings/NAME/stream: parameters, start, response
 *   views.c         /rings, /rings/NAME (JSON), /metrics
 *   respond.c       non-stream answers (http.h)
 *   stream.c        the content reader that writes a stream
 *   format.c        the output formats' table, format_NAME.c one each
 *                   (format.h)
 *   rings.c         the served rings: registry, mappings, pump threads,
 *                   stalls, rates
 *   loop.c          the event loops: batched resumes, coalescing,
 *                   shutdown
 *   guard.c         connection limits per address, slow request heads
 *   http_parse.c    routes and request parameters (pure, fuzzed)
 *   dashboard.c     the web dashboard's files
 *   state.c         the options (conf) and the flags and counters that
 *                   several files share; each owner is named below
 *
 * Threads: each event-loop thread (one per core by default) runs its own
 * libmicrohttpd daemon (external epoll mode, all on one port with
 * SO_REUSEPORT) and therefore its connections' content readers, and it
 * alone suspends and resumes them; one pump thread per ring sleeps in
 * shmr_cursor_wait() and, when the ring moves, flags the ring for every
 * loop and pokes the loops' eventfds; the
 * main thread handles signals, heartbeats, rates and (with --all) the
 * ring scan. Each ring's lock protects its current mapping; each of its
 * ring_loops' locks that loop's waiter list and its clients' "waiting"
 * flags. Lock order: the loops' locks, in loop order, then the ring's.
 */
#ifndef RINGBRIDGE_BRIDGE_H
#define RINGBRIDGE_BRIDGE_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "clock.h"
#include "exitcode.h"
#include "format.h"
#include "from.h"
#include "ringerr.h"
#include "shmring.h"

struct MHD_Connection;

/* One read-only mapping of a ring, shared by the clients of one epoch. */
struct mapref {
	struct shmr_ring	*ring;
	uint64_t		 epoch;
	atomic_int		 refs;
};

struct client;

/* Most event loops (--threads). */
#define LOOPS_MAX	32

/*
 * A ring as one event loop sees it: that loop's suspended clients, its
 * --coalesce passes and the counters its streams bump on every write.
 * The loop's thread alone resumes its clients. One cache line each (or
 * more): the loops run on different cores, and sharing a line (or the
 * ring's lock) per write made them bounce it between caches.
 */
struct ring_loop {
	pthread_mutex_t		 lock;		/* the waiter list */
	struct client		*waiters;	/* suspended clients; lock */
	atomic_bool		 wake_pending;	/* news since it was cleared */
	atomic_uint		 streams;	/* clients on this loop */
	/* --coalesce, this loop's thread only */
	unsigned		 pass;		/* resume passes so far */
	bool			 deferred;	/* a pass is owed to waiters */
	uint64_t		 last_pass;	/* mono_ns() */
	/* statistics: the loop's thread adds, /metrics sums the loops */
	atomic_uint_least64_t	 events;
	atomic_uint_least64_t	 bytes;
	atomic_uint_least64_t	 chunks;
	atomic_uint_least64_t	 wakeups;
} __attribute__((aligned(64)));

/* A served ring. Entries live until exit. */
struct ring_ent {
	char			 name[SHMR_NAME_MAX + 1];
	pthread_mutex_t		 lock;
	struct mapref		*map;		/* NULL while absent; lock */
	pthread_t		 pump;
	bool			 pump_started;
	bool			 absent_logged;
	struct ring_loop	 lp[LOOPS_MAX];
	atomic_uint_least64_t	 news_ns;	/* last request_wake() */
	struct ring_ent		*next;
	/* statistics */
	atomic_uint_least64_t	 clients;
	atomic_uint_least64_t	 clients_total;
	atomic_uint_least64_t	 gaps;
	atomic_uint_least64_t	 lost;
	atomic_uint_least64_t	 overruns;
	atomic_uint_least64_t	 evictions;
	atomic_uint_least64_t	 eofs;
	atomic_uint_least64_t	 restarts;
	/*
	 * Its producer is stopped inside a header update (-EDEADLK) or the
	 * header never read still (-EAGAIN): the last such error, 0 when
	 * the header reads sound. Set by whoever gets the error, cleared
	 * under the lock by the pump or the main thread once a read
	 * succeeds, which then wakes the clients waiting for it.
	 */
	atomic_int		 stalled;
	/* message rate, maintained by the main thread once per second */
	uint64_t		 rate_seq;
	uint64_t		 rate_epoch;
	uint64_t		 rate_created;	/* created_ns of that ring */
	_Atomic double		 rate;
};

/* Per-client state: a cursor and a few small fixed buffers. */
struct client {
	struct ring_ent		*ent;
	struct mapref		*map;
	struct MHD_Connection	*conn;
	struct shmr_cursor	 cur;
	uint64_t		 from_seq;	/* first seq to send (resume) */
	struct client		*wnext, *wprev;	/* waiter list; ent lock */
	const struct stream_format *fmt;
	uint8_t			 loop;		/* its event loop */
	bool			 waiting;	/* suspended; ent lock */
	uint8_t			 enc;		/* enum stream_enc */
	bool			 skip;		/* on_overrun=skip */
	bool			 final;		/* end after ctl drains */
	bool			 fail;		/* end with an error */
	bool			 done;
	bool			 in_step;	/* sent a message or caught up */
	bool			 switch_warned;	/* new epoch unreadable, said so */
	bool			 stall_wait;	/* waits for e->stalled == 0 */
	bool			 init_pending;	/* cursor not set yet (stall) */
	uint8_t			 init_from;	/* enum shmr_from, for it */
	uint64_t		 init_seq;
	uint64_t		 restart_from;	/* resumed from this older epoch */
	unsigned		 hb_gen;
	unsigned		 sent_pass;	/* lp.pass + 1 of its last write */
	/* a control event or comment waiting to be written */
	uint16_t		 ctl_len, ctl_off;
	char			 ctl[320];	/* a restart and its gap */
	/* the message being written (may span several reader calls) */
	bool			 m_active;
	uint8_t			 m_phase;	/* 0 prefix, 1 body, 2 suffix */
	uint8_t			 m_stage_len, m_stage_off;
	bool			 m_here;	/* begun in this reader call */
	uint16_t		 m_off;		/* offset in prefix/suffix */
	size_t			 m_start;	/* output offset at its start */
	size_t			 m_in;		/* payload bytes consumed */
	struct shmr_msg		 m_msg;		/* view into the mapping */
	struct msg_frame	 m_fr;		/* its framing, by the format */
	char			 m_stage[8];
};

/* ---- state.c: what the files share --------------------------------- */

/* How a ring's passes are timed (--coalesce auto): see pass_interval(). */
#define COALESCE_AUTO	(-1)

/*
 * The options. ringbridge.c (main) alone writes them, while parsing the
 * command line and before it starts any thread; then they are read-only.
 */
struct bridge_conf {
	struct sockaddr_storage	 addr;		/* --listen, resolved */
	socklen_t		 addrlen;
	const char		*listen;	/* --listen as given */
	bool			 all;		/* --all */
	unsigned		 max_clients;	/* --max-clients */
	unsigned		 per_ip;	/* --per-ip */
	unsigned		 heartbeat;	/* --heartbeat, seconds */
	int			 coalesce_ms;	/* --coalesce, or COALESCE_AUTO */
	unsigned		 nloops;	/* --threads, resolved */
	unsigned		 write_timeout;	/* --write-timeout, seconds */
	unsigned		 sndbuf;	/* --sndbuf */
	unsigned		 conn_memory;	/* --conn-memory */
	bool			 reuseport;	/* --reuseport */
	bool			 trust_any_owner;
	char			*token;		/* --token-file's token */
	char			*tls_cert;	/* PEM, read from --tls-cert */
	char			*tls_key;
	const char		*cors;		/* --cors-origin */
};
extern struct bridge_conf conf;

/*
 * The served rings, newest first. rings.c adds (main thread only,
 * published with release); every thread walks the list (acquire).
 * Entries live until exit.
 */
extern _Atomic(struct ring_ent *) g_rings;
/*
 * Shutting down: set once by loops_shutdown() (or by http_start() when a
 * daemon cannot start); read by every thread.
 */
extern atomic_bool g_stopping;
/*
 * The heartbeat generation, bumped by the main thread every --heartbeat
 * seconds; a stream that has written nothing since sends a heartbeat.
 */
extern atomic_uint g_hb_gen;
/* Streams open, all rings: stream_open.c counts them in and out;
 * loops_shutdown() waits for them to end. */
extern atomic_uint_least64_t g_streams;
/*
 * Requests handled (dispatch.c), refused for the stream limit
 * (stream_open.c) or the token (dispatch.c); read by views.c.
 */
extern atomic_uint_least64_t g_requests, g_rejected_limit, g_rejected_auth;

/* ---- rings.c: the served rings and their pumps ------------------------ */

/* Serve ring name (main thread only); start: its pump too. 0 or -errno. */
int	ring_add(const char *name, bool start);
/* The served ring called name, or NULL. */
struct ring_ent *ring_find(const char *name);
/* --all: serve every ring not served yet (main thread). */
void	rings_scan(void);
/* Once a second (main thread): each ring's message rate. */
void	rings_update_rates(double dt);
/* At exit, once every thread has ended. */
void	rings_free(void);
/* The current mapping with a reference taken, or NULL. */
struct mapref *ring_current_map(struct ring_ent *e);
void	mapref_put(struct mapref *m);
/* A header read that may succeed when retried (-EDEADLK, -EAGAIN)? */
static inline bool
ring_transient(int rc)
{
	return rc == -EDEADLK || rc == -EAGAIN;
}
/* Record a transient header error of ring e (logged once per stall). */
void	ring_stall_set(struct ring_ent *e, int rc);
/*
 * shmr_ring_info() for an event loop: while the ring is known to be
 * stalled, its error at once (a stalled read costs ~2 ms of the loop).
 */
int	ring_info_quick(struct ring_ent *e, struct mapref *m,
	    struct shmr_info *in);

/*
 * Test pause points (bridge/test_hooks.c), compiled only into the tests'
 * ringbridge-hooks binary; nothing at all in ringbridge itself.
 */
#ifdef RINGBRIDGE_TEST_HOOKS
void	test_pause(const char *point);
#define TEST_PAUSE(point)	test_pause(point)
#else
#define TEST_PAUSE(point)	((void)0)
#endif

/* ---- stream.c -------------------------------------------------------- */

/* libmicrohttpd content reader for a stream; cls is the struct client. */
ssize_t	stream_reader(void *cls, uint64_t pos, char *buf, size_t max);
/* Queue the first bytes of a stream (SSE retry hint, a gap event...). */
void	stream_start(struct client *c);
/* Queue a control event; returns false if it does not fit. */
bool	stream_ctl_gap(struct client *c, uint64_t lost, uint64_t next);
bool	stream_ctl_restart(struct client *c, uint64_t old_epoch);

/* ---- guard.c --------------------------------------------------------- */

struct sockaddr;
struct conn_st;

/* One per event loop, used by its thread only. */
struct guard {
	struct conn_st		*head, *tail;	/* waiting for a request head,
						   oldest first */
	unsigned		 npending;
	unsigned		 conns;		/* connections open */
	unsigned		 limit;		/* libmicrohttpd's limit */
	double			 last_check;
};

extern unsigned g_header_timeout;	/* --header-timeout */
extern unsigned g_slow_reserve;		/* --slow-reserve */
extern unsigned g_slow_per_ip;		/* --slow-per-ip */
extern unsigned g_per_ip;		/* --per-ip, all loops together */
extern atomic_uint_least64_t g_cut_slow;

/* May a connection from sa be accepted (--per-ip)? */
bool	guard_accept_ok(const struct sockaddr *sa);
/* A connection started (fd: its socket) or ended. */
void	guard_open(struct guard *g, struct MHD_Connection *conn, int fd,
	    void **sock_ctx);
void	guard_close(struct guard *g, void **sock_ctx);
/* Its request head is complete; its request ended (kept alive). */
void	guard_head_done(struct guard *g, struct MHD_Connection *conn);
void	guard_request_done(struct guard *g, struct MHD_Connection *conn);
/*
 * Cut connections whose request head is late (at most every 100 ms
 * unless now). Returns the ms until the next check is due, -1 if none.
 */
int	guard_check(struct guard *g, bool now);

/* ---- dispatch.c: the HTTP server (more in http.h) ---------------------- */

/*
 * Start the event loops' daemons on conf.addr. With more than one, each
 * listens on its own SO_REUSEPORT socket of the same port (the first one
 * picks it if the port is 0) and the kernel spreads new connections over
 * them. *port: the port bound. 0 or an exit status.
 */
int	http_start(unsigned *port);

/* ---- views.c: /rings, /rings/NAME, /metrics --------------------------- */

/* A growing response body; oom once an allocation failed. */
struct sbuf {
	char	*p;
	size_t	 len, cap;
	bool	 oom;
};

void	sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Every listed ring as a JSON array. */
void	view_rings(struct sbuf *b);
/*
 * Ring e as a JSON object. Returns 0, or the transient error of a
 * stalled ring, which is shown as state "stalled" with no header values.
 */
int	view_ring(struct sbuf *b, struct ring_ent *e);
/* Every counter and gauge, Prometheus text format. */
void	view_metrics(struct sbuf *b);
/* Listed and served? In --all mode a ring whose name went is not. */
bool	ring_listed(struct ring_ent *e);

/* ---- loop.c: the event loops ------------------------------------------ */

struct MHD_Daemon;

/* An event loop: a libmicrohttpd daemon and the thread that runs it. */
struct loop {
	struct MHD_Daemon	*d;
	int			 wake_fd;	/* eventfd: pumps -> loop */
	pthread_t		 thr;
	uint8_t			 idx;
	struct guard		 guard;		/* its thread only */
};

/*
 * conf.nloops of them: loops_init() sets up their eventfds, http_start()
 * (dispatch.c) their daemons, loops_run() their threads.
 */
extern struct loop g_loops[LOOPS_MAX];

/*
 * Set up conf.nloops loops' wake-up eventfds: before any ring is added,
 * for its pump may ask for a wake-up at once. 0 or -errno.
 */
int	loops_init(void);
/* Start the loops' threads (their daemons are started): 0 or -errno. */
int	loops_run(void);
/* End every stream cleanly, then the loops and their daemons. */
void	loops_shutdown(void);
/* --threads 0: one event loop per CPU this process may run on. */
unsigned loops_cpus(void);
/* Ask each loop to resume its suspended clients of e (any thread). */
void	request_wake(struct ring_ent *e);
/* Ring e's pass interval on loop l, in seconds (0: write at once). */
double	pass_interval(const struct ring_ent *e, unsigned l);
void	nap_ms(long ms);

/* ---- dashboard.c, dashboard_assets.c (generated) ---------------------- */

/* A file of the web dashboard compiled into the binary. */
struct dash_asset {
	const char		*path;		/* URL path */
	const char		*ctype;
	const unsigned char	*data;
	size_t			 len;
	const char		*etag;		/* quoted, strong */
};

extern const struct dash_asset dash_assets[];	/* ends with path NULL */

/* The asset served at url, or NULL. */
const struct dash_asset *dash_find(const char *url);
/* Answer a GET or HEAD for an asset (304 on a matching If-None-Match). */
int	dash_serve(struct MHD_Connection *conn, const struct dash_asset *a);

/* ---- http_parse.c ---------------------------------------------------- */

enum route { ROUTE_NONE, ROUTE_RINGS, ROUTE_RING, ROUTE_STREAM,
    ROUTE_METRICS, ROUTE_HEALTHZ };

/*
 * Split a request path. For ROUTE_RING and ROUTE_STREAM the ring name is
 * copied to name. Returns 0, -ENOENT (no such resource), -EINVAL (bad ring
 * name) or -ENAMETOOLONG.
 */
int	route_parse(const char *url, enum route *rt, char *name,
	    size_t namelen);
/*
 * The path of a request target: the origin form as it is, the absolute
 * form ("http://host:port/path", RFC 9112 3.2.2) without its scheme and
 * authority ("/" if it has no path).
 */
const char *target_path(const char *target);
/*
 * The stream format an Accept header prefers (the media types of
 * stream_formats[]; q values honoured, q=0 refuses), or NULL if it names
 * none of them.
 */
const struct stream_format *accept_format(const char *accept);
/* "EPOCH:SEQ" as written in SSE ids. */
int	parse_event_id(const char *s, uint64_t *epoch, uint64_t *seq);
/* Constant-time comparison of two byte strings (lengths may differ). */
bool	ct_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif /* RINGBRIDGE_BRIDGE_H */
