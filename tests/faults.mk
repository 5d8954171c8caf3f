# Fault injection (issue 6, "Faults"): the producer killed at random
# moments (stress_kill, plain main so it also runs under TSan), the ring
# unlinked or truncated under live readers (test_faults), /dev/shm too
# small (fault_enospc.sh, root only) and ringd killed under
# `ringctl tail -f` (fault_ringd_kill.sh).
STRESS_KILL := $(B)/tests/stress_kill

$(STRESS_KILL): $(B)/tests/stress_kill.o $(LIBSHM_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

# STRESS_KILLS=200 (or more) for a soak; 20 by default. STRESS_EARLY=1
# (the default) also lands kills inside shmr_writer_create().
run-stress_kill: $(STRESS_KILL)
	@echo "  STRESS  stress_kill"
	$(Q)STRESS_EARLY=$${STRESS_EARLY:-1} timeout 900 $< \
	    > $(B)/tests/stress_kill.log 2>&1 && \
	    tail -n 1 $(B)/tests/stress_kill.log || \
	    { cat $(B)/tests/stress_kill.log; \
	    echo "stress_kill: FAILED" >&2; exit 1; }

STRESS_RUNS += run-stress_kill
.PHONY: run-stress_kill

# The ring unlinked or truncated under live readers (Criterion).
TEST_FAULTS := $(B)/tests/test_faults

$(B)/tests/test_faults.o: EXTRA_CFLAGS = -Ilibshm -Itests \
	-DRINGCTL_BIN='"$(abspath $(RINGCTL))"'

$(TEST_FAULTS): $(B)/tests/test_faults.o $(B)/tests/helpers.o $(LIBSHM_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CRITERION_LIBS)

run-test_faults: $(TEST_FAULTS) $(RINGCTL)
	@echo "  TEST    test_faults"
	$(Q)timeout 300 $< --jobs 2 --short-filename

# Shell fault scripts: exit 77 means skipped (reported, not passed).
FAULT_CREATE := $(B)/tests/fault_create

$(FAULT_CREATE): $(B)/tests/fault_create.o $(LIBSHM_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

run-fault_enospc: tests/fault_enospc.sh $(RINGD) $(FAULT_CREATE)
run-fault_ringd_kill: tests/fault_ringd_kill.sh $(RINGD) $(RINGCTL)
run-fault_bridge_truncate: tests/fault_bridge_truncate.sh $(B)/bin/ringd \
    $(B)/bin/ringbridge $(B)/bin/ringctl
run-fault_enospc run-fault_ringd_kill run-fault_bridge_truncate: run-fault_%:
	@echo "  TEST    fault_$*"
	$(Q)rc=0; RINGD=$(RINGD) RINGCTL=$(RINGCTL) CREATE=$(FAULT_CREATE) \
	    BIN=$(B)/bin \
	    timeout 300 bash tests/fault_$*.sh > $(B)/tests/fault_$*.log \
	    2>&1 || rc=$$?; \
	if [ $$rc = 77 ]; then tail -n 1 $(B)/tests/fault_$*.log; \
	elif [ $$rc = 0 ]; then tail -n 1 $(B)/tests/fault_$*.log; \
	else cat $(B)/tests/fault_$*.log; echo "fault_$*: FAILED" >&2; \
	    exit 1; fi

TEST_RUNS += run-test_faults run-fault_enospc run-fault_ringd_kill \
	run-fault_bridge_truncate
.PHONY: run-test_faults run-fault_enospc run-fault_ringd_kill \
	run-fault_bridge_truncate

# Regression tests for the two libshm bugs stress_kill found (see
# docs/RELIABILITY.md): each exits 1 if its bug comes back.
FAULT_REPROS := fault_repro_epoch fault_repro_midupdate

$(B)/tests/fault_repro_midupdate.o: EXTRA_CFLAGS = -Ilibshm

$(FAULT_REPROS:%=$(B)/tests/%): %: %.o $(LIBSHM_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(FAULT_REPROS:%=run-%): run-%: $(B)/tests/%
	@echo "  TEST    $*"
	$(Q)timeout 60 $<

TEST_RUNS += $(FAULT_REPROS:%=run-%)
.PHONY: $(FAULT_REPROS:%=run-%)
