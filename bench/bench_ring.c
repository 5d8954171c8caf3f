/*
 * bench_ring.c - libshm side by side with a pipe, Unix domain sockets
 * (SOCK_STREAM and SOCK_SEQPACKET) and ZeroMQ PUB/SUB over ipc://, in one
 * run on one machine. A report, never a test: it exits non-zero only when
 * a transport fails outright, never because a number is low.
 *
 * Every measurement forks reader processes from the producer (the parent),
 * pins the producer and the readers to different CPUs when there are two
 * or more, and passes results back through a MAP_SHARED anonymous page.
 * Each message starts with its 64-bit sequence number (so every reader
 * counts gaps itself); latency runs add a CLOCK_MONOTONIC timestamp taken
 * just before the send.
 *
 * Sections: throughput to one reader, one-way latency at a paced rate
 * (busy-poll and blocking), fan-out to four readers, producer publish rate
 * with 0..8 readers attached, and instructions per publish (perf counter
 * when the machine has one, callgrind otherwise).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_ring.h"
#include "cli.h"
#include "sizes.h"

/* "shmring,pipe,..." from the table, for -t and its messages. */
static const char *
transport_opts(void)
{
	static char buf[256];
	size_t i, n = 0;

	for (i = 0; i < ntransports && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
		    i > 0 ? "," : "", transports[i]->opt);
	return buf;
}

