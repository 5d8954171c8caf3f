/*
 * shmring.c - the CPython extension shmring._shmring over libshm's public
 * API (shmring.h), linked statically so the module needs nothing else.
 *
 * Lifetime of the mappings. A ring's read-only mapping is owned by a small
 * reference-counted object (RingObject). A reader holds one; every
 * zero-copy View holds one too, and a memoryview or numpy array made from
 * a View holds the View. So the mapping is unmapped only when the last
 * thing that can point into it is gone: after a restart or close() the
 * reader drops its reference, and views of the old ring stay readable.
 *
 * Threads. Every call runs with the GIL except the waits, which use a
 * private copy of the cursor and their own reference to the ring: a read
 * from another thread meanwhile cannot unmap or corrupt what a wait uses
 * (libshm: a ring may be shared by threads, a cursor may not).
 *
 * asyncio. A futex cannot be polled, so a reader used with `async for`
 * gets a helper thread (plain pthread, never touches Python) that, when
 * armed, waits on a copy of the cursor and then writes an eventfd, which
 * the event loop watches with add_reader (see __init__.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "shmring.h"

PyMODINIT_FUNC PyInit__shmring(void);

/* Longest single wait while Python waits: signals (Ctrl-C) are seen
 * within this, and a dead producer's successor is probed about as often. */
#define WAIT_SLICE_MS	1000
/* How often a quiet reader asks whether its producer died and the name
 * now belongs to another ring (as shmr_reader_wait() does). */
#define PROBE_MS	1000
/* While the name is missing after a restart, look for it this often. */
#define STALE_MS	100
/* While the producer is stopped inside a header update, look this often. */
#define STALL_NAP_MS	1
/* Longest wait of the asyncio helper thread: bounds close() and probes. */
#define AIO_SLICE_MS	100
/* Copy buffer of read_batch(): libshm copies at most 64 KiB per call. */
#define BATCH_BYTES	(64 << 10)
/* Most messages asked of one shmr_cursor_read_batch() call. */
#define BATCH_MSGS	1024

/* Keyword lists are char *[] in the C API of 3.11. */
#define KW(...)	((char *[]){ __VA_ARGS__, NULL })

/* The C API's method table wants PyCFunction; route through void (*)(void)
 * so -Wcast-function-type sees the cast is deliberate. */
#define METH(f)	((PyCFunction)(void (*)(void))(f))

static PyObject *CorruptRing;
static PyObject *Overwritten;
static PyObject *anext_hook;	/* shmring._anext, set by __init__.py */

/* ---- errors ------------------------------------------------------------- */

/*
 * Raise the Python exception for libshm code rc about ring name: OSError
 * built from (errno, libshm's message, name), which Python turns into
 * FileNotFoundError, PermissionError, BlockingIOError...; CorruptRing for
 * a foreign or corrupt segment, Overwritten for a view that was lapped.
 */
static PyObject *
raise_rc(int rc, const char *name)
{
	PyObject *type = PyExc_OSError, *args;

	if (rc == -ENOMEM)
		return PyErr_NoMemory();
	if (rc == -EBADMSG || rc == -EPROTO)
		type = CorruptRing;
	else if (rc == -ESTALE)
		type = Overwritten;
	else if (rc == -EINVAL || rc == -ENAMETOOLONG) {
		PyErr_Format(PyExc_ValueError, "%s%s%s", name ? name : "",
		    name ? ": " : "", shmr_strerror(rc));
		return NULL;
	}
	if (name != NULL)
		args = Py_BuildValue("(iss)", -rc, shmr_strerror(rc), name);
	else
		args = Py_BuildValue("(is)", -rc, shmr_strerror(rc));
	if (args != NULL) {
		PyErr_SetObject(type, args);
		Py_DECREF(args);
	}
	return NULL;
}

/* A ring name from Python: a str, checked with libshm's rules. */
static int
get_name(PyObject *obj, const char **name)
{
	int rc;

	if (!PyUnicode_Check(obj)) {
		PyErr_Format(PyExc_TypeError, "ring name must be str, not %s",
		    Py_TYPE(obj)->tp_name);
		return -1;
	}
	if ((*name = PyUnicode_AsUTF8(obj)) == NULL)
		return -1;
	if ((rc = shmr_name_valid(*name)) < 0) {
		PyErr_Format(PyExc_ValueError, "invalid ring name %R: %s", obj,
		    shmr_strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * A timeout in seconds (None: forever) as milliseconds, -1 for forever.
 * Rounded up, so a tiny positive timeout still waits a little.
 */
static int
get_timeout(PyObject *obj, long long *ms)
{
	double s;

	if (obj == NULL || obj == Py_None) {
		*ms = -1;
		return 0;
	}
	s = PyFloat_AsDouble(obj);
	if (s == -1.0 && PyErr_Occurred())
		return -1;
	if (!(s >= 0)) {
		PyErr_SetString(PyExc_ValueError,
		    "timeout must be None or a number >= 0");
		return -1;
	}
	if (s > 1e9)
		s = 1e9;
	*ms = (long long)(s * 1000.0);
	if ((double)*ms < s * 1000.0)
		(*ms)++;
	return 0;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- RingObject: owner of one read-only mapping -------------------------- */

typedef struct {
	PyObject_HEAD
	struct shmr_ring *ring;
} RingObject;

static void
Ring_dealloc(RingObject *self)
{
	shmr_ring_close(self->ring);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject Ring_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "shmring._Ring",
	.tp_basicsize = sizeof(RingObject),
	.tp_dealloc = (destructor)Ring_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "A read-only mapping of a ring (internal).",
};

static RingObject *
ring_open(const char *name, bool trust_any_owner)
{
	struct shmr_open_opts o = { .trust_any_owner = trust_any_owner };
	struct shmr_ring *ring;
	RingObject *obj;
	int rc;

	Py_BEGIN_ALLOW_THREADS
	rc = shmr_ring_open(name, &o, &ring);
	Py_END_ALLOW_THREADS
	if (rc < 0)
		return (RingObject *)raise_rc(rc, name);
	if ((obj = PyObject_New(RingObject, &Ring_Type)) == NULL) {
		shmr_ring_close(ring);
		return NULL;
	}
	obj->ring = ring;
	return obj;
}

/* ---- Message, Overrun, Restart: the items of an iteration ----------------- */

typedef struct {
	PyObject_HEAD
	unsigned long long seq;
	PyObject *data;		/* bytes: cannot take part in a cycle */
} MessageObject;

typedef struct {
	PyObject_HEAD
	unsigned long long lost;
	unsigned long long next;
} OverrunObject;

typedef struct {
	PyObject_HEAD
	unsigned long long next;
	unsigned long long epoch;
} RestartObject;

static PyTypeObject Message_Type, Overrun_Type, Restart_Type;

static PyObject *
message_new(uint64_t seq, const void *data, size_t len)
{
	MessageObject *m;
	PyObject *b;

	if ((b = PyBytes_FromStringAndSize(data, (Py_ssize_t)len)) == NULL)
		return NULL;
	if ((m = PyObject_New(MessageObject, &Message_Type)) == NULL) {
		Py_DECREF(b);
		return NULL;
	}
	m->seq = seq;
	m->data = b;
	return (PyObject *)m;
}

static PyObject *
overrun_new(uint64_t lost, uint64_t next)
{
	OverrunObject *o = PyObject_New(OverrunObject, &Overrun_Type);

	if (o != NULL) {
		o->lost = lost;
		o->next = next;
	}
	return (PyObject *)o;
}

static PyObject *
restart_new(uint64_t next, uint64_t epoch)
{
	RestartObject *o = PyObject_New(RestartObject, &Restart_Type);

	if (o != NULL) {
		o->next = next;
		o->epoch = epoch;
	}
	return (PyObject *)o;
}

static PyObject *
Message_tp_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	unsigned long long seq;
	Py_buffer b;
	PyObject *m;

	(void)type;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "Ky*:Message",
	    KW("seq", "data"), &seq, &b))
		return NULL;
	m = message_new(seq, b.buf, (size_t)b.len);
	PyBuffer_Release(&b);
	return m;
}

static PyObject *
Overrun_tp_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	unsigned long long lost, next;

	(void)type;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "KK:Overrun",
	    KW("lost", "next"), &lost, &next))
		return NULL;
	return overrun_new(lost, next);
}

static PyObject *
Restart_tp_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	unsigned long long next, epoch;

	(void)type;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "KK:Restart",
	    KW("next", "epoch"), &next, &epoch))
		return NULL;
	return restart_new(next, epoch);
}

