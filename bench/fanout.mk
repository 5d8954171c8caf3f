# bench/bench_fanout: SSE fan-out through ringbridge (`make bench`). A
# report, not a test: one line per run with events/s, completeness,
# latency percentiles and the bridge's CPU and RSS.
BENCH_FANOUT := $(B)/bin/bench_fanout
BENCH_FANOUT_SECONDS ?= 5

$(B)/bench/bench_fanout.o: EXTRA_CFLAGS = -Icommon -Itests

$(BENCH_FANOUT): $(B)/bench/bench_fanout.o $(B)/tests/bridge_client.o \
    $(LIBSHM_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lpthread

PROGRAMS += $(BENCH_FANOUT)

run-bench-fanout: $(BENCH_FANOUT) $(RINGBRIDGE) $(B)/bin/ringd
	$(BENCH_FANOUT) --bridge $(RINGBRIDGE) -c 100 -r 1000 \
	    -t $(BENCH_FANOUT_SECONDS)
	$(BENCH_FANOUT) --bridge $(RINGBRIDGE) -c 100 -r 20000 \
	    -t $(BENCH_FANOUT_SECONDS)
	$(BENCH_FANOUT) --bridge $(RINGBRIDGE) -c 1000 -r 300 \
	    -t $(BENCH_FANOUT_SECONDS)
	$(BENCH_FANOUT) --bridge $(RINGBRIDGE) -c 1000 -r 300 \
	    -t $(BENCH_FANOUT_SECONDS) --slow 10 \
	    --bridge-args "--write-timeout 3"
	$(BENCH_FANOUT) --bridge $(RINGBRIDGE) --ringd $(B)/bin/ringd \
	    -c 1000 -r 300 -t $(BENCH_FANOUT_SECONDS)

BENCH_RUNS += run-bench-fanout
.PHONY: run-bench-fanout
