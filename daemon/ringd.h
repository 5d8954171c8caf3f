/*
 * ringd.h - ringd's own state, shared by the main loop (ringd.c), the
 * services inputs call (services.c) and the input table (inputs.c).
 * Inputs include input.h only. Not installed.
 */
#ifndef RINGD_H
#define RINGD_H

#include "exitcode.h"
#include "input.h"
#include "log.h"
#include "ringerr.h"

struct ringd {
	const char		*ring;
	struct shmr_writer	*w;
	size_t			 max_msg;
	struct ringd_conf	 conf;
	struct input		**in;
	size_t			 nin;
	size_t			 incap;
	struct input_stats	 tot;
	struct log_ratelimit	 rl;
	uint64_t		 title_ns;
	bool			 title_dirty;
	bool			 stop;
};

/* ---- inputs.c: the --input specs -------------------------------------- */

/*
 * The input kind for an --input spec; in *arg what follows its prefix
 * (NULL for a spec without one, such as "stdin"), in *usage its name for
 * messages ("file:PATH"). NULL: no such kind.
 */
const struct input_ops *input_lookup(const char *spec, const char **arg,
	    const char **usage);
/* The specs for messages, "stdin, file:PATH ... or seqpacket:PATH". */
void	input_specs(char *buf, size_t len, const char *sep,
	    const char *last);
/* The built-in demo feeds (--demo), not an --input spec. */
extern const struct input_ops demo_ops;

#endif
