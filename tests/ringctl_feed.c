/*
 * ringctl_feed.c - a scriptable test producer for the ringctl tests.
 *
 *	ringctl_feed NAME [CAPACITY [MAX_MSG]]
 *
 * Creates ring NAME, prints "ok" and then runs one command per line of
 * stdin, answering each with "ok ..." (or "err reason") on stdout so a
 * shell coprocess can wait for it:
 *
 *	pub TEXT	publish TEXT (the rest of the line)
 *	hex HEX		publish the bytes spelled in hex
 *	n COUNT [SIZE]	publish COUNT messages "msg-SEQ", padded with
 *			'x' to SIZE bytes
 *	spin SIZE	publish SIZE-byte messages as fast as possible until
 *			SIGUSR1, then answer "ok COUNT"
 *	info		answer "ok NEXT_SEQ OLDEST_SEQ PID"
 *	close		close the ring (end of stream) and exit
 *	unlink		close and remove the ring, and exit
 *	die		exit without closing: a dead producer
 *
 * End of input closes the ring. Exit status 0, or 1 on any failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmring.h"

static volatile sig_atomic_t stop_spin;

static void
on_usr1(int sig)
{
	(void)sig;
	stop_spin = 1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
publish_n(struct shmr_writer *w, unsigned long count, size_t size,
    uint32_t max_msg)
{
	char *buf;
	uint64_t seq;
	struct shmr_info in;
	size_t len;
	int rc = 0;

	if ((buf = malloc(size + 32)) == NULL)
		return -ENOMEM;
	if ((rc = shmr_writer_info(w, &in)) < 0)
		goto out;
	seq = in.next_seq;
	for (unsigned long i = 0; i < count; i++, seq++) {
		len = (size_t)snprintf(buf, 32, "msg-%" PRIu64, seq);
		if (size > len) {
			memset(buf + len, 'x', size - len);
			len = size;
		}
		if (len > max_msg)
			len = max_msg;
		if ((rc = shmr_writer_publish(w, buf, len, NULL)) < 0)
			break;
	}
out:
	free(buf);
	return rc;
}

int
main(int argc, char **argv)
{
	struct shmr_create_opts o = { .mode = 0600, .gid = (gid_t)-1 };
	struct shmr_writer *w;
	struct shmr_info in;
	char line[65536], bytes[32768];
	unsigned long count, size;
	struct sigaction sa;
	size_t n, i;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: ringctl_feed name [capacity "
		    "[max_msg]]\n");
		return 1;
	}
	o.capacity = argc > 2 ? strtoull(argv[2], NULL, 0) : 65536;
	o.max_msg = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 0;
	if ((rc = shmr_writer_create(argv[1], &o, &w)) < 0) {
		printf("err create %s: %s\n", argv[1], shmr_strerror(rc));
		return 1;
	}
	printf("ok\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		rc = 0;
		if (strncmp(line, "pub ", 4) == 0) {
			rc = shmr_writer_publish(w, line + 4, strlen(line + 4),
			    NULL);
		} else if (strncmp(line, "hex ", 4) == 0) {
			n = strlen(line + 4) / 2;
			for (i = 0; i < n && i < sizeof(bytes); i++)
				bytes[i] = (char)(hexval(line[4 + 2 * i]) << 4 |
				    hexval(line[5 + 2 * i]));
			rc = shmr_writer_publish(w, bytes, i, NULL);
		} else if (sscanf(line, "n %lu %lu", &count, &size) >= 1) {
			if (sscanf(line, "n %lu %lu", &count, &size) < 2)
				size = 0;
			rc = shmr_writer_info(w, &in);
			if (rc == 0)
				rc = publish_n(w, count, size, in.max_msg);
		} else if (sscanf(line, "spin %lu", &size) == 1) {
			memset(bytes, 's', sizeof(bytes));
			if (size > sizeof(bytes))
				size = sizeof(bytes);
			for (count = 0; !stop_spin && rc == 0; count++)
				rc = shmr_writer_publish(w, bytes, size, NULL);
			stop_spin = 0;
			if (rc == 0) {
				printf("ok %lu\n", count);
				fflush(stdout);
				continue;
			}
		} else if (strcmp(line, "info") == 0) {
			if ((rc = shmr_writer_info(w, &in)) == 0) {
				printf("ok %" PRIu64 " %" PRIu64 " %ld\n",
				    in.next_seq, in.oldest_seq, (long)getpid());
				fflush(stdout);
				continue;
			}
		} else if (strcmp(line, "close") == 0 ||
		    strcmp(line, "unlink") == 0) {
			rc = shmr_writer_close(w, line[0] == 'u' ?
			    SHMR_CLOSE_UNLINK : 0);
			if (rc < 0)
				printf("err %s\n", shmr_strerror(rc));
			else
				printf("ok\n");
			return rc < 0;
		} else if (strcmp(line, "die") == 0) {
			printf("ok\n");
			fflush(stdout);
			_exit(0);
		} else {
			printf("err unknown command: %s\n", line);
			fflush(stdout);
			continue;
		}
		if (rc < 0)
			printf("err %s\n", shmr_strerror(rc));
		else
			printf("ok\n");
		fflush(stdout);
	}
	return shmr_writer_close(w, 0) < 0;
}
