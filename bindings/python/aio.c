/*
 * aio.c - asyncio support. A futex cannot be polled, so a reader used
 * with `async for` gets a helper thread (plain pthread, never touches
 * Python) that, when armed (Reader._arm()), waits on a copy of the cursor
 * and then writes an eventfd, which the event loop watches with
 * add_reader (see __init__.py). It knows rings and cursors, not readers:
 * reader.c calls it, never the other way round.
 */
#include <pthread.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "_shmring.h"

struct aio {
	pthread_t	 th;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 efd;
	bool		 armed;		/* a wait is requested or running */
	bool		 stop;
	bool		 sleep_only;	/* no ring to wait on: just sleep */
	bool		 stopped;	/* by py_aio_stop(): no thread any more */
	RingObject	*ringobj;	/* changed under the GIL, idle only */
	struct shmr_cursor cur;
	pid_t		 pid;		/* the process the thread runs in */
};

static void *
aio_main(void *arg)
{
	struct aio *a = arg;
	struct shmr_cursor cur;
	struct shmr_ring *ring;
	const uint64_t one = 1;
	bool sleep_only;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (!a->armed && !a->stop)
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->stop)
			break;
		ring = a->ringobj->ring;
		cur = a->cur;
		sleep_only = a->sleep_only;
		pthread_mutex_unlock(&a->mu);
		if (sleep_only) {
			struct timespec ts = { 0, AIO_SLICE_MS * 1000000L };

			nanosleep(&ts, NULL);
		} else {
			(void)shmr_cursor_wait(ring, &cur, AIO_SLICE_MS, 0);
		}
		pthread_mutex_lock(&a->mu);
		/* From here on the ring is not ours: _arm() may swap it. */
		a->armed = false;
		/* Whatever the outcome, the loop side reads again. A full
		 * counter (EAGAIN) already means "readable". */
		while (write(a->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/*
 * Stop and join the thread (at most one AIO_SLICE_MS), then make the
 * eventfd readable: a task awaiting it (async for) wakes up, reads again
 * and learns that the reader is closed. The eventfd stays open until
 * py_aio_free(), since the event loop may still be watching it. In a child
 * of fork() the thread does not exist (and the mutex may have been held
 * by it): there is nothing to stop.
 */
void
py_aio_stop(struct aio *a)
{
	const uint64_t one = 1;

	if (a->stopped)
		return;
	a->stopped = true;
	if (a->pid == getpid()) {
		pthread_mutex_lock(&a->mu);
		a->stop = true;
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mu);
		Py_BEGIN_ALLOW_THREADS
		pthread_join(a->th, NULL);
		Py_END_ALLOW_THREADS
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
		/* The child shares the eventfd: only its owner writes. */
		while (write(a->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	}
	Py_CLEAR(a->ringobj);
}

/* Stop the thread if it runs, close the eventfd, free everything. */
void
py_aio_free(struct aio *a)
{
	if (a == NULL)
		return;
	py_aio_stop(a);
	close(a->efd);
	PyMem_Free(a);
}

static struct aio *
py_aio_new(void)
{
	struct aio *a;
	int rc;

	if ((a = PyMem_Calloc(1, sizeof(*a))) == NULL)
		return (struct aio *)PyErr_NoMemory();
	if ((a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		PyErr_SetFromErrno(PyExc_OSError);
		PyMem_Free(a);
		return NULL;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	a->pid = getpid();
	if ((rc = pthread_create(&a->th, NULL, aio_main, a)) != 0) {
		errno = rc;
		PyErr_SetFromErrno(PyExc_OSError);
		close(a->efd);
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
		PyMem_Free(a);
		return NULL;
	}
	return a;
}

/*
 * Arm the helper *ap (made on first use, and made again in a child of
 * fork() or after a close): one wait on cur in ringobj's ring (or just a
 * nap when sleep_only), then a write to the eventfd returned. A no-op
 * while a wait is pending. -1: exception set. The reader's side is
 * Reader._arm() in reader.c.
 */
int
py_aio_arm(struct aio **ap, RingObject *ringobj,
    const struct shmr_cursor *cur, bool sleep_only)
{
	RingObject *old = NULL;
	struct aio *a = *ap;

	if (a != NULL && (a->pid != getpid() || a->stopped)) {
		/* Inherited through fork(), or closed and opened again. */
		py_aio_free(a);
		a = *ap = NULL;
	}
	if (a == NULL && (a = *ap = py_aio_new()) == NULL)
		return -1;
	pthread_mutex_lock(&a->mu);
	if (!a->armed) {
		old = a->ringobj;
		a->ringobj = (RingObject *)Py_NewRef(ringobj);
		a->cur = *cur;
		a->sleep_only = sleep_only;
		a->armed = true;
		pthread_cond_signal(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	Py_XDECREF(old);
	return a->efd;
}
