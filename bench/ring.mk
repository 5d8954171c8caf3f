# bench/ring.mk: libshm against a pipe, Unix domain sockets and ZeroMQ
# PUB/SUB (`make bench`). A report, not a test. ZeroMQ rows are left out
# when pkg-config does not know libzmq (Debian: libzmq3-dev). One file
# per transport (bench/transport_*.c), listed in bench/transports.c.
BENCH_RING := $(B)/bin/bench_ring
BENCH_RING_ARGS ?=
ZMQ_CFLAGS := $(call pc,--cflags,libzmq)
ZMQ_LIBS := $(call pc,--libs,libzmq)
ifneq ($(ZMQ_LIBS),)
BENCH_RING_ZMQ := -DHAVE_ZMQ=1 $(ZMQ_CFLAGS)
endif

bench_ring_srcs := bench/bench_ring.c bench/ring_run.c bench/ring_report.c \
    bench/ring_callgrind.c bench/transports.c \
    $(wildcard bench/transport_*.c)
bench_ring_objs := $(bench_ring_srcs:%.c=$(B)/%.o)

$(B)/bench/bench_ring.o: EXTRA_CFLAGS = -Icommon
$(B)/bench/transport_zmq.o: EXTRA_CFLAGS = $(BENCH_RING_ZMQ)

$(BENCH_RING): $(bench_ring_objs) $(LIBCOMMON) $(LIBSHM_A)
	$(call link,$(ZMQ_LIBS) $(BSD_LIBS))

PROGRAMS += $(BENCH_RING)
MAN_PAGES += bench/bench_ring.1

# BENCH_RING_ARGS=--quick for a smoke run; see bench_ring --help.
run-bench-ring: $(BENCH_RING)
	$(BENCH_RING) $(BENCH_RING_ARGS)

BENCH_RUNS += run-bench-ring
.PHONY: run-bench-ring