static void
Message_dealloc(MessageObject *self)
{
	Py_DECREF(self->data);
	PyObject_Free(self);
}

static void
Item_dealloc(PyObject *self)
{
	PyObject_Free(self);
}

static PyObject *
Message_repr(MessageObject *self)
{
	return PyUnicode_FromFormat("Message(seq=%llu, data=%R)", self->seq,
	    self->data);
}

static PyObject *
Overrun_repr(OverrunObject *self)
{
	return PyUnicode_FromFormat("Overrun(lost=%llu, next=%llu)",
	    self->lost, self->next);
}

static PyObject *
Restart_repr(RestartObject *self)
{
	return PyUnicode_FromFormat("Restart(next=%llu, epoch=%llu)",
	    self->next, self->epoch);
}

/* Equality of two items of the same type, field by field. */
static PyObject *
item_compare(PyObject *a, PyObject *b, int op)
{
	int eq;

	if ((op != Py_EQ && op != Py_NE) || Py_TYPE(a) != Py_TYPE(b))
		Py_RETURN_NOTIMPLEMENTED;
	if (Py_TYPE(a) == &Message_Type) {
		MessageObject *x = (MessageObject *)a, *y = (MessageObject *)b;

		if (x->seq != y->seq)
			eq = 0;
		else if ((eq = PyObject_RichCompareBool(x->data, y->data,
		    Py_EQ)) < 0)
			return NULL;
	} else if (Py_TYPE(a) == &Overrun_Type) {
		OverrunObject *x = (OverrunObject *)a, *y = (OverrunObject *)b;

		eq = x->lost == y->lost && x->next == y->next;
	} else {
		RestartObject *x = (RestartObject *)a, *y = (RestartObject *)b;

		eq = x->next == y->next && x->epoch == y->epoch;
	}
	return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static PyMemberDef Message_members[] = {
	{ "seq", T_ULONGLONG, offsetof(MessageObject, seq), READONLY,
	  "Sequence number of the message (grows by one per message)." },
	{ "data", T_OBJECT, offsetof(MessageObject, data), READONLY,
	  "The payload, a bytes object (a copy)." },
	{ NULL, 0, 0, 0, NULL }
};

static PyMemberDef Overrun_members[] = {
	{ "lost", T_ULONGLONG, offsetof(OverrunObject, lost), READONLY,
	  "Exactly how many messages were lost (overwritten unread)." },
	{ "next", T_ULONGLONG, offsetof(OverrunObject, next), READONLY,
	  "Sequence number of the next message the reader gets." },
	{ NULL, 0, 0, 0, NULL }
};

static PyMemberDef Restart_members[] = {
	{ "next", T_ULONGLONG, offsetof(RestartObject, next), READONLY,
	  "Sequence number of the first message of the new producer." },
	{ "epoch", T_ULONGLONG, offsetof(RestartObject, epoch), READONLY,
	  "Epoch of the new ring (its creation time in microseconds)." },
	{ NULL, 0, 0, 0, NULL }
};

static PyTypeObject Message_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "shmring.Message",
	.tp_basicsize = sizeof(MessageObject),
	.tp_dealloc = (destructor)Message_dealloc,
	.tp_repr = (reprfunc)Message_repr,
	.tp_richcompare = item_compare,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_members = Message_members,
	.tp_new = Message_tp_new,
	.tp_doc = "Message(seq, data)\n--\n\n"
	    "A message read from a ring: its sequence number and a copy of\n"
	    "its payload as bytes.",
};

static PyTypeObject Overrun_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "shmring.Overrun",
	.tp_basicsize = sizeof(OverrunObject),
	.tp_dealloc = (destructor)Item_dealloc,
	.tp_repr = (reprfunc)Overrun_repr,
	.tp_richcompare = item_compare,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_members = Overrun_members,
	.tp_new = Overrun_tp_new,
	.tp_doc = "Overrun(lost, next)\n--\n\n"
	    "The reader was lapped: exactly `lost` messages were overwritten\n"
	    "before it read them; reading continues at sequence `next`.\n"
	    "Not an exception: an item of the iteration, in its place.",
};

static PyTypeObject Restart_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "shmring.Restart",
	.tp_basicsize = sizeof(RestartObject),
	.tp_dealloc = (destructor)Item_dealloc,
	.tp_repr = (reprfunc)Restart_repr,
	.tp_richcompare = item_compare,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_members = Restart_members,
	.tp_new = Restart_tp_new,
	.tp_doc = "Restart(next, epoch)\n--\n\n"
	    "A new producer took the ring over (after the old one died or\n"
	    "closed and was replaced). Everything of the old producer was\n"
	    "read; the reader now follows the new ring from its oldest\n"
	    "message, sequence `next`, in epoch `epoch`.",
};

/* ---- View: a zero-copy message ------------------------------------------- */

typedef struct {
	PyObject_HEAD
	RingObject *ring;		/* keeps the mapping alive */
	struct shmr_cursor cur;		/* cursor at the message */
	struct shmr_msg msg;		/* data points into the mapping */
} ViewObject;

static PyTypeObject View_Type;

static void
View_dealloc(ViewObject *self)
{
	Py_XDECREF(self->ring);
	PyObject_Free(self);
}

/* 0 if the producer has not yet claimed the view's bytes, -ESTALE if it
 * has. A copy of the cursor: checking never moves anything. */
static int
view_intact(const ViewObject *self)
{
	struct shmr_cursor c = self->cur;

	return shmr_cursor_consume(self->ring->ring, &c, &self->msg);
}

static int
View_getbuffer(ViewObject *self, Py_buffer *view, int flags)
{
	/* The mapping is PROT_READ: PyBuffer_FillInfo refuses writers. */
	return PyBuffer_FillInfo(view, (PyObject *)self,
	    (void *)(uintptr_t)self->msg.data, (Py_ssize_t)self->msg.len, 1,
	    flags);
}

static PyBufferProcs View_as_buffer = {
	.bf_getbuffer = (getbufferproc)View_getbuffer,
};

static Py_ssize_t
View_len(ViewObject *self)
{
	return (Py_ssize_t)self->msg.len;
}

static PySequenceMethods View_as_sequence = {
	.sq_length = (lenfunc)View_len,
};

static PyObject *
View_check(ViewObject *self, PyObject *unused)
{
	int rc;

	(void)unused;
	if ((rc = view_intact(self)) < 0)
		return raise_rc(rc, shmr_ring_name(self->ring->ring));
	Py_RETURN_NONE;
}

static PyObject *
View_intact(ViewObject *self, PyObject *unused)
{
	(void)unused;
	return PyBool_FromLong(view_intact(self) == 0);
}

static PyObject *
View_tobytes(ViewObject *self, PyObject *unused)
{
	PyObject *b;
	int rc;

	(void)unused;
	b = PyBytes_FromStringAndSize(self->msg.data,
	    (Py_ssize_t)self->msg.len);
	if (b != NULL && (rc = view_intact(self)) < 0) {
		Py_DECREF(b);
		return raise_rc(rc, shmr_ring_name(self->ring->ring));
	}
	return b;
}

static PyObject *
View_enter(PyObject *self, PyObject *unused)
{
	(void)unused;
	return Py_NewRef(self);
}

static PyObject *
View_exit(ViewObject *self, PyObject *args)
{
	int rc;

	/* An exception already on its way out wins over ours. */
	if (PyTuple_Size(args) > 0 && PyTuple_GET_ITEM(args, 0) != Py_None)
		Py_RETURN_FALSE;
	if ((rc = view_intact(self)) < 0)
		return raise_rc(rc, shmr_ring_name(self->ring->ring));
	Py_RETURN_FALSE;
}

static PyObject *
View_get_seq(ViewObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromUnsignedLongLong(self->msg.seq);
}

static PyObject *
View_get_data(ViewObject *self, void *closure)
{
	(void)closure;
	return PyMemoryView_FromObject((PyObject *)self);
}

static PyObject *
View_repr(ViewObject *self)
{
	return PyUnicode_FromFormat("<shmring.View seq=%llu len=%zu>",
	    (unsigned long long)self->msg.seq, self->msg.len);
}

