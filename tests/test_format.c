/*
 * test_format.c - the output format table (bridge/format.c) and every
 * format in it: what stream.c and the request side rely on, checked row
 * by row so that a new format is tested without a line here, then the
 * bytes of the three formats ringbridge(8) documents.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bridge.h"

#define FOR_EACH_FORMAT(f) \
	for (const struct stream_format *const *f = stream_formats; \
	    *f != NULL; f++)

/* What stream.c queues at most at once: a restart and its gap. */
static size_t
restart_and_gap(const struct stream_format *f)
{
	char json[160], gap[96], id[48], buf[512];
	struct ctl_event ev = { .kind = CTL_RESTART, .name = "restart",
	    .json = json, .seq = UINT64_MAX, .num = UINT64_MAX };
	int a, b;

	snprintf(json, sizeof(json), "{\"epoch\":%" PRIu64
	    ",\"previous_epoch\":%" PRIu64 ",\"first\":%" PRIu64
	    ",\"lost\":%" PRIu64 "}", UINT64_MAX, UINT64_MAX, UINT64_MAX,
	    UINT64_MAX);
	a = f->ctl(buf, sizeof(buf), &ev);
	snprintf(gap, sizeof(gap), "{\"lost\":%" PRIu64 ",\"next\":%" PRIu64
	    "}", UINT64_MAX, UINT64_MAX);
	snprintf(id, sizeof(id), "%" PRIu64 ":%" PRIu64, UINT64_MAX,
	    UINT64_MAX);
	ev = (struct ctl_event){ .kind = CTL_GAP, .name = "gap", .json = gap,
	    .id = id, .seq = UINT64_MAX, .num = UINT64_MAX };
	b = f->ctl(buf, sizeof(buf), &ev);
	cr_assert(a > 0 && b > 0, "%s: a control event did not fit", f->name);
	return (size_t)a + (size_t)b;
}

Test(format, every_row_is_complete)
{
	struct client c;
	size_t n = 0;

	FOR_EACH_FORMAT(f) {
		cr_assert((*f)->name != NULL && (*f)->ctype != NULL);
		cr_assert((*f)->ctl != NULL && (*f)->heartbeat != NULL &&
		    (*f)->frame != NULL, "%s", (*f)->name);
		cr_assert((*f)->accept != NULL && (*f)->accept[0] != NULL,
		    "%s: no media type to ask for it by", (*f)->name);
		cr_assert_eq(format_find((*f)->name), *f, "%s", (*f)->name);
		cr_assert_leq(restart_and_gap(*f), sizeof(c.ctl), "%s",
		    (*f)->name);
		n++;
	}
	cr_assert_gt(n, 0);
	cr_assert_null(format_find("xml"));
	cr_assert_null(format_find(""));
}

/* Each media type asks for its own format, and for no other. */
Test(format, accept_picks_each_row)
{
	char hdr[160];

	FOR_EACH_FORMAT(f) {
		for (const char *const *t = (*f)->accept; *t != NULL; t++) {
			cr_assert_eq(accept_format(*t), *f, "%s", *t);
			snprintf(hdr, sizeof(hdr), "text/html, %s;q=0.5, "
			    "*/*;q=0.1", *t);
			cr_assert_eq(accept_format(hdr), *f, "%s", hdr);
			snprintf(hdr, sizeof(hdr), "%s;q=0", *t);
			cr_assert_null(accept_format(hdr), "%s", hdr);
		}
	}
}

Test(format, names_for_the_usage_message)
{
	char names[128], want[128];
	size_t k = 0;

	format_names(names, sizeof(names));
	/* "a", "a or b", "a, b or c": as the 400 for ?format=xml says. */
	FOR_EACH_FORMAT(f)
		k += (size_t)snprintf(want + k, sizeof(want) - k, "%s%s",
		    f == stream_formats ? "" : f[1] == NULL ? " or " : ", ",
		    (*f)->name);
	cr_assert_str_eq(names, want);
	cr_assert_eq(strncmp(names, "sse, ", 5), 0, "%s", names);
}

