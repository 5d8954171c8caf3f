# tests/relay_*.sh: ringrelay(8) between simulated hosts (private /dev/shm
# mount namespaces, root) through nats-server on loopback (issue 15).
# Exit 77 (skipped) without root, nats-server or libnats.
RELAY_READER := $(B)/tests/relay_reader
RELAY_SCRIPTS := hosts retention cluster sse epochs
RELAY_RUNS := $(RELAY_SCRIPTS:%=run-relay_%)

$(RELAY_READER): $(B)/tests/relay_reader.o $(LIBSHM_A)
	$(call link)

$(RELAY_RUNS): run-relay_%: tests/relay_%.sh tests/relay_lib.sh tests/lib.sh \
    tests/relay_check.py $(RELAY_READER) $(RINGD) $(RINGCTL) \
    $(RINGBRIDGE) docs/ringrelay-push@.service \
    docs/ringrelay-pull@.service $(if $(NATS_LIBS),$(RINGRELAY))
	$(call run_test,relay_$*,BIN=$(B)/bin TB=$(B)/tests \
	    timeout 300 bash tests/relay_$*.sh)

TEST_RUNS += $(RELAY_RUNS)
.PHONY: $(RELAY_RUNS)

# The relay scenario of the exactness checker (tests/exact_relay.c): the
# readers of tests/exact.c check a mirror fed through push, nats-server
# and pull while the relays are killed with -9 and stopped.
run-exact_relay: $$(EXACT) $(RINGBRIDGE) $(RINGCTL) \
    $(if $(NATS_LIBS),$(RINGRELAY))
	$(call run_test,exact_relay,if [ -z "$(NATS_LIBS)" ] || \
	    ! command -v nats-server >/dev/null; then \
	    echo "# exact_relay: skipped (no libnats or no nats-server)"; \
	    else $(EXACT_ENV) EXACT_RINGRELAY=$(RINGRELAY) \
	    EXACT_SECONDS=$(EXACT_SECONDS) timeout 120 $(EXACT); fi)

TEST_RUNS += run-exact_relay
.PHONY: run-exact_relay
