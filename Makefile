# shmring: one non-recursive GNU Makefile. Each directory contributes a
# fragment (<dir>/*.mk) that only appends to the variables below; nothing
# here recurses into sub-makes.
#
#   make                 build/lib/libshm.{a,so} and every program in build/bin
#   make test            unit tests (Criterion), stress programs, corpus replays
#   make SAN=asan test   the same under ASan+UBSan, in build-asan/
#   make SAN=tsan stress the plain stress programs under TSan, in build-tsan/
#   make SAN=chaos stress  stress, exactness and bridge tests with random
#                        delays at every protocol step (libshm/chaos.h), in
#                        build-chaos/; SHMR_CHAOS=per-mille, SHMR_CHAOS_SEED
#   make bench           benchmarks, a report on stdout (not a test)
#   make demo            ringd on a demo feed + ringbridge on 127.0.0.1:8080
#   make install         PREFIX=/usr/local DESTDIR=
#   V=1                  print the commands

# The version lives in one place, include/shmring.h; the version script
# must have a SHMR_<version> node (checked when libshm.so is linked).
hdr_version = $(shell sed -n 's/^\#define SHMR_VERSION_$(1)[[:space:]]*\([0-9]*\).*/\1/p' \
	include/shmring.h)
VERSION_MAJOR := $(call hdr_version,MAJOR)
VERSION_MINOR := $(call hdr_version,MINOR)
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

CC ?= cc
SAN ?=
ifeq ($(SAN),)
B := build
else
B := build-$(SAN)
endif

WARN := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wformat=2
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude -MMD -MP
LDFLAGS ?=
ifeq ($(SAN),asan)
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
# Third-party leaks only (tests/lsan.supp says which and why).
export LSAN_OPTIONS ?= suppressions=$(CURDIR)/tests/lsan.supp
endif
ifeq ($(SAN),tsan)
# TSan does not model atomic_thread_fence (google/sanitizers#1352) and gcc
# warns about each one; every shared access in libshm is atomic, so what
# TSan checks (no plain data races) holds regardless of the fences.
CFLAGS += -fsanitize=thread -fno-omit-frame-pointer \
	$(shell $(CC) -Werror -Wno-tsan -E -x c /dev/null >/dev/null 2>&1 && \
	echo -Wno-tsan)
LDFLAGS += -fsanitize=thread
endif
ifeq ($(SAN),chaos)
# Not a sanitizer: CHAOS() points delay at random (libshm/chaos.h).
CFLAGS += -DSHMR_CHAOS
LDFLAGS += -lpthread
endif

# Install missing Debian packages (as root) or say what to install, before
# pkg-config is asked anything; `make test` also needs the test tools.
# Skipped for clean/lint.
ifeq ($(filter-out clean lint,$(or $(MAKECMDGOALS),all)),)
else
DEPS_STATUS := $(shell sh .ci/deps $(MAKECMDGOALS) >&2; echo $$?)
ifneq ($(DEPS_STATUS),0)
$(error missing build dependencies, see above)
endif
endif

pc = $(shell pkg-config $(1) $(2) 2>/dev/null)
BSD_CFLAGS := $(call pc,--cflags,libbsd-overlay)
BSD_LIBS := $(call pc,--libs,libbsd-overlay)
MHD_CFLAGS := $(call pc,--cflags,libmicrohttpd)
MHD_LIBS := $(call pc,--libs,libmicrohttpd)
CRITERION_LIBS := $(call pc,--libs,criterion)

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIBSHM_A := $(B)/lib/libshm.a
# The same objects with their internals visible, for white-box tests only.
LIBSHM_WB := $(B)/lib/libshm-whitebox.a
LIBSHM_SO := $(B)/lib/libshm.so.$(VERSION)

# Fragments append to these.
PROGRAMS :=
TEST_RUNS :=
STRESS_RUNS :=
BENCH_RUNS :=
MAN_PAGES :=
INSTALL_HOOKS :=
UNINSTALL_HOOKS :=
CLEAN_FILES :=

.PHONY: all test stress bench demo install uninstall clean lint deps fuzz
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

include libshm/libshm.mk
include $(sort $(filter-out libshm/libshm.mk,$(wildcard */*.mk */*/*.mk)))

all: $(LIBSHM_A) $(LIBSHM_SO) $(PROGRAMS)

deps:
	$(Q)sh .ci/deps

$(B)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -c -o $@ $<

test: $(TEST_RUNS) $(STRESS_RUNS)
	@echo "all tests passed"

stress: $(STRESS_RUNS)

bench: $(BENCH_RUNS)

demo: all
	$(Q)BIN=$(B)/bin sh .ci/demo.sh

lint:
	$(Q)for m in $(MAN_PAGES); do mandoc -Tlint -W warning $$m || exit 1; done

install: all $(INSTALL_HOOKS)
uninstall: $(UNINSTALL_HOOKS)

clean:
	rm -rf build build-asan build-tsan build-chaos $(CLEAN_FILES)

-include $(shell find build build-asan build-tsan build-chaos -name '*.d' 2>/dev/null)
