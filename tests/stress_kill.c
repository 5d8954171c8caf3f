/*
 * stress_kill.c - the producer is killed with SIGKILL at random moments and
 * restarted on the same ring name, while readers follow it throughout.
 *
 * A producer child publishes checksummed messages flat out: each payload
 * carries its sequence number, its length and an FNV-1a checksum seeded
 * with the sequence number and the ring's epoch, sizes spread over
 * 0..max_msg, through publish, publish_batch and reserve/commit alike. The
 * parent kills it with SIGKILL after a random delay (0-50 ms after it
 * created the ring; one kill in eight lands 0-2 ms after fork(), often in
 * the middle of shmr_writer_create()), then starts a new producer on the
 * same name: a takeover, with a new epoch. After some kills (chosen at
 * random) the parent waits until every reader has seen the dead producer
 * before it restarts it ("gated" kills); after the others it restarts at
 * once, so a reader may legitimately skip an epoch that was replaced
 * before it looked. The last producer publishes STRESS_FINAL messages and
 * closes the ring.
 *
 * Reader processes (STRESS_READERS, at least 2, the last one slow) use
 * shmr_reader_open/next/wait and fail on:
 *	- a message whose checksum, length or sequence number is wrong;
 *	- a loss (SHMR_OVERRUN) that differs from the actual sequence gap;
 *	- a dead, drained ring whose next_seq differs from what the reader
 *	  delivered or was told it lost (an unreported loss at the end of an
 *	  epoch);
 *	- an epoch change without SHMR_RESTART, or a restart to an epoch that
 *	  is not newer;
 *	- a shmr_reader_wait() that does not return: a watchdog (alarm())
 *	  kills the reader WATCHDOG_S seconds past its 100 ms timeout.
 * The parent fails when a reader reports any of these, when a reader saw
 * more restarts than there were, fewer restarts than gated kills, did not
 * report the death of a gated producer, did not end on the last epoch with
 * every message of it delivered or counted as lost.
 *
 *	STRESS_KILLS (default 20; 200 or more for a soak)
 *	STRESS_READERS (3)  STRESS_MAX_MSG (4096)  STRESS_CAP (1 MiB)
 *	STRESS_FINAL (20000)  STRESS_SEED (time and pid)
 *	STRESS_EARLY (1; 0: kill only once the ring is live)
 * Exit status: 0 pass, 1 fail.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmring.h"
#include "payload.h"

#define MAX_READERS	16
#define WAIT_MS		100	/* each shmr_reader_wait() timeout */
#define WATCHDOG_S	20	/* a wait stuck this long past it: hang */
#define GATE_S		60	/* a reader slower than this to see a death */

struct result {
	uint64_t	delivered;	/* messages checked and delivered */
	uint64_t	lost;		/* reported by SHMR_OVERRUN */
	uint64_t	overruns;
	uint64_t	corrupt;	/* bad checksum, length or sequence */
	uint64_t	misreported;	/* loss count != sequence gap */
	uint64_t	unreported;	/* dead ring ended elsewhere than read */
	uint64_t	restarts;	/* SHMR_RESTART seen */
	uint64_t	silent;		/* epoch changed without RESTART */
	uint64_t	backwards;	/* RESTART to an epoch not newer */
	uint64_t	deaths;		/* dead producers observed */
	uint64_t	epochs_read;	/* epochs with at least one message */
	uint64_t	final_epoch;
	uint64_t	final_seq;	/* next sequence number at EOF */
	uint64_t	stalls;		/* -EDEADLK, -EAGAIN: header unsettled */
	int		error;		/* a libshm error, or 0 */
	int		done;		/* reached EOF */
};

/* Shared by the parent and every child (MAP_SHARED anonymous). */
struct shared {
	_Atomic uint64_t	dead_seen[MAX_READERS];	/* newest epoch */
	_Atomic int		ready[MAX_READERS];
	_Atomic uint64_t	prod_epoch;	/* set by a producer once live */
	struct result		res[MAX_READERS];
};

static struct {
	uint64_t	kills;
	int		readers;
	uint32_t	max_msg;
	uint64_t	cap;
	uint64_t	final;
	int		early;
	unsigned	seed;
	char		name[64];
} cfg;

static struct shared *sh;
static int rstatus[MAX_READERS];	/* wait status of readers reaped early */

