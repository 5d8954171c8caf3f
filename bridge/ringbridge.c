/*
 * ringbridge - serve shmring rings to HTTP clients as long-lived streams
 * (Server-Sent Events, NDJSON or length-prefixed raw frames).
 *
 * Every ring is mapped once, read-only; an HTTP client is a cursor into
 * that mapping plus small fixed buffers (stream.c). Idle streams are
 * suspended connections; one pump thread per ring blocks in
 * shmr_cursor_wait() and resumes the waiting clients of its ring once per
 * wake-up, however many messages arrived. The main thread handles
 * signals and, once a second, heartbeats, message rates and the --all
 * scan. See ringbridge(8).
 *
 * This file: the options, usage and main(). bridge.h maps the others.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "bridge.h"
#include "cli.h"
#include "log.h"
#include "nofile.h"
#include "sigbus.h"
#include "sizes.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ringbridge [-ahvV] [-l addr:port] [-r name]... "
	    "[--max-clients n]\n"
	    "                  [--per-ip n] [--heartbeat sec] "
	    "[--coalesce ms|auto]\n"
	    "                  [--write-timeout sec] [--header-timeout sec] "
	    "[--threads n]\n"
	    "                  [--slow-reserve n] [--slow-per-ip n]\n"
	    "                  [--sndbuf bytes] [--conn-memory bytes] "
	    "[--reuseport]\n"
	    "                  [--token-file path] [--tls-cert path "
	    "--tls-key path]\n"
	    "                  [--cors-origin origin] "
	    "[--trust-any-owner]\n");
}

static void
help(void)
{
	usage(stdout);
	printf("\nServe shmring rings as HTTP streams (SSE, NDJSON, raw).\n\n"
	    "  -l, --listen ADDR:PORT   address to listen on "
	    "(127.0.0.1:8080; port 0 picks one)\n"
	    "  -r, --ring NAME          serve ring NAME (repeatable)\n"
	    "  -a, --all                serve every ring, rescanned "
	    "every 2 s\n"
	    "      --max-clients N      concurrent streams (10000)\n"
	    "      --per-ip N           connections per client address "
	    "(0: no limit)\n"
	    "      --heartbeat SEC      comment on idle streams (15)\n"
	    "      --coalesce MS|auto   write to each client at most once "
	    "per MS (auto:\n"
	    "                           0 up to 100 clients of a ring on "
	    "a loop, then 24 us\n"
	    "                           per client, at most 12 ms)\n"
	    "      --write-timeout SEC  close clients without write "
	    "progress (30)\n"
	    "      --header-timeout SEC close connections without a request "
	    "head (5)\n"
	    "      --slow-reserve N     free slots per event loop kept by "
	    "cutting slow heads (16)\n"
	    "      --slow-per-ip N      slow heads per address before its "
	    "oldest are cut (16)\n"
	    "      --threads N          event loops (0: one per CPU, the "
	    "default)\n"
	    "      --sndbuf BYTES       SO_SNDBUF per connection (64K; 0: "
	    "kernel default)\n"
	    "      --conn-memory BYTES  libmicrohttpd pool per connection "
	    "(8K)\n"
	    "      --reuseport          SO_REUSEPORT: share the port with "
	    "other bridges\n"
	    "      --token-file PATH    require this bearer token\n"
	    "      --tls-cert PATH      serve HTTPS with this certificate "
	    "(PEM)\n"
	    "      --tls-key PATH       and this private key (PEM)\n"
	    "      --cors-origin ORIGIN send Access-Control-Allow-Origin\n"
	    "      --trust-any-owner    accept rings owned by other users\n"
	    "  -v, --verbose            more log output (repeatable)\n"
	    "  -h, --help               this help\n"
	    "  -V, --version            print the version\n");
}

static char *
read_small_file(const char *path, const char *what)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_err("%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || st.st_size > (1 << 20)) {
		log_err("%s %s: not a small regular file", what, path);
		close(fd);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		log_err("%s %s: %s", what, path, strerror(errno));
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static int
parse_listen(const char *s)
{
	struct addrinfo hints = { 0 }, *res;
	char host[256];
	const char *colon, *port, *h;
	size_t hl;
	int rc;

	colon = strrchr(s, ':');
	if (colon == NULL) {
		h = "127.0.0.1";
		port = s;
		hl = strlen(h);
	} else {
		h = s;
		hl = (size_t)(colon - s);
		port = colon + 1;
		if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
			h = s + 1;
			hl -= 2;
		}
	}
	if (hl == 0 || hl >= sizeof(host) || *port == '\0')
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return -EINVAL;
	memcpy(&conf.addr, res->ai_addr, res->ai_addrlen);
	conf.addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static unsigned
parse_uint_opt(const char *name, const char *s, uint64_t min, uint64_t max,
    bool size)
{
	const char *why = NULL;
	uint64_t v;
	int rc;

	rc = size ? size_parse(s, min, max, &v, &why) :
	    cli_parse_u64(s, min, max, &v, &why);
	if (rc != 0) {
		fprintf(stderr, "ringbridge: --%s %s: %s\n", name, s,
		    why != NULL ? why : "invalid");
		exit(EXIT_USAGE);
	}
	return (unsigned)v;
}

/*
 * Raise RLIMIT_NOFILE for the stream limit (and 256 descriptors besides);
 * lower the limit if we can't.
 */
