/*
 * test_ring.c - opening and validating segments: permissions, corrupt,
 * truncated, foreign and hostile objects give errors, never crashes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/*
 * A copy of an image that ends where an inaccessible page begins: a read
 * past the data area faults (the test crashes) instead of passing unseen.
 */
static unsigned char *
guarded(const unsigned char *img, size_t len, void **map, size_t *map_len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t room = (len + pg - 1) / pg * pg;
	unsigned char *m;

	m = mmap(NULL, room + pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(m != MAP_FAILED);
	cr_assert_eq(mprotect(m + room, pg, PROT_NONE), 0);
	*map = m;
	*map_len = room + pg;
	memcpy(m + room - len, img, len);
	return m + room - len;
}

enum path { READ, PEEK, BATCH };

/*
 * Read from the oldest message by one path until it stops; returns what
 * stopped it, with the messages delivered before in *got (numbered from
 * first on, one by one).
 */
static int
read_all(const struct shmr_ring *r, enum path how, uint64_t first,
    uint64_t *got)
{
	struct shmr_cursor c;
	struct shmr_msg m[8];
	char buf[8192];
	size_t n = 0;
	int rc = 0;

	*got = 0;
	if ((rc = shmr_cursor_init(r, &c, SHMR_FROM_OLDEST, 0)) < 0)
		return rc;
	for (int calls = 0; calls < 1000; calls++) {
		switch (how) {
		case READ:
			rc = shmr_cursor_read(r, &c, buf, sizeof(buf), &m[0]);
			n = 1;
			break;
		case PEEK:
			rc = shmr_cursor_peek(r, &c, &m[0]);
			if (rc == SHMR_MSG)
				cr_assert_eq(shmr_cursor_consume(r, &c, &m[0]),
				    0);
			n = 1;
			break;
		case BATCH:
			rc = shmr_cursor_read_batch(r, &c, buf, sizeof(buf), m,
			    8, &n);
			break;
		}
		if (rc != SHMR_MSG)
			return rc;
		for (size_t i = 0; i < n; i++, (*got)++)
			cr_assert_eq(m[i].seq, first + *got, "path %d: seq "
			    "%llu after %llu messages", how,
			    (unsigned long long)m[i].seq,
			    (unsigned long long)*got);
	}
	cr_assert_fail("path %d: no end after 1000 calls", how);
	return 0;
}

/*
 * Every path that reads records refuses the damaged image img (good
 * messages from first on, then the damage): reads by copy, peek and
 * batch deliver the good ones and then -EBADMSG; a seek to seek_to, past
 * the damage, gives -EBADMSG, as does shmr_ring_check() (with a reason
 * holding why_want), the repair of a dead producer's header (sl left
 * odd: the header is rebuilt from the records), and the convenience
 * reader over the image as an object.
 */
static void
refused_everywhere(const unsigned char *img, size_t len, uint64_t first,
    uint64_t good, uint64_t seek_to, const char *why_want)
{
	static const char *const paths[] = { "read", "peek", "read_batch" };
	const char *name = t_name("img");
	struct shmr_reader *rd;
	struct shmr_ring *r;
	struct shmr_cursor c;
	struct shmr_info info;
	struct shmr_msg m;
	unsigned char *g;
	char why[256];
	size_t map_len;
	uint64_t got;
	void *map;
	int rc;

	g = guarded(img, len, &map, &map_len);
	cr_assert_eq(ring_open_mem(g, len, &r), 0);
	for (enum path p = READ; p <= BATCH; p++) {
		cr_expect_eq(rc = read_all(r, p, first, &got), -EBADMSG,
		    "%s: %d", paths[p], rc);
		cr_expect_eq(got, good, "%s: %llu messages", paths[p],
		    (unsigned long long)got);
	}
	cr_expect_eq(shmr_cursor_init(r, &c, SHMR_FROM_SEQ, seek_to),
	    -EBADMSG, "seek");
	cr_expect_eq(shmr_ring_check(r, why, sizeof(why)), -EBADMSG, "check");
	cr_expect(strstr(why, why_want) != NULL, "check: %s", why);
	shmr_ring_close(r);

	/* A producer that died inside a header update. */
	atomic_store(&hdr(g)->sl, 1);
	cr_assert_eq(ring_open_mem(g, len, &r), 0);
	cr_expect_eq(shmr_ring_info(r, &info), -EBADMSG, "repair");
	shmr_ring_close(r);
	munmap(map, map_len);

	cr_assert_eq(t_write_object(name, img, len, 0600), 0);
	cr_assert_eq(shmr_reader_open(name, SHMR_FROM_OLDEST, 0, &rd), 0);
	for (got = 0; (rc = shmr_reader_next(rd, &m)) == SHMR_MSG; got++)
		cr_assert_eq(m.seq, first + got);
	cr_expect_eq(rc, -EBADMSG, "reader: %d", rc);
	cr_expect_eq(got, good, "reader: %llu messages",
	    (unsigned long long)got);
	shmr_reader_close(rd);
}

/*
 * A data record numbered 2^64-1 cannot be (2^64 messages); a cursor past
 * it would wrap to 0 and take what follows for news. Message 4 of 0..9
 * carries that number: every path stops at it.
 */
Test(ring, data_record_numbered_last_is_refused)
{
	size_t len;
	unsigned char *p = segment("seqmax", 10, &len);
	uint64_t pos = atomic_load(&hdr(p)->head_pos);

	for (int i = 0; i < 4; i++)
		pos += align8((uint32_t)word_load(p + HDR_SIZE +
		    (pos & 0xffff)));
	cr_assert_eq(word_load(p + HDR_SIZE + (pos & 0xffff) + 8), 4);
	word_store(p + HDR_SIZE + (pos & 0xffff) + 8, UINT64_MAX);
	refused_everywhere(p, len, 0, 4, 6, "sequence number out of range");
	free(p);
}

/*
 * A gap record is 16 bytes and, like every record, never crosses the end
 * of the data area (a producer pads to the end first). One at the last 8
 * bytes would have its sequence number past the end: every path stops
 * at it without reading there. The image is a mirror's: message 10 in
 * the last 32 bytes but 8, the gap (to 20) in the last 8, message 20 at
 * the start of the next lap.
 */
Test(ring, gap_record_across_the_end_is_refused)
{
	const char *name = t_name("gapend");
	struct shmr_create_opts o = { .capacity = 1 << 16 };
	struct shmr_mirror_opts mo = { .epoch = 5, .start_seq = 10 };
	const uint64_t cap = 1 << 16;
	struct shmr_cursor c;
	struct shmr_msg m;
	struct shmr_ring *r;
	struct shmr_writer *w;
	unsigned char *p, *d, *g;
	char buf[64];
	size_t len, map_len;
	void *map;

	cr_assert_eq(shmr_writer_create_mirror(name, &o, &mo, &w), 0);
	shmr_writer_close(w, 0);
	p = t_read_object(name, &len);
	shmr_unlink(name);
	cr_assert_eq(len, HDR_SIZE + cap);
	d = p + HDR_SIZE;
	word_store(d + cap - 32, rec_word0(REC_HDR + 8, REC_DATA));
	word_store(d + cap - 24, 10);
	memcpy(d + cap - 16, "msg-10\0\0", 8);
	word_store(d + cap - 8, rec_word0(REC_HDR, REC_GAP));
	word_store(d + 8, rec_word0(REC_HDR + 8, REC_DATA));
	word_store(d + 16, 20);
	memcpy(d + 24, "msg-20\0\0", 8);
	atomic_store(&hdr(p)->head_pos, cap - 32);
	atomic_store(&hdr(p)->head_seq, 10);
	atomic_store(&hdr(p)->last_pos, cap + 8);
	atomic_store(&hdr(p)->next_seq, 21);
	atomic_store(&hdr(p)->tail, cap + 32);
	atomic_store(&hdr(p)->intent, cap + 32);
	refused_everywhere(p, len, 10, 1, 20,
	    "record crosses the end of the ring");

	/* The same gap as the newest record: "latest" is the next message,
	 * found without reading past the end. */
	atomic_store(&hdr(p)->last_pos, cap - 8);
	g = guarded(p, len, &map, &map_len);
	cr_assert_eq(ring_open_mem(g, len, &r), 0);
	cr_expect_eq(shmr_cursor_init(r, &c, SHMR_FROM_LATEST, 0), 0);
	cr_expect_eq(c.seq, 21);
	cr_expect_eq(shmr_cursor_read(r, &c, buf, sizeof(buf), &m), SHMR_EOF);
	shmr_ring_close(r);
	munmap(map, map_len);
	free(p);
}
