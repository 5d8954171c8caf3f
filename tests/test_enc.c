/*
 * test_enc.c - common/enc.c: UTF-8 validation (with its eight-bytes-at-a-
 * time ASCII path) against a byte-at-a-time reference written from
 * RFC 3629's table, on edge cases and on random mixes of ASCII, valid
 * sequences and junk at every alignment.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "enc.h"

/* RFC 3629, section 4: the well-formed byte sequences. */
static bool
ref_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char a = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t k;

		if (a <= 0x7f) {
			i++;
			continue;
		}
		if (a >= 0xc2 && a <= 0xdf)
			k = 1;
		else if (a == 0xe0)
			k = 2, lo = 0xa0;
		else if ((a >= 0xe1 && a <= 0xec) || a == 0xee || a == 0xef)
			k = 2;
		else if (a == 0xed)
			k = 2, hi = 0x9f;
		else if (a == 0xf0)
			k = 3, lo = 0x90;
		else if (a >= 0xf1 && a <= 0xf3)
			k = 3;
		else if (a == 0xf4)
			k = 3, hi = 0x8f;
		else
			return false;
		if (n - i <= k)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t j = 2; j <= k; j++)
			if (s[i + j] < 0x80 || s[i + j] > 0xbf)
				return false;
		i += k + 1;
	}
	return true;
}

static bool
ref_line(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == 0 || s[i] == '\n' || s[i] == '\r')
			return false;
	return ref_utf8(s, n);
}

static void
check(const unsigned char *s, size_t n)
{
	cr_assert_eq(enc_utf8_valid(s, n), ref_utf8(s, n),
	    "enc_utf8_valid disagrees on %zu bytes", n);
	cr_assert_eq(enc_utf8_line(s, n), ref_line(s, n),
	    "enc_utf8_line disagrees on %zu bytes", n);
}

Test(enc, edge_cases)
{
	static const char *valid[] = {
		"", "a", "abcdefgh", "abcdefghi", "\xc2\x80", "\xdf\xbf",
		"\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
		"\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
		"0123456\xc3\xa9", "01234567\xc3\xa9 tail of ascii text",
	};
	static const char *invalid[] = {
		"\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80",
		"\xf0\x80\x80\x80", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
		"\xff", "abcdefg\xc3", "abcdefgh\xe2\x82", "0123456789abcde\x80",
	};

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		size_t n = strlen(valid[i]);

		cr_assert(enc_utf8_valid(valid[i], n), "valid[%zu]", i);
		cr_assert(enc_utf8_line(valid[i], n), "valid[%zu]", i);
		check((const unsigned char *)valid[i], n);
	}
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		size_t n = strlen(invalid[i]);

		cr_assert(!enc_utf8_valid(invalid[i], n), "invalid[%zu]", i);
		cr_assert(!enc_utf8_line(invalid[i], n), "invalid[%zu]", i);
	}
	/* NUL, LF and CR anywhere in a word, and in the tail after it. */
	for (size_t pos = 0; pos < 20; pos++) {
		static const unsigned char bad[] = { 0, '\n', '\r' };

		for (size_t b = 0; b < sizeof(bad); b++) {
			unsigned char s[20];

			memset(s, 'x', sizeof(s));
			s[pos] = bad[b];
			cr_assert(enc_utf8_valid(s, sizeof(s)));
			cr_assert(!enc_utf8_line(s, sizeof(s)),
			    "byte %u at %zu", bad[b], pos);
		}
	}
}

/* Random text: mostly ASCII runs, some valid sequences, some junk. */
Test(enc, random_against_reference)
{
	static const char *pieces[] = {
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\x9f\xbf",
		"\n", "\r", "",
	};
	unsigned char buf[96 + 8];
	unsigned seed = 12345;

	for (int iter = 0; iter < 200000; iter++) {
		size_t n = 0, want = (size_t)(rand_r(&seed) % 96);
		size_t off = (size_t)(rand_r(&seed) % 8);
		unsigned char *s = buf + off;

		while (n < want) {
			int r = rand_r(&seed) % 100;

			if (r < 80) {
				s[n++] = (unsigned char)(0x20 + rand_r(&seed) %
				    0x5f);
			} else if (r < 95) {
				const char *p = pieces[rand_r(&seed) % 7];
				size_t k = strlen(p);

				if (n + k > want)
					break;
				memcpy(s + n, p, k);
				n += k;
			} else {
				s[n++] = (unsigned char)rand_r(&seed);
			}
		}
		check(s, n);
		if (n > 0)		/* cut short: a truncated sequence */
			check(s, n - 1);
	}
}
