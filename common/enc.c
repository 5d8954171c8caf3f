/* enc.c - UTF-8 validation, JSON escaping and base64 for the tools. */
#include <stdint.h>
#include <string.h>

#include "enc.h"

/*
 * Payloads are mostly ASCII text, and ringbridge checks every message once
 * per client: test eight bytes at a time while they are ASCII. HAS_ZERO is
 * the classic "some byte of w is 0" test; it can misreport only bytes
 * above a byte that really is 0, so as a yes/no answer it is exact.
 */
#define ONES		0x0101010101010101ULL
#define HIGHS		0x8080808080808080ULL
#define HAS_ZERO(w)	(((w) - ONES) & ~(w) & HIGHS)

static inline uint64_t
load64(const unsigned char *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof(w));
	return w;
}

bool
enc_utf8_valid(const void *p, size_t n)
{
	const unsigned char *s = p, *e = s + n;

	while (s < e) {
		unsigned char c = *s;
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			s++;
			while (e - s >= 8 && (load64(s) & HIGHS) == 0)
				s += 8;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		else
			return false;
		if ((size_t)(e - s) <= k)
			return false;
		for (size_t i = 1; i <= k; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		/* Overlong forms, surrogates and > U+10FFFF are invalid. */
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		s += k + 1;
	}
	return true;
}

bool
enc_utf8_line(const void *p, size_t n)
{
	const unsigned char *s = p, *e = s + n;

	/* Whole ASCII words without NUL, LF or CR first; where one is not,
	 * s is still at a character boundary (all before it was ASCII). */
	while (e - s >= 8) {
		uint64_t w = load64(s);

		if ((w & HIGHS) != 0 || HAS_ZERO(w) ||
		    HAS_ZERO(w ^ (ONES * '\n')) || HAS_ZERO(w ^ (ONES * '\r')))
			break;
		s += 8;
	}
	for (const unsigned char *q = s; q < e; q++)
		if (*q == '\0' || *q == '\n' || *q == '\r')
			return false;
	return enc_utf8_valid(s, (size_t)(e - s));
}

long
enc_json_escape(char *out, size_t cap, const void *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = p;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		char esc = 0;

		switch (c) {
		case '"': esc = '"'; break;
		case '\\': esc = '\\'; break;
		case '\n': esc = 'n'; break;
		case '\r': esc = 'r'; break;
		case '\t': esc = 't'; break;
		case '\b': esc = 'b'; break;
		case '\f': esc = 'f'; break;
		default: break;
		}
		if (esc != 0) {
			if (cap - o < 2)
				return -1;
			out[o++] = '\\';
			out[o++] = esc;
		} else if (c < 0x20 || c == 0x7f) {
			if (cap - o < 6)
				return -1;
			out[o++] = '\\';
			out[o++] = 'u';
			out[o++] = '0';
			out[o++] = '0';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			if (cap - o < 1)
				return -1;
			out[o++] = (char)c;
		}
	}
	return (long)o;
}

long
enc_base64(char *out, size_t cap, const void *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = p;
	size_t o = 0, i;

	if (cap < ENC_BASE64_LEN(n))
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 |
		    s[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	return (long)o;
}
