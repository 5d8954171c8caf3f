/*
 * ring.c - RingObject, the owner of one read-only mapping (see
 * _shmring.h on lifetimes), and the items an iteration yields: Message,
 * Overrun and Restart.
 */
#include "_shmring.h"

static void
Ring_dealloc(RingObject *self)
{
	shmr_ring_close(self->ring);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

PyTypeObject Ring_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "shmring._Ring",
	.tp_basicsize = sizeof(RingObject),
	.tp_dealloc = (destructor)Ring_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "A read-only mapping of a ring (internal).",
};

RingObject *
py_ring_open(const char *name, bool trust_any_owner)
{
	struct shmr_open_opts o = { .trust_any_owner = trust_any_owner };
	struct shmr_ring *ring;
	RingObject *obj;
	int rc;

	Py_BEGIN_ALLOW_THREADS
	rc = shmr_ring_open(name, &o, &ring);
	Py_END_ALLOW_THREADS
	if (rc < 0)
		return (RingObject *)py_raise_rc(rc, name);
	if ((obj = PyObject_New(RingObject, &Ring_Type)) == NULL) {
		shmr_ring_close(ring);
		return NULL;
	}
	obj->ring = ring;
	return obj;
}

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

PyObject *
py_message_new(uint64_t seq, const void *data, size_t len)
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

PyObject *
py_overrun_new(uint64_t lost, uint64_t next)
{
	OverrunObject *o = PyObject_New(OverrunObject, &Overrun_Type);

	if (o != NULL) {
		o->lost = lost;
		o->next = next;
	}
	return (PyObject *)o;
}

PyObject *
py_restart_new(uint64_t next, uint64_t epoch)
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
	m = py_message_new(seq, b.buf, (size_t)b.len);
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
	return py_overrun_new(lost, next);
}

static PyObject *
Restart_tp_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	unsigned long long next, epoch;

	(void)type;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "KK:Restart",
	    KW("next", "epoch"), &next, &epoch))
		return NULL;
	return py_restart_new(next, epoch);
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

PyTypeObject Message_Type = {
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

PyTypeObject Overrun_Type = {
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

PyTypeObject Restart_Type = {
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