static void
raise_nofile(void)
{
	uint64_t want = (uint64_t)conf.max_clients + 256;
	uint64_t got = nofile_raise(want);

	if (got < want) {
		unsigned lim = got > 512 ? (unsigned)(got - 256) : 256;

		log_warn("RLIMIT_NOFILE is %llu: serving at most %u streams "
		    "instead of %u", (unsigned long long)got, lim,
		    conf.max_clients);
		conf.max_clients = lim;
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "ring", required_argument, NULL, 'r' },
		{ "all", no_argument, NULL, 'a' },
		{ "max-clients", required_argument, NULL, 1 },
		{ "per-ip", required_argument, NULL, 2 },
		{ "heartbeat", required_argument, NULL, 3 },
		{ "coalesce", required_argument, NULL, 14 },
		{ "write-timeout", required_argument, NULL, 4 },
		{ "sndbuf", required_argument, NULL, 5 },
		{ "conn-memory", required_argument, NULL, 6 },
		{ "reuseport", no_argument, NULL, 8 },
		{ "threads", required_argument, NULL, 15 },
		{ "header-timeout", required_argument, NULL, 16 },
		{ "slow-reserve", required_argument, NULL, 17 },
		{ "slow-per-ip", required_argument, NULL, 18 },
		{ "token-file", required_argument, NULL, 9 },
		{ "tls-cert", required_argument, NULL, 10 },
		{ "tls-key", required_argument, NULL, 11 },
		{ "cors-origin", required_argument, NULL, 12 },
		{ "trust-any-owner", no_argument, NULL, 13 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *rings[256], *token_file = NULL, *cert = NULL, *key = NULL;
	size_t nrings = 0;
	int ch, rc, verbose = 0;
	unsigned port = 0;
	sigset_t set;
	siginfo_t si;
	struct timespec tick = { 1, 0 };
	double last_rate, last_hb, last_scan, now;

	while ((ch = getopt_long(argc, argv, "l:r:avhV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'l':
			conf.listen = optarg;
			break;
		case 'r':
			if (shmr_name_valid(optarg) != 0) {
				fprintf(stderr, "ringbridge: --ring %s: "
				    "invalid ring name\n", optarg);
				return EXIT_USAGE;
			}
			if (nrings == sizeof(rings) / sizeof(rings[0])) {
				fprintf(stderr, "ringbridge: at most %zu "
				    "--ring options\n", nrings);
				return EXIT_USAGE;
			}
			rings[nrings++] = optarg;
			break;
		case 'a':
			conf.all = true;
			break;
		case 1:
			conf.max_clients = parse_uint_opt("max-clients", optarg,
			    1, 1000000, false);
			break;
		case 2:
			conf.per_ip = parse_uint_opt("per-ip", optarg, 0,
			    1000000, false);
			break;
		case 3:
			conf.heartbeat = parse_uint_opt("heartbeat", optarg, 1,
			    3600, false);
			break;
		case 14:
			conf.coalesce_ms = strcmp(optarg, "auto") == 0 ?
			    COALESCE_AUTO : (int)parse_uint_opt("coalesce",
			    optarg, 0, 1000, false);
			break;
		case 4:
			conf.write_timeout = parse_uint_opt("write-timeout",
			    optarg, 1, 86400, false);
			break;
		case 5:
			conf.sndbuf = parse_uint_opt("sndbuf", optarg, 0,
			    64 << 20, true);
			break;
		case 6:
			conf.conn_memory = parse_uint_opt("conn-memory", optarg,
			    4096, 1 << 20, true);
			break;
		case 8:
			conf.reuseport = true;
			break;
		case 15:
			conf.nloops = parse_uint_opt("threads", optarg, 0,
			    LOOPS_MAX, false);
			break;
		case 16:
			g_header_timeout = parse_uint_opt("header-timeout",
			    optarg, 1, 3600, false);
			break;
		case 17:
			g_slow_reserve = parse_uint_opt("slow-reserve", optarg,
			    0, 1000000, false);
			break;
		case 18:
			g_slow_per_ip = parse_uint_opt("slow-per-ip", optarg,
			    1, 1000000, false);
			break;
		case 9:
			token_file = optarg;
			break;
		case 10:
			cert = optarg;
			break;
		case 11:
			key = optarg;
			break;
		case 12:
			conf.cors = optarg;
			break;
		case 13:
			conf.trust_any_owner = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			help();
			return 0;
		case 'V':
			printf("ringbridge %d.%d (libshm %s, libmicrohttpd "
			    "%s)\n", SHMR_VERSION_MAJOR, SHMR_VERSION_MINOR,
			    shmr_version(), MHD_get_version());
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ringbridge: unexpected argument %s\n",
		    argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (nrings == 0 && !conf.all) {
		fprintf(stderr, "ringbridge: name rings with --ring or use "
		    "--all\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((cert == NULL) != (key == NULL)) {
		fprintf(stderr, "ringbridge: --tls-cert and --tls-key go "
		    "together\n");
		return EXIT_USAGE;
	}
	if (parse_listen(conf.listen) != 0) {
		fprintf(stderr, "ringbridge: --listen %s: expected ADDR:PORT\n",
		    conf.listen);
		return EXIT_USAGE;
	}
	log_init("ringbridge", verbose);
	if (conf.nloops == 0)
		conf.nloops = loops_cpus();
	g_per_ip = conf.per_ip;
	if (token_file != NULL) {
		size_t n;

		if ((conf.token = read_small_file(token_file, "token file")) ==
		    NULL)
			return EXIT_SYS;
		n = strlen(conf.token);
		while (n > 0 && (conf.token[n - 1] == '\n' ||
		    conf.token[n - 1] == '\r' || conf.token[n - 1] == ' '))
			conf.token[--n] = '\0';
		if (n == 0) {
			log_err("token file %s is empty", token_file);
			return EXIT_SYS;
		}
	}
	if (cert != NULL && ((conf.tls_cert = read_small_file(cert,
	    "certificate")) == NULL || (conf.tls_key = read_small_file(key,
	    "key")) == NULL))
		return EXIT_SYS;
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Only a ring's owner (or root) can truncate it under our read-only
	 * mapping, and then the next access to a lost page raises SIGBUS.
	 * There is no safe way to unwind out of libmicrohttpd's loop: say so
	 * and stop with a system error instead of dumping core. Clients
	 * reconnect (to this bridge once restarted, or to another one), and
	 * a truncated ring is refused at open (its size no longer matches).
	 */
	sigbus_exit("ringbridge", EXIT_SYS);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Threads inherit the mask: only sigtimedwait() below sees them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (loops_init() != 0)
		return EXIT_SYS;
	for (size_t i = 0; i < nrings; i++)
		if (ring_add(rings[i], true) != 0)
			return EXIT_SYS;
	if (conf.all)
		rings_scan();
	if ((rc = http_start(&port)) != 0)
		return rc;
	{
		char host[INET6_ADDRSTRLEN] = "?";

		if (conf.addr.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)
			    &conf.addr)->sin6_addr, host, sizeof(host));
		else
			inet_ntop(AF_INET, &((struct sockaddr_in *)
			    &conf.addr)->sin_addr, host, sizeof(host));
		printf("ringbridge: listening on http%s://%s%s%s:%u\n",
		    conf.tls_cert != NULL ? "s" : "",
		    conf.addr.ss_family == AF_INET6 ? "[" : "", host,
		    conf.addr.ss_family == AF_INET6 ? "]" : "", port);
		fflush(stdout);
	}
	if (loops_run() != 0)
		return EXIT_SYS;
	last_rate = last_hb = last_scan = mono_s();
	for (;;) {
		int sig = sigtimedwait(&set, &si, &tick);

		if (sig == SIGTERM || sig == SIGINT)
			break;
		now = mono_s();
		if (now - last_hb >= conf.heartbeat) {
			struct ring_ent *e;

			atomic_fetch_add(&g_hb_gen, 1);
			for (e = atomic_load(&g_rings); e != NULL;
			    e = e->next)
				request_wake(e);
			last_hb = now;
		}
		if (now - last_rate >= 1.0) {
			rings_update_rates(now - last_rate);
			last_rate = now;
		}
		if (conf.all && now - last_scan >= 2.0) {
			rings_scan();
			last_scan = now;
		}
	}
	log_info("shutting down: ending %" PRIu64 " streams",
	    (uint64_t)atomic_load(&g_streams));
	loops_shutdown();
	rings_free();
	free(conf.token);
	free(conf.tls_cert);
	free(conf.tls_key);
	return 0;
}
