# tests/test_bridge_hostile.c: ringbridge under hostile HTTP, connection
# floods and slowloris clients, and a bridge killed with SIGKILL while a
# client fails over to another bridge (tests/bridge_client.c helpers).
HOSTILE_TESTS := test_bridge_hostile
HOSTILE_TEST_BINS := $(HOSTILE_TESTS:%=$(B)/tests/%)
HOSTILE_RUNS := $(HOSTILE_TESTS:%=run-%)

$(HOSTILE_TEST_BINS:%=%.o): EXTRA_CFLAGS = -Icommon -Itests \
	-DRINGBRIDGE_BIN='"$(RINGBRIDGE)"'

$(HOSTILE_TEST_BINS): %: %.o $(B)/tests/bridge_client.o $(LIBCOMMON) \
    $(LIBSHM_A)
	$(call link,$(CRITERION_LIBS) $(BSD_LIBS) -lpthread)

$(HOSTILE_RUNS): run-%: $(B)/tests/% $(RINGBRIDGE)
	$(call run_test,$*,timeout 900 $< --jobs 2)

TEST_RUNS += $(HOSTILE_RUNS)
.PHONY: $(HOSTILE_RUNS)
