/*
 * bridge_client.h - a small HTTP/1.1 client for ringbridge tests and the
 * fan-out benchmark: starts the bridge, sends GETs, undoes chunked
 * transfer coding and parses SSE, NDJSON and raw frames incrementally.
 * Blocking helpers (hc_*_wait) for tests; hc_pump() for epoll loops.
 */
#ifndef BRIDGE_CLIENT_H
#define BRIDGE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- the bridge process ------------------------------------------------- */

struct bridge_proc {
	pid_t	pid;
	int	port;
	char	errpath[64];	/* its stderr, checked for sanitizer reports */
};

/*
 * Start the bridge binary with argv (NULL-terminated, without argv[0] and
 * without --listen, which is added as 127.0.0.1:0) and read its port from
 * the ready line. 0 or -errno.
 */
int	bridge_start(struct bridge_proc *bp, const char *bin,
	    const char *const *args);
/* SIGTERM, wait; returns the exit status (or 128 + signal, -1 on error). */
int	bridge_stop(struct bridge_proc *bp);
/* 1 if its stderr holds a sanitizer report. */
int	bridge_sanitizer_report(const struct bridge_proc *bp);
/* VmRSS of a process in KiB, or -1. */
long	proc_rss_kib(pid_t pid);

/* ---- one connection ---------------------------------------------------- */

#define HC_BODY_MAX	(1024 * 1024)

enum hc_state { HC_HEADERS, HC_CHUNK_SIZE, HC_CHUNK_DATA, HC_CHUNK_CRLF,
    HC_PLAIN, HC_DONE };

struct hc {
	int		 fd;
	enum hc_state	 st;
	int		 status;
	bool		 chunked;
	bool		 closed;	/* peer closed (EOF or reset) */
	bool		 clean_end;	/* got the terminating chunk */
	uint64_t	 chunk_left;
	char		 hdr[8192];
	size_t		 hdr_len;
	char		*body;		/* decoded body, HC_BODY_MAX bytes */
	size_t		 body_off, body_len;
	uint64_t	 comments;	/* SSE comment lines seen */
	char		 last_id[64];	/* SSE last event id */
};

struct sse_event {
	char	 type[32];	/* "message" unless an event field said */
	char	 id[64];
	char	*data;		/* NUL-terminated, in a static buffer */
	size_t	 len;
};

/* Connect to 127.0.0.1:port; rcvbuf > 0 sets SO_RCVBUF first. */
int	hc_connect(struct hc *h, int port, int rcvbuf);
/* Send "GET path HTTP/1.1" with extra header lines (may be NULL). */
int	hc_get(struct hc *h, const char *path, const char *extra);
void	hc_close(struct hc *h);
/*
 * Read what is available (non-blocking if the fd is) and decode it, at
 * most HC_PUMP_MAX bytes. Returns bytes read, 0 on EOF, -EAGAIN, or
 * -errno. An epoll loop (level-triggered) calls it again only when it
 * returned HC_PUMP_MAX: a short read emptied the socket, and a second
 * recv() just to hear EAGAIN would double the client's system calls.
 */
#define HC_PUMP_MAX	65536
int	hc_pump(struct hc *h);
/* Decode bytes the caller read from h->fd itself (a slow reader). */
void	hc_feed(struct hc *h, const char *p, size_t n);
/* Find a response header (case-insensitive name); NULL if absent. */
const char *hc_header(const struct hc *h, const char *name, char *buf,
	    size_t len);

/* Parse one SSE event out of the body; 1 if one, 0 if incomplete. */
int	hc_sse_next(struct hc *h, struct sse_event *ev);
/* One NDJSON line (NUL-terminated, without the newline); 1 or 0. */
int	hc_line_next(struct hc *h, char *line, size_t len);
/* One raw frame; 1 or 0. */
int	hc_raw_next(struct hc *h, uint32_t *type, uint64_t *seq, void *buf,
	    size_t buflen, uint32_t *len);

/* Blocking variants: wait up to timeout_ms for more (returns 0 if none). */
int	hc_wait_headers(struct hc *h, int timeout_ms);
int	hc_sse_wait(struct hc *h, struct sse_event *ev, int timeout_ms);
int	hc_line_wait(struct hc *h, char *line, size_t len, int timeout_ms);
int	hc_raw_wait(struct hc *h, uint32_t *type, uint64_t *seq, void *buf,
	    size_t buflen, uint32_t *len, int timeout_ms);
/* Read until the peer ends the response; true if it did. */
bool	hc_wait_end(struct hc *h, int timeout_ms);

/*
 * One-shot request on a new connection: status code, the body into body
 * (NUL-terminated, truncated to len) and the raw headers into hdrs.
 */
int	http_request(int port, const char *method, const char *path,
	    const char *extra, char *body, size_t len, char *hdrs,
	    size_t hdrlen);

#endif
