/*
 * test_ring.c - opening and validating segments: permissions, corrupt,
 * truncated, foreign and hostile objects give errors, never crashes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "internal.h"

TestSuite(ring, .fini = t_cleanup, .timeout = 30);

/* A sound 64 KiB segment holding msg-0..msg-(n-1), as bytes. */
static unsigned char *
segment(const char *tag, uint64_t n, size_t *len)
{
	const char *name = t_name(tag);
	struct shmr_writer *w = t_writer(name, 1 << 16, 0);
	unsigned char *p;

	t_publish_range(w, 0, n);
	shmr_writer_close(w, 0);	/* closed: readers end with EOF */
	p = t_read_object(name, len);
	shmr_unlink(name);
	return p;
}

static struct seg_hdr *
hdr(unsigned char *p)
{
	return (struct seg_hdr *)(void *)p;
}

/* Open a byte image as an object NAME and return shmr_ring_open's code. */
static int
open_image(const void *p, size_t len, mode_t mode)
{
	const char *name = t_name("img");
	struct shmr_ring *r;
	int rc;

	cr_assert_eq(t_write_object(name, p, len, mode), 0);
	rc = shmr_ring_open(name, NULL, &r);
	shmr_ring_close(r);
	return rc;
}

Test(ring, open_missing_and_bad_names)
{
	struct shmr_ring *r;

	cr_expect_eq(shmr_ring_open("no-such-ring-here", NULL, &r), -ENOENT);
	cr_expect_null(r);
	cr_expect_eq(shmr_ring_open("../etc/passwd", NULL, &r), -EINVAL);
	cr_expect_eq(shmr_ring_open("", NULL, &r), -EINVAL);
}

Test(ring, sound_image_opens)
{
	size_t len;
	unsigned char *p = segment("sound", 10, &len);

	cr_expect_eq(open_image(p, len, 0600), 0);
	free(p);
}

Test(ring, owner_and_mode_checked)
{
	size_t len;
	unsigned char *p = segment("perm", 1, &len);

	cr_expect_eq(open_image(p, len, 0622), -EPERM);
	cr_expect_eq(open_image(p, len, 0602), -EPERM);
	cr_expect_eq(open_image(p, len, 0640), 0);
	free(p);
}

Test(ring, foreign_and_truncated_objects)
{
	size_t len;
	unsigned char *p = segment("trunc", 10, &len);
	unsigned char junk[8192];

	memset(junk, 0xa5, sizeof(junk));
	cr_expect_eq(open_image(junk, sizeof(junk), 0600), -EPROTO);
	cr_expect_eq(open_image(junk, 100, 0600), -EPROTO);
	cr_expect_eq(open_image(junk, 0, 0600), -EAGAIN);
	cr_expect_eq(open_image(p, len - 4096, 0600), -EBADMSG);
	cr_expect_eq(open_image(p, 4096, 0600), -EBADMSG);
	free(p);
}

Test(ring, header_fields_validated)
{
	size_t len;
	unsigned char *p = segment("hdr", 10, &len);
	unsigned char *q = malloc(len);

	memcpy(q, p, len);
	atomic_store(&hdr(q)->magic, 0x1234);
	cr_expect_eq(open_image(q, len, 0600), -EPROTO);
	memcpy(q, p, len);
	atomic_store(&hdr(q)->layout_version, 99);
	cr_expect_eq(open_image(q, len, 0600), -EPROTO);
	memcpy(q, p, len);
	atomic_store(&hdr(q)->capacity, (uint64_t)1 << 50);
	cr_expect_eq(open_image(q, len, 0600), -EBADMSG);
	memcpy(q, p, len);
	atomic_store(&hdr(q)->capacity, 3 << 15);
	cr_expect_eq(open_image(q, len, 0600), -EBADMSG);
	memcpy(q, p, len);
	atomic_store(&hdr(q)->max_msg, 1 << 20);
	cr_expect_eq(open_image(q, len, 0600), -EBADMSG);
	memcpy(q, p, len);
	atomic_store(&hdr(q)->state, 77);
	cr_expect_eq(open_image(q, len, 0600), -EBADMSG);
	free(q);
	free(p);
}

