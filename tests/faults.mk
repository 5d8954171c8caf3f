# Fault injection (issue 6, "Faults"): the producer killed at random
# moments (stress_kill, plain main so it also runs under TSan), the ring
# unlinked or truncated under live readers (test_faults), /dev/shm too
# small (fault_enospc.sh, root only) and ringd killed under
# `ringctl tail -f` (fault_ringd_kill.sh).
STRESS_KILL := $(B)/tests/stress_kill

$(STRESS_KILL): $(B)/tests/stress_kill.o $(LIBSHM_A)
	$(call link)

# STRESS_KILLS=200 (or more) for a soak; 20 by default. STRESS_EARLY=1
# (the default) also lands kills inside shmr_writer_create().
run-stress_kill: $(STRESS_KILL)
	$(call run_test,stress_kill,STRESS_EARLY=$${STRESS_EARLY:-1} \
	    timeout 900 $<)

STRESS_RUNS += run-stress_kill
.PHONY: run-stress_kill

# The ring unlinked or truncated under live readers (Criterion).
TEST_FAULTS := $(B)/tests/test_faults

$(B)/tests/test_faults.o: EXTRA_CFLAGS = -Ilibshm -Itests \
	-DRINGCTL_BIN='"$(abspath $(RINGCTL))"'

$(TEST_FAULTS): $(B)/tests/test_faults.o $(B)/tests/helpers.o $(LIBSHM_A)
	$(call link,$(CRITERION_LIBS))

run-test_faults: $(TEST_FAULTS) $(RINGCTL)
	$(call run_test,test_faults,timeout 300 $< --jobs 2 --short-filename)

# Shell fault scripts: exit 77 means skipped (reported, not passed).
FAULT_CREATE := $(B)/tests/fault_create

$(FAULT_CREATE): $(B)/tests/fault_create.o $(LIBSHM_A)
	$(call link)

FAULT_SCRIPTS := enospc ringd_kill bridge_truncate
FAULT_RUNS := $(FAULT_SCRIPTS:%=run-fault_%)

run-fault_enospc: $(FAULT_CREATE)
$(FAULT_RUNS): run-fault_%: tests/fault_%.sh tests/lib.sh $(RINGD) \
    $(RINGCTL) $(RINGBRIDGE)
	$(call run_test,fault_$*,RINGD=$(RINGD) RINGCTL=$(RINGCTL) \
	    CREATE=$(FAULT_CREATE) BIN=$(B)/bin \
	    timeout 300 bash tests/fault_$*.sh)

TEST_RUNS += run-test_faults $(FAULT_RUNS)
.PHONY: run-test_faults $(FAULT_RUNS)

# Regression tests for the two libshm bugs stress_kill found (see
# docs/RELIABILITY.md): each exits 1 if its bug comes back.
FAULT_REPROS := fault_repro_epoch fault_repro_midupdate

$(B)/tests/fault_repro_midupdate.o: EXTRA_CFLAGS = -Ilibshm

$(FAULT_REPROS:%=$(B)/tests/%): %: %.o $(LIBSHM_A)
	$(call link)

$(FAULT_REPROS:%=run-%): run-%: $(B)/tests/%
	$(call run_test,$*,timeout 60 $<)

TEST_RUNS += $(FAULT_REPROS:%=run-%)
.PHONY: $(FAULT_REPROS:%=run-%)
