# tests/test_bridge*.c: ringbridge end to end (real process, real HTTP,
# producer in the test). tests/bridge_client.c is the HTTP/SSE client.
BRIDGE_TESTS := test_bridge test_bridge_fanout
BRIDGE_TEST_BINS := $(BRIDGE_TESTS:%=$(B)/tests/%)
BRIDGE_CLIENT_O := $(B)/tests/bridge_client.o
BRIDGE_RUNS := $(BRIDGE_TESTS:%=run-%)

$(BRIDGE_TEST_BINS:%=%.o) $(BRIDGE_CLIENT_O): EXTRA_CFLAGS = -Icommon \
	-Itests -DRINGBRIDGE_BIN='"$(RINGBRIDGE)"'

$(BRIDGE_TEST_BINS): %: %.o $(BRIDGE_CLIENT_O) $(LIBCOMMON) $(LIBSHM_A)
	$(call link,$(CRITERION_LIBS) $(BSD_LIBS) -lpthread)

$(BRIDGE_RUNS): run-%: $(B)/tests/% $(RINGBRIDGE)
	$(call run_test,$*,timeout 600 $< --jobs 2)

TEST_RUNS += $(BRIDGE_RUNS)
.PHONY: $(BRIDGE_RUNS)

# ringbridge-hooks: ringbridge with the test pause points of
# bridge/test_hooks.c compiled in (RINGBRIDGE_TEST_PAUSE), for the tests
# that need a rare interleaving every time. Only tests run it.
RB_HOOKS := $(B)/tests/ringbridge-hooks
# bridge/ringbridge.mk's sources: `=` and $$ (the Makefile's header).
RB_HOOKS_OBJS = $(RINGBRIDGE_SRCS:%.c=$(B)/tests/hooks/%.o) \
	$(B)/tests/hooks/bridge/test_hooks.o

RB_HOOKS_WRAP := -Wl,--wrap=shmr_cursor_init

$(B)/tests/hooks/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -DRINGBRIDGE_TEST_HOOKS -Icommon -Ibridge \
	    $(BSD_CFLAGS) $(MHD_CFLAGS) -c -o $@ $<

$(RB_HOOKS): $$(RB_HOOKS_OBJS) $(B)/bridge/dashboard_assets.o $(LIBCOMMON) \
    $(LIBSHM_A)
	$(call link,$(RB_HOOKS_WRAP) $(MHD_LIBS) $(BSD_LIBS) -lpthread)

$(B)/tests/test_bridge.o: EXTRA_CFLAGS += -Ilibshm \
	-DRINGBRIDGE_HOOKS_BIN='"$(RB_HOOKS)"'
run-test_bridge: $(RB_HOOKS)
