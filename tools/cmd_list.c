/*
 * cmd_list.c - ringctl list: every ring in /dev/shm with its size, counts,
 * rate, state and owner.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "enc.h"
#include "nofile.h"
#include "ringctl.h"

/* list: the two header samples for the rate are this far apart */
#define RATE_SAMPLE_MS	100

struct lentry {
	char		*name;
	struct shmr_ring *ring;
	int		 err;	/* open or snapshot error, 0 if none */
	bool		 skip;	/* foreign object: not listed */
	int		 alive;
	struct shmr_info a, b;
	double		 rate;	/* messages/s, < 0 if unknown */
	struct stat	 st;	/* for unreadable rings */
	bool		 have_st;
	char		 why[160];	/* for unreadable rings */
};

struct names {
	struct lentry	*v;
	size_t		 n, cap;
};

static int
collect(const char *name, void *arg)
{
	struct names *ns = arg;
	struct lentry *v;

	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 64;

		if ((v = realloc(ns->v, cap * sizeof(*v))) == NULL)
			return -ENOMEM;
		ns->v = v;
		ns->cap = cap;
	}
	memset(&ns->v[ns->n], 0, sizeof(ns->v[ns->n]));
	if ((ns->v[ns->n].name = strdup(name)) == NULL)
		return -ENOMEM;
	ns->n++;
	return 0;
}

static int
lentry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lentry *)a)->name,
	    ((const struct lentry *)b)->name);
}

enum { C_NAME, C_CAP, C_MAXMSG, C_MSGS, C_NEXT, C_OLDEST, C_RATE, C_STATE,
    C_OWNER, C_MODE, NCOL };

static const char *const col_head[NCOL] = { "NAME", "CAPACITY", "MAXMSG",
    "MESSAGES", "NEXT", "OLDEST", "RATE/s", "STATE", "OWNER", "MODE" };

static void
list_cells(const struct lentry *e, char cell[NCOL][64])
{
	const struct shmr_info *in = &e->b;

	snprintf(cell[C_NAME], 64, "%s", e->name);
	size_format(cell[C_CAP], SIZE_FORMAT_LEN, in->capacity);
	size_format(cell[C_MAXMSG], SIZE_FORMAT_LEN, in->max_msg);
	snprintf(cell[C_MSGS], 64, "%" PRIu64, in->messages);
	snprintf(cell[C_NEXT], 64, "%" PRIu64, in->next_seq);
	snprintf(cell[C_OLDEST], 64, "%" PRIu64, in->oldest_seq);
	if (e->rate < 0)
		snprintf(cell[C_RATE], 64, "-");
	else
		snprintf(cell[C_RATE], 64, "%.1f", e->rate);
	snprintf(cell[C_STATE], 64, "%s", ring_state_name(in->state, e->alive));
	owner_name(in->uid, cell[C_OWNER], 64);
	snprintf(cell[C_MODE], 64, "%04o", (unsigned)(in->mode & 07777));
}

static void
list_print_text(const struct names *ns)
{
	char cell[NCOL][64];
	int w[NCOL];
	size_t i;
	int c;

	for (c = 0; c < NCOL; c++)
		w[c] = (int)strlen(col_head[c]);
	for (i = 0; i < ns->n; i++) {
		const struct lentry *e = &ns->v[i];

		if (e->skip)
			continue;
		if (e->err != 0) {
			if ((int)strlen(e->name) > w[C_NAME])
				w[C_NAME] = (int)strlen(e->name);
			continue;
		}
		list_cells(e, cell);
		for (c = 0; c < NCOL; c++)
			if ((int)strlen(cell[c]) > w[c])
				w[c] = (int)strlen(cell[c]);
	}
	for (c = 0; c < NCOL; c++)
		printf(c == 0 ? "%-*s" : c >= C_STATE ? "  %-*s" : "  %*s",
		    c == NCOL - 1 ? 0 : w[c], col_head[c]);
	putchar('\n');
	for (i = 0; i < ns->n; i++) {
		const struct lentry *e = &ns->v[i];

		if (e->skip)
			continue;
		if (e->err != 0) {
			char own[64] = "?";

			if (e->have_st)
				owner_name(e->st.st_uid, own, sizeof(own));
			printf("%-*s  unreadable: %s (owner %s, mode %04o)\n",
			    w[C_NAME], e->name, e->why, own,
			    e->have_st ? (unsigned)(e->st.st_mode & 07777) :
			    0u);
			continue;
		}
		list_cells(e, cell);
		for (c = 0; c < NCOL; c++)
			printf(c == 0 ? "%-*s" : c >= C_STATE ?
			    "  %-*s" : "  %*s", c == NCOL - 1 ? 0 : w[c],
			    cell[c]);
		putchar('\n');
	}
}

