/*
 * services.c - what ringd's inputs may call (input.h): publish into the
 * ring, count and log what they reject, read the configuration, add an
 * input to the loop. Kept apart from the main loop (ringd.c) so that an
 * input depends on these and nothing else.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ringd.h"

size_t
ringd_max_msg(const struct ringd *rd)
{
	return rd->max_msg;
}

const struct ringd_conf *
ringd_conf(const struct ringd *rd)
{
	return &rd->conf;
}

int
ringd_publish(struct ringd *rd, struct input *in, const struct shmr_iov *msgs,
    size_t n)
{
	uint64_t bytes = 0;
	int rc;

	if (n == 0)
		return 0;
	rc = n == 1 ? shmr_writer_publish(rd->w, msgs[0].data, msgs[0].len,
	    NULL) : shmr_writer_publish_batch(rd->w, msgs, n, NULL);
	if (rc < 0) {
		log_err("ring %s: publish from %s failed: %s", rd->ring,
		    in->name, ring_error(rc));
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		bytes += msgs[i].len;
	in->st.msgs += n;
	in->st.bytes += bytes;
	rd->tot.msgs += n;
	rd->tot.bytes += bytes;
	rd->title_dirty = true;
	return 0;
}

void
ringd_reject_oversize(struct ringd *rd, struct input *in, uint64_t len)
{
	unsigned long sup;

	in->st.oversize++;
	rd->tot.oversize++;
	rd->title_dirty = true;
	if (log_ratelimit(&rd->rl, &sup))
		log_warn("input %s: rejected a %llu-byte message: larger than "
		    "max message %zu (%llu rejected so far; %lu warnings "
		    "suppressed)", in->name, (unsigned long long)len,
		    rd->max_msg, (unsigned long long)in->st.oversize, sup);
}

void
ringd_malformed(struct ringd *rd, struct input *in, bool fatal,
    const char *fmt, ...)
{
	char msg[256];
	unsigned long sup = 0;
	va_list ap;

	in->st.malformed++;
	rd->tot.malformed++;
	rd->title_dirty = true;
	/* An input being closed is logged once, never rate-limited. */
	if (!fatal && !log_ratelimit(&rd->rl, &sup))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fatal)
		log_err("input %s: %s", in->name, msg);
	else
		log_warn("input %s: %s (%lu warnings suppressed)", in->name,
		    msg, sup);
}

int
ringd_add_input(struct ringd *rd, struct input *in)
{
	if (rd->nin == rd->incap) {
		size_t cap = rd->incap ? rd->incap * 2 : 8;
		struct input **p = realloc(rd->in, cap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		rd->in = p;
		rd->incap = cap;
	}
	rd->in[rd->nin++] = in;
	return 0;
}
