# tests/relay_*.sh: ringrelay(8) between simulated hosts (private /dev/shm
# mount namespaces, root) through nats-server on loopback (issue 15).
# Exit 77 (skipped) without root, nats-server or libnats.
RELAY_READER := $(B)/tests/relay_reader
RELAY_SCRIPTS := hosts retention cluster sse
RELAY_RUNS := $(RELAY_SCRIPTS:%=run-relay_%)

$(RELAY_READER): $(B)/tests/relay_reader.o $(LIBSHM_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(RELAY_RUNS): run-relay_%: tests/relay_%.sh tests/relay_lib.sh \
    tests/relay_check.py $(RELAY_READER) $(B)/bin/ringd $(B)/bin/ringctl \
    $(B)/bin/ringbridge docs/ringrelay-push@.service \
    docs/ringrelay-pull@.service \
    $(if $(NATS_LIBS),$(B)/bin/ringrelay)
	@echo "  TEST    relay_$*"
	$(Q)BIN=$(B)/bin TB=$(B)/tests timeout 300 bash tests/relay_$*.sh \
	    > $(B)/tests/relay_$*.log 2>&1; rc=$$?; \
	    if [ $$rc -eq 0 ]; then tail -n 1 $(B)/tests/relay_$*.log; \
	    elif [ $$rc -eq 77 ]; then tail -n 1 $(B)/tests/relay_$*.log; \
	    else cat $(B)/tests/relay_$*.log; \
	    echo "relay_$*: FAILED" >&2; exit 1; fi

TEST_RUNS += $(RELAY_RUNS)
.PHONY: $(RELAY_RUNS)
