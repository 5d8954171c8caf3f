/*
 * format.h - ringbridge's output formats: one table (format.c), one file
 * per format (format_NAME.c).
 *
 * stream.c writes every stream and knows no format: it asks the client's
 * format for the stream's first bytes, each message's framing (prefix,
 * body encoding, suffix), control events and heartbeats. The request
 * side finds a format by its ?format= name (stream_open.c) or by the
 * media types an Accept header names (http_parse.c), and sends its
 * Content-Type (stream_open.c). Everything a format is lives in its
 * struct stream_format.
 *
 * Adding a format: write bridge/format_NAME.c defining
 * `const struct stream_format format_NAME`, and give it its row in
 * format.c. The Makefile picks up bridge/format_*.c by itself.
 */
#ifndef RINGBRIDGE_FORMAT_H
#define RINGBRIDGE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "shmring.h"

/* ?encoding=: how a format may write a payload. */
enum stream_enc { ENC_AUTO, ENC_BASE64 };

/*
 * How a payload is written in the body of an event; stream.c encodes it
 * piece by piece, straight from the mapping.
 */
enum body_enc {
	BODY_TEXT,	/* the bytes as they are */
	BODY_B64,	/* standard base64 */
	BODY_JSON	/* the inside of a JSON string */
};

/* How one message goes out: prefix, encoded payload, suffix. */
struct msg_frame {
	char			 pre[96];
	char			 suf[8];
	uint8_t			 pre_len, suf_len;
	uint8_t			 body;		/* enum body_enc */
};

/* The control events of a stream (ringbridge(8), STREAM FORMATS). */
enum ctl_kind { CTL_GAP, CTL_OVERRUN, CTL_EOF, CTL_RESTART };

/*
 * One control event, in each of the shapes a format may want: text
 * formats write name and json, a binary one kind, seq and num.
 */
struct ctl_event {
	enum ctl_kind		 kind;
	const char		*name;		/* "gap", "overrun", ... */
	const char		*json;		/* its data: one JSON object */
	const char		*id;		/* its SSE id, or NULL */
	uint64_t		 seq;		/* where the stream continues */
	uint64_t		 num;		/* lost (gap, overrun), the new
						   epoch (restart), 0 (eof) */
};

struct stream_format {
	const char		*name;		/* ?format=NAME */
	const char		*ctype;		/* Content-Type */
	const char *const	*accept;	/* Accept media types that ask
						   for it, NULL-terminated */
	const char		*preamble;	/* first bytes, or NULL */
	/*
	 * Write a control event or a heartbeat (seq: the stream's next
	 * message) into buf: the bytes written, or -1 if size is too small.
	 */
	int	(*ctl)(char *buf, size_t size, const struct ctl_event *ev);
	int	(*heartbeat)(char *buf, size_t size, uint64_t seq);
	/*
	 * Frame message m of epoch: fill in f. Runs once per message per
	 * client, so the common case should avoid printf.
	 */
	void	(*frame)(struct msg_frame *f, const struct shmr_msg *m,
		    uint64_t epoch, enum stream_enc enc);
};

/* The formats, NULL-terminated; the first is the default. */
extern const struct stream_format *const stream_formats[];

/* The format called name, or NULL. */
const struct stream_format *format_find(const char *name);
/* The names for a usage message: "a, b or c" (truncated to size). */
void	format_names(char *buf, size_t size);

/* For the format files: v in decimal at b (no NUL); its length, at most
 * FORMAT_U64_MAX. */
#define FORMAT_U64_MAX	20
int	format_u64(char *b, uint64_t v);

/*
 * For the format files: write n bytes, or printf, into buf. The bytes
 * written, or -1 if they do not fit in size (printf: with its NUL).
 */
int	format_put(char *buf, size_t size, const void *p, size_t n);
int	format_printf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* RINGBRIDGE_FORMAT_H */