static PyMethodDef View_methods[] = {
	{ "check", METH(View_check), METH_NOARGS,
	  "check()\n--\n\n"
	  "Raise shmring.Overwritten if the producer has overwritten (or\n"
	  "begun to overwrite) the message since it was read; else return\n"
	  "None. Call it after using the bytes: whatever was computed from\n"
	  "them before a successful check() is from intact data." },
	{ "intact", METH(View_intact), METH_NOARGS,
	  "intact()\n--\n\n"
	  "True if the message has not been overwritten yet (check()\n"
	  "without the exception)." },
	{ "tobytes", METH(View_tobytes), METH_NOARGS,
	  "tobytes()\n--\n\n"
	  "A copy of the payload as bytes, checked after copying: never\n"
	  "torn data; raises shmring.Overwritten instead." },
	{ "__enter__", METH(View_enter), METH_NOARGS, NULL },
	{ "__exit__", METH(View_exit), METH_VARARGS,
	  "Leaving a with block checks the view (see check())." },
	{ NULL, NULL, 0, NULL }
};

static PyGetSetDef View_getset[] = {
	{ "seq", (getter)View_get_seq, NULL,
	  "Sequence number of the message.", NULL },
	{ "data", (getter)View_get_data, NULL,
	  "A read-only memoryview of the payload in the shared mapping.",
	  NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyTypeObject View_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "shmring.View",
	.tp_basicsize = sizeof(ViewObject),
	.tp_dealloc = (destructor)View_dealloc,
	.tp_repr = (reprfunc)View_repr,
	.tp_as_sequence = &View_as_sequence,
	.tp_as_buffer = &View_as_buffer,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_methods = View_methods,
	.tp_getset = View_getset,
	.tp_doc =
	    "A message left in the ring's read-only shared mapping: no copy.\n"
	    "\n"
	    "It exports the buffer protocol (read-only), so\n"
	    "numpy.frombuffer(view, dtype='<f8') and memoryview(view) use\n"
	    "the shared bytes directly. The producer may overwrite them at\n"
	    "any time once the reader falls a ring behind: call check()\n"
	    "after using them (or use the view as a context manager), and\n"
	    "discard what you computed if it raises shmring.Overwritten.\n"
	    "The mapping stays valid as long as the view, or any buffer made\n"
	    "from it, exists, even after the reader is closed.",
};

/* ---- the asyncio helper thread ------------------------------------------ */

struct aio {
	pthread_t	 th;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 efd;
	bool		 armed;		/* a wait is requested or running */
	bool		 stop;
	bool		 sleep_only;	/* no ring to wait on: just sleep */
	bool		 stopped;	/* by aio_stop(): no thread any more */
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
 * aio_free(), since the event loop may still be watching it. In a child
 * of fork() the thread does not exist (and the mutex may have been held
 * by it): there is nothing to stop.
 */
static void
aio_stop(struct aio *a)
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
static void
aio_free(struct aio *a)
{
	if (a == NULL)
		return;
	aio_stop(a);
	close(a->efd);
	PyMem_Free(a);
}

static struct aio *
aio_new(void)
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

/* ---- Reader -------------------------------------------------------------- */

typedef struct {
	PyObject_HEAD
	RingObject	*ringobj;	/* NULL once closed */
	struct shmr_cursor cur;
	unsigned char	*buf;		/* max_msg bytes (+ batch room) */
	size_t		 buflen;
	struct shmr_msg	*msgs;		/* BATCH_MSGS, for read_batch() */
	char		 name[SHMR_NAME_MAX + 1];
	bool		 trust_any_owner;
	bool		 eof;
	bool		 stale;		/* the name moved on; re-attach */
	long long	 last_probe;	/* mono_ms */
	uint64_t	 last_seq;	/* of the last message delivered */
	bool		 have_last;
	struct aio	*aio;
	PyObject	*weakrefs;
} ReaderObject;

static PyTypeObject Reader_Type;

/*
 * 0 if the reader is open. Checked again after every wait: the GIL was
 * released, and another thread may have closed the reader (freeing its
 * buffers) meanwhile.
 */
static int
reader_live(ReaderObject *self)
{
	if (self->ringobj == NULL) {
		PyErr_SetString(PyExc_ValueError, "operation on a closed reader");
		return -1;
	}
	return 0;
}

/*
 * (Re)open the ring and position the cursor. The buffer holds a whole
 * batch: BATCH_BYTES, or max_msg if larger (read_batch's first message).
 */
static int
reader_attach(ReaderObject *self, enum shmr_from from, uint64_t seq,
    bool raise)
{
	struct shmr_open_opts o = { .trust_any_owner = self->trust_any_owner };
	struct shmr_ring *ring;
	struct shmr_cursor cur;
	RingObject *obj;
	size_t need;
	int rc;

	Py_BEGIN_ALLOW_THREADS
	rc = shmr_ring_open(self->name, &o, &ring);
	Py_END_ALLOW_THREADS
	/* Another thread may have closed the reader meanwhile. */
	if (self->msgs == NULL) {
		if (rc == 0)
			shmr_ring_close(ring);
		return reader_live(self);
	}
	if (rc < 0)
		return raise ? (raise_rc(rc, self->name), -1) : rc;
	if ((rc = shmr_cursor_init(ring, &cur, from, seq)) < 0) {
		shmr_ring_close(ring);
		return raise ? (raise_rc(rc, self->name), -1) : rc;
	}
	need = shmr_ring_max_msg(ring) > BATCH_BYTES ?
	    shmr_ring_max_msg(ring) : BATCH_BYTES;
	if (need > self->buflen) {
		unsigned char *b = PyMem_Realloc(self->buf, need);

		if (b == NULL) {
			shmr_ring_close(ring);
			PyErr_NoMemory();
			return -1;
		}
		self->buf = b;
		self->buflen = need;
	}
	if ((obj = PyObject_New(RingObject, &Ring_Type)) == NULL) {
		shmr_ring_close(ring);
		return -1;
	}
	obj->ring = ring;
	Py_XSETREF(self->ringobj, obj);
	self->cur = cur;
	self->stale = false;
	self->last_probe = mono_ms();
	return 0;
}

/*
 * On a quiet ring, about once every PROBE_MS: did the producer die and
 * the name move to another ring (one that did not mark ours replaced)?
 * Then the reader is stale and re-attaches. Returns self->stale.
 */
static bool
reader_probe(ReaderObject *self)
{
	struct shmr_ring *ring = self->ringobj->ring;

	if (!self->stale && mono_ms() - self->last_probe >= PROBE_MS) {
		self->last_probe = mono_ms();
		self->stale = shmr_ring_alive(ring) == 0 &&
		    shmr_ring_stale(ring) == 1;
	}
	return self->stale;
}

/*
 * Turn the current ring's outcome rc into the reader's: follow a restart
 * the way shmr_reader_next() does (drain the old ring, report it once,
 * go on with the new ring from its oldest message), and probe a quiet
 * ring now and then for a producer that died and was succeeded without
 * marking our ring replaced. -1: Python exception set.
 */
/*
 * libshm returns -EDEADLK (or -EAGAIN) instead of waiting for a live
 * producer stopped inside a header update (descheduled, most likely):
 * the outcome is not known yet. To Python that is "nothing yet"; a
 * reader with a timeout waits it out (reader_get).
 */
static bool
producer_stalled(int rc)
{
	return rc == -EDEADLK || rc == -EAGAIN;
}

static int
reader_settle(ReaderObject *self, int rc, struct shmr_msg *m)
{
	if (producer_stalled(rc))
		return SHMR_EMPTY;
	if (rc == SHMR_EMPTY)
		reader_probe(self);
	if (rc == SHMR_RESTART || (rc == SHMR_EMPTY && self->stale)) {
		rc = reader_attach(self, SHMR_FROM_OLDEST, 0, false);
		if (rc == -ENOENT || rc == -EAGAIN) {
			self->stale = true;	/* not there yet */
			return SHMR_EMPTY;
		}
		if (rc < 0) {
			if (!PyErr_Occurred())
				raise_rc(rc, self->name);
			return -1;
		}
		m->seq = self->cur.seq;
		m->lost = 0;
		return SHMR_RESTART;
	}
	if (rc == SHMR_EOF)
		self->eof = true;
	if (rc < 0) {
		raise_rc(rc, self->name);
		return -1;
	}
	return rc;
}

/*
 * Wait up to ms milliseconds for the ring to move past the cursor, GIL
 * released, on a copy of the cursor and our own reference to the ring.
 * 0, or -1 with an exception (a signal handler raised).
 */
static int
reader_wait_slice(ReaderObject *self, long long ms, bool stalled)
{
	RingObject *obj = self->ringobj;
	struct shmr_cursor cur = self->cur;
	bool stale = self->stale;
	int rc = 0;

	if (ms > WAIT_SLICE_MS)
		ms = WAIT_SLICE_MS;
	if (stale && ms > STALE_MS)
		ms = STALE_MS;
	/* The ring may hold data we cannot place yet: a wait on it would
	 * return at once. Nap while the producer finishes its update. */
	if (stalled && ms > STALL_NAP_MS)
		ms = STALL_NAP_MS;
	Py_INCREF(obj);
	Py_BEGIN_ALLOW_THREADS
	if (stale || stalled) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	} else {
		rc = shmr_cursor_wait(obj->ring, &cur, (int)ms, 0);
	}
	Py_END_ALLOW_THREADS
	Py_DECREF(obj);
	(void)rc;	/* 0, -ETIMEDOUT or -EINTR: the caller reads again */
	return PyErr_CheckSignals();
}

enum { R_COPY, R_PEEK };

/*
 * The next outcome, waiting up to timeout_ms (-1: forever). For R_COPY
 * the payload goes to buf (buflen bytes; NULL: the reader's own buffer,
 * looked up after each wait); for R_PEEK m->data points into the mapping
 * and self->cur still points at the message. Returns an enum shmr_status
 * (SHMR_EMPTY: timed out), or -1 with an exception.
 */
static int
reader_get(ReaderObject *self, long long timeout_ms, int how, void *buf,
    size_t buflen, struct shmr_msg *m)
{
	long long deadline = 0, left;
	bool stalled;
	int rc;

	for (;;) {
		if (reader_live(self) < 0)
			return -1;
		if (self->eof)
			return SHMR_EOF;
		if (how == R_PEEK)
			rc = shmr_cursor_peek(self->ringobj->ring, &self->cur, m);
		else if (buf == NULL)
			rc = shmr_cursor_read(self->ringobj->ring, &self->cur,
			    self->buf, self->buflen, m);
		else
			rc = shmr_cursor_read(self->ringobj->ring, &self->cur,
			    buf, buflen, m);
		if (rc == -ENOBUFS) {
			PyErr_Format(PyExc_BufferError, "message %llu needs %zu "
			    "bytes, the buffer has %zu",
			    (unsigned long long)m->seq, m->len, buflen);
			return -1;
		}
		stalled = producer_stalled(rc);
		if ((rc = reader_settle(self, rc, m)) != SHMR_EMPTY)
			return rc;
		if (timeout_ms == 0)
			return SHMR_EMPTY;
		if (deadline == 0 && timeout_ms > 0)
			deadline = mono_ms() + timeout_ms;
		left = timeout_ms < 0 ? WAIT_SLICE_MS : deadline - mono_ms();
		if (left <= 0)
			return SHMR_EMPTY;
		if (reader_wait_slice(self, left, stalled) < 0)
			return -1;
	}
}

/* The Python item for a non-message outcome (None: timed out). */
static PyObject *
outcome_item(ReaderObject *self, int rc, const struct shmr_msg *m)
{
	switch (rc) {
	case SHMR_OVERRUN:
		return overrun_new(m->lost, m->seq);
	case SHMR_RESTART:
		return restart_new(m->seq, shmr_ring_epoch(self->ringobj->ring));
	case SHMR_EMPTY:
		Py_RETURN_NONE;
	case SHMR_EOF:
		PyErr_SetString(PyExc_EOFError,
		    "end of stream: the producer closed the ring");
		return NULL;
	default:
		return NULL;	/* -1: exception set */
	}
}

static PyObject *
reader_next_item(ReaderObject *self, long long timeout_ms)
{
	struct shmr_msg m;
	int rc;

	rc = reader_get(self, timeout_ms, R_COPY, NULL, 0, &m);
	if (rc == SHMR_MSG) {
		self->last_seq = m.seq;
		self->have_last = true;
		return message_new(m.seq, m.data, m.len);
	}
	return outcome_item(self, rc, &m);
}

static int
Reader_init(ReaderObject *self, PyObject *args, PyObject *kw)
{
	PyObject *nameobj, *start = NULL;
	enum shmr_from from = SHMR_FROM_OLDEST;
	unsigned long long seq = 0;
	int trust = 0;
	const char *name;

	if (self->ringobj != NULL) {
		PyErr_SetString(PyExc_TypeError, "Reader is already open");
		return -1;
	}
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$p:Reader",
	    KW("name", "start", "trust_any_owner"), &nameobj, &start, &trust))
		return -1;
	if (get_name(nameobj, &name) < 0)
		return -1;
	if (start == NULL || start == Py_None) {
		from = SHMR_FROM_OLDEST;
	} else if (PyUnicode_Check(start)) {
		if (PyUnicode_CompareWithASCIIString(start, "oldest") == 0)
			from = SHMR_FROM_OLDEST;
		else if (PyUnicode_CompareWithASCIIString(start, "latest") == 0)
			from = SHMR_FROM_LATEST;
		else if (PyUnicode_CompareWithASCIIString(start, "end") == 0)
			from = SHMR_FROM_END;
		else {
			PyErr_Format(PyExc_ValueError, "start must be 'oldest', "
			    "'latest', 'end' or a sequence number, not %R",
			    start);
			return -1;
		}
	} else if (PyLong_Check(start)) {
		seq = PyLong_AsUnsignedLongLong(start);
		if (PyErr_Occurred())
			return -1;
		from = SHMR_FROM_SEQ;
	} else {
		PyErr_Format(PyExc_TypeError, "start must be str or int, not %s",
		    Py_TYPE(start)->tp_name);
		return -1;
	}
	snprintf(self->name, sizeof(self->name), "%s", name);
	self->trust_any_owner = trust;
	if ((self->msgs = PyMem_Calloc(BATCH_MSGS, sizeof(*self->msgs))) ==
	    NULL) {
		PyErr_NoMemory();
		return -1;
	}
	return reader_attach(self, from, seq, true);
}

