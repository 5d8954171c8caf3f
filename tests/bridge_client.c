/* bridge_client.c - HTTP/SSE client helpers for ringbridge tests. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bridge_client.h"

static unsigned start_counter;

int
bridge_start(struct bridge_proc *bp, const char *bin, const char *const *args)
{
	const char *argv[64];
	char line[256];
	size_t n = 0, ln = 0;
	int pfd[2], efd;
	pid_t pid;

	argv[n++] = bin;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	for (; args != NULL && *args != NULL && n < 62; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	snprintf(bp->errpath, sizeof(bp->errpath), "/tmp/rbtest.%d.%u.err",
	    (int)getpid(), start_counter++);
	if ((efd = open(bp->errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return -errno;
	if (pipe(pfd) != 0) {
		close(efd);
		return -errno;
	}
	if ((pid = fork()) < 0) {
		close(efd);
		return -errno;
	}
	if (pid == 0) {
		/* Dies with the test even if the test crashes or times out. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pfd[1], STDOUT_FILENO);
		dup2(efd, STDERR_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		close(efd);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	close(efd);
	bp->pid = pid;
	bp->port = -1;
	/* The ready line: "ringbridge: listening on http://127.0.0.1:PORT" */
	while (ln < sizeof(line) - 1) {
		ssize_t r = read(pfd[0], line + ln, 1);

		if (r <= 0)
			break;
		if (line[ln] == '\n')
			break;
		ln++;
	}
	line[ln] = '\0';
	close(pfd[0]);
	{
		char *colon = strrchr(line, ':');

		if (strstr(line, "listening on") != NULL && colon != NULL)
			bp->port = atoi(colon + 1);
	}
	if (bp->port <= 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -EIO;
	}
	return 0;
}

int
bridge_stop(struct bridge_proc *bp)
{
	int st;

	if (bp->pid <= 0)
		return -1;
	kill(bp->pid, SIGTERM);
	if (waitpid(bp->pid, &st, 0) < 0)
		return -1;
	bp->pid = 0;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

int
bridge_sanitizer_report(const struct bridge_proc *bp)
{
	char buf[4096];
	FILE *f = fopen(bp->errpath, "r");
	int found = 0;

	if (f == NULL)
		return 0;
	while (fgets(buf, sizeof(buf), f) != NULL)
		if (strstr(buf, "Sanitizer") != NULL ||
		    strstr(buf, "runtime error") != NULL)
			found = 1;
	fclose(f);
	return found;
}

long
proc_rss_kib(pid_t pid)
{
	char path[64], buf[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(buf, sizeof(buf), f) != NULL)
		if (strncmp(buf, "VmRSS:", 6) == 0)
			kib = strtol(buf + 6, NULL, 10);
	fclose(f);
	return kib;
}

int
hc_connect(struct hc *h, int port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	memset(h, 0, sizeof(*h));
	h->fd = -1;
	if ((h->body = malloc(HC_BODY_MAX)) == NULL)
		return -ENOMEM;
	if ((h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (rcvbuf > 0)
		setsockopt(h->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf));
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -errno;
	return 0;
}

int
hc_get(struct hc *h, const char *path, const char *extra)
{
	char req[8192 + 512];
	int n;
	size_t off = 0;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1"
	    "\r\n%s\r\n", path, extra != NULL ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(req))
		return -E2BIG;
	while (off < (size_t)n) {
		ssize_t w = send(h->fd, req + off, (size_t)n - off,
		    MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = { h->fd, POLLOUT, 0 };

				poll(&p, 1, 1000);
				continue;
			}
			return -errno;
		}
		off += (size_t)w;
	}
	return 0;
}

void
hc_close(struct hc *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	free(h->body);
	h->body = NULL;
}

const char *
hc_header(const struct hc *h, const char *name, char *buf, size_t len)
{
	size_t nl = strlen(name);
	const char *p = strstr(h->hdr, "\r\n");

	while (p != NULL && p[2] != '\r' && p[2] != '\0') {
		const char *line = p + 2, *end = strstr(line, "\r\n");

		if (end == NULL)
			break;
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			size_t vl;

			while (*v == ' ')
				v++;
			vl = (size_t)(end - v) < len - 1 ? (size_t)(end - v) :
			    len - 1;
			memcpy(buf, v, vl);
			buf[vl] = '\0';
			return buf;
		}
		p = end;
	}
	return NULL;
}

