/*
 * payload.h - the checksummed messages of the stress programs.
 *
 * Payload: [seq 8][len 8][sum 8][bytes derived from seq and epoch], or,
 * below 24 bytes, bytes derived from them alone. The lengths spread over
 * 0..max_msg. The epoch goes into the seed, so a message of another epoch
 * fails the check; epoch 0 is for programs without restarts.
 */
#ifndef SHMR_TEST_PAYLOAD_H
#define SHMR_TEST_PAYLOAD_H

#include <stdint.h>
#include <string.h>

#include "shmring.h"

/* FNV-1a: any torn, shifted or foreign byte changes it. */
static inline uint64_t
payload_fnv(const unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static inline uint64_t
payload_seed(uint64_t seq, uint64_t epoch)
{
	return seq ^ (epoch * 0xff51afd7ed558ccdull);
}

/* Write message seq into buf (max_msg bytes); return its length. */
static inline size_t
payload_fill(unsigned char *buf, uint64_t seq, uint64_t epoch,
    uint32_t max_msg)
{
	uint64_t s = payload_seed(seq, epoch);
	uint64_t x = s * 0x9e3779b97f4a7c15ull;
	size_t len = (size_t)(x >> 20) % ((size_t)max_msg + 1);
	uint64_t sum;

	if (len < 24)
		len = (size_t)(x >> 7) % 2 ? 24 : len;
	if (len > max_msg)
		len = max_msg;
	for (size_t i = 24; i < len; i++)
		buf[i] = (unsigned char)(x >> (i % 57));
	if (len >= 24) {
		memcpy(buf, &seq, 8);
		memcpy(buf + 8, &(uint64_t){ len }, 8);
		sum = payload_fnv(buf + 24, len - 24, s);
		memcpy(buf + 16, &sum, 8);
	} else {
		for (size_t i = 0; i < len; i++)
			buf[i] = (unsigned char)(s + i);
	}
	return len;
}

/* 1 if m is exactly message m->seq of that epoch, 0 if not. */
static inline int
payload_verify(const struct shmr_msg *m, uint64_t epoch)
{
	const unsigned char *p = m->data;
	uint64_t s = payload_seed(m->seq, epoch), seq, len, sum;

	if (m->len < 24) {
		for (size_t i = 0; i < m->len; i++)
			if (p[i] != (unsigned char)(s + i))
				return 0;
		return 1;
	}
	memcpy(&seq, p, 8);
	memcpy(&len, p + 8, 8);
	memcpy(&sum, p + 16, 8);
	return seq == m->seq && len == m->len &&
	    sum == payload_fnv(p + 24, m->len - 24, s);
}

#endif
