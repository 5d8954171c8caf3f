# tests/test_bridge_hostile.c: ringbridge under hostile HTTP, connection
# floods and slowloris clients, and a bridge killed with SIGKILL while a
# client fails over to another bridge (tests/bridge_client.c helpers).
HOSTILE_TESTS := test_bridge_hostile
HOSTILE_TEST_BINS := $(HOSTILE_TESTS:%=$(B)/tests/%)
HOSTILE_RUNS := $(HOSTILE_TESTS:%=run-%)

$(HOSTILE_TEST_BINS:%=%.o): EXTRA_CFLAGS = -Icommon -Itests \
	-DRINGBRIDGE_BIN='"$(B)/bin/ringbridge"'

$(HOSTILE_TEST_BINS): %: %.o $(B)/tests/bridge_client.o $(LIBSHM_A) \
    $(LIBCOMMON)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(B)/tests/bridge_client.o $(LIBSHM_A) \
	    $(LIBCOMMON) $(CRITERION_LIBS) $(BSD_LIBS) -lpthread

$(HOSTILE_RUNS): run-%: $(B)/tests/% $(B)/bin/ringbridge
	@echo "  TEST    $*"
	$(Q)timeout 900 $(B)/tests/$* --jobs 2 > $(B)/tests/$*.log 2>&1 && \
	    tail -n 1 $(B)/tests/$*.log || \
	    { cat $(B)/tests/$*.log; echo "$*: FAILED" >&2; exit 1; }

TEST_RUNS += $(HOSTILE_RUNS)
.PHONY: $(HOSTILE_RUNS)
