# tests/ringctl_*.sh: ringctl(1) against live rings fed by ringctl_feed, a
# scriptable test producer. One run target per script so make -j runs them
# side by side.
RINGCTL_FEED := $(B)/tests/ringctl_feed
# tools/ringctl.mk is included after this file: name the binary here.
RINGCTL_BIN := $(B)/bin/ringctl
RINGCTL_SCRIPTS := basic tail check list
RINGCTL_RUNS := $(RINGCTL_SCRIPTS:%=run-ringctl_%)

$(RINGCTL_FEED): $(B)/tests/ringctl_feed.o $(LIBSHM_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(RINGCTL_RUNS): run-ringctl_%: tests/ringctl_%.sh tests/ringctl_lib.sh \
    $(RINGCTL_BIN) $(RINGCTL_FEED)
	@echo "  TEST    ringctl_$*"
	$(Q)RINGCTL=$(RINGCTL_BIN) FEED=$(RINGCTL_FEED) \
	    timeout 300 bash tests/ringctl_$*.sh > $(B)/tests/ringctl_$*.log \
	    2>&1 && tail -n 1 $(B)/tests/ringctl_$*.log || \
	    { cat $(B)/tests/ringctl_$*.log; \
	    echo "ringctl_$*: FAILED" >&2; exit 1; }

TEST_RUNS += $(RINGCTL_RUNS)
.PHONY: $(RINGCTL_RUNS)
