/*
 * cmd_info.c - ringctl info: one ring's header, state and, for a mirror,
 * its upstream.
 */
#include <inttypes.h>

#include "cli.h"
#include "enc.h"
#include "ringctl.h"

static int
cmd_info(int argc, char **argv)
{
	static const struct option lopts[] = {
		COMMON_LOPTS
	};
	struct shmr_ring *ring;
	struct shmr_info in;
	struct shmr_mirror_info mi;
	const char *name;
	char h1[32], h2[32], h3[32], own[64], t[40], age[32], lage[32];
	uint64_t now, avail;
	int ch, rc, alive, mirror;

	optind = 0;
	while ((ch = getopt_long(argc, argv, COMMON_SOPTS, lopts, NULL)) != -1)
		if ((rc = common_opt(ch, "info")) >= 0)
			return rc;
	if ((rc = one_name("info", argc, argv, &name)) != 0)
		return rc;
	if ((rc = open_ring(name, &ring)) < 0)
		return ring_err(name, rc);
	if ((rc = settled_info(ring, &in)) < 0) {
		shmr_ring_close(ring);
		return ring_err(name, rc);
	}
	alive = shmr_ring_alive(ring);
	/* An error here only hides the mirror lines: the rest is sound. */
	if ((mirror = shmr_ring_mirror(ring, &mi)) < 0)
		mirror = 0;
	shmr_ring_close(ring);

	now = real_ns();
	avail = in.next_seq - in.oldest_seq;
	fmt_time(t, sizeof(t), in.created_ns);
	fmt_age(age, sizeof(age), now > in.created_ns ? now - in.created_ns :
	    0);
	if (in.last_publish_ns != 0)
		fmt_age(lage, sizeof(lage), now > in.last_publish_ns ?
		    now - in.last_publish_ns : 0);
	owner_name(in.uid, own, sizeof(own));

	if (json_out) {
		char mode[8];

		snprintf(mode, sizeof(mode), "%04o", (unsigned)(in.mode &
		    07777));
		putchar('{');
		json_key_str(stdout, "name", name, false);
		json_key_str(stdout, "state", ring_state_name(in.state, alive),
		    true);
		printf(",\"alive\":%s", alive == 1 ? "true" : "false");
		json_key_u64(stdout, "pid", (uint64_t)in.pid);
		json_key_u64(stdout, "epoch", in.epoch);
		json_key_u64(stdout, "layout_version", in.layout_version);
		json_key_u64(stdout, "capacity", in.capacity);
		json_key_u64(stdout, "max_msg", in.max_msg);
		json_key_u64(stdout, "used", in.used);
		json_key_u64(stdout, "messages", in.messages);
		json_key_u64(stdout, "bytes", in.bytes);
		json_key_u64(stdout, "next_seq", in.next_seq);
		json_key_u64(stdout, "oldest_seq", in.oldest_seq);
		json_key_u64(stdout, "available", avail);
		json_key_u64(stdout, "created_ns", in.created_ns);
		json_key_u64(stdout, "last_publish_ns", in.last_publish_ns);
		if (in.last_publish_ns != 0)
			printf(",\"last_publish_age_s\":%.3f",
			    now > in.last_publish_ns ?
			    (double)(now - in.last_publish_ns) / 1e9 : 0.0);
		else
			printf(",\"last_publish_age_s\":null");
		json_key_u64(stdout, "uid", in.uid);
		json_key_str(stdout, "owner", own, true);
		json_key_str(stdout, "mode", mode, true);
		if (mirror) {
			printf(",\"mirror\":{");
			json_key_str(stdout, "origin", mi.origin, false);
			json_key_u64(stdout, "upstream_next_seq",
			    mi.upstream_next_seq);
			json_key_u64(stdout, "behind", mi.behind);
			json_key_u64(stdout, "upstream_ns", mi.upstream_ns);
			putchar('}');
		}
		printf("}\n");
		return finish(0);
	}
	size_format(h1, SIZE_FORMAT_LEN, in.capacity);
	size_format(h2, SIZE_FORMAT_LEN, in.max_msg);
	size_format(h3, SIZE_FORMAT_LEN, in.used);
	printf("name:          %s\n", name);
	printf("state:         %s (pid %ld, producer %s)\n",
	    ring_state_name(in.state, alive), (long)in.pid,
	    alive == 1 ? "alive" : "not running");
	printf("epoch:         %" PRIu64 "\n", in.epoch);
	printf("capacity:      %s (%" PRIu64 " bytes)\n", h1, in.capacity);
	printf("max message:   %s (%" PRIu32 " bytes)\n", h2, in.max_msg);
	printf("used:          %s (%" PRIu64 " bytes, %.1f%%)\n", h3, in.used,
	    in.capacity ? 100.0 * (double)in.used / (double)in.capacity : 0.0);
	size_format(h1, SIZE_FORMAT_LEN, in.bytes);
	printf("published:     %" PRIu64 " messages, %s this epoch\n",
	    in.messages, h1);
	printf("next seq:      %" PRIu64 "\n", in.next_seq);
	printf("oldest seq:    %" PRIu64 " (%" PRIu64 " messages available)\n",
	    in.oldest_seq, avail);
	printf("created:       %s (%s ago)\n", t, age);
	if (in.last_publish_ns != 0)
		printf("last publish:  %s ago\n", lage);
	else
		printf("last publish:  never\n");
	printf("owner:         %s (uid %u)\n", own, (unsigned)in.uid);
	printf("mode:          %04o\n", (unsigned)(in.mode & 07777));
	printf("layout:        %" PRIu32 "\n", in.layout_version);
	if (mirror) {
		if (mi.upstream_ns != 0)
			fmt_age(lage, sizeof(lage), now > mi.upstream_ns ?
			    now - mi.upstream_ns : 0);
		printf("mirror:        mirror of %s, %" PRIu64 " behind"
		    " (upstream next seq %" PRIu64 ", heard %s%s)\n",
		    mi.origin[0] != '\0' ? mi.origin : "(unnamed)",
		    mi.behind, mi.upstream_next_seq,
		    mi.upstream_ns != 0 ? lage : "never",
		    mi.upstream_ns != 0 ? " ago" : "");
	}
	return finish(0);
}

const struct command info_command = {
	.name = "info",
	.usage = "info [--json] name",
	.fn = cmd_info,
};