/* Control events and heartbeats report a short buffer, never overrun. */
Test(format, short_buffers)
{
	struct ctl_event ev = { .kind = CTL_EOF, .name = "eof",
	    .json = "{\"next\":7}", .seq = 7 };
	char buf[64];

	FOR_EACH_FORMAT(f) {
		int n = (*f)->ctl(buf, sizeof(buf), &ev);
		int h = (*f)->heartbeat(buf, sizeof(buf), 7);

		cr_assert(n > 0 && h > 0, "%s", (*f)->name);
		memset(buf, 'x', sizeof(buf));
		cr_assert_eq((*f)->ctl(buf, (size_t)n - 1, &ev), -1, "%s",
		    (*f)->name);
		cr_assert_eq((*f)->heartbeat(buf, (size_t)h - 1, 7), -1, "%s",
		    (*f)->name);
		cr_assert_eq(buf[sizeof(buf) - 1], 'x');
	}
}

/* The largest prefix: the largest numbers, a payload that needs base64. */
Test(format, frame_fits)
{
	const struct shmr_msg m = { .seq = UINT64_MAX, .data = "\xff\n",
	    .len = 2 };
	struct msg_frame fr;

	FOR_EACH_FORMAT(f) {
		for (int enc = ENC_AUTO; enc <= ENC_BASE64; enc++) {
			memset(&fr, 0, sizeof(fr));
			(*f)->frame(&fr, &m, UINT64_MAX, (enum stream_enc)enc);
			cr_assert_leq(fr.pre_len, sizeof(fr.pre), "%s",
			    (*f)->name);
			cr_assert_leq(fr.suf_len, sizeof(fr.suf), "%s",
			    (*f)->name);
			cr_assert(fr.body == BODY_TEXT || fr.body == BODY_B64 ||
			    fr.body == BODY_JSON, "%s", (*f)->name);
		}
	}
}

/* Against snprintf: every length, each boundary, random values. */
Test(format, u64_decimal)
{
	uint64_t v, x = 88172645463325252ull;
	char want[32], got[32];
	int n;

	for (int i = 0; i < 200000; i++) {
		if (i < 64)
			v = i == 0 ? 0 : (uint64_t)1 << (i - 1);
		else if (i < 84) {
			v = 1;
			for (int d = 0; d < i - 64; d++)
				v *= 10;
			v -= i % 2;	/* 10^k - 1 and 10^k */
		} else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			v = x >> (x % 64);
		}
		if (i == 199999)
			v = UINT64_MAX;
		snprintf(want, sizeof(want), "%" PRIu64, v);
		memset(got, 'x', sizeof(got));
		n = format_u64(got, v);
		cr_assert_eq(n, (int)strlen(want), "%s", want);
		cr_assert_leq(n, FORMAT_U64_MAX);
		cr_assert(memcmp(got, want, (size_t)n) == 0 && got[n] == 'x',
		    "%" PRIu64 ": %.*s", v, n, got);
	}
}

static void
frame(const char *name, const char *payload, enum stream_enc enc,
    struct msg_frame *fr)
{
	const struct shmr_msg m = { .seq = 7, .data = payload,
	    .len = strlen(payload) };

	memset(fr, 0, sizeof(*fr));
	format_find(name)->frame(fr, &m, 3, enc);
}