static void
body_put(struct hc *h, const char *p, size_t n)
{
	if (h->body_off == h->body_len) {
		/* All consumed: start over, so touched memory stays small. */
		h->body_off = h->body_len = 0;
	} else if (h->body_off > 0 && (h->body_len + n > HC_BODY_MAX ||
	    h->body_off >= 65536)) {
		memmove(h->body, h->body + h->body_off,
		    h->body_len - h->body_off);
		h->body_len -= h->body_off;
		h->body_off = 0;
	}
	if (h->body_len + n > HC_BODY_MAX)
		n = HC_BODY_MAX - h->body_len;	/* caller reads too slowly */
	memcpy(h->body + h->body_len, p, n);
	h->body_len += n;
}

/* Decode n received bytes. */
static void
decode(struct hc *h, const char *p, size_t n)
{
	while (n > 0) {
		switch (h->st) {
		case HC_HEADERS: {
			char *end, tmp[64];

			if (h->hdr_len < sizeof(h->hdr) - 1)
				h->hdr[h->hdr_len++] = *p;
			h->hdr[h->hdr_len] = '\0';
			p++;
			n--;
			if (h->hdr_len < 4 || (end = strstr(h->hdr,
			    "\r\n\r\n")) == NULL)
				break;
			h->status = atoi(h->hdr + 9);
			h->chunked = hc_header(h, "Transfer-Encoding", tmp,
			    sizeof(tmp)) != NULL && strcasecmp(tmp,
			    "chunked") == 0;
			h->st = h->chunked ? HC_CHUNK_SIZE : HC_PLAIN;
			break;
		}
		case HC_CHUNK_SIZE:
			if (*p == '\n') {
				h->st = h->chunk_left > 0 ? HC_CHUNK_DATA :
				    HC_DONE;
				if (h->st == HC_DONE)
					h->clean_end = true;
			} else if (*p >= '0' && *p <= '9') {
				h->chunk_left = h->chunk_left * 16 +
				    (uint64_t)(*p - '0');
			} else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f') {
				h->chunk_left = h->chunk_left * 16 +
				    (uint64_t)((*p | 0x20) - 'a' + 10);
			}
			p++;
			n--;
			break;
		case HC_CHUNK_DATA: {
			size_t k = n < h->chunk_left ? n :
			    (size_t)h->chunk_left;

			body_put(h, p, k);
			p += k;
			n -= k;
			h->chunk_left -= k;
			if (h->chunk_left == 0)
				h->st = HC_CHUNK_CRLF;
			break;
		}
		case HC_CHUNK_CRLF:
			if (*p == '\n')
				h->st = HC_CHUNK_SIZE;
			p++;
			n--;
			break;
		case HC_PLAIN:
			body_put(h, p, n);
			n = 0;
			break;
		case HC_DONE:
			n = 0;
			break;
		}
	}
}

int
hc_pump(struct hc *h)
{
	char buf[HC_PUMP_MAX];
	ssize_t r;

	r = recv(h->fd, buf, sizeof(buf), 0);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return -EAGAIN;
		h->closed = true;
		return -errno;
	}
	if (r == 0) {
		h->closed = true;
		return 0;
	}
	decode(h, buf, (size_t)r);
	return (int)r;
}

void
hc_feed(struct hc *h, const char *p, size_t n)
{
	decode(h, p, n);
}

/* Wait for readability and pump once; false on timeout or close. */
static bool
pump_wait(struct hc *h, int timeout_ms)
{
	struct pollfd p = { h->fd, POLLIN, 0 };

	if (h->closed)
		return false;
	if (poll(&p, 1, timeout_ms) <= 0)
		return false;
	return hc_pump(h) > 0;
}

int
hc_wait_headers(struct hc *h, int timeout_ms)
{
	while (h->st == HC_HEADERS)
		if (!pump_wait(h, timeout_ms))
			return 0;
	return 1;
}

