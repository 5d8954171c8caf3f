/*
 * ringctl.c - the operator's tool: list, inspect, tail, watch, check,
 * create and remove shmring rings. This file holds main() and the command
 * table; each group of commands is a file tools/cmd_<group>.c, and adding
 * a command is one such file (or a function in one) plus one row below
 * (and its extern line). The usage text, --help and the bash completion
 * are made from the table; ringctl.1 documents the command.
 *
 * Rings are only ever mapped read-only through libshm, except by the
 * explicit create and rm commands. Nothing in a ring is trusted: libshm
 * validates every header field and record, and a SIGBUS (an object
 * truncated under our mapping) ends the program with a message instead of
 * a core dump.
 */
#include <err.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "ringctl.h"

extern const struct command list_command, info_command, tail_command,
    watch_command, check_command, create_command, rm_command;

/* In the order of the usage text. */
static const struct command *const commands[] = {
	&list_command,		/* cmd_list.c */
	&info_command,		/* cmd_info.c */
	&tail_command,		/* cmd_tail.c */
	&watch_command,		/* cmd_watch.c */
	&check_command,		/* cmd_check.c */
	&create_command,	/* cmd_manage.c */
	&rm_command,		/* cmd_manage.c */
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

bool json_out;

static const struct command *
lookup(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i]->name) == 0)
			return commands[i];
	return NULL;
}

static void
usage(FILE *f)
{
	fputs("usage: ringctl [--json] command [options] [name]\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "       ringctl %s\n", commands[i]->usage);
}

static void
version(void)
{
	printf("ringctl %d.%d (libshm %s)\n", SHMR_VERSION_MAJOR,
	    SHMR_VERSION_MINOR, shmr_version());
}

/* Print the usage lines of one command. */
static void
cmd_usage(FILE *f, const char *cmd)
{
	const struct command *c = lookup(cmd);

	if (c != NULL)
		fprintf(f, "usage: ringctl %s\n", c->usage);
}

int
usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vwarnx(fmt, ap);
		va_end(ap);
	}
	if (cmd != NULL)
		cmd_usage(stderr, cmd);
	else
		usage(stderr);
	return EXIT_USAGE;
}

int
one_name(const char *cmd, int argc, char **argv, const char **name)
{
	int rc;

	if (argc - optind != 1)
		return usage_err(cmd, argc - optind < 1 ? "%s: missing ring "
		    "name" : "%s: too many arguments", cmd);
	*name = argv[optind];
	if ((rc = check_name(*name)) != 0)
		return rc;
	return 0;
}

int
common_opt(int ch, const char *cmd)
{
	switch (ch) {
	case 'j':
		json_out = true;
		return -1;
	case 'h':
		cmd_usage(stdout, cmd);
		return finish(0);
	case 'V':
		version();
		return finish(0);
	default:
		return usage_err(cmd, NULL);
	}
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		COMMON_LOPTS
	};
	const struct command *cmd = NULL;
	char prog[32];
	int ch;

	/* A ring truncated while mapped is a negative answer about it. */
	sigbus_exit("ringctl", EXIT_NEG);

	while ((ch = getopt_long(argc, argv, "+" COMMON_SOPTS, lopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'j':
			json_out = true;
			break;
		case 'h':
			usage(stdout);
			return finish(0);
		case 'V':
			version();
			return finish(0);
		default:
			return usage_err(NULL, NULL);
		}
	}
	if (optind >= argc)
		return usage_err(NULL, "missing command");
	cmd = lookup(argv[optind]);
	if (cmd == NULL)
		return usage_err(NULL, "unknown command: %s", argv[optind]);

	/* getopt messages then read "ringctl tail: ...". */
	snprintf(prog, sizeof(prog), "ringctl %s", cmd->name);
	argv += optind;
	argc -= optind;
	argv[0] = prog;
	return cmd->fn(argc, argv);
}
