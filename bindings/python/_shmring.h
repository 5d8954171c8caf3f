/*
 * _shmring.h - private to the CPython extension shmring._shmring over
 * libshm's public API (shmring.h), linked statically so the module needs
 * nothing else. One file per job: module.c (module, errors, arguments),
 * ring.c (the mapping and the iteration items), writer.c, reader.c,
 * view.c (zero-copy views), aio.c (asyncio helper thread), info.c
 * (snapshots, names, unlink).
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
 * asyncio: see aio.c.
 */
#ifndef SHMRING_PY_H
#define SHMRING_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "shmring.h"

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

extern PyObject *CorruptRing;
extern PyObject *Overwritten;
extern PyObject *anext_hook;

extern PyTypeObject Ring_Type, Message_Type, Overrun_Type, Restart_Type;
extern PyTypeObject View_Type, Reader_Type, Writer_Type;

typedef struct {
	PyObject_HEAD
	struct shmr_ring *ring;
} RingObject;

struct aio;

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
	long long	 last_probe;	/* py_mono_ms */
	uint64_t	 last_seq;	/* of the last message delivered */
	bool		 have_last;
	struct aio	*aio;
	PyObject	*weakrefs;
} ReaderObject;

enum { R_COPY, R_PEEK };

/* module.c */
PyObject	*py_raise_rc(int, const char *);
int		 py_get_name(PyObject *, const char **);
int		 py_get_timeout(PyObject *, long long *);
long long	 py_mono_ms(void);

/* ring.c */
RingObject	*py_ring_open(const char *, bool);
PyObject	*py_message_new(uint64_t, const void *, size_t);
PyObject	*py_overrun_new(uint64_t, uint64_t);
PyObject	*py_restart_new(uint64_t, uint64_t);

/* reader.c */
int		 py_reader_live(ReaderObject *);
int		 py_reader_get(ReaderObject *, long long, int, void *, size_t,
		    struct shmr_msg *);
PyObject	*py_outcome_item(ReaderObject *, int, const struct shmr_msg *);

/* view.c */
PyObject	*Reader_view(ReaderObject *, PyObject *, PyObject *);

/* aio.c */
void		 py_aio_stop(struct aio *);
void		 py_aio_free(struct aio *);
int		 py_aio_arm(struct aio **, RingObject *,
		    const struct shmr_cursor *, bool);

/* info.c */
PyObject	*py_info_dict(const struct shmr_info *, int);
PyObject	*Reader_raw_info(ReaderObject *, PyObject *);
PyObject	*py_names(PyObject *, PyObject *);
PyObject	*py_raw_info(PyObject *, PyObject *, PyObject *);
PyObject	*py_unlink(PyObject *, PyObject *);

#endif
