/*
 * exact_relay.c - the relay scenario of the exactness checker: origin ring
 * -> ringrelay push -> nats-server -> ringrelay pull -> mirror ring, with
 * faults injected into the relays (exact_relay.h). The readers of exact.c
 * check the mirror exactly as they check a ring: every byte, every loss
 * announced with its exact count, every drained epoch read to the end the
 * origin's producer gave it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmring.h"
#include "exact_relay.h"

struct proc {
	pid_t	pid;
	char	log[96];
	off_t	mark;		/* log size when it was last started */
};

static struct proc nats, push, pull;
static char dir[64], url[64], stream[64];
static const char *relay_bin, *origin_ring, *mirror_ring;
static unsigned nfaults[5];
static int keep_logs;
static const char *fault_names[5] = { "push kill -9", "push stop",
    "pull kill -9", "pull stop", "push down across a takeover" };

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) *
	    1000000 };

	nanosleep(&ts, NULL);
}

/* Lines of path after byte off that contain needle. */
static unsigned
log_count(const char *path, off_t off, const char *needle)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned n = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	if (fseeko(f, off, SEEK_SET) == 0)
		while (getline(&line, &cap, f) >= 0)
			n += strstr(line, needle) != NULL;
	free(line);
	fclose(f);
	return n;
}

static off_t
log_size(const char *path)
{
	FILE *f = fopen(path, "r");
	off_t n = 0;

	if (f != NULL && fseeko(f, 0, SEEK_END) == 0)
		n = ftello(f);
	if (f != NULL)
		fclose(f);
	return n;
}

/* Run argv with stdout and stderr appended to p->log. */
static int
start(struct proc *p, char *const argv[])
{
	int fd;

	p->mark = log_size(p->log);
	if ((p->pid = fork()) < 0)
		return -1;
	if (p->pid == 0) {
		if ((fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND |
		    O_CLOEXEC, 0644)) < 0)
			_exit(127);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	return 0;
}

static int
start_push(void)
{
	char *argv[] = { (char *)relay_bin, "push", (char *)origin_ring,
	    "--nats", url, "--stream", stream, "--storage", "memory",
	    "--max-bytes", "256M", NULL };

	return start(&push, argv);
}

static int
start_pull(void)
{
	char *argv[] = { (char *)relay_bin, "pull", (char *)mirror_ring,
	    "--nats", url, "--stream", stream, NULL };

	return start(&pull, argv);
}

/* The mirror ring's epoch and state, or 0 when there is none yet. */
static uint64_t
mirror_epoch(int *state)
{
	struct shmr_ring *r;
	struct shmr_info in;
	uint64_t e = 0;

	if (shmr_ring_open(mirror_ring, NULL, &r) < 0)
		return 0;
	if (shmr_ring_info(r, &in) == 0) {
		e = in.epoch;
		*state = (int)in.state;
	}
	shmr_ring_close(r);
	return e;
}

