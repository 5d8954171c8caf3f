# bench/relay.mk: ringrelay(8) end to end through nats-server, beside the
# engine's own limit (nats.c) and ringbridge's raw stream as a relay
# (`make bench`; a report, not a test). Needs libnats and nats-server.
BENCH_RELAY := $(B)/bin/bench_relay

ifneq ($(NATS_LIBS),)
$(B)/bench/bench_relay.o: EXTRA_CFLAGS = \
	-DBIN_DIR='"$(abspath $(B))/bin"'

$(BENCH_RELAY): $(B)/bench/bench_relay.o $(LIBSHM_A)
	$(call link,$(NATS_LIBS) -lpthread)

PROGRAMS += $(BENCH_RELAY)

# BENCH_RELAY_ARGS=--quick: 1 s per case.
run-bench-relay: $(BENCH_RELAY) $(RINGRELAY) $(RINGBRIDGE)
	$(BENCH_RELAY) $(BENCH_RELAY_ARGS)

BENCH_RUNS += run-bench-relay
.PHONY: run-bench-relay
endif
