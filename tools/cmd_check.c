/*
 * cmd_check.c - ringctl check: validate a whole ring (header and every record).
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>

#include "cli.h"
#include "enc.h"
#include "ringctl.h"

/* Cross-field checks on a header snapshot; libshm checks each field. */
static const char *
check_info(const struct shmr_info *in, char *why, size_t len)
{
	if (in->capacity < SHMR_CAP_MIN || in->capacity > SHMR_CAP_MAX ||
	    (in->capacity & (in->capacity - 1)) != 0)
		snprintf(why, len, "capacity %" PRIu64 " is not a power of two "
		    "in range", in->capacity);
	else if (in->max_msg == 0 || in->max_msg > in->capacity / 8)
		snprintf(why, len, "max_msg %" PRIu32 " is not in "
		    "1..capacity/8", in->max_msg);
	else if (in->oldest_seq > in->next_seq)
		snprintf(why, len, "oldest seq %" PRIu64 " is after next seq %"
		    PRIu64, in->oldest_seq, in->next_seq);
	else if (in->used > in->capacity)
		snprintf(why, len, "used %" PRIu64 " exceeds capacity %" PRIu64,
		    in->used, in->capacity);
	else if (in->state > SHMR_STATE_REPLACED)
		snprintf(why, len, "unknown state %" PRIu32, in->state);
	else
		return NULL;
	return why;
}

static int
cmd_check(int argc, char **argv)
{
	static const struct option lopts[] = {
		COMMON_LOPTS
	};
	struct shmr_ring *ring = NULL;
	struct shmr_info in;
	const char *name, *problem = NULL;
	char why[256] = "";
	int ch, rc;

	optind = 0;
	while ((ch = getopt_long(argc, argv, COMMON_SOPTS, lopts, NULL)) != -1)
		if ((rc = common_opt(ch, "check")) >= 0)
			return rc;
	if ((rc = one_name("check", argc, argv, &name)) != 0)
		return rc;
	if ((rc = open_ring(name, &ring)) < 0)
		problem = ring_describe(name, rc, why, sizeof(why));
	else if ((rc = settled_info(ring, &in)) < 0)
		problem = ring_error(rc);
	else if ((problem = check_info(&in, why, sizeof(why))) != NULL)
		rc = -EBADMSG;
	else if ((rc = settled_check(ring, why, sizeof(why))) < 0)
		problem = why[0] != '\0' ? why : ring_error(rc);
	if (ring != NULL)
		shmr_ring_close(ring);

	if (json_out) {
		putchar('{');
		json_key_str(stdout, "name", name, false);
		printf(",\"ok\":%s", rc == 0 ? "true" : "false");
		if (rc == 0) {
			json_key_u64(stdout, "oldest_seq", in.oldest_seq);
			json_key_u64(stdout, "next_seq", in.next_seq);
			json_key_u64(stdout, "messages_checked", in.next_seq -
			    in.oldest_seq);
		} else {
			json_key_str(stdout, "error", shmr_strerror(rc), true);
			json_key_str(stdout, "reason", problem, true);
		}
		printf("}\n");
	} else if (rc == 0)
		printf("%s: ok (%" PRIu64 " messages, seq %" PRIu64 "..%" PRIu64
		    ")\n", name, in.next_seq - in.oldest_seq, in.oldest_seq,
		    in.next_seq);
	if (rc < 0) {
		warnx("%s: %s", name, problem);
		return finish(ring_exit(rc));
	}
	return finish(0);
}

const struct command check_command = {
	.name = "check",
	.usage = "check [--json] name",
	.fn = cmd_check,
};