/* close(): everything but the asyncio eventfd, which an event loop may
 * still watch (aio_stop() made it readable); the deallocator frees it. */
static void
reader_release(ReaderObject *self)
{
	if (self->aio != NULL)
		aio_stop(self->aio);
	Py_CLEAR(self->ringobj);
	PyMem_Free(self->buf);
	self->buf = NULL;
	self->buflen = 0;
	PyMem_Free(self->msgs);
	self->msgs = NULL;
}

static void
Reader_dealloc(ReaderObject *self)
{
	if (self->weakrefs != NULL)
		PyObject_ClearWeakRefs((PyObject *)self);
	reader_release(self);
	aio_free(self->aio);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Reader_close(ReaderObject *self, PyObject *unused)
{
	(void)unused;
	reader_release(self);
	Py_RETURN_NONE;
}

static PyObject *
Reader_enter(ReaderObject *self, PyObject *unused)
{
	(void)unused;
	if (reader_live(self) < 0)
		return NULL;
	return Py_NewRef(self);
}

static PyObject *
Reader_exit(ReaderObject *self, PyObject *args)
{
	(void)args;
	reader_release(self);
	Py_RETURN_FALSE;
}

static PyObject *
Reader_iter(ReaderObject *self)
{
	if (reader_live(self) < 0)
		return NULL;
	return Py_NewRef(self);
}

/* for item in reader: blocks; the end of the stream ends the loop. */
static PyObject *
Reader_iternext(ReaderObject *self)
{
	struct shmr_msg m;
	int rc;

	rc = reader_get(self, -1, R_COPY, NULL, 0, &m);
	if (rc == SHMR_MSG) {
		self->last_seq = m.seq;
		self->have_last = true;
		return message_new(m.seq, m.data, m.len);
	}
	if (rc == SHMR_EOF)
		return NULL;	/* StopIteration */
	return outcome_item(self, rc, &m);
}

static PyObject *
Reader_next(ReaderObject *self, PyObject *args, PyObject *kw)
{
	PyObject *t = NULL;
	long long ms;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:next", KW("timeout"),
	    &t) || get_timeout(t, &ms) < 0)
		return NULL;
	return reader_next_item(self, ms);
}