int
relay_start(const char *bin, const char *origin, const char *mirror)
{
	char ports[128], *argv[] = { "nats-server", "-a", "127.0.0.1", "-p",
	    "-1", "-js", "-sd", NULL, "--ports_file_dir", dir, NULL };
	char sd[96], buf[256];
	int state, i;
	FILE *f;

	relay_bin = bin;
	origin_ring = origin;
	mirror_ring = mirror;
	snprintf(dir, sizeof(dir), "/tmp/exact-relay.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("exact: relay: mkdtemp");
		return -1;
	}
	snprintf(sd, sizeof(sd), "%s/js", dir);
	argv[7] = sd;
	snprintf(nats.log, sizeof(nats.log), "%s/nats.log", dir);
	snprintf(push.log, sizeof(push.log), "%s/push.log", dir);
	snprintf(pull.log, sizeof(pull.log), "%s/pull.log", dir);
	snprintf(stream, sizeof(stream), "EXACT_%ld", (long)getpid());
	if (start(&nats, argv) < 0)
		return -1;
	/* It writes its port once it listens. */
	snprintf(ports, sizeof(ports), "%s/nats-server_%ld.ports", dir,
	    (long)nats.pid);
	for (i = 0; i < 200 && url[0] == '\0'; i++) {
		char *p;

		sleep_ms(50);
		if ((f = fopen(ports, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (p = strstr(buf, "nats://")) != NULL)
			snprintf(url, sizeof(url), "%.*s",
			    (int)strcspn(p, "\""), p);
		fclose(f);
	}
	if (url[0] == '\0') {
		fprintf(stderr, "exact: relay: nats-server did not start "
		    "(see %s)\n", nats.log);
		return -1;
	}
	if (start_push() < 0 || start_pull() < 0)
		return -1;
	for (i = 0; i < 400 && mirror_epoch(&state) == 0; i++)
		sleep_ms(50);
	if (i == 400) {
		fprintf(stderr, "exact: relay: no mirror after 20 s (see %s, "
		    "%s)\n", push.log, pull.log);
		return -1;
	}
	printf("exact: relay: %s -> push -> %s stream %s -> pull -> %s\n",
	    origin, url, stream, mirror);
	fflush(stdout);
	return 0;
}

static void
kill_wait(struct proc *p, int sig)
{
	int st;

	kill(p->pid, sig);
	waitpid(p->pid, &st, 0);
	p->pid = 0;
}

/* Kill the push once the mirror has reached epoch: 1, or 0 if it did not
 * within 2 s. */
static int
push_kill(uint64_t epoch)
{
	int state = 0, i;

	for (i = 0; i < 100 && mirror_epoch(&state) != epoch; i++)
		sleep_ms(20);
	if (i == 100)
		return 0;
	kill_wait(&push, SIGKILL);
	return 1;
}

/* Start the push and wait until its log names epoch. */
static int
push_start_in(uint64_t epoch)
{
	char needle[48];
	int i;

	if (start_push() < 0)
		return -1;
	/* "resuming epoch E at", "epoch E starts at" */
	snprintf(needle, sizeof(needle), "epoch %" PRIu64 " ", epoch);
	for (i = 0; i < 500 && log_count(push.log, push.mark, needle) == 0;
	    i++)
		sleep_ms(20);
	if (i == 500) {
		fprintf(stderr, "exact: relay: the restarted push did not "
		    "follow epoch %" PRIu64 " in 10 s (see %s)\n", epoch,
		    push.log);
		keep_logs = 1;
		return -1;
	}
	return 0;
}

int
relay_push_down(uint64_t epoch)
{
	return push_kill(epoch);
}

int
relay_push_up(uint64_t next_epoch)
{
	if (push_start_in(next_epoch) < 0)
		return -1;
	nfaults[4]++;
	return 0;
}

int
relay_fault(uint64_t r, uint64_t epoch)
{
	unsigned kind = (unsigned)(r % 4), ms = (unsigned)(r >> 8) % 500 + 50;

	switch (kind) {
	case 0:
		/* Only once the push has moved on to this epoch. */
		if (push_kill(epoch) == 0)
			return 0;
		if (push_start_in(epoch) < 0)
			return -1;
		break;
	case 1:
	case 3: {
		struct proc *p = kind == 1 ? &push : &pull;

		kill(p->pid, SIGSTOP);
		sleep_ms(ms);
		kill(p->pid, SIGCONT);
		break;
	}
	case 2:
		kill_wait(&pull, SIGKILL);
		if (start_pull() < 0)
			return -1;
		break;
	}
	nfaults[kind]++;
	return 0;
}

int
relay_wait_end(uint64_t epoch, unsigned ms)
{
	int state = 0;

	for (unsigned t = 0; t < ms; t += 20) {
		if (mirror_epoch(&state) == epoch &&
		    state == SHMR_STATE_CLOSED)
			return 0;
		sleep_ms(20);
	}
	keep_logs = 1;
	return -1;
}

/* SIGTERM, then 10 s to exit 0. */
static int
stop_proc(struct proc *p)
{
	int st = 0, i;

	if (p->pid <= 0)
		return 0;
	kill(p->pid, SIGTERM);
	for (i = 0; i < 200 && waitpid(p->pid, &st, WNOHANG) == 0; i++)
		sleep_ms(50);
	if (i == 200) {
		kill_wait(p, SIGKILL);
		return -1;
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int
relay_stop(void)
{
	struct proc *ps[] = { &push, &pull };
	int fail = 0;

	for (int i = 0; i < 2; i++) {
		if (stop_proc(ps[i]) < 0) {
			fprintf(stderr, "exact: relay: %s did not exit 0 on "
			    "SIGTERM (it died or hung)\n", ps[i]->log);
			fail = 1;
		}
		if (log_count(ps[i]->log, 0, "Sanitizer") +
		    log_count(ps[i]->log, 0, "runtime error") > 0) {
			fprintf(stderr, "exact: relay: sanitizer report in "
			    "%s\n", ps[i]->log);
			fail = 1;
		}
	}
	stop_proc(&nats);
	printf("exact: relay: injected");
	for (int k = 0; k < 5; k++)
		printf("%s %u %s", k ? "," : "", nfaults[k], fault_names[k]);
	printf("; push lapped %u times, %u ends relayed\n",
	    log_count(push.log, 0, "relay lapped"),
	    log_count(push.log, 0, "ended at"));
	if (!fail && !keep_logs) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "exact: relay: cannot remove %s\n",
			    dir);
	} else {
		fprintf(stderr, "exact: relay: logs kept in %s\n", dir);
	}
	return fail;
}
