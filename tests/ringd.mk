# tests/test_ringd.c: ringd(8) end to end (Criterion). It starts the built
# ringd by absolute path; RINGD=... in the environment overrides it, and
# RINGD_TEST_LINES / RINGD_TEST_DGRAMS shrink the big cases.
TEST_RINGD := $(B)/tests/test_ringd

$(B)/tests/test_ringd.o: EXTRA_CFLAGS = \
	-DRINGD_PATH='"$(abspath $(RINGD))"'

$(TEST_RINGD): $(B)/tests/test_ringd.o $(LIBSHM_A)
	$(call link,$(CRITERION_LIBS) -lm)

run-test_ringd: $(TEST_RINGD) $(RINGD)
	$(call run_test,test_ringd,timeout 600 $< --jobs 2)

TEST_RUNS += run-test_ringd
.PHONY: run-test_ringd
