/*
 * ringd.c - the shmring producer daemon: creates (or takes over) one ring
 * and publishes into it what arrives on its inputs (stdin, files, FIFOs,
 * local datagram and seqpacket sockets, a demo feed), from one poll loop.
 *
 * Signals come through a signalfd, so they are handled between two reads,
 * never in the middle of a publish: SIGTERM, SIGINT and SIGHUP stop ringd
 * cleanly (datagrams already queued are published, then the ring is marked
 * closed so readers see end of stream after the last message); SIGUSR1
 * logs the counters.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libutil.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "ringd.h"
#include "ringpolicy.h"
#include "sizes.h"

#define DEFAULT_RATE	10
#define MAX_RATE	1000000000ull
#define TITLE_NS	1000000000ull

struct opts {
	uint64_t	 size;		/* 0: the default (ringpolicy.h) */
	uint64_t	 max_msg;	/* 0: the default */
	mode_t		 mode;		/* 0: the default (0600) */
	gid_t		 gid;
	struct shmr_create_opts copts;	/* what ring_policy() made of them */
	bool		 keep;
	const char	*pidfile;
	const char	*demo;
	char		**inputs;
	size_t		 ninputs;
};

static void
usage(FILE *f)
{
	char specs[128];

	input_specs(specs, sizeof(specs), " | ", " | ");
	fprintf(f,
"usage: ringd [-hqVv] [-F lines|len32|fixed:N] [-g group] [-i input]\n"
"             [-m max-msg] [-n count] [-r rate] [-s size] [--demo ticks|sine]\n"
"             [--keep] [--mode mode] [--pidfile path] [--socket-mode mode]\n"
"             ring\n"
"\n"
"Publish the messages that arrive on its inputs (-i), or a demo feed,\n"
"into the shmring ring RING (/dev/shm/shmring.RING).\n"
"\n"
"  -s, --size SIZE        ring capacity, a power of two (default 64M)\n"
"  -m, --max-msg SIZE     largest message (default min(size/8, 1M))\n"
"  -i, --input INPUT      %s\n"
"                         (repeatable; default stdin without --demo)\n"
"  -F, --framing FRAMING  lines | len32 | fixed:N for stdin/files\n"
"                         (default lines)\n"
"      --demo FEED        ticks (JSON lines) or sine (f64 LE samples)\n"
"  -r, --rate N           demo messages per second, 0 = flat out (10)\n"
"  -n, --count N          stop the demo after N messages (0 = never)\n"
"      --mode MODE        ring permission bits (default 0600)\n"
"  -g, --group GROUP      ring group\n"
"      --socket-mode MODE socket file permission bits (default 0600)\n"
"      --keep             leave the ring in /dev/shm after exit\n"
"      --pidfile PATH     write a pidfile (and refuse a second ringd)\n"
"  -v, --verbose          more log output (repeatable)\n"
"  -q, --quiet            less log output\n"
"  -h, --help             this help\n"
"  -V, --version          version\n"
"\n"
"Exit status: 0 ok, 1 ring or pidfile owned by a live process,\n"
"100 usage error, 111 system error.\n", specs);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ringd: %s\n", msg);
	fprintf(stderr, "Try 'ringd --help' for more information.\n");
	exit(EXIT_USAGE);
}

static void
log_counters(const struct ringd *rd)
{
	struct shmr_info info;

	if (shmr_writer_info(rd->w, &info) < 0)
		memset(&info, 0, sizeof(info));
	log_notice("ring %s: %llu messages (%llu bytes) published, %llu "
	    "oversize rejected, %llu malformed; next seq %llu, epoch %llu",
	    rd->ring, (unsigned long long)rd->tot.msgs,
	    (unsigned long long)rd->tot.bytes,
	    (unsigned long long)rd->tot.oversize,
	    (unsigned long long)rd->tot.malformed,
	    (unsigned long long)info.next_seq,
	    (unsigned long long)info.epoch);
	for (size_t i = 0; i < rd->nin; i++) {
		const struct input *in = rd->in[i];

		if (in->ops->listener)
			continue;
		log_notice("input %s: %llu messages (%llu bytes), %llu "
		    "oversize, %llu malformed", in->name,
		    (unsigned long long)in->st.msgs,
		    (unsigned long long)in->st.bytes,
		    (unsigned long long)in->st.oversize,
		    (unsigned long long)in->st.malformed);
	}
}