static PyObject *
Reader_read_batch(ReaderObject *self, PyObject *args, PyObject *kw)
{
	Py_ssize_t n, i;
	PyObject *t = NULL, *list, *item;
	struct shmr_msg m;
	long long ms;
	size_t count, payload;
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "n|O:read_batch",
	    KW("n", "timeout"), &n, &t) || get_timeout(t, &ms) < 0)
		return NULL;
	if (n < 1) {
		PyErr_SetString(PyExc_ValueError, "n must be at least 1");
		return NULL;
	}
	if (reader_live(self) < 0)
		return NULL;
	/* Wait for the first outcome without taking it: a copy of the
	 * cursor peeks, so the batch below starts with it. */
	if (!self->eof) {
		struct shmr_cursor c = self->cur;

		rc = shmr_cursor_peek(self->ringobj->ring, &c, &m);
		if ((rc == SHMR_EMPTY || producer_stalled(rc)) && ms != 0) {
			rc = reader_get(self, ms, R_PEEK, NULL, 0, &m);
			if (rc < 0)
				return NULL;
			if (rc != SHMR_MSG && rc != SHMR_EMPTY &&
			    rc != SHMR_EOF) {
				/* A restart or an overrun was taken by the
				 * wait: it is the batch's first item. */
				if ((list = PyList_New(1)) == NULL)
					return NULL;
				if ((item = outcome_item(self, rc, &m)) ==
				    NULL) {
					Py_DECREF(list);
					return NULL;
				}
				PyList_SET_ITEM(list, 0, item);
				return list;
			}
		}
	}
	if ((list = PyList_New(0)) == NULL)
		return NULL;
	/*
	 * Stop at BATCH_BYTES of payload: a list of thousands of large
	 * bytes objects lives beyond the cache, and when it dies glibc gives
	 * its pages back to the kernel (trim), to fault them in again for the
	 * next batch. Small batches reuse the same warm memory.
	 */
	for (i = 0, payload = 0; i < n && !self->eof &&
	    payload < BATCH_BYTES;) {
		size_t want = (size_t)(n - i) < BATCH_MSGS ? (size_t)(n - i) :
		    BATCH_MSGS;

		/* The first message may be up to max_msg; then the rest of
		 * the budget. A message beyond it ends the batch (-ENOBUFS:
		 * the cursor did not move; the next call starts with it). */
		rc = shmr_cursor_read_batch(self->ringobj->ring, &self->cur,
		    self->buf, payload == 0 ? self->buflen :
		    BATCH_BYTES - payload, self->msgs, want, &count);
		if (rc == -ENOBUFS && payload > 0)
			break;
		if (rc == SHMR_MSG) {
			for (size_t k = 0; k < count; k++) {
				item = message_new(self->msgs[k].seq,
				    self->msgs[k].data, self->msgs[k].len);
				if (item == NULL || PyList_Append(list, item)) {
					Py_XDECREF(item);
					goto fail;
				}
				Py_DECREF(item);
				/* As libshm fills its buffer: 8-byte aligned. */
				payload += (self->msgs[k].len + 7) & ~(size_t)7;
			}
			self->last_seq = self->msgs[count - 1].seq;
			self->have_last = true;
			i += (Py_ssize_t)count;
			continue;
		}
		m = self->msgs[0];
		if ((rc = reader_settle(self, rc, &m)) < 0)
			goto fail;
		if (rc == SHMR_EMPTY || rc == SHMR_EOF)
			break;
		if ((item = outcome_item(self, rc, &m)) == NULL ||
		    PyList_Append(list, item)) {
			Py_XDECREF(item);
			goto fail;
		}
		Py_DECREF(item);
		i++;
	}
	if (PyList_GET_SIZE(list) == 0 && self->eof) {
		Py_DECREF(list);
		return outcome_item(self, SHMR_EOF, &m);
	}
	return list;
fail:
	Py_DECREF(list);
	return NULL;
}

static PyObject *
Reader_readinto(ReaderObject *self, PyObject *args, PyObject *kw)
{
	PyObject *t = NULL, *ret;
	struct shmr_msg m;
	Py_buffer b;
	long long ms;
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "w*|O:readinto",
	    KW("buffer", "timeout"), &b, &t))
		return NULL;
	if (get_timeout(t, &ms) < 0) {
		PyBuffer_Release(&b);
		return NULL;
	}
	rc = reader_get(self, ms, R_COPY, b.buf, (size_t)b.len, &m);
	PyBuffer_Release(&b);
	if (rc == SHMR_MSG) {
		self->last_seq = m.seq;
		self->have_last = true;
		return PyLong_FromSize_t(m.len);
	}
	ret = outcome_item(self, rc, &m);
	return ret;
}

static PyObject *
Reader_view(ReaderObject *self, PyObject *args, PyObject *kw)
{
	struct shmr_cursor at;
	struct shmr_msg m;
	ViewObject *v;
	PyObject *t = NULL;
	long long ms;
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:view", KW("timeout"),
	    &t) || get_timeout(t, &ms) < 0)
		return NULL;
	for (;;) {
		rc = reader_get(self, ms, R_PEEK, NULL, 0, &m);
		if (rc != SHMR_MSG)
			return outcome_item(self, rc, &m);
		at = self->cur;
		/* Step past it now; the view checks on its own copy later.
		 * Already overwritten: the next read reports the loss. */
		if (shmr_cursor_consume(self->ringobj->ring, &self->cur,
		    &m) == 0)
			break;
	}
	if ((v = PyObject_New(ViewObject, &View_Type)) == NULL)
		return NULL;
	v->ring = (RingObject *)Py_NewRef(self->ringobj);
	v->cur = at;
	v->msg = m;
	self->last_seq = m.seq;
	self->have_last = true;
	return (PyObject *)v;
}

static PyObject *
Reader_wait(ReaderObject *self, PyObject *args, PyObject *kw)
{
	PyObject *t = NULL;
	struct shmr_cursor c;
	struct shmr_msg m;
	long long ms, deadline;
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:wait", KW("timeout"),
	    &t) || get_timeout(t, &ms) < 0 || reader_live(self) < 0)
		return NULL;
	deadline = ms < 0 ? 0 : mono_ms() + ms;
	for (;;) {
		c = self->cur;	/* look without moving */
		if (self->eof || self->stale)
			Py_RETURN_TRUE;
		rc = shmr_cursor_peek(self->ringobj->ring, &c, &m);
		if (rc != SHMR_EMPTY && !producer_stalled(rc))
			Py_RETURN_TRUE;
		if (reader_probe(self))
			Py_RETURN_TRUE;
		if (ms >= 0 && mono_ms() >= deadline)
			Py_RETURN_FALSE;
		if (reader_wait_slice(self, ms < 0 ? WAIT_SLICE_MS :
		    deadline - mono_ms(), producer_stalled(rc)) < 0 ||
		    reader_live(self) < 0)
			return NULL;
	}
}

static PyObject *
info_dict(const struct shmr_info *in, int alive)
{
	return Py_BuildValue("{s:I,s:I,s:K,s:K,s:l,s:I,s:K,s:K,s:K,s:K,s:K,"
	    "s:K,s:K,s:I,s:I,s:O}",
	    "layout_version", in->layout_version, "max_msg", in->max_msg,
	    "capacity", (unsigned long long)in->capacity,
	    "epoch", (unsigned long long)in->epoch, "pid", (long)in->pid,
	    "state_code", in->state,
	    "next_seq", (unsigned long long)in->next_seq,
	    "oldest_seq", (unsigned long long)in->oldest_seq,
	    "messages", (unsigned long long)in->messages,
	    "bytes", (unsigned long long)in->bytes,
	    "used", (unsigned long long)in->used,
	    "created_ns", (unsigned long long)in->created_ns,
	    "last_publish_ns", (unsigned long long)in->last_publish_ns,
	    "uid", (unsigned)in->uid, "mode", (unsigned)in->mode,
	    "alive", alive == 1 ? Py_True : Py_False);
}

static PyObject *
Reader_raw_info(ReaderObject *self, PyObject *unused)
{
	struct shmr_info in;
	int rc;

	(void)unused;
	if (reader_live(self) < 0)
		return NULL;
	if ((rc = shmr_ring_info(self->ringobj->ring, &in)) < 0)
		return raise_rc(rc, self->name);
	return info_dict(&in, shmr_ring_alive(self->ringobj->ring));
}

/* Arm the asyncio helper: one wait on the current cursor, then a write
 * to the eventfd returned. A no-op while a wait is pending. */
