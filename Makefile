# shmring: one non-recursive GNU Makefile. Each directory contributes a
# fragment (<dir>/*.mk, docs/examples/*.mk, bindings/python/*.mk) that
# builds its own products and appends to the lists below (PROGRAMS,
# TEST_RUNS, ...); nothing recurses into sub-makes. The fragments are read
# in name order, but no fragment depends on that order: the paths of the
# products fragments share are named here, and run-makefile-order reads
# the fragments backwards and checks that make's rules come out the same.
#
#   make                 build/lib/libshm.{a,so} and every program in build/bin
#   make CC=clang        the same in build-clang/ (objects never mix)
#   make test            unit tests (Criterion), end-to-end scripts, stress
#                        programs, corpus replays: one run-<name> target
#                        each, so -j runs them side by side; a test's
#                        output goes to $(B)/tests/<name>.log
#   make run-<name>      one test (e.g. make run-ringctl_tail)
#   make SAN=asan test   the same under ASan+UBSan, in build-asan/
#   make SAN=tsan stress the plain stress programs under TSan, in build-tsan/
#   make SAN=chaos stress  stress, exactness and bridge tests with random
#                        delays at every protocol step (libshm/chaos.h), in
#                        build-chaos/; SHMR_CHAOS=per-mille, SHMR_CHAOS_SEED
#   make bench           benchmarks, a report on stdout (not a test)
#   make fuzz            libFuzzer targets, in build-fuzz/ (tests/fuzz.mk)
#   make demo            ringd on a demo feed + ringbridge on 127.0.0.1:8080
#   make install         PREFIX=/usr/local DESTDIR=
#   make clean           removes build/ and every build-*/
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
# One build tree per compiler and sanitizer, so objects never mix:
# build/, build-clang/, build-asan/, build-clang-asan/, ...
B ?= build$(if $(findstring clang,$(notdir $(CC))),-clang)$(if $(SAN),-$(SAN))

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
# Empty without libnats: ringrelay is then not built, its tests skip.
NATS_LIBS := $(call pc,--libs,libnats)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# The products more than one fragment names. Named here, before any
# fragment, because make expands a rule's targets and prerequisites as it
# reads them: a name defined in a fragment read later would be silently
# empty there (run-test_faults and run-fault_ringd_kill once lost their
# dependency on ringctl that way and raced its build under -j). Another
# fragment's own variables (a source list) may appear in a recipe, in a
# `=` variable, or in a prerequisite list as $$(NAME) (second expansion,
# after every fragment is read).
LIBSHM_A := $(B)/lib/libshm.a
# The same objects with their internals visible, for white-box tests only.
LIBSHM_WB := $(B)/lib/libshm-whitebox.a
LIBSHM_SO := $(B)/lib/libshm.so.$(VERSION)
LIBCOMMON := $(B)/lib/libcommon.a
RINGD := $(B)/bin/ringd
RINGCTL := $(B)/bin/ringctl
RINGBRIDGE := $(B)/bin/ringbridge
RINGRELAY := $(B)/bin/ringrelay
# The scriptable test producer (tests/ringctl.mk).
RINGCTL_FEED := $(B)/tests/ringctl_feed
FUZZ_DIR := build-fuzz

# $(call link,LIBS): the one link rule. Links $@ from the objects and
# archives among its prerequisites, in their order (list libcommon.a
# before libshm.a: common/ calls libshm), then LIBS.
define link
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(1)
endef

# $(eval $(call program,NAME,BINARY,DIR,PAGE)): a program installed as
# DIR/NAME with its man page PAGE (the section from its suffix): adds it
# to PROGRAMS and MAN_PAGES and defines install-NAME and uninstall-NAME,
# which make install and make uninstall run.
define program
PROGRAMS += $(2)
MAN_PAGES += $(4)
INSTALL_HOOKS += install-$(1)
UNINSTALL_HOOKS += uninstall-$(1)
.PHONY: install-$(1) uninstall-$(1)
install-$(1): $(2)
	install -d $$(DESTDIR)$(3) $$(DESTDIR)$$(MANDIR)/man$(subst .,,$(suffix $(4)))
	install -m 755 $(2) $$(DESTDIR)$(3)/$(1)
	install -m 644 $(4) $$(DESTDIR)$$(MANDIR)/man$(subst .,,$(suffix $(4)))/$(notdir $(4))
uninstall-$(1):
	rm -f $$(DESTDIR)$(3)/$(1) $$(DESTDIR)$$(MANDIR)/man$(subst .,,$(suffix $(4)))/$(notdir $(4))
endef

# $(call run_test,NAME,COMMAND): the one way a test runs. COMMAND's output
# goes to $(B)/tests/NAME.log; exit 0 passes and 77 skips (either shows the
# log's last line), anything else fails and shows the whole log.
define run_test
	@echo "  TEST    $(1)"
	@mkdir -p $(B)/tests
	$(Q)rc=0; { $(2); } > $(B)/tests/$(1).log 2>&1 || rc=$$?; \
	if [ $$rc = 0 ] || [ $$rc = 77 ]; then tail -n 1 $(B)/tests/$(1).log; \
	else cat $(B)/tests/$(1).log; echo "$(1): FAILED" >&2; exit 1; fi
endef

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
.SECONDEXPANSION:

# MK_ORDER=reverse reads them backwards (run-makefile-order).
MK_FILES := $(sort $(wildcard */*.mk */*/*.mk))
reverse = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) \
	$(firstword $(1)))
include $(if $(filter reverse,$(MK_ORDER)),$(call reverse,$(MK_FILES)), \
	$(MK_FILES))

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

# Fragments read forwards and backwards give the same rules.
run-makefile-order: Makefile $(MK_FILES) tests/makefile_order.sh
	$(call run_test,makefile_order,MAKE="$(MAKE)" sh tests/makefile_order.sh)

TEST_RUNS += run-makefile-order
.PHONY: run-makefile-order

clean:
	rm -rf $(wildcard build build-*) $(CLEAN_FILES)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
