/*
 * writer.c - shmring.Writer: the producer of one ring.
 */
#include "_shmring.h"

typedef struct {
	PyObject_HEAD
	struct shmr_writer *w;		/* NULL once closed */
	char		 name[SHMR_NAME_MAX + 1];
} WriterObject;

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
	struct shmr_create_opts o = { .mode = 0600, .gid = (gid_t)-1 };
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
	if (py_get_name(nameobj, &name) < 0)
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
		py_raise_rc(rc, name);
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
		return py_raise_rc(rc, self->name);
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
		py_raise_rc(rc, self->name);
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
		return py_raise_rc(rc, self->name);
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
		return py_raise_rc(rc, self->name);
	return py_info_dict(&in, 1);
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

PyTypeObject Writer_Type = {
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
