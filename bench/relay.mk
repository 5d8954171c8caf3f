# bench/relay.mk: ringrelay(8) end to end through nats-server, beside the
# engine's own limit (nats.c) and ringbridge's raw stream as a relay
# (`make bench`; a report, not a test). Needs libnats and nats-server.
BENCH_RELAY := $(B)/bin/bench_relay

# relay/relay.mk is read after this file: ask pkg-config here too.
BENCH_NATS_LIBS := $(call pc,--libs,libnats)

ifneq ($(BENCH_NATS_LIBS),)
$(B)/bench/bench_relay.o: EXTRA_CFLAGS = \
	-DBIN_DIR='"$(abspath $(B))/bin"'

$(BENCH_RELAY): $(B)/bench/bench_relay.o $(LIBSHM_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(BENCH_NATS_LIBS) -lpthread

PROGRAMS += $(BENCH_RELAY)

# BENCH_RELAY_ARGS=--quick: 1 s per case.
run-bench-relay: $(BENCH_RELAY) $(B)/bin/ringrelay $(B)/bin/ringbridge
	$(BENCH_RELAY) $(BENCH_RELAY_ARGS)

BENCH_RUNS += run-bench-relay
.PHONY: run-bench-relay
endif