static void
update_title(struct ringd *rd, uint64_t now)
{
	if (!rd->title_dirty || now - rd->title_ns < TITLE_NS)
		return;
	setproctitle("%s: %llu msgs, %llu rejected", rd->ring,
	    (unsigned long long)rd->tot.msgs,
	    (unsigned long long)(rd->tot.oversize + rd->tot.malformed));
	rd->title_ns = now;
	rd->title_dirty = false;
}

/* Read every pending signal; returns -1 on a read error. */
static int
handle_signals(struct ringd *rd, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGUSR1:
			log_counters(rd);
			break;
		default:
			log_notice("ring %s: %s from pid %ld, stopping",
			    rd->ring, strsignal((int)si.ssi_signo),
			    (long)si.ssi_pid);
			rd->stop = true;
			break;
		}
	}
	return errno == EAGAIN ? 0 : -1;
}

/* Drop the inputs that ended. */
static void
reap(struct ringd *rd)
{
	size_t j = 0;

	for (size_t i = 0; i < rd->nin; i++) {
		if (rd->in[i]->done)
			rd->in[i]->ops->free(rd->in[i]);
		else
			rd->in[j++] = rd->in[i];
	}
	rd->nin = j;
}

/* The main loop: 0 when stopped or out of inputs, -errno on failure. */
static int
run(struct ringd *rd, int sfd)
{
	struct pollfd *pfd = NULL;
	struct input **map = NULL;
	size_t pcap = 0;
	int rc = 0;

	while (!rd->stop && rd->nin > 0) {
		struct timespec ts, *tsp = NULL;
		int64_t wait_ns = -1;
		uint64_t now = mono_ns();
		size_t np = 1;

		if (pcap < rd->nin + 1) {
			pcap = (rd->nin + 1) * 2;
			free(pfd);
			free(map);
			pfd = calloc(pcap, sizeof(*pfd));
			map = calloc(pcap, sizeof(*map));
			if (pfd == NULL || map == NULL) {
				rc = -ENOMEM;
				break;
			}
		}
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		for (size_t i = 0; i < rd->nin; i++) {
			struct input *in = rd->in[i];

			if (in->ops->timeout != NULL) {
				int64_t t = in->ops->timeout(in, now);

				if (t >= 0 && (wait_ns < 0 || t < wait_ns))
					wait_ns = t;
			}
			if (in->fd < 0)
				continue;
			pfd[np].fd = in->fd;
			pfd[np].events = POLLIN;
			map[np++] = in;
		}
		if (rd->title_dirty) {
			uint64_t t = now - rd->title_ns >= TITLE_NS ? 0 :
			    TITLE_NS - (now - rd->title_ns);

			if (wait_ns < 0 || (int64_t)t < wait_ns)
				wait_ns = (int64_t)t;
		}
		if (wait_ns >= 0) {
			ts.tv_sec = (time_t)(wait_ns / 1000000000);
			ts.tv_nsec = (long)(wait_ns % 1000000000);
			tsp = &ts;
		}
		if (ppoll(pfd, np, tsp, NULL) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			log_err("ppoll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents && handle_signals(rd, sfd) < 0) {
			rc = -errno;
			log_err("signalfd: %s", strerror(errno));
			break;
		}
		for (size_t i = 1; i < np && rc == 0; i++)
			if (pfd[i].revents != 0)
				rc = map[i]->ops->ready(rd, map[i], now);
		now = mono_ns();
		for (size_t i = 0; i < rd->nin && rc == 0; i++) {
			struct input *in = rd->in[i];

			if (in->ops->timeout != NULL && !in->done &&
			    in->ops->timeout(in, now) == 0)
				rc = in->ops->ready(rd, in, now);
		}
		if (rc < 0)
			break;
		reap(rd);
		update_title(rd, now);
	}
	free(pfd);
	free(map);
	return rc;
}

/*
 * Publish what was already accepted before the ring is closed. Draining a
 * seqpacket listener appends its pending connections to rd->in, so the
 * loop reads rd->nin afresh and drains them too.
 */
static int
drain(struct ringd *rd)
{
	int rc;

	for (size_t i = 0; i < rd->nin; i++) {
		struct input *in = rd->in[i];

		if (in->ops->drain != NULL && (rc = in->ops->drain(rd, in)) < 0)
			return rc;
	}
	return 0;
}

static void
parse_framing(const char *s, struct ringd_conf *conf)
{
	const char *why;
	uint64_t n;

	if (strcmp(s, "lines") == 0)
		conf->framing = FRAME_LINES;
	else if (strcmp(s, "len32") == 0)
		conf->framing = FRAME_LEN32;
	else if (strncmp(s, "fixed:", 6) == 0) {
		if (size_parse(s + 6, 1, SHMR_MSG_LIMIT, &n, &why) < 0)
			usage_error("--framing %s: %s", s, why);
		conf->framing = FRAME_FIXED;
		conf->fixed_len = (size_t)n;
	} else
		usage_error("--framing %s: expected lines, len32 or fixed:N",
		    s);
}

static gid_t
parse_group(const char *s)
{
	struct group *gr;
	uint64_t v;

	if ((gr = getgrnam(s)) != NULL)
		return gr->gr_gid;
	if (cli_parse_u64(s, 0, (gid_t)-2, &v, NULL) == 0)
		return (gid_t)v;
	usage_error("--group %s: no such group", s);
}

static void
parse_args(int argc, char *argv[], struct opts *o, struct ringd *rd,
    int *verbosity)
{
	enum { O_DEMO = 256, O_MODE, O_SOCKMODE, O_KEEP, O_PIDFILE };
	static const struct option longopts[] = {
		{ "size",	 required_argument, NULL, 's' },
		{ "max-msg",	 required_argument, NULL, 'm' },
		{ "input",	 required_argument, NULL, 'i' },
		{ "framing",	 required_argument, NULL, 'F' },
		{ "demo",	 required_argument, NULL, O_DEMO },
		{ "rate",	 required_argument, NULL, 'r' },
		{ "count",	 required_argument, NULL, 'n' },
		{ "mode",	 required_argument, NULL, O_MODE },
		{ "group",	 required_argument, NULL, 'g' },
		{ "socket-mode", required_argument, NULL, O_SOCKMODE },
		{ "keep",	 no_argument,	    NULL, O_KEEP },
		{ "pidfile",	 required_argument, NULL, O_PIDFILE },
		{ "verbose",	 no_argument,	    NULL, 'v' },
		{ "quiet",	 no_argument,	    NULL, 'q' },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ "version",	 no_argument,	    NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *why, *arg, *name, *name2;
	char specs[128], msg[128];
	int c;

	while ((c = getopt_long(argc, argv, "s:m:i:F:r:n:g:vqhV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 's':
			if (size_parse(optarg, SHMR_CAP_MIN, SHMR_CAP_MAX,
			    &o->size, &why) < 0)
				usage_error("--size %s: %s", optarg, why);
			break;
		case 'm':
			if (size_parse(optarg, 1, SHMR_MSG_LIMIT,
			    &o->max_msg, &why) < 0)
				usage_error("--max-msg %s: %s", optarg, why);
			break;
		case 'i':
			if (input_lookup(optarg, &arg, &name) == NULL) {
				input_specs(specs, sizeof(specs), ", ", " or ");
				usage_error("--input %s: expected %s", optarg,
				    specs);
			}
			o->inputs[o->ninputs++] = optarg;
			break;
		case 'F':
			parse_framing(optarg, &rd->conf);
			break;
		case O_DEMO:
			if (strcmp(optarg, "ticks") != 0 &&
			    strcmp(optarg, "sine") != 0)
				usage_error("--demo %s: expected ticks or sine",
				    optarg);
			o->demo = optarg;
			break;
		case 'r':
			if (cli_parse_u64(optarg, 0, MAX_RATE, &rd->conf.rate,
			    &why) < 0)
				usage_error("--rate %s: %s", optarg, why);
			break;
		case 'n':
			if (cli_parse_u64(optarg, 0, UINT64_MAX,
			    &rd->conf.count, &why) < 0)
				usage_error("--count %s: %s", optarg, why);
			break;
		case O_MODE:
			if (cli_parse_mode(optarg, &o->mode, &why) < 0)
				usage_error("--mode %s: %s", optarg, why);
			break;
		case 'g':
			o->gid = parse_group(optarg);
			break;
		case O_SOCKMODE:
			if (cli_parse_mode(optarg, &rd->conf.socket_mode,
			    &why) < 0)
				usage_error("--socket-mode %s: %s", optarg,
				    why);
			break;
		case O_KEEP:
			o->keep = true;
			break;
		case O_PIDFILE:
			o->pidfile = optarg;
			break;
		case 'v':
			(*verbosity)++;
			break;
		case 'q':
			(*verbosity)--;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		case 'V':
			printf("ringd %d.%d (libshm %s)\n", SHMR_VERSION_MAJOR,
			    SHMR_VERSION_MINOR, shmr_version());
			exit(EXIT_OK);
		default:
			fprintf(stderr, "Try 'ringd --help' for more "
			    "information.\n");
			exit(EXIT_USAGE);
		}
	}
	if (optind != argc - 1)
		usage_error(optind == argc ? "missing RING name" :
		    "one RING name expected, got '%s' too", argv[argc - 1]);
	rd->ring = argv[optind];
	if (shmr_name_valid(rd->ring) < 0)
		usage_error("'%s' is not a valid ring name (1 to %d of "
		    "letters, digits, '.', '_', '-', not starting with '.')",
		    rd->ring, SHMR_NAME_MAX);
	/* An input without an argument (stdin) can only be read once. */
	for (size_t i = 0; i < o->ninputs; i++) {
		(void)input_lookup(o->inputs[i], &arg, &name);
		for (size_t j = 0; j < i && arg == NULL; j++) {
			const char *arg2;

			(void)input_lookup(o->inputs[j], &arg2, &name2);
			if (arg2 == NULL && strcmp(name, name2) == 0)
				usage_error("%s given more than once", name);
		}
	}
	if (o->ninputs == 0 && o->demo == NULL)
		o->inputs[o->ninputs++] = "stdin";
	if (rd->conf.count != 0 && o->demo == NULL)
		usage_error("--count only applies to --demo");
	/* The ring's max message, to check fixed:N and --demo against. */
	if (ring_policy(&o->copts, o->size, o->max_msg, o->mode, msg,
	    sizeof(msg)) < 0)
		usage_error("%s", msg);
	o->copts.gid = o->gid;
	rd->max_msg = o->copts.max_msg;
	if (rd->conf.framing == FRAME_FIXED && rd->conf.fixed_len > rd->max_msg)
		usage_error("--framing fixed:%zu: larger than max message %zu",
		    rd->conf.fixed_len, rd->max_msg);
	if (o->demo != NULL && rd->max_msg < 96)
		usage_error("--demo needs --max-msg of at least 96 bytes");
}

/* Who owns a busy ring, for the error message: its pid or 0. */
static long
owner_pid(const char *name)
{
	struct shmr_ring *ring;
	struct shmr_info info;
	long pid = 0;

	if (shmr_ring_open(name, NULL, &ring) < 0)
		return 0;
	if (shmr_ring_info(ring, &info) == 0)
		pid = (long)info.pid;
	shmr_ring_close(ring);
	return pid;
}

static int
open_inputs(struct ringd *rd, const struct opts *o)
{
	struct input *in;
	int rc;

	for (size_t i = 0; i < o->ninputs; i++) {
		const struct input_ops *ops;
		const char *arg, *name;

		/* parse_args() checked every spec. */
		ops = input_lookup(o->inputs[i], &arg, &name);
		if ((rc = ops->open(rd, arg, &in)) < 0)
			return rc;
		if ((rc = ringd_add_input(rd, in)) < 0) {
			ops->free(in);
			return rc;
		}
		log_debug("input %s: open", in->name);
	}
	if (o->demo != NULL) {
		if ((rc = demo_ops.open(rd, o->demo, &in)) < 0) {
			log_err("demo %s: %s", o->demo, strerror(-rc));
			return rc;
		}
		if ((rc = ringd_add_input(rd, in)) < 0) {
			demo_ops.free(in);
			return rc;
		}
		if (rd->conf.rate == 0)
			log_debug("input %s: as fast as possible", in->name);
		else
			log_debug("input %s: %llu messages/s", in->name,
			    (unsigned long long)rd->conf.rate);
	}
	return 0;
}

static int
setup_signals(void)
{
	sigset_t set;
	int sfd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	if ((sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return -errno;
	return sfd;
}

int
main(int argc, char *argv[])
{
	extern char **environ;
	struct ringd rd = { .rl = { 5, 10, 0, 0, 0 } };
	struct opts o = { .gid = (gid_t)-1 };
	char prev[SHMR_NAME_MAX + 32];
	bool took_over;
	struct shmr_info info;
	struct pidfh *pfh = NULL;
	char hsize[SIZE_FORMAT_LEN], hmax[SIZE_FORMAT_LEN];
	int verbosity = 0, sfd, rc, status = EXIT_OK;
	pid_t other;

	/* Before anything keeps a pointer into argv: it moves the strings. */
	setproctitle_init(argc, argv, environ);
	rd.conf.framing = FRAME_LINES;
	rd.conf.socket_mode = 0600;
	rd.conf.rate = DEFAULT_RATE;
	if ((o.inputs = calloc((size_t)argc + 1, sizeof(*o.inputs))) == NULL) {
		fprintf(stderr, "ringd: out of memory\n");
		return EXIT_SYS;
	}
	parse_args(argc, argv, &o, &rd, &verbosity);
	log_init("ringd", verbosity);

	if ((sfd = setup_signals()) < 0) {
		log_err("signals: %s", strerror(-sfd));
		status = EXIT_SYS;
		goto done;
	}
	if (o.pidfile != NULL &&
	    (pfh = pidfile_open(o.pidfile, 0644, &other)) == NULL) {
		if (errno == EEXIST) {
			log_err("pidfile %s: ringd already running as pid %ld",
			    o.pidfile, (long)other);
			status = EXIT_NEG;
		} else {
			log_err("pidfile %s: %s", o.pidfile, strerror(errno));
			status = EXIT_SYS;
		}
		goto done;
	}

	/* A ring already there is one we take over (or are refused). */
	snprintf(prev, sizeof(prev), "/dev/shm/shmring.%s", rd.ring);
	took_over = access(prev, F_OK) == 0;
	if ((rc = shmr_writer_create(rd.ring, &o.copts, &rd.w)) < 0) {
		if (rc == -EBUSY) {
			log_err("ring %s: refusing to start: a live producer "
			    "(pid %ld) owns /dev/shm/shmring.%s", rd.ring,
			    owner_pid(rd.ring), rd.ring);
			status = EXIT_NEG;
		} else {
			log_err("ring %s: cannot create /dev/shm/shmring.%s: "
			    "%s", rd.ring, rd.ring, ring_error(rc));
			status = rc == -EINVAL ? EXIT_USAGE :
			    EXIT_SYS;
		}
		if (pfh != NULL)
			pidfile_remove(pfh);
		goto done;
	}
	if (shmr_writer_info(rd.w, &info) < 0)
		memset(&info, 0, sizeof(info));
	rd.max_msg = info.max_msg != 0 ? info.max_msg : rd.max_msg;

	if (open_inputs(&rd, &o) < 0) {
		status = EXIT_SYS;
		goto out;
	}
	if (pfh != NULL && pidfile_write(pfh) < 0)
		log_warn("pidfile %s: %s", o.pidfile, strerror(errno));

	size_format(hsize, sizeof(hsize), info.capacity);
	size_format(hmax, sizeof(hmax), info.max_msg);
	if (took_over)
		log_notice("ring %s: took over from the previous producer "
		    "(gone), epoch %llu", rd.ring,
		    (unsigned long long)info.epoch);
	log_notice("ring %s ready (%s, max message %s, epoch %llu)", rd.ring,
	    hsize, hmax, (unsigned long long)info.epoch);
	rd.title_dirty = true;
	update_title(&rd, mono_ns());

	if (run(&rd, sfd) < 0 || drain(&rd) < 0)
		status = EXIT_SYS;
	else if (!rd.stop)
		log_info("ring %s: every input has ended", rd.ring);
out:
	log_counters(&rd);
	while (rd.nin > 0) {
		rd.nin--;
		rd.in[rd.nin]->ops->free(rd.in[rd.nin]);
	}
	free(rd.in);
	rc = shmr_writer_close(rd.w, o.keep ? 0 : SHMR_CLOSE_UNLINK);
	if (rc < 0) {
		log_err("ring %s: close: %s", rd.ring, ring_error(rc));
		status = EXIT_SYS;
	} else
		log_info("ring %s: closed%s", rd.ring, o.keep ? " (kept)" :
		    " and removed");
	if (pfh != NULL)
		pidfile_remove(pfh);
done:
	if (sfd >= 0)
		close(sfd);
	free(o.inputs);
	return status;
}