static PyObject *
Reader_arm(ReaderObject *self, PyObject *unused)
{
	RingObject *old = NULL;

	(void)unused;
	if (reader_live(self) < 0)
		return NULL;
	if (self->aio != NULL && (self->aio->pid != getpid() ||
	    self->aio->stopped)) {
		/* Inherited through fork(), or closed and opened again. */
		aio_free(self->aio);
		self->aio = NULL;
	}
	if (self->aio == NULL && (self->aio = aio_new()) == NULL)
		return NULL;
	pthread_mutex_lock(&self->aio->mu);
	if (!self->aio->armed) {
		old = self->aio->ringobj;
		self->aio->ringobj = (RingObject *)Py_NewRef(self->ringobj);
		self->aio->cur = self->cur;
		self->aio->sleep_only = self->stale || self->eof;
		self->aio->armed = true;
		pthread_cond_signal(&self->aio->cv);
	}
	pthread_mutex_unlock(&self->aio->mu);
	Py_XDECREF(old);
	return PyLong_FromLong(self->aio->efd);
}

static PyObject *
Reader_anext(ReaderObject *self)
{
	if (anext_hook == NULL) {
		PyErr_SetString(PyExc_RuntimeError,
		    "import shmring, not shmring._shmring, for asyncio");
		return NULL;
	}
	return PyObject_CallOneArg(anext_hook, (PyObject *)self);
}

static PyObject *
Reader_get_name(ReaderObject *self, void *closure)
{
	(void)closure;
	return PyUnicode_FromString(self->name);
}

static PyObject *
Reader_get_epoch(ReaderObject *self, void *closure)
{
	(void)closure;
	if (reader_live(self) < 0)
		return NULL;
	return PyLong_FromUnsignedLongLong(shmr_ring_epoch(
	    self->ringobj->ring));
}

static PyObject *
Reader_get_max_msg(ReaderObject *self, void *closure)
{
	(void)closure;
	if (reader_live(self) < 0)
		return NULL;
	return PyLong_FromUnsignedLong(shmr_ring_max_msg(self->ringobj->ring));
}

static PyObject *
Reader_get_closed(ReaderObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(self->ringobj == NULL);
}

static PyObject *
Reader_get_eof(ReaderObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(self->eof);
}

static PyObject *
Reader_get_next_seq(ReaderObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromUnsignedLongLong(self->cur.seq);
}

static PyObject *
Reader_get_last_seq(ReaderObject *self, void *closure)
{
	(void)closure;
	if (!self->have_last)
		Py_RETURN_NONE;
	return PyLong_FromUnsignedLongLong(self->last_seq);
}

static PyMethodDef Reader_methods[] = {
	{ "next", METH(Reader_next), METH_VARARGS | METH_KEYWORDS,
	  "next(timeout=None)\n--\n\n"
	  "The next item: a Message, an Overrun or a Restart. Waits up to\n"
	  "timeout seconds (None: no limit, 0: do not wait) without holding\n"
	  "the GIL or burning CPU, and returns None if nothing came.\n"
	  "Raises EOFError once the producer closed the ring and every\n"
	  "message was read. A producer stopped inside an update (preempted)\n"
	  "is waited for like a quiet one: nothing is readable until it goes\n"
	  "on." },
	{ "read_batch", METH(Reader_read_batch), METH_VARARGS | METH_KEYWORDS,
	  "read_batch(n, timeout=None)\n--\n\n"
	  "Up to n items (Messages, and Overrun/Restart where they occur),\n"
	  "as a list, with one synchronisation per run of messages: the\n"
	  "fastest way to drain a ring. Waits like next() for the first\n"
	  "item; [] on timeout; EOFError at the end of the stream.\n"
	  "A batch ends early once it holds 64 KiB of payload (at least one\n"
	  "message): larger lists of bytes would live in cold memory. So\n"
	  "fewer than n items does not mean the ring is drained; call again\n"
	  "(timeout=0 returns [] when it is)." },
	{ "readinto", METH(Reader_readinto), METH_VARARGS | METH_KEYWORDS,
	  "readinto(buffer, timeout=None)\n--\n\n"
	  "Copy the next message's payload into a writable buffer (bytearray,\n"
	  "numpy array, mmap...) and return its length; its sequence number\n"
	  "is then last_seq. An Overrun or Restart is returned as such, None\n"
	  "on timeout, EOFError at the end. BufferError (and no progress) if\n"
	  "the message does not fit." },
	{ "view", METH(Reader_view), METH_VARARGS | METH_KEYWORDS,
	  "view(timeout=None)\n--\n\n"
	  "The next message as a zero-copy View into the shared mapping (or\n"
	  "an Overrun/Restart item, None on timeout, EOFError at the end).\n"
	  "Check the view after using its bytes: see View.check()." },
	{ "wait", METH(Reader_wait), METH_VARARGS | METH_KEYWORDS,
	  "wait(timeout=None)\n--\n\n"
	  "Wait until something can be read (a message, a loss, a restart,\n"
	  "the end); True if so, False on timeout. The GIL is released and\n"
	  "no CPU is used while waiting." },
	{ "info", METH(Reader_raw_info), METH_NOARGS,
	  "info()\n--\n\n"
	  "A snapshot of the ring header as a dict (see shmring.info())." },
	{ "close", METH(Reader_close), METH_NOARGS,
	  "close()\n--\n\n"
	  "Release the ring. Views of it stay valid until they are gone." },
	{ "_arm", METH(Reader_arm), METH_NOARGS,
	  "_arm()\n--\n\n"
	  "asyncio support: start one background wait; returns the eventfd\n"
	  "that becomes readable when it ends." },
	{ "__enter__", METH(Reader_enter), METH_NOARGS, NULL },
	{ "__exit__", METH(Reader_exit), METH_VARARGS, NULL },
	{ NULL, NULL, 0, NULL }
};

static PyGetSetDef Reader_getset[] = {
	{ "name", (getter)Reader_get_name, NULL, "The ring's name.", NULL },
	{ "epoch", (getter)Reader_get_epoch, NULL,
	  "Epoch of the ring followed (changes after a Restart).", NULL },
	{ "max_msg", (getter)Reader_get_max_msg, NULL,
	  "Largest payload of the ring, in bytes.", NULL },
	{ "closed", (getter)Reader_get_closed, NULL,
	  "True after close().", NULL },
	{ "eof", (getter)Reader_get_eof, NULL,
	  "True once the end of the stream was reached.", NULL },
	{ "next_seq", (getter)Reader_get_next_seq, NULL,
	  "Sequence number the reader expects next.", NULL },
	{ "last_seq", (getter)Reader_get_last_seq, NULL,
	  "Sequence number of the last message delivered, or None.", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyAsyncMethods Reader_as_async = {
	.am_aiter = (unaryfunc)Reader_iter,
	.am_anext = (unaryfunc)Reader_anext,
};

static PyTypeObject Reader_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "shmring.Reader",
	.tp_basicsize = sizeof(ReaderObject),
	.tp_dealloc = (destructor)Reader_dealloc,
	.tp_as_async = &Reader_as_async,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_weaklistoffset = offsetof(ReaderObject, weakrefs),
	.tp_iter = (getiterfunc)Reader_iter,
	.tp_iternext = (iternextfunc)Reader_iternext,
	.tp_methods = Reader_methods,
	.tp_getset = Reader_getset,
	.tp_init = (initproc)Reader_init,
	.tp_new = PyType_GenericNew,
	.tp_doc =
	    "Reader(name, start='oldest', *, trust_any_owner=False)\n--\n\n"
	    "Follow ring `name` from `start`: 'oldest' (the oldest message\n"
	    "still in the ring), 'latest' (the newest one), 'end' (only what\n"
	    "is published from now on) or a sequence number.\n"
	    "\n"
	    "Iterating (for, or async for) yields Message items in order; a\n"
	    "loss is an Overrun item with the exact count, a producer\n"
	    "restart a Restart item; the end of the stream (the producer\n"
	    "closed the ring) ends the iteration. Waits release the GIL and\n"
	    "sleep on a futex. By default only rings owned by you or root\n"
	    "are trusted; trust_any_owner=True accepts any owner.\n"
	    "\n"
	    "Errors: FileNotFoundError (no such ring), PermissionError,\n"
	    "shmring.CorruptRing, BlockingIOError (still being created).",
};

/* ---- Writer -------------------------------------------------------------- */

typedef struct {
	PyObject_HEAD
	struct shmr_writer *w;		/* NULL once closed */
	char		 name[SHMR_NAME_MAX + 1];
} WriterObject;

static PyTypeObject Writer_Type;

static int
writer_live(WriterObject *self)
{
	if (self->w == NULL) {
		PyErr_SetString(PyExc_ValueError, "operation on a closed writer");
		return -1;
	}
	return 0;
}

static int
Writer_init(WriterObject *self, PyObject *args, PyObject *kw)
{
	struct shmr_create_opts o = { 0, 0, 0600, (gid_t)-1 };
	unsigned long long capacity = 0;
	unsigned long max_msg = 0;
	unsigned int mode = 0600;
	long gid = -1;
	PyObject *nameobj;
	const char *name;
	int rc;

	if (self->w != NULL) {
		PyErr_SetString(PyExc_TypeError, "Writer is already open");
		return -1;
	}
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$KkIl:Writer",
	    KW("name", "capacity", "max_msg", "mode", "gid"), &nameobj,
	    &capacity, &max_msg, &mode, &gid))
		return -1;
	if (get_name(nameobj, &name) < 0)
		return -1;
	if (max_msg > SHMR_MSG_LIMIT) {
		PyErr_SetString(PyExc_ValueError, "max_msg too large");
		return -1;
	}
	o.capacity = capacity;
	o.max_msg = (uint32_t)max_msg;
	o.mode = (mode_t)mode;
	o.gid = (gid_t)gid;
	Py_BEGIN_ALLOW_THREADS
	rc = shmr_writer_create(name, &o, &self->w);
	Py_END_ALLOW_THREADS
	if (rc < 0) {
		self->w = NULL;
		if (rc == -EINVAL) {
			PyErr_Format(PyExc_ValueError, "%s: %s (capacity: a power "
			    "of two from 64 KiB to 1 TiB; max_msg <= capacity "
			    "/ 8; mode within 0755 with owner read)", name,
			    shmr_strerror(rc));
			return -1;
		}
		raise_rc(rc, name);
		return -1;
	}
	snprintf(self->name, sizeof(self->name), "%s", name);
	return 0;
}

