/*
 * ringrelay - relay a ring through NATS JetStream so that every host serves
 * the same feed with the same EPOCH:SEQ event ids (ringrelay(8)).
 *
 *	ringrelay push RING --nats URL	the origin's ring into a stream
 *	ringrelay pull RING --nats URL	a stream into a local mirror ring
 *
 * This file parses the command line; push.c and pull.c are the commands,
 * stream.c the NATS side, headers.c the wire format (relay.h), state.c
 * the options and flags they all read (so none calls back up into here).
 */
#include <err.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sizes.h"
#include "relay.h"
#include "ringpolicy.h"
#include "shmring.h"
#include "sigbus.h"


static const char usage_text[] =
"usage: ringrelay push RING --nats URL [--stream NAME] [--subject SUBJ]\n"
"           [--max-bytes SIZE] [--max-msgs N] [--max-age SECONDS]\n"
"           [--replicas N] [--storage file|memory] [--dup-window SECONDS]\n"
"           [--batch SIZE] [-q]\n"
"       ringrelay pull RING --nats URL [--stream NAME] [--subject SUBJ]\n"
"           [--size SIZE] [--mode MODE] [-q]\n"
"       ringrelay --help | --version\n";

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* ---- main ------------------------------------------------------------- */

static void
usage(int code)
{
	fputs(usage_text, code == 0 ? stdout : stderr);
	exit(code);
}

static uint64_t
num(const char *o, const char *s, uint64_t min, uint64_t max, bool size)
{
	const char *why = NULL;
	uint64_t v;

	if ((size ? size_parse(s, min, max, &v, &why) :
	    cli_parse_u64(s, min, max, &v, &why)) < 0)
		errx(EXIT_USAGE, "--%s %s: %s", o, s, why ? why : "invalid");
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "nats", required_argument, NULL, 'n' },
		{ "stream", required_argument, NULL, 's' },
		{ "subject", required_argument, NULL, 'S' },
		{ "max-bytes", required_argument, NULL, 'B' },
		{ "max-msgs", required_argument, NULL, 'M' },
		{ "max-age", required_argument, NULL, 'A' },
		{ "replicas", required_argument, NULL, 'R' },
		{ "storage", required_argument, NULL, 'T' },
		{ "dup-window", required_argument, NULL, 'D' },
		{ "batch", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 'z' },
		{ "mode", required_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd, *stream = NULL, *subject = NULL, *why = NULL;
	struct shmr_create_opts probe = { .gid = (gid_t)-1 };
	struct sigaction sa;
	char why_buf[128];
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+hqV", lopts, NULL)) != -1 &&
	    ch != '?') {
		if (ch == 'h')
			usage(0);
		if (ch == 'V') {
			printf("ringrelay %s (libshm %s, nats.c %s)\n",
			    shmr_version(), shmr_version(), nats_GetVersion());
			return 0;
		}
		break;
	}
	optind = 1;
	if (argc < 3)
		usage(EXIT_USAGE);
	cmd = argv[1];
	opt.ring = argv[2];
	if (strcmp(cmd, "push") != 0 && strcmp(cmd, "pull") != 0)
		usage(EXIT_USAGE);
	if (shmr_name_valid(opt.ring) < 0)
		errx(EXIT_USAGE, "%s: not a valid ring name", opt.ring);
	optind = 3;
	while ((ch = getopt_long(argc, argv, "hqV", lopts, NULL)) != -1) {
		switch (ch) {
		case 'n': opt.nats = optarg; break;
		case 's': stream = optarg; break;
		case 'S': subject = optarg; break;
		case 'B': opt.max_bytes = (int64_t)num("max-bytes", optarg,
		    1 << 20, (uint64_t)1 << 50, true); break;
		case 'M': opt.max_msgs = (int64_t)num("max-msgs", optarg, 1,
		    (uint64_t)1 << 50, false); break;
		case 'A': opt.max_age_s = (int64_t)num("max-age", optarg, 1,
		    (uint64_t)1 << 30, false); break;
		case 'R': opt.replicas = (int64_t)num("replicas", optarg, 1, 5,
		    false); break;
		case 'T':
			if (strcmp(optarg, "file") != 0 &&
			    strcmp(optarg, "memory") != 0)
				errx(EXIT_USAGE, "--storage: file or memory");
			opt.memory = optarg[0] == 'm';
			break;
		case 'D': opt.dup_s = (int64_t)num("dup-window", optarg, 1,
		    86400, false); break;
		case 'b': opt.batch = num("batch", optarg, 1024, 64 << 20,
		    true); break;
		case 'z': opt.size = num("size", optarg, SHMR_CAP_MIN,
		    SHMR_CAP_MAX, true); break;
		case 'm':
			if (cli_parse_mode(optarg, &opt.mode, &why) < 0)
				errx(EXIT_USAGE, "--mode %s: %s", optarg, why);
			break;
		case 'q': opt.quiet = true; break;
		case 'h': usage(0); break;
		case 'V':
			printf("ringrelay %s\n", shmr_version());
			return 0;
		default: usage(EXIT_USAGE);
		}
	}
	if (optind != argc || opt.nats == NULL)
		usage(EXIT_USAGE);
	/* Stream names allow no '.', '*', '>' or spaces. */
	if (stream == NULL) {
		size_t i;

		snprintf(opt.stream, sizeof(opt.stream), "SHMRING_%s",
		    opt.ring);
		for (i = 0; opt.stream[i] != '\0'; i++)
			if (opt.stream[i] == '.')
				opt.stream[i] = '_';
	} else if (strlen(stream) >= sizeof(opt.stream) ||
	    strpbrk(stream, ".*> \t") != NULL || *stream == '\0') {
		errx(EXIT_USAGE, "--stream %s: not a stream name", stream);
	} else {
		strcpy(opt.stream, stream);
	}
	if (subject == NULL)
		snprintf(opt.subject, sizeof(opt.subject), "shmring.%s",
		    opt.stream);
	else if (strlen(subject) >= sizeof(opt.subject) ||
	    strpbrk(subject, "*> \t") != NULL)
		errx(EXIT_USAGE, "--subject %s: not a plain subject", subject);
	else
		strcpy(opt.subject, subject);
	/* The mirror pull creates follows the rule every program's do. */
	if (ring_policy(&probe, opt.size, 0, opt.mode, why_buf,
	    sizeof(why_buf)) < 0)
		errx(EXIT_USAGE, "%s", why_buf);

	/*
	 * Stream messages (up to --batch, 256 KiB) are allocated and freed
	 * at the message rate, by nats.c's threads too: keep freed memory
	 * in the process instead of handing it back to the kernel after
	 * each (page faults and zeroing for every message otherwise).
	 */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The origin's ring or our mirror truncated under its mapping. */
	sigbus_exit("ringrelay", EXIT_SYS);
	rc = cmd[1] == 'u' && cmd[2] == 's' ? push_main() : pull_main();
	if (js != NULL)
		jsCtx_Destroy(js);
	if (nc != NULL) {
		natsConnection_Close(nc);
		natsConnection_Destroy(nc);
	}
	nats_Close();
	return rc;
}