static void
list_print_json(const struct names *ns)
{
	char own[64], mode[8];
	bool first = true;
	size_t i;

	printf("{\"rings\":[");
	for (i = 0; i < ns->n; i++) {
		const struct lentry *e = &ns->v[i];
		const struct shmr_info *in = &e->b;

		if (e->skip)
			continue;
		printf("%s{", first ? "" : ",");
		first = false;
		json_key_str(stdout, "name", e->name, false);
		if (e->err != 0) {
			json_key_str(stdout, "error", e->why, true);
			if (e->have_st) {
				snprintf(mode, sizeof(mode), "%04o",
				    (unsigned)(e->st.st_mode & 07777));
				json_key_u64(stdout, "uid", e->st.st_uid);
				json_key_str(stdout, "owner", owner_name(
				    e->st.st_uid, own, sizeof(own)), true);
				json_key_str(stdout, "mode", mode, true);
			}
			putchar('}');
			continue;
		}
		json_key_u64(stdout, "capacity", in->capacity);
		json_key_u64(stdout, "max_msg", in->max_msg);
		json_key_u64(stdout, "messages", in->messages);
		json_key_u64(stdout, "bytes", in->bytes);
		json_key_u64(stdout, "next_seq", in->next_seq);
		json_key_u64(stdout, "oldest_seq", in->oldest_seq);
		json_key_u64(stdout, "used", in->used);
		if (e->rate < 0)
			printf(",\"rate\":null");
		else
			printf(",\"rate\":%.3f", e->rate);
		json_key_str(stdout, "state", ring_state_name(in->state,
		    e->alive), true);
		printf(",\"alive\":%s", e->alive == 1 ? "true" : "false");
		json_key_u64(stdout, "pid", (uint64_t)in->pid);
		json_key_u64(stdout, "epoch", in->epoch);
		json_key_u64(stdout, "uid", in->uid);
		json_key_str(stdout, "owner", owner_name(in->uid, own,
		    sizeof(own)), true);
		snprintf(mode, sizeof(mode), "%04o", (unsigned)(in->mode &
		    07777));
		json_key_str(stdout, "mode", mode, true);
		putchar('}');
	}
	printf("]}\n");
}

static int
cmd_list(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "names", no_argument, NULL, '1' },
		COMMON_LOPTS
	};
	struct names ns = { NULL, 0, 0 };
	bool names_only = false, any_live = false;
	uint64_t t0 = 0, t1;
	size_t i;
	int ch, rc, status = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "1" COMMON_SOPTS, lopts,
	    NULL)) != -1) {
		if (ch == '1')
			names_only = true;
		else if ((rc = common_opt(ch, "list")) >= 0)
			return rc;
	}
	if (optind != argc)
		return usage_err("list", "list: too many arguments");

	if ((rc = shmr_list(collect, &ns)) < 0) {
		warnx("cannot enumerate rings: %s", ring_error(rc));
		status = EXIT_SYS;
		goto out;
	}
	qsort(ns.v, ns.n, sizeof(*ns.v), lentry_cmp);
	if (names_only) {
		for (i = 0; i < ns.n; i++)
			printf("%s\n", ns.v[i].name);
		goto out;
	}

	/*
	 * Open every ring and take a first snapshot, then (only if some
	 * producer is live) a second one RATE_SAMPLE_MS later: the rate is
	 * the difference in published messages over the elapsed time.
	 */
	(void)nofile_raise(0);
	for (i = 0; i < ns.n; i++) {
		struct lentry *e = &ns.v[i];
		char path[sizeof(SHM_PATH) + SHMR_NAME_MAX];

		e->rate = -1;
		sigbus_ring(e->name);
		rc = open_ring(e->name, &e->ring);
		if (rc == -EPROTO) {
			e->skip = true;
			continue;
		}
		if (rc == 0 && (rc = shmr_ring_info(e->ring, &e->a)) == 0) {
			e->alive = shmr_ring_alive(e->ring);
			e->b = e->a;
			if (e->a.state == SHMR_STATE_LIVE && e->alive == 1)
				any_live = true;
			continue;
		}
		e->err = rc;
		ring_describe(e->name, rc, e->why, sizeof(e->why));
		snprintf(path, sizeof(path), "%s%s", SHM_PATH, e->name);
		e->have_st = stat(path, &e->st) == 0;
		if (e->ring != NULL) {
			shmr_ring_close(e->ring);
			e->ring = NULL;
		}
	}
	if (any_live) {
		t0 = mono_ns();
		sleep_ms(RATE_SAMPLE_MS);
	}
	t1 = mono_ns();
	for (i = 0; i < ns.n; i++) {
		struct lentry *e = &ns.v[i];

		if (e->ring == NULL)
			continue;
		sigbus_ring(e->name);
		if (any_live && shmr_ring_info(e->ring, &e->b) < 0)
			e->b = e->a;
		e->alive = shmr_ring_alive(e->ring);
		if (e->b.state != SHMR_STATE_LIVE || e->alive != 1)
			e->rate = 0;
		else if (any_live && e->b.epoch == e->a.epoch &&
		    e->b.messages >= e->a.messages && t1 > t0)
			e->rate = (double)(e->b.messages - e->a.messages) /
			    ((double)(t1 - t0) / 1e9);
		shmr_ring_close(e->ring);
		e->ring = NULL;
	}
	if (json_out)
		list_print_json(&ns);
	else
		list_print_text(&ns);
out:
	for (i = 0; i < ns.n; i++) {
		if (ns.v[i].ring != NULL)
			shmr_ring_close(ns.v[i].ring);
		free(ns.v[i].name);
	}
	free(ns.v);
	return finish(status);
}

const struct command list_command = {
	.name = "list",
	.usage = "list [--json] [--names]",
	.fn = cmd_list,
};
