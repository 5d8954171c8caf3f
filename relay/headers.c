/*
 * headers.c - read the Shmr-* headers a stream message carries (relay.h
 * describes them). They come from the network: each is checked, and a
 * message whose headers do not parse is not trusted at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

static int
hdr_u64(natsMsg *m, const char *key, uint64_t *v, bool need)
{
	const char *s = NULL;
	char *end;

	if (natsMsgHeader_Get(m, key, &s) != NATS_OK || s == NULL)
		return need ? -1 : 0;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' ? -1 : 0;
}

int
hdr_parse(natsMsg *m, struct hdr *h)
{
	const char *k = NULL;

	memset(h, 0, sizeof(*h));
	if (natsMsgHeader_Get(m, "Shmr-Kind", &k) != NATS_OK || k == NULL ||
	    k[0] == '\0' || k[1] != '\0' || strchr("dgrxe", k[0]) == NULL)
		return -1;
	h->kind = k[0];
	if (hdr_u64(m, "Shmr-Epoch", &h->epoch, true) < 0 || h->epoch == 0 ||
	    hdr_u64(m, "Shmr-Seq", &h->seq, true) < 0 ||
	    hdr_u64(m, "Shmr-Count", &h->count,
	    h->kind != 'r' && h->kind != 'e') < 0 ||
	    hdr_u64(m, "Shmr-Head", &h->head, false) < 0 ||
	    hdr_u64(m, "Shmr-Cap", &h->cap, false) < 0 ||
	    hdr_u64(m, "Shmr-Max-Msg", &h->max_msg, false) < 0)
		return -1;
	if (h->seq > UINT64_MAX / 2 || h->count > UINT64_MAX / 4)
		return -1;
	return 0;
}

/* The sequence number after everything m says. */
uint64_t
hdr_next(const struct hdr *h)
{
	return h->kind == 'r' || h->kind == 'e' ? h->seq : h->seq + h->count;
}
