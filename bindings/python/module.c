/*
 * module.c - the module shmring._shmring: its types and exceptions, the
 * module-level functions that are not about rings (version, the asyncio
 * hook), and how libshm's error codes and Python's arguments (names,
 * timeouts) are translated both ways.
 */
#include <time.h>

#include "_shmring.h"

PyMODINIT_FUNC PyInit__shmring(void);

PyObject *CorruptRing;
PyObject *Overwritten;
PyObject *anext_hook;	/* shmring._anext, set by __init__.py */

/*
 * Raise the Python exception for libshm code rc about ring name: OSError
 * built from (errno, libshm's message, name), which Python turns into
 * FileNotFoundError, PermissionError, BlockingIOError...; CorruptRing for
 * a foreign or corrupt segment, Overwritten for a view that was lapped.
 */
PyObject *
py_raise_rc(int rc, const char *name)
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
int
py_get_name(PyObject *obj, const char **name)
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
int
py_get_timeout(PyObject *obj, long long *ms)
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

long long
py_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
	{ "_names", METH(py_names), METH_NOARGS,
	  "_names()\n--\n\nNames of the objects in /dev/shm named like rings." },
	{ "_raw_info", METH(py_raw_info), METH_VARARGS | METH_KEYWORDS,
	  "_raw_info(name, *, trust_any_owner=True)\n--\n\n"
	  "The ring header snapshot and liveness as a dict." },
	{ "unlink", METH(py_unlink), METH_O,
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
