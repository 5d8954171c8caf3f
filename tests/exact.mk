# tests/exact.c: the end-to-end exactness checker (issue 12). A small
# seeded run in `make test` (EXACT_SECONDS, EXACT_SEED to repeat one);
# `make exact-soak EXACT_SOAK_SECONDS=3600` for a long one (runs of 120 s,
# each with its own seed; SAN=chaos for the chaos build). EXACT_ISSUE12
# lists the issue-12 items whose triggers and checks are on: an item goes
# into the default once its fix is on main (1: batches larger than the
# ring; 6: ring_check under a lapping producer; 2: epochs across clean
# restarts; R: a bridge restart says where the new epoch continues, on
# main since the restart event carries first and lost).
EXACT := $(B)/tests/exact
EXACT_SECONDS ?= 6
EXACT_SOAK_SECONDS ?= 600
EXACT_ISSUE12 ?= 1,2,6,R

$(EXACT).o: EXTRA_CFLAGS = -Itests

$(EXACT): $(EXACT).o $(B)/tests/exact_relay.o $(B)/tests/bridge_client.o \
    $(LIBSHM_A)
	$(call link,-lpthread)

EXACT_ENV = EXACT_RINGBRIDGE=$(RINGBRIDGE) EXACT_RINGCTL=$(RINGCTL) \
	EXACT_ISSUE12=$(EXACT_ISSUE12)

run-exact: $(EXACT) $(RINGBRIDGE) $(RINGCTL)
	$(call run_test,exact,$(EXACT_ENV) EXACT_SECONDS=$(EXACT_SECONDS) \
	    timeout 300 $<)

exact-soak: $(EXACT) $(RINGBRIDGE) $(RINGCTL)
	$(Q)$(EXACT_ENV) bash tests/exact_soak.sh $< $(EXACT_SOAK_SECONDS)

TEST_RUNS += run-exact
.PHONY: run-exact exact-soak

# tests/security_reader.sh: docs/SECURITY.md's claims about a hostile
# reader, tried as another user (root only; 77 = skipped). SECURITY_ISSUE12
# lists the issue-12 items (4, 5) whose fix is on main.
HOSTILE := $(B)/tests/hostile
SECURITY_ISSUE12 ?= 2,4,5

$(HOSTILE).o: EXTRA_CFLAGS = -Ilibshm

$(HOSTILE): $(HOSTILE).o $(LIBSHM_A)
	$(call link)

run-security_reader: tests/security_reader.sh tests/lib.sh $(HOSTILE) \
    $(RINGCTL)
	$(call run_test,security_reader,HOSTILE=$(HOSTILE) RINGCTL=$(RINGCTL) \
	    SECURITY_ISSUE12=$(SECURITY_ISSUE12) \
	    timeout 120 bash tests/security_reader.sh)

TEST_RUNS += run-security_reader
.PHONY: run-security_reader

# tests/test_found.c: regressions for bugs the harness found by itself.
TEST_FOUND := $(B)/tests/test_found

$(TEST_FOUND).o: EXTRA_CFLAGS = -Ilibshm

$(TEST_FOUND): $(TEST_FOUND).o $(B)/tests/helpers.o $(LIBSHM_A)
	$(call link,$(CRITERION_LIBS))

run-test_found: $(TEST_FOUND)
	$(call run_test,test_found,timeout 120 $< --jobs 2 --short-filename)

TEST_RUNS += run-test_found
.PHONY: run-test_found

# tests/found_ringctl_notice.sh: a ringctl notice never lands inside a
# message line of `tail -f 2>&1` (found by the exactness soak).
run-found_ringctl_notice: tests/found_ringctl_notice.sh $(RINGCTL) \
    $(RINGCTL_FEED)
	$(call run_test,found_ringctl_notice,RINGCTL=$(RINGCTL) \
	    FEED=$(RINGCTL_FEED) timeout 60 bash $<)

TEST_RUNS += run-found_ringctl_notice
.PHONY: run-found_ringctl_notice
