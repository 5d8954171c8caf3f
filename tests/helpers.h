/*
 * helpers.h - shared by the libshm tests: unique ring names, a forked
 * producer, raw segment construction for corruption tests.
 */
#ifndef SHMR_TEST_HELPERS_H
#define SHMR_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shmring.h"

/* "t<pid>-<tag>-<counter>": unique per process and call. */
const char *t_name(const char *tag);
/* Remove every ring created through t_name() in this process. */
void t_cleanup(void);
/* Create a ring or abort the test. */
struct shmr_writer *t_writer(const char *name, uint64_t cap, uint32_t max);
/* Publish "msg-<i>" for i in [from, to). */
void t_publish_range(struct shmr_writer *w, uint64_t from, uint64_t to);
/*
 * Fork a producer that creates NAME, publishes msg-0..msg-(n-1) and waits
 * to be killed; returns its pid once the messages are in.
 */
pid_t t_child_producer(const char *name, uint64_t n);
/* SIGKILL a child and reap it. */
void t_kill(pid_t pid);
/* Write raw bytes as /dev/shm/shmring.NAME with the given mode. */
int t_write_object(const char *name, const void *p, size_t len, mode_t mode);
/* Read /dev/shm/shmring.NAME into a malloc'd buffer. */
void *t_read_object(const char *name, size_t *len);

#endif
