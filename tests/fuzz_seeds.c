/*
 * fuzz_seeds.c - write the seed corpus of fuzz_segment into a directory.
 *
 *	fuzz_seeds DIR
 *
 * Real 64 KiB rings are built with the shmr_writer_* calls and their
 * /dev/shm objects copied (empty, a few messages, batches and zero-copy
 * commits, lapped rings with pad records, closed), then variants are
 * derived from them: corrupt headers and records, and control blocks that
 * select fuzz_segment's mutation modes and odd buffer sizes (see the
 * comment at the top of fuzz_segment.c). Trailing zero bytes are dropped:
 * the fuzzer pads the image with zeros again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define CAP		((uint64_t)64 << 10)
#define SEG_LEN		(HDR_SIZE + CAP)
#define CTL_OFF		2048
#define CTL_END		(CTL_OFF + 16 + 8 * 11)

static const char *outdir;
static char ring[64];

static void
die(const char *what, int rc)
{
	fprintf(stderr, "fuzz_seeds: ring %s: %s: %s\n", ring, what,
	    rc < 0 ? shmr_strerror(rc) : strerror(errno));
	shmr_unlink(ring);
	exit(1);
}

static void
put64(unsigned char *seg, size_t off, uint64_t v)
{
	memcpy(seg + off, &v, 8);
}

static void
save(const unsigned char *seg, const char *name)
{
	char path[4096];
	size_t len = SEG_LEN;
	FILE *fp;

	while (len > CTL_END && seg[len - 1] == 0)
		len--;
	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	if ((fp = fopen(path, "wb")) == NULL ||
	    fwrite(seg, 1, len, fp) != len || fclose(fp) != 0)
		die(path, 0);
}

/* Copy the ring's object as a reader would see it. */
static void
snap(unsigned char *seg)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/shmring.%s", ring);
	if ((fd = open(path, O_RDONLY)) < 0)
		die(path, 0);
	n = read(fd, seg, SEG_LEN);
	close(fd);
	if (n != (ssize_t)SEG_LEN)
		die("short read of the ring object", 0);
}

/* A mutation slot of the control block: selector, offset, value. */
static void
ctl_mut(unsigned char *seg, int slot, uint8_t sel, uint16_t off, uint64_t v)
{
	unsigned char *p = seg + CTL_OFF + 16 + slot * 11;

	p[0] = sel;
	p[1] = (unsigned char)off;
	p[2] = (unsigned char)(off >> 8);
	memcpy(p + 3, &v, 8);
}

/* Header word index (see hdr_words[] in fuzz_segment.c) to selector. */
#define SEL_HDR(i, add)	((uint8_t)((i) << 2 | ((add) ? 2 : 0)))
#define W_STATE		5
#define W_INTENT	6
#define W_TAIL		7
#define W_SL		8
#define W_NEXT		9
#define W_HEADPOS	10
#define W_HEADSEQ	11

static struct shmr_writer *
create(int n)
{
	struct shmr_create_opts o = { .capacity = CAP, .gid = (gid_t)-1 };
	struct shmr_writer *w;
	int rc;

	snprintf(ring, sizeof(ring), "fuzzseed.%ld.%d", (long)getpid(), n);
	if ((rc = shmr_writer_create(ring, &o, &w)) < 0)
		die("create", rc);
	return w;
}

static void
publish(struct shmr_writer *w, size_t len, uint64_t tag)
{
	unsigned char buf[8192];
	size_t i;
	int rc;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(tag + i);
	if ((rc = shmr_writer_publish(w, buf, len, NULL)) < 0)
		die("publish", rc);
}

static void
finish(struct shmr_writer *w)
{
	int rc;

	if ((rc = shmr_writer_close(w, SHMR_CLOSE_UNLINK)) < 0)
		die("close", rc);
}