int
hc_sse_next(struct hc *h, struct sse_event *ev)
{
	static char data[HC_BODY_MAX];
	size_t dl = 0, i = h->body_off;
	bool has_data = false;

	strcpy(ev->type, "message");
	strcpy(ev->id, h->last_id);
	for (;;) {
		char *line = h->body + i, *nl;
		size_t ll;

		nl = memchr(line, '\n', h->body_len - i);
		if (nl == NULL)
			return 0;	/* incomplete: parse again later */
		ll = (size_t)(nl - line);
		i += ll + 1;
		if (ll == 0) {
			if (!has_data) {
				/* Nothing to dispatch: consume and go on. */
				h->body_off = i;
				strcpy(ev->type, "message");
				continue;
			}
			h->body_off = i;
			if (dl > 0 && data[dl - 1] == '\n')
				dl--;
			data[dl] = '\0';
			ev->data = data;
			ev->len = dl;
			snprintf(h->last_id, sizeof(h->last_id), "%s", ev->id);
			return 1;
		}
		if (line[0] == ':') {
			h->comments++;
			continue;
		}
		{
			char *colon = memchr(line, ':', ll);
			size_t nlen = colon != NULL ?
			    (size_t)(colon - line) : ll;
			const char *v = colon != NULL ? colon + 1 : line + ll;
			size_t vl = (size_t)(line + ll - v);

			if (vl > 0 && *v == ' ') {
				v++;
				vl--;
			}
			if (nlen == 4 && memcmp(line, "data", 4) == 0) {
				if (dl + vl + 1 < sizeof(data)) {
					memcpy(data + dl, v, vl);
					dl += vl;
					data[dl++] = '\n';
				}
				has_data = true;
			} else if (nlen == 5 && memcmp(line, "event", 5) == 0) {
				snprintf(ev->type, sizeof(ev->type), "%.*s",
				    (int)vl, v);
			} else if (nlen == 2 && memcmp(line, "id", 2) == 0) {
				snprintf(ev->id, sizeof(ev->id), "%.*s",
				    (int)vl, v);
			}
		}
	}
}

int
hc_line_next(struct hc *h, char *line, size_t len)
{
	char *s = h->body + h->body_off, *nl;
	size_t ll;

	nl = memchr(s, '\n', h->body_len - h->body_off);
	if (nl == NULL)
		return 0;
	ll = (size_t)(nl - s);
	h->body_off += ll + 1;
	if (ll >= len)
		ll = len - 1;
	memcpy(line, s, ll);
	line[ll] = '\0';
	return 1;
}

static uint64_t
be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int
hc_raw_next(struct hc *h, uint32_t *type, uint64_t *seq, void *buf,
    size_t buflen, uint32_t *len)
{
	const unsigned char *p = (unsigned char *)h->body + h->body_off;
	size_t avail = h->body_len - h->body_off;
	uint32_t l;

	if (avail < 16)
		return 0;
	l = (uint32_t)be(p, 4);
	if (avail < 16 + (size_t)l)
		return 0;
	*type = (uint32_t)be(p + 4, 4);
	*seq = be(p + 8, 8);
	*len = l;
	memcpy(buf, p + 16, l < buflen ? l : buflen);
	h->body_off += 16 + l;
	return 1;
}

int
hc_sse_wait(struct hc *h, struct sse_event *ev, int timeout_ms)
{
	for (;;) {
		if (hc_sse_next(h, ev))
			return 1;
		if (!pump_wait(h, timeout_ms))
			return 0;
	}
}

int
hc_line_wait(struct hc *h, char *line, size_t len, int timeout_ms)
{
	for (;;) {
		if (hc_line_next(h, line, len))
			return 1;
		if (!pump_wait(h, timeout_ms))
			return 0;
	}
}

int
hc_raw_wait(struct hc *h, uint32_t *type, uint64_t *seq, void *buf,
    size_t buflen, uint32_t *len, int timeout_ms)
{
	for (;;) {
		if (hc_raw_next(h, type, seq, buf, buflen, len))
			return 1;
		if (!pump_wait(h, timeout_ms))
			return 0;
	}
}

bool
hc_wait_end(struct hc *h, int timeout_ms)
{
	while (!h->closed && h->st != HC_DONE)
		if (!pump_wait(h, timeout_ms) && !h->closed)
			return false;
	return true;
}

int
http_request(int port, const char *method, const char *path,
    const char *extra, char *body, size_t len, char *hdrs, size_t hdrlen)
{
	struct hc h;
	char req[16384];
	int n, rc;
	size_t bl;

	if ((rc = hc_connect(&h, port, 0)) != 0) {
		hc_close(&h);
		return rc;
	}
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n%s\r\n", method, path,
	    extra != NULL ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(req) ||
	    send(h.fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		hc_close(&h);
		return -EIO;
	}
	while (!h.closed && h.st != HC_DONE)
		if (!pump_wait(&h, 10000))
			break;
	rc = h.st == HC_HEADERS ? -EIO : h.status;
	if (body != NULL && len > 0) {
		bl = h.body_len - h.body_off < len - 1 ?
		    h.body_len - h.body_off : len - 1;
		memcpy(body, h.body + h.body_off, bl);
		body[bl] = '\0';
	}
	if (hdrs != NULL && hdrlen > 0)
		snprintf(hdrs, hdrlen, "%s", h.hdr);
	hc_close(&h);
	return rc;
}
