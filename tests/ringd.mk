# tests/test_ringd.c: ringd(8) end to end (Criterion). It starts the built
# ringd by absolute path; RINGD=... in the environment overrides it, and
# RINGD_TEST_LINES / RINGD_TEST_DGRAMS shrink the big cases.
TEST_RINGD := $(B)/tests/test_ringd

$(B)/tests/test_ringd.o: EXTRA_CFLAGS = \
	-DRINGD_PATH='"$(abspath $(B))/bin/ringd"'

$(TEST_RINGD): $(B)/tests/test_ringd.o $(LIBSHM_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIBSHM_A) $(CRITERION_LIBS) -lm

run-test_ringd: $(TEST_RINGD) $(RINGD)
	@echo "  TEST    test_ringd"
	$(Q)timeout 600 $(TEST_RINGD) --jobs 2

TEST_RUNS += run-test_ringd
.PHONY: run-test_ringd
