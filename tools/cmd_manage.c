/*
 * cmd_manage.c - ringctl create and rm: the only commands that write to
 * /dev/shm.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>

#include "cli.h"
#include "sizes.h"
#include "enc.h"
#include "ringctl.h"
#include "ringpolicy.h"

static int
cmd_create(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "max-msg", required_argument, NULL, 'm' },
		{ "mode", required_argument, NULL, 'M' },
		{ "force", no_argument, NULL, 'f' },
		COMMON_LOPTS
	};
	struct shmr_create_opts o = { .gid = (gid_t)-1 };
	struct shmr_writer *w;
	struct shmr_ring *ring;
	const char *name, *why;
	char msg[128];
	uint64_t size = 0, max_msg = 0;
	mode_t mode = 0;
	bool force = false;
	int ch, rc;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "s:m:M:f" COMMON_SOPTS, lopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			if (size_parse(optarg, SHMR_CAP_MIN, SHMR_CAP_MAX,
			    &size, &why) < 0)
				return usage_err("create", "--size %s: %s "
				    "(64K..1T)", optarg, why);
			break;
		case 'm':
			if (size_parse(optarg, 1, SHMR_MSG_LIMIT, &max_msg,
			    &why) < 0)
				return usage_err("create", "--max-msg %s: %s",
				    optarg, why);
			break;
		case 'M':
			if (cli_parse_mode(optarg, &mode, &why) < 0)
				return usage_err("create", "--mode %s: %s",
				    optarg, why);
			break;
		case 'f':
			force = true;
			break;
		default:
			if ((rc = common_opt(ch, "create")) >= 0)
				return rc;
		}
	}
	if (size == 0)
		return usage_err("create", "create: --size is required");
	if ((rc = one_name("create", argc, argv, &name)) != 0)
		return rc;
	if (ring_policy(&o, size, max_msg, mode, msg, sizeof(msg)) < 0)
		return usage_err("create", "%s", msg);

	rc = open_ring(name, &ring);
	if (rc == 0)
		shmr_ring_close(ring);
	if (rc != -ENOENT && !force) {
		warnx("%s: ring exists (remove it first, or use --force to "
		    "take it over as a new epoch)", name);
		return EXIT_NEG;
	}
	if ((rc = shmr_writer_create(name, &o, &w)) < 0)
		return ring_err(name, rc);
	/* Closing marks it closed; a later producer takes it over. */
	if ((rc = shmr_writer_close(w, 0)) < 0)
		return ring_err(name, rc);
	return finish(0);
}

static int
rm_one(const char *name, bool force)
{
	struct shmr_ring *ring;
	struct shmr_info in;
	int rc, alive;

	if ((rc = check_name(name)) != 0)
		return rc;
	rc = open_ring(name, &ring);
	if (rc == -ENOENT)
		return ring_err(name, rc);
	if (rc == 0) {
		alive = shmr_ring_alive(ring);
		if (shmr_ring_info(ring, &in) < 0)
			in.pid = 0;
		shmr_ring_close(ring);
		if (alive == 1 && !force) {
			warnx("%s: producer (pid %ld) is alive; stop it first "
			    "or use --force", name, (long)in.pid);
			return EXIT_NEG;
		}
	}
	/* Corrupt and foreign objects under a ring name can be removed. */
	if ((rc = shmr_unlink(name)) < 0)
		return ring_err(name, rc);
	return 0;
}

static int
cmd_rm(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "force", no_argument, NULL, 'f' },
		COMMON_LOPTS
	};
	bool force = false;
	int ch, rc, status = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "f" COMMON_SOPTS, lopts,
	    NULL)) != -1) {
		if (ch == 'f')
			force = true;
		else if ((rc = common_opt(ch, "rm")) >= 0)
			return rc;
	}
	if (optind >= argc)
		return usage_err("rm", "rm: missing ring name");
	for (; optind < argc; optind++)
		if ((rc = rm_one(argv[optind], force)) > status)
			status = rc;
	return finish(status);
}

const struct command create_command = {
	.name = "create",
	.usage = "create --size size [--max-msg size] [--mode mode] [--force]\n"
	    "                      name",
	.fn = cmd_create,
};

const struct command rm_command = {
	.name = "rm",
	.usage = "rm [--force] name ...",
	.fn = cmd_rm,
};