/* ---- command line ------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [-q] [-d secs] [-l secs] [-r rate] [-w rate] "
	    "[-b batch]\n"
	    "       [-s size,...] [-R ring-size] [-o sections] "
	    "[-t transports]\n"
	    "       [-n repeat] [--no-pin] [-v]\n"
	    "\n"
	    "libshm against a pipe, Unix domain sockets and ZeroMQ, one "
	    "producer and\nforked readers on this machine; a report on "
	    "stdout (markdown tables).\n"
	    "\n"
	    "  -d, --duration SECS     per throughput/fan-out/publish run "
	    "(default 0.3)\n"
	    "  -l, --lat-duration SECS per latency run (default 0.5)\n"
	    "  -r, --rate N            latency pacing in messages/s "
	    "(default 20000)\n"
	    "  -w, --slow-rate N       blocking readers again at this rate "
	    "(default 2000)\n"
	    "  -b, --batch N           messages per publish_batch "
	    "(default 16, max %d)\n"
	    "  -s, --sizes LIST        throughput payloads "
	    "(default 8,64,1024,65536)\n"
	    "  -R, --ring-size SIZE    shmring capacity (default 16M)\n"
	    "  -c, --callgrind-count N publishes under callgrind "
	    "(default 200000)\n"
	    "  -o, --only LIST         sections: throughput,latency,fanout,"
	    "publish,instr\n"
	    "  -t, --transports LIST   %s (default all)\n"
	    "  -n, --repeat N          runs per row, the best is shown "
	    "(default 3)\n"
	    "  -q, --quick             short rows (a smoke run)\n"
	    "      --no-pin            do not pin processes to CPUs\n"
	    "  -v, --verbose           show valgrind's output\n"
	    "  -h, --help              this text\n"
	    "  -V, --version           print the version\n", MAX_BATCH,
	    transport_opts());
}

static int
parse_secs(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) || v > 600)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_sections(char *s, struct sect *sec)
{
	char *tok;

	memset(sec, 0, sizeof(*sec));
	for (tok = strtok(s, ","); tok != NULL; tok = strtok(NULL, ",")) {
		if (strcmp(tok, "throughput") == 0)
			sec->throughput = 1;
		else if (strcmp(tok, "latency") == 0)
			sec->latency = 1;
		else if (strcmp(tok, "fanout") == 0)
			sec->fanout = 1;
		else if (strcmp(tok, "publish") == 0)
			sec->publish = 1;
		else if (strcmp(tok, "instr") == 0)
			sec->instr = 1;
		else
			return -EINVAL;
	}
	return 0;
}

static int
parse_transports(char *s)
{
	char *tok;
	size_t k;

	transport_mask = 0;
	for (tok = strtok(s, ","); tok != NULL; tok = strtok(NULL, ",")) {
		for (k = 0; k < ntransports; k++)
			if (strcmp(tok, transports[k]->opt) == 0)
				break;
		if (k == ntransports)
			return -EINVAL;
		transport_mask |= 1u << k;
	}
	return transport_mask != 0 ? 0 : -EINVAL;
}

static int
parse_sizes(char *s, struct opts *o)
{
	const char *why;
	uint64_t v;
	char *tok;

	o->nsizes = 0;
	for (tok = strtok(s, ","); tok != NULL; tok = strtok(NULL, ",")) {
		if (o->nsizes == (int)(sizeof(o->sizes) / sizeof(o->sizes[0])))
			return -E2BIG;
		if (size_parse(tok, 8, 1 << 20, &v, &why) < 0)
			return -EINVAL;
		o->sizes[o->nsizes++] = (size_t)v;
	}
	return o->nsizes > 0 ? 0 : -EINVAL;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "lat-duration", required_argument, NULL, 'l' },
		{ "rate", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "sizes", required_argument, NULL, 's' },
		{ "ring-size", required_argument, NULL, 'R' },
		{ "callgrind-count", required_argument, NULL, 'c' },
		{ "only", required_argument, NULL, 'o' },
		{ "transports", required_argument, NULL, 't' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "slow-rate", required_argument, NULL, 'w' },
		{ "quick", no_argument, NULL, 'q' },
		{ "no-pin", no_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		/* internal: the callgrind child and its readers */
		{ "publish-loop", required_argument, NULL, 'L' },
		{ "read-loop", required_argument, NULL, 'M' },
		{ "msg-size", required_argument, NULL, 'S' },
		{ "readers", required_argument, NULL, 'N' },
		{ "attach-reader", required_argument, NULL, 'A' },
		{ "fd", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o;
	struct summary sum;
	const char *why = NULL, *attach = NULL;
	uint64_t v, loop = 0, nreaders = 0, fd = 0, msg_size = 64;
	char sizes_default[] = "8,64,1024,65536";
	int ch, quick = 0, set_flags = 0, read_mode = 0, repeat_set = 0;

	memset(&o, 0, sizeof(o));
	o.secs = 0.3;
	o.lat_secs = 0.5;
	o.rate = 20000;
	o.slow_rate = 2000;
	o.batch = 16;
	o.cg_count = 200000;
	o.s.throughput = o.s.latency = o.s.fanout = o.s.publish =
	    o.s.instr = 1;
	(void)parse_sizes(sizes_default, &o);

	while ((ch = getopt_long(argc, argv, "d:l:r:w:b:s:R:c:o:t:n:qvhV", lo,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
		case 'l':
			if (parse_secs(optarg, ch == 'd' ? &o.secs :
			    &o.lat_secs) < 0) {
				fprintf(stderr, PROG ": -%c %s: want seconds "
				    "in (0, 600]\n", ch, optarg);
				return 100;
			}
			if (ch == 'd')
				set_flags |= 1;
			else
				set_flags |= 2;
			break;
		case 'r':
			if (cli_parse_u64(optarg, 100, 1000000, &o.rate,
			    &why) < 0)
				goto badnum;
			break;
		case 'w':
			if (cli_parse_u64(optarg, 100, 1000000, &o.slow_rate,
			    &why) < 0)
				goto badnum;
			break;
		case 'b':
			if (cli_parse_u64(optarg, 2, MAX_BATCH, &v, &why) < 0)
				goto badnum;
			o.batch = (int)v;
			break;
		case 's':
			if (parse_sizes(optarg, &o) < 0) {
				fprintf(stderr, PROG ": -s %s: want sizes "
				    "in [8, 1M], comma separated\n", optarg);
				return 100;
			}
			break;
		case 'R':
			if (size_parse(optarg, SHMR_CAP_MIN, (uint64_t)1
			    << 34, &ring_size, &why) < 0)
				goto badnum;
			if ((ring_size & (ring_size - 1)) != 0) {
				fprintf(stderr, PROG ": -R %s: not a power of "
				    "two\n", optarg);
				return 100;
			}
			break;
		case 'c':
			if (cli_parse_u64(optarg, 1000, 100000000,
			    &o.cg_count, &why) < 0)
				goto badnum;
			set_flags |= 4;
			break;
		case 'o':
			if (parse_sections(optarg, &o.s) < 0) {
				fprintf(stderr, PROG ": -o: sections are "
				    "throughput,latency,fanout,publish,"
				    "instr\n");
				return 100;
			}
			break;
		case 'n':
			if (cli_parse_u64(optarg, 1, 100, &v, &why) < 0)
				goto badnum;
			repeat = (int)v;
			repeat_set = 1;
			break;
		case 't':
			if (parse_transports(optarg) < 0) {
				fprintf(stderr, PROG ": -t: transports are "
				    "%s\n", transport_opts());
				return 100;
			}
			break;
		case 'q':
			quick = 1;
			break;
		case 'P':
			use_pin = 0;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf(PROG " %d.%d (libshm %s)\n", SHMR_VERSION_MAJOR,
			    SHMR_VERSION_MINOR, shmr_version());
			return 0;
		case 'L':
		case 'M':
			if (cli_parse_u64(optarg, 1, UINT64_MAX, &loop,
			    &why) < 0)
				goto badnum;
			read_mode = ch == 'M';
			break;
		case 'S':
			if (cli_parse_u64(optarg, 8, 1 << 20, &msg_size,
			    &why) < 0)
				goto badnum;
			break;
		case 'N':
			if (cli_parse_u64(optarg, 0, MAX_READERS, &nreaders,
			    &why) < 0)
				goto badnum;
			break;
		case 'A':
			attach = optarg;
			break;
		case 'F':
			if (cli_parse_u64(optarg, 0, INT_MAX, &fd, &why) < 0)
				goto badnum;
			break;
		default:
			usage(stderr);
			return 100;
		}
		continue;
badnum:
		fprintf(stderr, PROG ": -%c %s: %s\n", ch, optarg, why);
		return 100;
	}
	if (optind != argc) {
		usage(stderr);
		return 100;
	}
	if (attach != NULL)
		return attach_reader(attach, (int)fd);

	if (strchr(argv[0], '/') == NULL ||
	    realpath(argv[0], self_path) == NULL) {
		ssize_t n = readlink("/proc/self/exe", self_path,
		    sizeof(self_path) - 1);

		self_path[n > 0 ? n : 0] = '\0';
	}
	init_cpus();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (loop != 0)
		return cg_loop(read_mode, loop, (int)nreaders,
		    (size_t)msg_size);

	if (quick) {
		if (!(set_flags & 1))
			o.secs = 0.1;
		if (!(set_flags & 2))
			o.lat_secs = 0.1;
		if (!repeat_set)
			repeat = 1;
		o.cg_count = 20000;
	}
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED) {
		fprintf(stderr, PROG ": mmap: %s\n", strerror(errno));
		return 111;
	}
	memset(&sum, 0, sizeof(sum));
	printf("## " PROG " %d.%d\n\n", SHMR_VERSION_MAJOR,
	    SHMR_VERSION_MINOR);
	print_machine();
	print_load("before");
	if (o.s.throughput)
		sect_throughput(&o, &sum);
	if (o.s.latency)
		sect_latency(&o, &sum);
	if (o.s.fanout)
		sect_fanout(&o);
	if (o.s.publish && transport_wanted(&transport_shmring))
		sect_publish(&o, &sum);
	if (o.s.instr && transport_wanted(&transport_shmring))
		sect_instr(&o, &sum);
	print_targets(&o, &sum);
	printf("\n");
	print_load("after");
	if (failures > 0) {
		printf("%d row(s) failed: see the note column\n", failures);
		return 1;
	}
	return 0;
}
