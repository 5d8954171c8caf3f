/*
 * reader.c - shmring.Reader: follows a ring through restarts, copying
 * messages out (next, iteration, read_batch, readinto) with waits that
 * release the GIL. Zero-copy views are view.c's, asyncio aio.c's, the
 * info() snapshot info.c's.
 */
#include <time.h>
#include <unistd.h>

#include "_shmring.h"

/*
 * 0 if the reader is open. Checked again after every wait: the GIL was
 * released, and another thread may have closed the reader (freeing its
 * buffers) meanwhile.
 */
int
py_reader_live(ReaderObject *self)
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
		return py_reader_live(self);
	}
	if (rc < 0)
		return raise ? (py_raise_rc(rc, self->name), -1) : rc;
	if ((rc = shmr_cursor_init(ring, &cur, from, seq)) < 0) {
		shmr_ring_close(ring);
		return raise ? (py_raise_rc(rc, self->name), -1) : rc;
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
	self->last_probe = py_mono_ms();
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

	if (!self->stale && py_mono_ms() - self->last_probe >= PROBE_MS) {
		self->last_probe = py_mono_ms();
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
 * reader with a timeout waits it out (py_reader_get).
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
				py_raise_rc(rc, self->name);
			return -1;
		}
		m->seq = self->cur.seq;
		m->lost = 0;
		return SHMR_RESTART;
	}
	if (rc == SHMR_EOF)
		self->eof = true;
	if (rc < 0) {
		py_raise_rc(rc, self->name);
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

/*
 * The next outcome, waiting up to timeout_ms (-1: forever). For R_COPY
 * the payload goes to buf (buflen bytes; NULL: the reader's own buffer,
 * looked up after each wait); for R_PEEK m->data points into the mapping
 * and self->cur still points at the message. Returns an enum shmr_status
 * (SHMR_EMPTY: timed out), or -1 with an exception.
 */
int
py_reader_get(ReaderObject *self, long long timeout_ms, int how, void *buf,
    size_t buflen, struct shmr_msg *m)
{
	long long deadline = 0, left;
	bool stalled;
	int rc;

	for (;;) {
		if (py_reader_live(self) < 0)
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
			deadline = py_mono_ms() + timeout_ms;
		left = timeout_ms < 0 ? WAIT_SLICE_MS : deadline - py_mono_ms();
		if (left <= 0)
			return SHMR_EMPTY;
		if (reader_wait_slice(self, left, stalled) < 0)
			return -1;
	}
}

/* The Python item for a non-message outcome (None: timed out). */
PyObject *
py_outcome_item(ReaderObject *self, int rc, const struct shmr_msg *m)
{
	switch (rc) {
	case SHMR_OVERRUN:
		return py_overrun_new(m->lost, m->seq);
	case SHMR_RESTART:
		return py_restart_new(m->seq, shmr_ring_epoch(self->ringobj->ring));
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

	rc = py_reader_get(self, timeout_ms, R_COPY, NULL, 0, &m);
	if (rc == SHMR_MSG) {
		self->last_seq = m.seq;
		self->have_last = true;
		return py_message_new(m.seq, m.data, m.len);
	}
	return py_outcome_item(self, rc, &m);
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
	if (py_get_name(nameobj, &name) < 0)
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
 * still watch (py_aio_stop() made it readable); the deallocator frees it. */
static void
reader_release(ReaderObject *self)
{
	if (self->aio != NULL)
		py_aio_stop(self->aio);
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
	py_aio_free(self->aio);
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
	if (py_reader_live(self) < 0)
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
	if (py_reader_live(self) < 0)
		return NULL;
	return Py_NewRef(self);
}

/* for item in reader: blocks; the end of the stream ends the loop. */
static PyObject *
Reader_iternext(ReaderObject *self)
{
	struct shmr_msg m;
	int rc;

	rc = py_reader_get(self, -1, R_COPY, NULL, 0, &m);
	if (rc == SHMR_MSG) {
		self->last_seq = m.seq;
		self->have_last = true;
		return py_message_new(m.seq, m.data, m.len);
	}
	if (rc == SHMR_EOF)
		return NULL;	/* StopIteration */
	return py_outcome_item(self, rc, &m);
}

static PyObject *
Reader_next(ReaderObject *self, PyObject *args, PyObject *kw)
{
	PyObject *t = NULL;
	long long ms;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:next", KW("timeout"),
	    &t) || py_get_timeout(t, &ms) < 0)
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
	    KW("n", "timeout"), &n, &t) || py_get_timeout(t, &ms) < 0)
		return NULL;
	if (n < 1) {
		PyErr_SetString(PyExc_ValueError, "n must be at least 1");
		return NULL;
	}
	if (py_reader_live(self) < 0)
		return NULL;
	/* Wait for the first outcome without taking it: a copy of the
	 * cursor peeks, so the batch below starts with it. */
	if (!self->eof) {
		struct shmr_cursor c = self->cur;

		rc = shmr_cursor_peek(self->ringobj->ring, &c, &m);
		if ((rc == SHMR_EMPTY || producer_stalled(rc)) && ms != 0) {
			rc = py_reader_get(self, ms, R_PEEK, NULL, 0, &m);
			if (rc < 0)
				return NULL;
			if (rc != SHMR_MSG && rc != SHMR_EMPTY &&
			    rc != SHMR_EOF) {
				/* A restart or an overrun was taken by the
				 * wait: it is the batch's first item. */
				if ((list = PyList_New(1)) == NULL)
					return NULL;
				if ((item = py_outcome_item(self, rc, &m)) ==
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
				item = py_message_new(self->msgs[k].seq,
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
		if ((item = py_outcome_item(self, rc, &m)) == NULL ||
		    PyList_Append(list, item)) {
			Py_XDECREF(item);
			goto fail;
		}
		Py_DECREF(item);
		i++;
	}
	if (PyList_GET_SIZE(list) == 0 && self->eof) {
		Py_DECREF(list);
		return py_outcome_item(self, SHMR_EOF, &m);
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
	if (py_get_timeout(t, &ms) < 0) {
		PyBuffer_Release(&b);
		return NULL;
	}
	rc = py_reader_get(self, ms, R_COPY, b.buf, (size_t)b.len, &m);
	PyBuffer_Release(&b);
	if (rc == SHMR_MSG) {
		self->last_seq = m.seq;
		self->have_last = true;
		return PyLong_FromSize_t(m.len);
	}
	ret = py_outcome_item(self, rc, &m);
	return ret;
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
	    &t) || py_get_timeout(t, &ms) < 0 || py_reader_live(self) < 0)
		return NULL;
	deadline = ms < 0 ? 0 : py_mono_ms() + ms;
	for (;;) {
		c = self->cur;	/* look without moving */
		if (self->eof || self->stale)
			Py_RETURN_TRUE;
		rc = shmr_cursor_peek(self->ringobj->ring, &c, &m);
		if (rc != SHMR_EMPTY && !producer_stalled(rc))
			Py_RETURN_TRUE;
		if (reader_probe(self))
			Py_RETURN_TRUE;
		if (ms >= 0 && py_mono_ms() >= deadline)
			Py_RETURN_FALSE;
		if (reader_wait_slice(self, ms < 0 ? WAIT_SLICE_MS :
		    deadline - py_mono_ms(), producer_stalled(rc)) < 0 ||
		    py_reader_live(self) < 0)
			return NULL;
	}
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
	if (py_reader_live(self) < 0)
		return NULL;
	return PyLong_FromUnsignedLongLong(shmr_ring_epoch(
	    self->ringobj->ring));
}

static PyObject *
Reader_get_max_msg(ReaderObject *self, void *closure)
{
	(void)closure;
	if (py_reader_live(self) < 0)
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

/* Arm the asyncio helper (aio.c) on the current cursor: its eventfd. */
static PyObject *
Reader_arm(ReaderObject *self, PyObject *unused)
{
	int fd;

	(void)unused;
	if (py_reader_live(self) < 0)
		return NULL;
	if ((fd = py_aio_arm(&self->aio, self->ringobj, &self->cur,
	    self->stale || self->eof)) < 0)
		return NULL;
	return PyLong_FromLong(fd);
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

PyTypeObject Reader_Type = {
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
