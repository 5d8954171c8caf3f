/*
 * inputs.c - the table of ringd's --input specs. Adding an input is one
 * new file daemon/ingest_<name>.c defining its struct input_ops, plus one
 * row (and its extern line) here; ringd.8 documents it.
 */
#include <stdio.h>
#include <string.h>

#include "ringd.h"

extern const struct input_ops stream_ops;	/* ingest_stream.c */
extern const struct input_ops dgram_ops;	/* ingest_sock.c */
extern const struct input_ops seqpacket_ops;	/* ingest_sock.c */

static const struct {
	const char		*prefix;	/* "stdin", or "file:" + arg */
	const char		*usage;		/* for messages */
	const struct input_ops	*ops;
	bool			 alias;		/* not listed in messages */
} specs[] = {
	{ "stdin",	"stdin",		&stream_ops,	false },
	{ "-",		"stdin",		&stream_ops,	true },
	{ "file:",	"file:PATH",		&stream_ops,	false },
	{ "unix:",	"unix:PATH",		&dgram_ops,	false },
	{ "seqpacket:",	"seqpacket:PATH",	&seqpacket_ops,	false },
};
#define NSPECS	(sizeof(specs) / sizeof(specs[0]))

const struct input_ops *
input_lookup(const char *spec, const char **arg, const char **usage)
{
	for (size_t i = 0; i < NSPECS; i++) {
		size_t n = strlen(specs[i].prefix);

		/* A prefix ending in ':' needs a non-empty argument. */
		if (specs[i].prefix[n - 1] != ':') {
			if (strcmp(spec, specs[i].prefix) != 0)
				continue;
			*arg = NULL;
			*usage = specs[i].usage;
			return specs[i].ops;
		}
		if (strncmp(spec, specs[i].prefix, n) == 0 &&
		    spec[n] != '\0') {
			*arg = spec + n;
			*usage = specs[i].usage;
			return specs[i].ops;
		}
	}
	return NULL;
}

void
input_specs(char *buf, size_t len, const char *sep, const char *last)
{
	size_t nlisted = 0, k = 0, off = 0;

	for (size_t i = 0; i < NSPECS; i++)
		nlisted += !specs[i].alias;
	buf[0] = '\0';
	for (size_t i = 0; i < NSPECS && off < len; i++) {
		int n;

		if (specs[i].alias)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", k == 0 ? "" :
		    k + 1 == nlisted ? last : sep, specs[i].usage);
		if (n < 0)
			break;
		off += (size_t)n;
		k++;
	}
}
