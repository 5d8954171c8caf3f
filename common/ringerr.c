/* ringerr.c - operator wording and exit status for ring errors. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "exitcode.h"
#include "ringerr.h"
#include "shmring.h"

const char *
ring_error(int rc)
{
	switch (-rc) {
	case ENOENT:
		return "no such ring";
	case EPROTO:
		return "not a shmring ring (bad magic or another layout "
		    "version)";
	case EBADMSG:
		return "corrupt ring header";
	case EPERM:
		return "refused: untrusted owner or writable by group/other";
	case EAGAIN:
		return "still being created";
	case EBUSY:
		return "a live producer owns the ring";
	case EDEADLK:
		return "producer stalled mid-update (it is stopped inside a "
		    "header update; continue or kill it)";
	case ENOSPC:
		return "not enough room in /dev/shm";
	default:
		return shmr_strerror(rc);
	}
}

const char *
ring_describe(const char *name, int rc, char *buf, size_t len)
{
	char path[sizeof("/dev/shm/shmring.") + SHMR_NAME_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm/shmring.%s", name);
	if ((rc == -EBADMSG || rc == -EPROTO || rc == -EAGAIN) &&
	    stat(path, &st) == 0 && (uint64_t)st.st_size < SHMR_CAP_MIN)
		snprintf(buf, len, "%s (object is only %lld bytes: truncated "
		    "or not a ring)", ring_error(rc), (long long)st.st_size);
	else
		snprintf(buf, len, "%s", ring_error(rc));
	return buf;
}

int
ring_exit(int rc)
{
	switch (-rc) {
	case ENOENT:
	case EPROTO:
	case EBADMSG:
	case EAGAIN:
	case EBUSY:
	case EPERM:
	case ERANGE:
	case ESTALE:
	case EEXIST:
	case EDEADLK:
		return EXIT_NEG;
	default:
		return EXIT_SYS;
	}
}