static uint64_t
env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? strtoull(v, NULL, 0) : def;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
sleep_us(uint64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000),
	    (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * A producer: take the name over, then publish until killed, or publish
 * `count` messages and close when count is not 0.
 */
static void
producer(uint64_t count)
{
	static unsigned char buf[4][1 << 20];
	struct shmr_create_opts o = { .capacity = cfg.cap,
	    .max_msg = cfg.max_msg, .gid = (gid_t)-1 };
	struct shmr_writer *w;
	struct shmr_info info;
	uint64_t i, epoch;
	int rc;

	if ((rc = shmr_writer_create(cfg.name, &o, &w)) < 0 ||
	    (rc = shmr_writer_info(w, &info)) < 0) {
		fprintf(stderr, "stress_kill: producer: create %s: %s\n",
		    cfg.name, shmr_strerror(rc));
		_exit(2);
	}
	epoch = info.epoch;
	atomic_store(&sh->prod_epoch, epoch);
	for (i = 0; count == 0 || i < count; ) {
		if (i % 7 == 3) {
			struct shmr_iov v[4];
			size_t k;

			for (k = 0; k < 4; k++) {
				v[k].len = payload_fill(buf[k], i + k, epoch,
				    cfg.max_msg);
				v[k].data = buf[k];
			}
			rc = shmr_writer_publish_batch(w, v, 4, NULL);
			i += 4;
		} else if (i % 5 == 1) {
			size_t len = payload_fill(buf[0], i, epoch,
			    cfg.max_msg);
			void *p;

			if ((rc = shmr_writer_reserve(w, len, &p)) == 0) {
				memcpy(p, buf[0], len);
				rc = shmr_writer_commit(w, len, NULL);
			}
			i++;
		} else {
			rc = shmr_writer_publish(w, buf[0],
			    payload_fill(buf[0], i, epoch, cfg.max_msg),
			    NULL);
			i++;
		}
		if (rc < 0) {
			fprintf(stderr, "stress_kill: producer: publish: %s\n",
			    shmr_strerror(rc));
			_exit(2);
		}
	}
	/* The final producer: count may be passed by a batch of 4. */
	shmr_writer_close(w, 0);
	_exit(0);
}

/* The reader's ring is dead and drained: did it account for everything? */
static void
check_drained(struct shmr_reader *r, struct result *res, int have_expect,
    uint64_t expect)
{
	struct shmr_info info;

	if (shmr_ring_info(shmr_reader_ring(r), &info) < 0)
		return;
	if (info.state == SHMR_STATE_LIVE && have_expect &&
	    info.next_seq != expect) {
		fprintf(stderr, "stress_kill: epoch %llu ended at %llu, reader "
		    "accounted up to %llu\n", (unsigned long long)info.epoch,
		    (unsigned long long)info.next_seq,
		    (unsigned long long)expect);
		res->unreported++;
	}
}

static void
reader(int id, int slow)
{
	struct result *res = &sh->res[id];
	struct shmr_reader *r;
	struct shmr_msg m;
	uint64_t epoch, expect = 0, got_in_epoch = 0;
	int have_expect = 0, dead_before = 0, rc;

	if ((rc = shmr_reader_open(cfg.name, SHMR_FROM_OLDEST, 0, &r)) < 0) {
		res->error = rc;
		return;
	}
	epoch = shmr_ring_epoch(shmr_reader_ring(r));
	atomic_store(&sh->ready[id], 1);
	for (;;) {
		rc = shmr_reader_next(r, &m);
		if (rc != SHMR_EMPTY)
			dead_before = 0;
		if (rc >= 0 && rc != SHMR_RESTART &&
		    shmr_ring_epoch(shmr_reader_ring(r)) != epoch) {
			res->silent++;
			epoch = shmr_ring_epoch(shmr_reader_ring(r));
			have_expect = 0;
		}
		if (rc == SHMR_MSG) {
			if (!payload_verify(&m, epoch) ||
			    (have_expect && m.seq != expect))
				res->corrupt++;
			expect = m.seq + 1;
			have_expect = 1;
			res->delivered++;
			if (got_in_epoch++ == 0)
				res->epochs_read++;
			if (slow && m.seq % 64 == 0)
				sleep_us(200);
		} else if (rc == SHMR_OVERRUN) {
			if (have_expect && m.seq != expect + m.lost)
				res->misreported++;
			res->lost += m.lost;
			res->overruns++;
			expect = m.seq;
			have_expect = 1;
			if (got_in_epoch++ == 0)
				res->epochs_read++;
		} else if (rc == SHMR_RESTART) {
			uint64_t e = shmr_ring_epoch(shmr_reader_ring(r));

			if (e <= epoch) {
				fprintf(stderr, "stress_kill: reader %d: "
				    "restart from epoch %llu to %llu\n", id,
				    (unsigned long long)epoch,
				    (unsigned long long)e);
				res->backwards++;
			}
			res->restarts++;
			epoch = e;
			expect = m.seq;
			have_expect = 1;
			got_in_epoch = 0;
		} else if (rc == SHMR_EMPTY) {
			/*
			 * The producer was dead before this read came back
			 * empty: the ring is drained and can never move.
			 */
			if (dead_before &&
			    atomic_load(&sh->dead_seen[id]) != epoch) {
				atomic_store(&sh->dead_seen[id], epoch);
				res->deaths++;
				check_drained(r, res, have_expect, expect);
			}
			alarm(WATCHDOG_S + WAIT_MS / 1000 + 1);
			rc = shmr_reader_wait(r, WAIT_MS, 0);
			alarm(0);
			if (rc < 0 && rc != -ETIMEDOUT && rc != -EINTR) {
				res->error = rc;
				break;
			}
			dead_before = shmr_ring_alive(shmr_reader_ring(r)) == 0;
			continue;
		} else if (rc == SHMR_EOF) {
			break;
		} else if (rc == -EDEADLK || rc == -EAGAIN) {
			/* Transient (libshm(3)): a live producer descheduled
			 * inside a header update, or a header that kept
			 * moving for 8 ms. Try again. */
			res->stalls++;
			sleep_us(100);
		} else {
			res->error = rc;
			break;
		}
	}
	if (res->error != 0)
		fprintf(stderr, "stress_kill: reader %d: epoch %llu: %s\n", id,
		    (unsigned long long)epoch, shmr_strerror(res->error));
	if (rc == SHMR_EOF) {
		res->done = 1;
		res->final_epoch = epoch;
		res->final_seq = expect;
	}
	shmr_reader_close(r);
}

/* Start a producer; count 0: publish until killed. */
static pid_t
start_producer(uint64_t count)
{
	pid_t pid;

	atomic_store(&sh->prod_epoch, 0);
	if ((pid = fork()) < 0) {
		perror("stress_kill: fork");
		exit(1);
	}
	if (pid == 0)
		producer(count);
	return pid;
}

/* Wait until the producer is live (its epoch is known), or died. */
static int
wait_live(pid_t pid)
{
	int st;

	while (atomic_load(&sh->prod_epoch) == 0) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			fprintf(stderr, "stress_kill: producer exited (%d)\n",
			    st);
			return -1;
		}
		sleep_us(100);
	}
	return 0;
}