static void
Writer_dealloc(WriterObject *self)
{
	if (self->w != NULL) {
		/* Like a file: closing by the collector is a bug to know of. */
		if (PyErr_WarnFormat(PyExc_ResourceWarning, 1,
		    "unclosed shmring.Writer '%s'", self->name) < 0)
			PyErr_WriteUnraisable((PyObject *)self);
		(void)shmr_writer_close(self->w, SHMR_CLOSE_UNLINK);
		self->w = NULL;
	}
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Writer_publish(WriterObject *self, PyObject *data)
{
	uint64_t seq;
	Py_buffer b;
	int rc;

	if (writer_live(self) < 0)
		return NULL;
	if (PyBytes_CheckExact(data)) {
		rc = shmr_writer_publish(self->w, PyBytes_AS_STRING(data),
		    (size_t)PyBytes_GET_SIZE(data), &seq);
	} else {
		if (PyObject_GetBuffer(data, &b, PyBUF_SIMPLE) < 0)
			return NULL;
		rc = shmr_writer_publish(self->w, b.buf, (size_t)b.len, &seq);
		PyBuffer_Release(&b);
	}
	if (rc < 0)
		return raise_rc(rc, self->name);
	return PyLong_FromUnsignedLongLong(seq);
}

static PyObject *
Writer_publish_batch(WriterObject *self, PyObject *iterable)
{
	struct shmr_iov *iov = NULL;
	Py_buffer *bufs = NULL;
	PyObject *seqobj, *ret = NULL;
	Py_ssize_t n, i, got = 0;
	uint64_t first;
	int rc;

	if (writer_live(self) < 0)
		return NULL;
	if ((seqobj = PySequence_Fast(iterable,
	    "publish_batch() takes an iterable of bytes-like objects")) ==
	    NULL)
		return NULL;
	n = PySequence_Fast_GET_SIZE(seqobj);
	iov = PyMem_Calloc((size_t)n + 1, sizeof(*iov));
	bufs = PyMem_Calloc((size_t)n + 1, sizeof(*bufs));
	if (iov == NULL || bufs == NULL) {
		PyErr_NoMemory();
		goto out;
	}
	for (i = 0; i < n; i++) {
		PyObject *o = PySequence_Fast_GET_ITEM(seqobj, i);

		if (PyObject_GetBuffer(o, &bufs[i], PyBUF_SIMPLE) < 0)
			goto out;
		got++;
		iov[i].data = bufs[i].buf;
		iov[i].len = (size_t)bufs[i].len;
	}
	if ((rc = shmr_writer_publish_batch(self->w, iov, (size_t)n,
	    &first)) < 0)
		raise_rc(rc, self->name);
	else
		ret = PyLong_FromUnsignedLongLong(first);
out:
	for (i = 0; i < got; i++)
		PyBuffer_Release(&bufs[i]);
	PyMem_Free(bufs);
	PyMem_Free(iov);
	Py_DECREF(seqobj);
	return ret;
}

static PyObject *
writer_close(WriterObject *self, bool unlink)
{
	int rc;

	if (self->w == NULL)
		Py_RETURN_NONE;
	rc = shmr_writer_close(self->w, unlink ? SHMR_CLOSE_UNLINK : 0);
	self->w = NULL;	/* freed even on error */
	if (rc < 0)
		return raise_rc(rc, self->name);
	Py_RETURN_NONE;
}

static PyObject *
Writer_close(WriterObject *self, PyObject *args, PyObject *kw)
{
	int unlink = 1;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|p:close", KW("unlink"),
	    &unlink))
		return NULL;
	return writer_close(self, unlink);
}

static PyObject *
Writer_enter(WriterObject *self, PyObject *unused)
{
	(void)unused;
	if (writer_live(self) < 0)
		return NULL;
	return Py_NewRef(self);
}

static PyObject *
Writer_exit(WriterObject *self, PyObject *args)
{
	PyObject *r;

	(void)args;
	if ((r = writer_close(self, true)) == NULL)
		return NULL;
	Py_DECREF(r);
	Py_RETURN_FALSE;
}

static PyObject *
Writer_raw_info(WriterObject *self, PyObject *unused)
{
	struct shmr_info in;
	int rc;

	(void)unused;
	if (writer_live(self) < 0)
		return NULL;
	if ((rc = shmr_writer_info(self->w, &in)) < 0)
		return raise_rc(rc, self->name);
	return info_dict(&in, 1);
}

static PyObject *
Writer_get_name(WriterObject *self, void *closure)
{
	(void)closure;
	return PyUnicode_FromString(self->name);
}

static PyObject *
Writer_get_closed(WriterObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(self->w == NULL);
}

enum { W_CAPACITY, W_MAX_MSG, W_EPOCH, W_NEXT_SEQ };

/* A field of the writer's own snapshot; closure says which. */
static PyObject *
Writer_get_field(WriterObject *self, void *closure)
{
	struct shmr_info in;

	if (writer_live(self) < 0)
		return NULL;
	(void)shmr_writer_info(self->w, &in);
	switch ((int)(intptr_t)closure) {
	case W_CAPACITY:
		return PyLong_FromUnsignedLongLong(in.capacity);
	case W_MAX_MSG:
		return PyLong_FromUnsignedLong(in.max_msg);
	case W_EPOCH:
		return PyLong_FromUnsignedLongLong(in.epoch);
	default:
		return PyLong_FromUnsignedLongLong(in.next_seq);
	}
}

static PyMethodDef Writer_methods[] = {
	{ "publish", METH(Writer_publish), METH_O,
	  "publish(data)\n--\n\n"
	  "Publish one message: any bytes-like object (bytes, bytearray,\n"
	  "memoryview, numpy array...) of up to max_msg bytes. Returns its\n"
	  "sequence number. Never waits for readers." },
	{ "publish_batch", METH(Writer_publish_batch), METH_O,
	  "publish_batch(messages)\n--\n\n"
	  "Publish every bytes-like object of an iterable, in order, with\n"
	  "one wake-up of the readers. All or nothing: if one is too large,\n"
	  "none is published. Returns the sequence number of the first." },
	{ "close", METH(Writer_close), METH_VARARGS | METH_KEYWORDS,
	  "close(unlink=True)\n--\n\n"
	  "Mark the ring closed (readers see the end of the stream after\n"
	  "the last message) and, with unlink, remove its name. Readers\n"
	  "already attached keep their mapping. Calling it again does\n"
	  "nothing." },
	{ "info", METH(Writer_raw_info), METH_NOARGS,
	  "info()\n--\n\n"
	  "The producer's view of the ring header, as a dict." },
	{ "__enter__", METH(Writer_enter), METH_NOARGS, NULL },
	{ "__exit__", METH(Writer_exit), METH_VARARGS,
	  "Leaving a with block calls close(unlink=True)." },
	{ NULL, NULL, 0, NULL }
};

