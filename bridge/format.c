/*
 * format.c - the table of ringbridge's output formats (see format.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "format.h"

/* One per bridge/format_NAME.c. */
extern const struct stream_format format_sse, format_ndjson, format_raw;

/*
 * The first is the default: what a request that names no format, and
 * no media type of one in Accept, gets (an EventSource sends
 * "Accept: text/event-stream", other clients often nothing).
 */
const struct stream_format *const stream_formats[] = {
	&format_sse,
	&format_ndjson,
	&format_raw,
	NULL
};

const struct stream_format *
format_find(const char *name)
{
	for (const struct stream_format *const *f = stream_formats;
	    *f != NULL; f++)
		if (strcmp((*f)->name, name) == 0)
			return *f;
	return NULL;
}

void
format_names(char *buf, size_t size)
{
	size_t k = 0;
	int n;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (const struct stream_format *const *f = stream_formats;
	    *f != NULL && k < size; f++) {
		n = snprintf(buf + k, size - k, "%s%s",
		    f == stream_formats ? "" : f[1] == NULL ? " or " : ", ",
		    (*f)->name);
		if (n < 0)
			return;
		k += (size_t)n;
	}
}

/*
 * Two digits per division: this runs twice for every event of every
 * stream (epoch and seq, up to 20 digits each), where snprintf() or a
 * digit at a time showed in the bridge's profile.
 */
int
format_u64(char *b, uint64_t v)
{
	static const char pairs[] =
	    "00010203040506070809101112131415161718192021222324"
	    "25262728293031323334353637383940414243444546474849"
	    "50515253545556575859606162636465666768697071727374"
	    "75767778798081828384858687888990919293949596979899";
	char tmp[FORMAT_U64_MAX];
	int n = FORMAT_U64_MAX;

	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		tmp[--n] = pairs[2 * r + 1];
		tmp[--n] = pairs[2 * r];
	}
	if (v >= 10) {
		tmp[--n] = pairs[2 * v + 1];
		tmp[--n] = pairs[2 * v];
	} else {
		tmp[--n] = (char)('0' + v);
	}
	memcpy(b, tmp + n, (size_t)(FORMAT_U64_MAX - n));
	return FORMAT_U64_MAX - n;
}

int
format_put(char *buf, size_t size, const void *p, size_t n)
{
	if (n > size)
		return -1;
	memcpy(buf, p, n);
	return (int)n;
}

int
format_printf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -1 : n;
}