/* Every reader has seen the producer of `epoch` dead. */
static int
gate(uint64_t epoch, pid_t *readers)
{
	uint64_t deadline = mono_ns() + (uint64_t)GATE_S * 1000000000u;
	int k, st;

	for (k = 0; k < cfg.readers; k++) {
		while (atomic_load(&sh->dead_seen[k]) != epoch) {
			if (waitpid(readers[k], &st, WNOHANG) == readers[k]) {
				fprintf(stderr, "stress_kill: reader %d "
				    "exited early\n", k);
				rstatus[k] = st;
				readers[k] = -readers[k];
				return -1;
			}
			if (mono_ns() > deadline) {
				fprintf(stderr, "stress_kill: reader %d did "
				    "not see producer epoch %llu die\n", k,
				    (unsigned long long)epoch);
				return -1;
			}
			sleep_us(1000);
		}
	}
	return 0;
}

/* The epoch the name refers to now, 0 if none is readable. */
static uint64_t
name_epoch(void)
{
	struct shmr_ring *ring;
	uint64_t e;

	if (shmr_ring_open(cfg.name, NULL, &ring) < 0)
		return 0;
	e = shmr_ring_epoch(ring);
	shmr_ring_close(ring);
	return e;
}

static int
report(int k, const struct result *res, int st, uint64_t epochs,
    uint64_t gated, uint64_t final_epoch, uint64_t final_seq)
{
	int fail = 0;

	printf("reader %d%s: delivered %llu lost %llu in %llu overruns, "
	    "restarts %llu, deaths seen %llu, epochs read %llu, stalls %llu\n",
	    k,
	    k == cfg.readers - 1 ? " (slow)" : "",
	    (unsigned long long)res->delivered,
	    (unsigned long long)res->lost,
	    (unsigned long long)res->overruns,
	    (unsigned long long)res->restarts,
	    (unsigned long long)res->deaths,
	    (unsigned long long)res->epochs_read,
	    (unsigned long long)res->stalls);
#define BAD(cond, ...) do { if (cond) { fail = 1; \
	printf("reader %d: FAIL: ", k); printf(__VA_ARGS__); \
	printf("\n"); } } while (0)
	BAD(!WIFEXITED(st) || WEXITSTATUS(st) != 0, "%s %d",
	    WIFSIGNALED(st) ? (WTERMSIG(st) == SIGALRM ?
	    "hung in shmr_reader_wait (watchdog), signal" : "killed by signal")
	    : "exit status", WIFSIGNALED(st) ? WTERMSIG(st) :
	    WEXITSTATUS(st));
	BAD(res->error != 0, "error %s", shmr_strerror(res->error));
	BAD(res->corrupt != 0, "%llu corrupt messages",
	    (unsigned long long)res->corrupt);
	BAD(res->misreported != 0, "%llu misreported losses",
	    (unsigned long long)res->misreported);
	BAD(res->unreported != 0, "%llu epochs ended with unreported losses",
	    (unsigned long long)res->unreported);
	BAD(res->silent != 0, "%llu epoch changes without SHMR_RESTART",
	    (unsigned long long)res->silent);
	BAD(res->backwards != 0, "%llu restarts to an older epoch",
	    (unsigned long long)res->backwards);
	BAD(res->restarts > epochs - 1, "%llu restarts seen, %llu done",
	    (unsigned long long)res->restarts,
	    (unsigned long long)(epochs - 1));
	BAD(res->restarts < gated, "%llu restarts seen, %llu gated kills",
	    (unsigned long long)res->restarts, (unsigned long long)gated);
	BAD(res->epochs_read > res->restarts + 1,
	    "read %llu epochs with %llu restarts",
	    (unsigned long long)res->epochs_read,
	    (unsigned long long)res->restarts);
	BAD(res->deaths < gated, "saw %llu deaths, %llu gated kills",
	    (unsigned long long)res->deaths, (unsigned long long)gated);
	BAD(!res->done, "did not reach the end of the last epoch");
	BAD(res->done && res->final_epoch != final_epoch,
	    "ended in epoch %llu, last is %llu",
	    (unsigned long long)res->final_epoch,
	    (unsigned long long)final_epoch);
	BAD(res->done && res->final_seq != final_seq,
	    "ended at seq %llu, last epoch published %llu",
	    (unsigned long long)res->final_seq,
	    (unsigned long long)final_seq);
