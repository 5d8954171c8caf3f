# tests/ringctl_*.sh: ringctl(1) against live rings fed by ringctl_feed
# ($(RINGCTL_FEED)), a scriptable test producer. One run target per script
# so make -j runs them side by side; a new script needs no line here.
RINGCTL_SCRIPTS := $(filter-out lib,$(patsubst tests/ringctl_%.sh,%,\
	$(sort $(wildcard tests/ringctl_*.sh))))
RINGCTL_RUNS := $(RINGCTL_SCRIPTS:%=run-ringctl_%)

$(RINGCTL_FEED): $(B)/tests/ringctl_feed.o $(LIBSHM_A)
	$(call link)

$(RINGCTL_RUNS): run-ringctl_%: tests/ringctl_%.sh tests/ringctl_lib.sh tests/lib.sh \
    $(RINGCTL) $(RINGCTL_FEED)
	$(call run_test,ringctl_$*,RINGCTL=$(RINGCTL) FEED=$(RINGCTL_FEED) \
	    timeout 300 bash tests/ringctl_$*.sh)

TEST_RUNS += $(RINGCTL_RUNS)
.PHONY: $(RINGCTL_RUNS)