Test(format, sse_bytes)
{
	const struct stream_format *f = format_find("sse");
	struct msg_frame fr;
	char buf[128];
	int n;

	frame("sse", "hi", ENC_AUTO, &fr);
	cr_assert_eq(fr.body, BODY_TEXT);
	cr_assert_eq(fr.pre_len, strlen("id: 3:7\ndata: "));
	cr_assert(memcmp(fr.pre, "id: 3:7\ndata: ", fr.pre_len) == 0);
	cr_assert(fr.suf_len == 2 && memcmp(fr.suf, "\n\n", 2) == 0);
	frame("sse", "a\nb", ENC_AUTO, &fr);
	cr_assert_eq(fr.body, BODY_B64);
	cr_assert(memcmp(fr.pre, "id: 3:7\nevent: base64\ndata: ",
	    fr.pre_len) == 0);
	frame("sse", "hi", ENC_BASE64, &fr);
	cr_assert_eq(fr.body, BODY_B64);
	cr_assert(memcmp(fr.pre, "id: 3:7\ndata: ", fr.pre_len) == 0);
	n = f->ctl(buf, sizeof(buf), &(struct ctl_event){ .kind = CTL_GAP,
	    .name = "gap", .json = "{\"lost\":2,\"next\":9}", .id = "3:8",
	    .seq = 9, .num = 2 });
	cr_assert_eq(n, (int)strlen("id: 3:8\nevent: gap\n"
	    "data: {\"lost\":2,\"next\":9}\n\n"));
	cr_assert(memcmp(buf, "id: 3:8\nevent: gap\n"
	    "data: {\"lost\":2,\"next\":9}\n\n", (size_t)n) == 0);
	cr_assert_str_eq(f->preamble, "retry: 2000\n: ok\n\n");
}

Test(format, ndjson_bytes)
{
	const struct stream_format *f = format_find("ndjson");
	struct msg_frame fr;
	char buf[128];
	int n;

	frame("ndjson", "hi", ENC_AUTO, &fr);
	cr_assert_eq(fr.body, BODY_JSON);
	cr_assert(memcmp(fr.pre, "{\"epoch\":3,\"seq\":7,\"data\":\"",
	    fr.pre_len) == 0);
	cr_assert(fr.suf_len == 3 && memcmp(fr.suf, "\"}\n", 3) == 0);
	frame("ndjson", "\xff", ENC_AUTO, &fr);
	cr_assert_eq(fr.body, BODY_B64);
	cr_assert(memcmp(fr.pre, "{\"epoch\":3,\"seq\":7,\"data_b64\":\"",
	    fr.pre_len) == 0);
	n = f->ctl(buf, sizeof(buf), &(struct ctl_event){ .kind = CTL_EOF,
	    .name = "eof", .json = "{\"next\":9}", .seq = 9 });
	cr_assert_eq(n, (int)strlen("{\"event\":\"eof\",\"next\":9}\n"));
	cr_assert(memcmp(buf, "{\"event\":\"eof\",\"next\":9}\n",
	    (size_t)n) == 0);
	cr_assert_null(f->preamble);
}

Test(format, raw_bytes)
{
	static const unsigned char msg_hdr[16] = { 0, 0, 0, 2, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 7 };
	static const unsigned char restart[24] = { 0, 0, 0, 8, 0, 0, 0, 4,
	    0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 3 };
	static const unsigned char eof[16] = { 0, 0, 0, 0, 0, 0, 0, 3,
	    0, 0, 0, 0, 0, 0, 0, 9 };
	static const unsigned char hb[16] = { 0, 0, 0, 0, 0, 0, 0, 5,
	    0, 0, 0, 0, 0, 0, 0, 9 };
	const struct stream_format *f = format_find("raw");
	struct msg_frame fr;
	char buf[64];

	frame("raw", "hi", ENC_BASE64, &fr);
	cr_assert(fr.body == BODY_TEXT && fr.suf_len == 0);
	cr_assert(fr.pre_len == 16 && memcmp(fr.pre, msg_hdr, 16) == 0);
	cr_assert_eq(f->ctl(buf, sizeof(buf), &(struct ctl_event){
	    .kind = CTL_RESTART, .name = "restart", .json = "{}", .seq = 5,
	    .num = 3 }), 24);
	cr_assert(memcmp(buf, restart, 24) == 0);
	cr_assert_eq(f->ctl(buf, sizeof(buf), &(struct ctl_event){
	    .kind = CTL_EOF, .name = "eof", .json = "{}", .seq = 9 }), 16);
	cr_assert(memcmp(buf, eof, 16) == 0);
	cr_assert_eq(f->heartbeat(buf, sizeof(buf), 9), 16);
	cr_assert(memcmp(buf, hb, 16) == 0);
}