/* Read everything from a memory image; return the first error or 0. */
static int
drain(unsigned char *img, size_t len, uint64_t *got)
{
	struct shmr_ring *r;
	struct shmr_cursor c;
	struct shmr_msg m;
	char buf[8192];
	int rc;

	*got = 0;
	if ((rc = ring_open_mem(img, len, &r)) < 0)
		return rc;
	if ((rc = shmr_cursor_init(r, &c, SHMR_FROM_OLDEST, 0)) < 0)
		goto out;
	while ((rc = shmr_cursor_read(r, &c, buf, sizeof(buf), &m)) ==
	    SHMR_MSG || rc == SHMR_OVERRUN)
		(*got)++;
out:
	shmr_ring_close(r);
	return rc;
}

Test(ring, corrupt_records_are_errors)
{
	size_t len;
	unsigned char *p = segment("rec", 10, &len);
	unsigned char *q = aligned_alloc(8, len);
	unsigned char *rec = q + HDR_SIZE;
	uint64_t got;

	memcpy(q, p, len);
	cr_expect_eq(drain(q, len, &got), SHMR_EOF);
	cr_expect_eq(got, 10);
	/* Length pointing far out of bounds. */
	memcpy(q, p, len);
	word_store(rec, rec_word0(0x7fffffff, REC_DATA));
	cr_expect_eq(drain(q, len, &got), -EBADMSG);
	/* Length below a record header. */
	memcpy(q, p, len);
	word_store(rec, rec_word0(3, REC_DATA));
	cr_expect_eq(drain(q, len, &got), -EBADMSG);
	/* Unknown type. */
	memcpy(q, p, len);
	word_store(rec, rec_word0(24, 0x99));
	cr_expect_eq(drain(q, len, &got), -EBADMSG);
	/* A pad that does not reach the end. */
	memcpy(q, p, len);
	word_store(rec, rec_word0(24, REC_PAD));
	cr_expect_eq(drain(q, len, &got), -EBADMSG);
	/* Sequence numbers that go backwards. */
	memcpy(q, p, len);
	word_store(rec + 8, UINT64_MAX - 5);
	cr_expect_eq(drain(q, len, &got), -EBADMSG);
	/* A tail beyond the ring and a head after the tail. */
	memcpy(q, p, len);
	atomic_store(&hdr(q)->tail, (uint64_t)1 << 40);
	cr_expect_lt(drain(q, len, &got), 0);
	memcpy(q, p, len);
	atomic_store(&hdr(q)->head_pos, 4096);
	cr_expect_lt(drain(q, len, &got), 0);
	/* An odd seqlock forever (a producer that died mid-update) is read
	 * as final values, not a hang. */
	memcpy(q, p, len);
	atomic_store(&hdr(q)->sl, 1);
	cr_expect_eq(drain(q, len, &got), SHMR_EOF);
	free(q);
	free(p);
}

Test(ring, check_finds_first_problem)
{
	const char *name = t_name("check");
	struct shmr_writer *w = t_writer(name, 1 << 16, 0);
	struct shmr_ring *r;
	char why[256];
	size_t len;
	unsigned char *p, *q;

	t_publish_range(w, 0, 5000);	/* laps the ring: pads included */
	cr_assert_eq(shmr_ring_open(name, NULL, &r), 0);
	cr_expect_eq(shmr_ring_check(r, why, sizeof(why)), 0, "%s", why);
	shmr_ring_close(r);
	p = t_read_object(name, &len);
	shmr_writer_close(w, SHMR_CLOSE_UNLINK);

	q = aligned_alloc(8, len);
	memcpy(q, p, len);
	cr_assert_eq(ring_open_mem(q, len, &r), 0);
	cr_expect_eq(shmr_ring_check(r, why, sizeof(why)), 0, "%s", why);
	shmr_ring_close(r);
	/* Damage a record in the middle of the window. */
	{
		uint64_t head = atomic_load(&hdr(q)->head_pos);
		uint64_t pos = head + 40 * 24;
		unsigned char *rec;
		uint64_t w0;

		/* find a record boundary by walking */
		pos = head;
		for (int i = 0; i < 40; i++) {
			w0 = word_load(q + HDR_SIZE + (pos & 0xffff));
			pos += align8((uint32_t)w0);
		}
		rec = q + HDR_SIZE + (pos & 0xffff);
		word_store(rec + 8, 12345);
	}
	cr_assert_eq(ring_open_mem(q, len, &r), 0);
	cr_expect_eq(shmr_ring_check(r, why, sizeof(why)), -EBADMSG);
	cr_expect(strstr(why, "sequence") != NULL, "%s", why);
	shmr_ring_close(r);
	free(q);
	free(p);
}
