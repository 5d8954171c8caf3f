/*
 * view.c - shmring.View, a zero-copy message: the buffer protocol over
 * the bytes in the shared mapping, with the check that they were not
 * overwritten meanwhile, and Reader.view() that makes one.
 */
#include "_shmring.h"

typedef struct {
	PyObject_HEAD
	RingObject *ring;		/* keeps the mapping alive */
	struct shmr_cursor cur;		/* cursor at the message */
	struct shmr_msg msg;		/* data points into the mapping */
} ViewObject;

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
		return py_raise_rc(rc, shmr_ring_name(self->ring->ring));
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
		return py_raise_rc(rc, shmr_ring_name(self->ring->ring));
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
		return py_raise_rc(rc, shmr_ring_name(self->ring->ring));
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

PyTypeObject View_Type = {
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

PyObject *
Reader_view(ReaderObject *self, PyObject *args, PyObject *kw)
{
	struct shmr_cursor at;
	struct shmr_msg m;
	ViewObject *v;
	PyObject *t = NULL;
	long long ms;
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:view", KW("timeout"),
	    &t) || py_get_timeout(t, &ms) < 0)
		return NULL;
	for (;;) {
		rc = py_reader_get(self, ms, R_PEEK, NULL, 0, &m);
		if (rc != SHMR_MSG)
			return py_outcome_item(self, rc, &m);
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
