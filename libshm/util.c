/*
 * util.c - names, error strings, listing and removing rings.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "internal.h"

#define STR_(x)	#x
#define STR(x)	STR_(x)

const char *
shmr_version(void)
{
	return STR(SHMR_VERSION_MAJOR) "." STR(SHMR_VERSION_MINOR);
}

const char *
shmr_strerror(int code)
{
	switch (code) {
	/* 0 is success from most calls, SHMR_EMPTY only from reads. */
	case SHMR_EMPTY:	return "success (from a read: no new message)";
	case SHMR_MSG:		return "message";
	case SHMR_OVERRUN:	return "overrun: messages were lost";
	case SHMR_EOF:		return "end of stream: the producer closed the ring";
	case SHMR_RESTART:	return "the producer restarted (new epoch)";
	case -EBUSY:		return "another live producer owns the ring";
	case -EPROTO:		return "not a shmring ring, or another layout version";
	case -EBADMSG:		return "corrupt ring";
	case -EPERM:		return "not permitted: the ring belongs to another "
				    "user or is writable by others, or the group "
				    "is not one of yours";
	case -EAGAIN:		return "try again: the ring is being created, or "
				    "its header kept changing";
	case -EDEADLK:		return "producer stalled mid-update (stopped "
				    "inside a header update); try again";
	case -ESTALE:		return "data was overwritten while in use";
	case -ECHILD:		return "a writer inherited through fork(): only "
				    "the process that created it may publish";
	case -EMSGSIZE:		return "message larger than the ring's maximum";
	case -ENOSPC:		return "not enough space in /dev/shm for the ring";
	case -EINVAL:		return "invalid argument (ring name, size or option)";
	case -ENAMETOOLONG:	return "ring name too long";
	case -ERANGE:		return "sequence number not yet published";
	case -ENOENT:		return "no such ring";
	default:
		break;
	}
	if (code < 0)
		return strerror(-code);
	return "unknown status";
}

int
shmr_name_valid(const char *name)
{
	size_t n;

	if (name == NULL || name[0] == '\0' || name[0] == '.')
		return -EINVAL;
	for (n = 0; name[n] != '\0'; n++) {
		char c = name[n];

		if (n >= SHMR_NAME_MAX)
			return -ENAMETOOLONG;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return -EINVAL;
	}
	return 0;
}

/* "/shmring.NAME" for shm_open(3), after validating NAME. */
int
shm_path(char *buf, size_t len, const char *prefix, const char *name)
{
	int rc = shmr_name_valid(name);

	if (rc < 0)
		return rc;
	if ((size_t)snprintf(buf, len, "/%s%s", prefix, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Are a public struct's reserved words all zero? Options with a word set
 * come from a program built for a later release (shmring.h, "Room to
 * grow"): refused, never half understood.
 */
bool
resv_zero(const uint64_t *reserved, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (reserved[i] != 0)
			return false;
	return true;
}

uint64_t
mono_ms(void)
{
	return mono_ns() / 1000000;
}

int
shmr_unlink(const char *name)
{
	char path[SHMR_NAME_MAX + 32];
	int rc;

	if ((rc = shm_path(path, sizeof(path), WAIT_PREFIX, name)) < 0)
		return rc;
	(void)shm_unlink(path);	/* may not exist; the ring decides */
	if ((rc = shm_path(path, sizeof(path), SHM_PREFIX, name)) < 0)
		return rc;
	if (shm_unlink(path) < 0)
		return -errno;
	return 0;
}

int
shmr_list(int (*fn)(const char *name, void *arg), void *arg)
{
	const size_t plen = strlen(SHM_PREFIX);
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if ((d = opendir(SHM_DIR)) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name + plen;

		if (strncmp(de->d_name, SHM_PREFIX, plen) != 0 ||
		    shmr_name_valid(name) < 0)
			continue;
		if ((rc = fn(name, arg)) != 0)
			break;
	}
	closedir(d);
	return rc;
}
