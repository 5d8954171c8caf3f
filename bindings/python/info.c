/*
 * info.c - rings by name: the header snapshot as a dict (Reader.info(),
 * Writer.info(), shmring.info()), the list of ring names and unlink.
 */
#include "_shmring.h"

PyObject *
py_info_dict(const struct shmr_info *in, int alive)
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

PyObject *
Reader_raw_info(ReaderObject *self, PyObject *unused)
{
	struct shmr_info in;
	int rc;

	(void)unused;
	if (py_reader_live(self) < 0)
		return NULL;
	if ((rc = shmr_ring_info(self->ringobj->ring, &in)) < 0)
		return py_raise_rc(rc, self->name);
	return py_info_dict(&in, shmr_ring_alive(self->ringobj->ring));
}

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

PyObject *
py_names(PyObject *mod, PyObject *unused)
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
		return py_raise_rc(rc, "/dev/shm");
	}
	return list;
}

PyObject *
py_raw_info(PyObject *mod, PyObject *args, PyObject *kw)
{
	PyObject *nameobj, *d;
	int trust = 1, rc, alive;
	struct shmr_info in;
	const char *name;
	RingObject *r;

	(void)mod;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$p:_raw_info",
	    KW("name", "trust_any_owner"), &nameobj, &trust) ||
	    py_get_name(nameobj, &name) < 0)
		return NULL;
	if ((r = py_ring_open(name, trust)) == NULL)
		return NULL;
	if ((rc = shmr_ring_info(r->ring, &in)) < 0) {
		Py_DECREF(r);
		return py_raise_rc(rc, name);
	}
	alive = shmr_ring_alive(r->ring);
	Py_DECREF(r);
	d = py_info_dict(&in, alive);
	return d;
}

PyObject *
py_unlink(PyObject *mod, PyObject *nameobj)
{
	const char *name;
	int rc;

	(void)mod;
	if (py_get_name(nameobj, &name) < 0)
		return NULL;
	if ((rc = shmr_unlink(name)) < 0)
		return py_raise_rc(rc, name);
	Py_RETURN_NONE;
}