static PyGetSetDef Writer_getset[] = {
	{ "name", (getter)Writer_get_name, NULL, "The ring's name.", NULL },
	{ "closed", (getter)Writer_get_closed, NULL, "True after close().",
	  NULL },
	{ "capacity", (getter)Writer_get_field, NULL,
	  "Size of the data area in bytes.", (void *)(intptr_t)W_CAPACITY },
	{ "max_msg", (getter)Writer_get_field, NULL,
	  "Largest payload in bytes.", (void *)(intptr_t)W_MAX_MSG },
	{ "epoch", (getter)Writer_get_field, NULL,
	  "The ring's epoch: its creation time in microseconds.",
	  (void *)(intptr_t)W_EPOCH },
	{ "next_seq", (getter)Writer_get_field, NULL,
	  "Sequence number the next message gets.",
	  (void *)(intptr_t)W_NEXT_SEQ },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyTypeObject Writer_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "shmring.Writer",
	.tp_basicsize = sizeof(WriterObject),
	.tp_dealloc = (destructor)Writer_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_methods = Writer_methods,
	.tp_getset = Writer_getset,
	.tp_init = (initproc)Writer_init,
	.tp_new = PyType_GenericNew,
	.tp_doc =
	    "Writer(name, *, capacity=0, max_msg=0, mode=0o600, gid=-1)\n--\n\n"
	    "Create ring `name` and be its only producer (or take it over\n"
	    "if its previous producer died or closed it: a new epoch).\n"
	    "capacity: data area in bytes, a power of two from 64 KiB to\n"
	    "1 TiB (0: 64 MiB), reserved up front; max_msg: largest payload\n"
	    "(0: min(capacity / 8, 1 MiB)); mode: permission bits, readers\n"
	    "need read permission; gid: group of the object (-1: leave).\n"
	    "\n"
	    "The producer never waits: when the ring is full the oldest\n"
	    "messages are overwritten and lagging readers get an Overrun.\n"
	    "Errors: OSError EBUSY (a live producer owns the ring),\n"
	    "PermissionError, OSError ENOSPC (/dev/shm too small),\n"
	    "ValueError (bad name, capacity, max_msg or mode).",
};

/* ---- module functions ---------------------------------------------------- */

static int
collect_name(const char *name, void *arg)
{
	PyObject *s = PyUnicode_DecodeFSDefault(name);
	int rc;

	if (s == NULL)
		return -ENOMEM;
	rc = PyList_Append(arg, s);
	Py_DECREF(s);
	return rc < 0 ? -ENOMEM : 0;
}

static PyObject *
mod_names(PyObject *mod, PyObject *unused)
{
	PyObject *list;
	int rc;

	(void)mod;
	(void)unused;
	if ((list = PyList_New(0)) == NULL)
		return NULL;
	if ((rc = shmr_list(collect_name, list)) < 0) {
		Py_DECREF(list);
		if (PyErr_Occurred())
			return NULL;
		return raise_rc(rc, "/dev/shm");
	}
	return list;
}

static PyObject *
mod_raw_info(PyObject *mod, PyObject *args, PyObject *kw)
{
	PyObject *nameobj, *d;
	int trust = 1, rc, alive;
	struct shmr_info in;
	const char *name;
	RingObject *r;

	(void)mod;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$p:_raw_info",
	    KW("name", "trust_any_owner"), &nameobj, &trust) ||
	    get_name(nameobj, &name) < 0)
		return NULL;
	if ((r = ring_open(name, trust)) == NULL)
		return NULL;
	if ((rc = shmr_ring_info(r->ring, &in)) < 0) {
		Py_DECREF(r);
		return raise_rc(rc, name);
	}
	alive = shmr_ring_alive(r->ring);
	Py_DECREF(r);
	d = info_dict(&in, alive);
	return d;
}

static PyObject *
mod_unlink(PyObject *mod, PyObject *nameobj)
{
	const char *name;
	int rc;

	(void)mod;
	if (get_name(nameobj, &name) < 0)
		return NULL;
	if ((rc = shmr_unlink(name)) < 0)
		return raise_rc(rc, name);
	Py_RETURN_NONE;
}

static PyObject *
mod_set_anext(PyObject *mod, PyObject *fn)
{
	(void)mod;
	Py_XSETREF(anext_hook, Py_NewRef(fn));
	Py_RETURN_NONE;
}

static PyObject *
mod_version(PyObject *mod, PyObject *unused)
{
	(void)mod;
	(void)unused;
	return PyUnicode_FromString(shmr_version());
}

static PyMethodDef mod_methods[] = {
	{ "_names", METH(mod_names), METH_NOARGS,
	  "_names()\n--\n\nNames of the objects in /dev/shm named like rings." },
	{ "_raw_info", METH(mod_raw_info), METH_VARARGS | METH_KEYWORDS,
	  "_raw_info(name, *, trust_any_owner=True)\n--\n\n"
	  "The ring header snapshot and liveness as a dict." },
	{ "unlink", METH(mod_unlink), METH_O,
	  "unlink(name)\n--\n\n"
	  "Remove ring `name` (and its wait object). Processes that have it\n"
	  "mapped keep working." },
	{ "_set_anext", METH(mod_set_anext), METH_O, NULL },
	{ "libshm_version", METH(mod_version), METH_NOARGS,
	  "libshm_version()\n--\n\nVersion of the libshm linked in." },
	{ NULL, NULL, 0, NULL }
};

static struct PyModuleDef shmring_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "shmring._shmring",
	.m_doc = "The C core of shmring; import shmring instead.",
	.m_size = -1,
	.m_methods = mod_methods,
};

/* Ready a type and add it; a and b, if given, are its __match_args__
 * (so that `case Message(seq, data):` works). */
static int
add_type(PyObject *m, PyTypeObject *t, const char *name, const char *a,
    const char *b)
{
	PyObject *ma;

	if (PyType_Ready(t) < 0)
		return -1;
	if (a != NULL) {
		if ((ma = Py_BuildValue("(ss)", a, b)) == NULL)
			return -1;
		if (PyDict_SetItemString(t->tp_dict, "__match_args__", ma) <
		    0) {
			Py_DECREF(ma);
			return -1;
		}
		Py_DECREF(ma);
		PyType_Modified(t);
	}
	return PyModule_AddObjectRef(m, name, (PyObject *)t);
}

PyMODINIT_FUNC
PyInit__shmring(void)
{
	PyObject *m;

	if ((m = PyModule_Create(&shmring_module)) == NULL)
		return NULL;
	if (PyType_Ready(&Ring_Type) < 0 ||
	    add_type(m, &Message_Type, "Message", "seq", "data") < 0 ||
	    add_type(m, &Overrun_Type, "Overrun", "lost", "next") < 0 ||
	    add_type(m, &Restart_Type, "Restart", "next", "epoch") < 0 ||
	    add_type(m, &View_Type, "View", NULL, NULL) < 0 ||
	    add_type(m, &Reader_Type, "Reader", NULL, NULL) < 0 ||
	    add_type(m, &Writer_Type, "Writer", NULL, NULL) < 0)
		goto fail;
	CorruptRing = PyErr_NewExceptionWithDoc("shmring.CorruptRing",
	    "The object is not a shmring ring, has another layout version,\n"
	    "or is corrupt (an OSError with errno EPROTO or EBADMSG).",
	    PyExc_OSError, NULL);
	Overwritten = PyErr_NewExceptionWithDoc("shmring.Overwritten",
	    "A zero-copy view's bytes were overwritten by the producer while\n"
	    "in use (an OSError with errno ESTALE): discard what was derived\n"
	    "from them; the reader's next item reports the loss.",
	    PyExc_OSError, NULL);
	if (CorruptRing == NULL || Overwritten == NULL ||
	    PyModule_AddObjectRef(m, "CorruptRing", CorruptRing) < 0 ||
	    PyModule_AddObjectRef(m, "Overwritten", Overwritten) < 0 ||
	    PyModule_AddIntConstant(m, "CAP_MIN", (long)SHMR_CAP_MIN) < 0 ||
	    PyModule_AddObject(m, "CAP_MAX", PyLong_FromUnsignedLongLong(
	    SHMR_CAP_MAX)) < 0 ||
	    PyModule_AddIntConstant(m, "NAME_MAX", SHMR_NAME_MAX) < 0)
		goto fail;
	return m;
fail:
	Py_DECREF(m);
	return NULL;
}