int
main(int argc, char **argv)
{
	static unsigned char few[SEG_LEN], lap[SEG_LEN], seg[SEG_LEN];
	struct shmr_writer *w;
	struct shmr_iov iov[10];
	unsigned char small[64];
	void *p;
	int i, rc;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds DIR\n");
		return 2;
	}
	outdir = argv[1];
	memset(small, 'x', sizeof(small));

	/* An empty live ring. */
	w = create(0);
	snap(seg);
	save(seg, "empty");
	finish(w);

	/* A lapped mirror with gap records (layout.h, "Mirrors"). */
	{
		struct shmr_create_opts o = { .capacity = CAP,
		    .gid = (gid_t)-1 };
		struct shmr_mirror_opts mo = { .epoch = 7, .start_seq = 100,
		    .origin = "seed" };
		uint64_t s = 100;

		snprintf(ring, sizeof(ring), "fuzzseed.%ld.m",
		    (long)getpid());
		if ((rc = shmr_writer_create_mirror(ring, &o, &mo, &w)) < 0)
			die("create_mirror", rc);
		for (i = 0; i < 3000; i++) {
			s += i % 5 == 2 ? 3 : 1;
			memset(small, (int)i, sizeof(small));
			if ((rc = shmr_writer_publish_at(w, s, small,
			    (size_t)(i % 60))) < 0)
				die("publish_at", rc);
		}
		if ((rc = shmr_writer_gap(w, s + 10)) < 0 ||
		    (rc = shmr_writer_set_upstream(w, s + 20, 5)) < 0)
			die("gap", rc);
		snap(seg);
		save(seg, "mirror-gaps");
		finish(w);
		memset(small, 'x', sizeof(small));
	}

	/* A few messages of awkward sizes, a batch and a zero-copy one. */
	w = create(1);
	publish(w, 0, 0);
	publish(w, 1, 1);
	publish(w, 7, 2);
	publish(w, 8, 3);
	publish(w, 100, 4);
	for (i = 0; i < 10; i++) {
		iov[i].data = small;
		iov[i].len = (size_t)i * 5;
	}
	if ((rc = shmr_writer_publish_batch(w, iov, 10, NULL)) < 0)
		die("publish_batch", rc);
	if ((rc = shmr_writer_reserve(w, 300, &p)) < 0)
		die("reserve", rc);
	memset(p, 'z', 300);
	if ((rc = shmr_writer_commit(w, 123, NULL)) < 0)
		die("commit", rc);
	snap(few);
	save(few, "few");
	finish(w);

	/* Lapped several times, with pad records at the wrap. */
	w = create(2);
	for (i = 0; i < 3000; i++)
		publish(w, (size_t)(i * 37) % 3000, (uint64_t)i);
	snap(lap);
	save(lap, "lapped");
	finish(w);

	/* Messages of max_msg bytes: a pad at nearly every wrap. */
	w = create(3);
	for (i = 0; i < 40; i++)
		publish(w, 8192, (uint64_t)i);
	snap(seg);
	save(seg, "lapped-max");
	finish(w);

	/* Closed by its producer: end of stream after the last message. */
	w = create(4);
	for (i = 0; i < 20; i++)
		publish(w, (size_t)i * 3, (uint64_t)i);
	if ((rc = shmr_writer_close(w, 0)) < 0)
		die("close", rc);
	snap(seg);
	save(seg, "closed");
	shmr_unlink(ring);

	/* Replaced by a new producer: restart. */
	memcpy(seg, few, SEG_LEN);
	put64(seg, offsetof(struct seg_hdr, state), SHMR_STATE_REPLACED);
	save(seg, "replaced");

	/* Corrupt headers. */
	memcpy(seg, few, SEG_LEN);
	put64(seg, offsetof(struct seg_hdr, magic), 0x4e4f5420534d5248);
	save(seg, "bad-magic");
	memcpy(seg, few, SEG_LEN);
	put64(seg, offsetof(struct seg_hdr, layout_version),
	    (uint64_t)HDR_SIZE << 32 | 1);	/* before mirrors */
	save(seg, "bad-version");
	memcpy(seg, few, SEG_LEN);
	put64(seg, offsetof(struct seg_hdr, capacity), CAP + 8);
	save(seg, "bad-capacity");
	memcpy(seg, few, SEG_LEN);
	put64(seg, offsetof(struct seg_hdr, max_msg), CAP / 4);
	save(seg, "bad-maxmsg");
	memcpy(seg, few, SEG_LEN);
	put64(seg, offsetof(struct seg_hdr, state), 0);
	put64(seg, offsetof(struct seg_hdr, magic), 0);
	save(seg, "initialising");
	memcpy(seg, few, SEG_LEN);
	put64(seg, offsetof(struct seg_hdr, sl), 7);
	save(seg, "seqlock-odd");
	memcpy(seg, few, SEG_LEN);
	put64(seg, offsetof(struct seg_hdr, head_pos), 8);
	save(seg, "head-after-tail");
	memcpy(seg, few, SEG_LEN);
	seg[CTL_OFF] = 0x04;	/* CTL_EXACT: the object is truncated */
	save(seg, "truncated");

	memcpy(seg, few, SEG_LEN);
	put64(seg, offsetof(struct seg_hdr, last_pos), 16);
	save(seg, "last-pos-wrong");
	memcpy(seg, few, SEG_LEN);
	put64(seg, offsetof(struct seg_hdr, next_seq), 20);
	put64(seg, CTL_OFF + 8, 18);
	save(seg, "next-seq-past-records");
	memcpy(seg, few, SEG_LEN);
	/* CTL_EXACT and nothing after the control block: shorter than a
	 * header (save() drops the zeros) */
	memset(seg + 100, 0, SEG_LEN - 100);
	seg[CTL_OFF] = 0x04;
	save(seg, "short");

	/* Corrupt records. */
	memcpy(seg, few, SEG_LEN);
	put64(seg, HDR_SIZE, rec_word0(0xfffff, REC_DATA));
	save(seg, "rec-too-long");
	memcpy(seg, few, SEG_LEN);
	put64(seg, HDR_SIZE + 16 + 8, 99);
	save(seg, "rec-bad-seq");
	memcpy(seg, few, SEG_LEN);
	put64(seg, HDR_SIZE + 16, rec_word0(24, 0x51));
	save(seg, "rec-bad-type");
	memcpy(seg, few, SEG_LEN);
	put64(seg, HDR_SIZE, rec_word0(40, REC_PAD));
	save(seg, "pad-short");

	/* Control blocks: odd buffers, small batches, header mutations. */
	memcpy(seg, few, SEG_LEN);
	seg[CTL_OFF + 1] = 5;
	seg[CTL_OFF + 2] = 3;
	save(seg, "ctl-buf5");
	memcpy(seg, lap, SEG_LEN);
	seg[CTL_OFF + 1] = 200;
	put64(seg, CTL_OFF + 8, 1500);
	save(seg, "ctl-lapped-seq");
	memcpy(seg, few, SEG_LEN);
	seg[CTL_OFF] = 0x01;	/* CTL_STEP */
	ctl_mut(seg, 0, SEL_HDR(W_INTENT, 1), 0, CAP);
	ctl_mut(seg, 1, SEL_HDR(W_TAIL, 1), 0, 8);
	ctl_mut(seg, 2, SEL_HDR(W_SL, 1), 0, 1);
	ctl_mut(seg, 3, SEL_HDR(W_HEADSEQ, 1), 0, 3);
	ctl_mut(seg, 4, SEL_HDR(W_STATE, 0), 0, SHMR_STATE_CLOSED);
	save(seg, "ctl-step");
	memcpy(seg, lap, SEG_LEN);
	seg[CTL_OFF] = 0x02;	/* CTL_THREAD */
	ctl_mut(seg, 0, SEL_HDR(W_INTENT, 1), 0, 64);
	ctl_mut(seg, 1, SEL_HDR(W_TAIL, 1), 0, 64);
	ctl_mut(seg, 2, SEL_HDR(W_NEXT, 1), 0, 1);
	ctl_mut(seg, 3, SEL_HDR(W_HEADPOS, 1), 0, 64);
	ctl_mut(seg, 4, 1, 100, rec_word0(48, REC_DATA));
	save(seg, "ctl-thread");
	return 0;
}