#undef BAD
	return fail;
}

int
main(void)
{
	pid_t readers[MAX_READERS], prod;
	uint64_t kill_no, gated_epoch = 0, gated = 0, early = 0;
	uint64_t before_live = 0;
	uint64_t checked = 0, lost = 0, final_epoch, final_seq = 0;
	struct shmr_ring *ring;
	struct shmr_info info;
	int k, st, fail = 0;

	cfg.kills = env_u64("STRESS_KILLS", 20);
	cfg.readers = (int)env_u64("STRESS_READERS", 3);
	cfg.max_msg = (uint32_t)env_u64("STRESS_MAX_MSG", 4096);
	cfg.cap = env_u64("STRESS_CAP", 1 << 20);
	cfg.final = env_u64("STRESS_FINAL", 20000);
	cfg.early = (int)env_u64("STRESS_EARLY", 1);
	cfg.seed = (unsigned)env_u64("STRESS_SEED",
	    (uint64_t)time(NULL) ^ (uint64_t)getpid() << 16);
	if (cfg.readers < 2 || cfg.readers > MAX_READERS ||
	    cfg.max_msg > (1 << 20)) {
		fprintf(stderr, "stress_kill: need 2..%d readers, max_msg <= "
		    "1 MiB\n", MAX_READERS);
		return 1;
	}
	srandom(cfg.seed);
	snprintf(cfg.name, sizeof(cfg.name), "stress-kill-%d", (int)getpid());
	printf("stress_kill: ring %s, %llu kills, %d readers, seed %u "
	    "(STRESS_SEED=%u reproduces the schedule)\n", cfg.name,
	    (unsigned long long)cfg.kills, cfg.readers, cfg.seed, cfg.seed);
	fflush(stdout);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("stress_kill: mmap");
		return 1;
	}
	memset(sh, 0, sizeof(*sh));

	/* The first producer must be live before readers open the name. */
	prod = start_producer(0);
	if (wait_live(prod) < 0)
		return 1;
	for (k = 0; k < cfg.readers; k++) {
		if ((readers[k] = fork()) == 0) {
			reader(k, k == cfg.readers - 1);
			_exit(0);
		}
		while (!atomic_load(&sh->ready[k]) &&
		    waitpid(readers[k], &st, WNOHANG) == 0)
			sleep_us(100);
	}

	for (kill_no = 0; kill_no < cfg.kills; kill_no++) {
		if (cfg.early && random() % 8 == 0) {
			/* Anywhere, creation included. */
			early++;
			sleep_us((uint64_t)(random() % 2000));
		} else {
			if (wait_live(prod) < 0) {
				fail = 1;
				break;
			}
			sleep_us((uint64_t)(random() % 50000));
		}
		kill(prod, SIGKILL);
		if (waitpid(prod, &st, 0) != prod || !WIFSIGNALED(st)) {
			fprintf(stderr, "stress_kill: producer did not die "
			    "by SIGKILL (status %d)\n", st);
			fail = 1;
			break;
		}
		if (atomic_load(&sh->prod_epoch) == 0)
			before_live++;
		/*
		 * Half the time let every reader notice the death first. The
		 * name may still refer to an epoch gated before (the producer
		 * died before it took over) or to a half-created object.
		 */
		if (random() % 2 == 0) {
			uint64_t e = name_epoch();

			if (e != 0 && e != gated_epoch) {
				gated_epoch = e;
				if (gate(e, readers) < 0) {
					fail = 1;
					break;
				}
				gated++;
			}
		}
		/* After the last kill: the final producer. */
		prod = start_producer(kill_no + 1 == cfg.kills ?
		    cfg.final : 0);
	}
	if (fail) {
		kill(prod, SIGKILL);
		waitpid(prod, &st, 0);
		for (k = 0; k < cfg.readers; k++)
			if (readers[k] > 0)
				kill(readers[k], SIGKILL);
	} else {
		if (cfg.kills == 0) {
			kill(prod, SIGKILL);
			waitpid(prod, &st, 0);
			prod = start_producer(cfg.final);
		}
		if (waitpid(prod, &st, 0) != prod || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			fprintf(stderr, "stress_kill: final producer failed\n");
			fail = 1;
			for (k = 0; k < cfg.readers; k++)
				if (readers[k] > 0)
					kill(readers[k], SIGKILL);
		}
	}
	final_epoch = atomic_load(&sh->prod_epoch);
	if (shmr_ring_open(cfg.name, NULL, &ring) == 0) {
		if (shmr_ring_info(ring, &info) == 0 &&
		    info.epoch == final_epoch)
			final_seq = info.next_seq;
		shmr_ring_close(ring);
	}
	for (k = 0; k < cfg.readers; k++) {
		if (readers[k] > 0)
			waitpid(readers[k], &st, 0);
		else
			st = rstatus[k];
		/* Epochs are creation times (libshm(3)), not counts: the
		 * producers started (kills + 1) bound the restarts. */
		fail |= report(k, &sh->res[k], st, cfg.kills + 1, gated,
		    final_epoch, final_seq);
		checked += sh->res[k].delivered;
		lost += sh->res[k].lost;
	}
	shmr_unlink(cfg.name);
	printf("stress_kill: %llu kills (%llu early, %llu before the ring was "
	    "live), last epoch %llu, %llu gated restarts, %llu messages checked, "
	    "%llu reported lost: %s\n", (unsigned long long)cfg.kills,
	    (unsigned long long)early, (unsigned long long)before_live,
	    (unsigned long long)final_epoch, (unsigned long long)gated,
	    (unsigned long long)checked, (unsigned long long)lost,
	    fail ? "FAIL" : "ok");
	return fail ? 1 : 0;
}
