# bindings/python/: the CPython extension `shmring` (a package: the C core
# _shmring with libshm linked in statically, plus asyncio glue, stubs).
#
#   make                      builds it into $(B)/python/shmring/, so that
#                             PYTHONPATH=$(B)/python python3 -c 'import shmring'
#   make test                 its pytest suite (also under SAN=asan)
#   make bench                bench/bench_python.py: Python readers against peers
#   make install              into the interpreter's site directory for PREFIX
#   PYTHON=/path/to/python3   another interpreter (default: Debian's python3)
#
# Without Python.h (Debian: python3-dev) the binding is skipped, with a note.
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) \
	$(shell command -v python3 2>/dev/null))
PY_CFG := $(if $(PYTHON),$(shell $(PYTHON) -c 'import sysconfig as s; \
	print(s.get_paths()["include"], s.get_config_var("EXT_SUFFIX"))' \
	2>/dev/null))
PY_INCLUDE := $(word 1,$(PY_CFG))
PY_EXT := $(word 2,$(PY_CFG))
PY_OK := $(and $(PY_EXT),$(wildcard $(PY_INCLUDE)/Python.h))

PY_DIR := $(B)/python/shmring
PY_SO := $(PY_DIR)/_shmring$(PY_EXT)
PY_SRC_FILES := __init__.py __init__.pyi py.typed
PY_FILES := $(PY_SO) $(PY_SRC_FILES:%=$(PY_DIR)/%)
PY_TESTS := $(wildcard bindings/python/tests/test_*.py)
# The C producer of the tests and benchmark (tests/ringctl.mk).
PY_FEED := $(RINGCTL_FEED)
PY_BENCH_FEED := $(B)/python/bench_feed

# Python.h is not -Wpedantic clean everywhere: it stays a system header.
PY_CFLAGS := -fPIC -isystem $(PY_INCLUDE)

# An extension under ASan: the interpreter is not instrumented, so the
# runtime must be preloaded; Python's own allocator would hide our heap
# errors from it, and CPython's deliberate exit-time leaks are not ours.
ifeq ($(SAN),asan)
PY_ASAN_RT := $(firstword $(filter /%,$(shell \
	$(CC) -print-file-name=libasan.so; \
	$(CC) -print-file-name=libclang_rt.asan-x86_64.so)))
PY_RUN_ENV := LD_PRELOAD=$(PY_ASAN_RT) PYTHONMALLOC=malloc \
	ASAN_OPTIONS=detect_leaks=0:$(ASAN_OPTIONS)
endif
PY_RUN := env PYTHONPATH=$(B)/python PYTHONDONTWRITEBYTECODE=1 $(PY_RUN_ENV) \
	$(PYTHON)

ifneq ($(PY_OK),)

# The C core, one file per job (bindings/python/_shmring.h says which).
PY_C_SRCS := $(addprefix bindings/python/,module.c ring.c writer.c \
    reader.c view.c aio.c info.c)
PY_C_OBJS := $(PY_C_SRCS:bindings/python/%.c=$(B)/python/obj/%.o)

$(B)/python/obj/%.o: bindings/python/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (python)")
	$(Q)$(CC) $(CFLAGS) $(PY_CFLAGS) -c -o $@ $<

# libshm's pic objects, linked in: the module needs no libshm.so.
$(PY_SO): $(PY_C_OBJS) $$(LIBSHM_PIC) bindings/python/_shmring.map
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared $(LDFLAGS) \
	    -Wl,--version-script=bindings/python/_shmring.map -o $@ \
	    $(PY_C_OBJS) $(LIBSHM_PIC) -lpthread

$(PY_DIR)/%: bindings/python/shmring/%
	@mkdir -p $(@D)
	$(Q)cp $< $@

$(PY_BENCH_FEED): $(B)/bindings/python/bench_feed.o $(LIBSHM_A)
	$(call link)

PROGRAMS += $(PY_FILES) $(PY_BENCH_FEED)

# pytest from Debian's python3-pytest; reported skipped without it.
run-python-tests: $(PY_FILES) $(PY_FEED) $(PY_BENCH_FEED)
	@echo "  TEST    python binding"
	$(Q)if ! $(PYTHON) -c 'import pytest' 2>/dev/null; then \
	    echo "python binding: SKIPPED (no pytest for $(PYTHON);" \
	    "Debian: python3-pytest)"; exit 0; fi; \
	SHMRING_FEED=$(PY_FEED) SHMRING_BENCH_FEED=$(PY_BENCH_FEED) \
	    SHMRING_SAN=$(SAN) timeout 900 $(PY_RUN) -m pytest -q -p no:cacheprovider \
	    bindings/python/tests > $(B)/python/pytest.log 2>&1 && \
	    tail -n 1 $(B)/python/pytest.log || \
	    { cat $(B)/python/pytest.log; \
	    echo "python binding: FAILED" >&2; exit 1; }

TEST_RUNS += run-python-tests

# BENCH_PYTHON_ARGS=--quick for a smoke run.
BENCH_PYTHON_ARGS ?=
run-bench-python: $(PY_FILES) $(PY_BENCH_FEED)
	$(PY_RUN) bindings/python/bench/bench_python.py --feed $(PY_BENCH_FEED) \
	    $(BENCH_PYTHON_ARGS)

BENCH_RUNS += run-bench-python

PYTHONDIR ?= $(shell $(PYTHON) bindings/python/sitedir.py $(PREFIX))

install-python: $(PY_FILES)
	install -d $(DESTDIR)$(PYTHONDIR)/shmring
	install -m 644 $(PY_SO) $(PY_SRC_FILES:%=$(PY_DIR)/%) \
	    $(DESTDIR)$(PYTHONDIR)/shmring/

uninstall-python:
	rm -f $(DESTDIR)$(PYTHONDIR)/shmring/_shmring$(PY_EXT) \
	    $(PY_SRC_FILES:%=$(DESTDIR)$(PYTHONDIR)/shmring/%)
	rm -rf $(DESTDIR)$(PYTHONDIR)/shmring/__pycache__
	-rmdir $(DESTDIR)$(PYTHONDIR)/shmring 2>/dev/null

else

run-python-tests run-bench-python install-python uninstall-python:
	@echo "python binding: SKIPPED (no Python.h for" \
	    "$(or $(PYTHON),python3); Debian: python3-dev)"

TEST_RUNS += run-python-tests
BENCH_RUNS += run-bench-python

endif

INSTALL_HOOKS += install-python
UNINSTALL_HOOKS += uninstall-python
.PHONY: run-python-tests run-bench-python install-python uninstall-python
