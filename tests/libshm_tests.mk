# Unit tests of libshm (Criterion) and the plain stress program.
LIBSHM_TESTS := test_writer test_reader test_ring test_promise test_mirror
TEST_HELPERS := $(B)/tests/helpers.o

$(B)/tests/helpers.o $(LIBSHM_TESTS:%=$(B)/tests/%.o): EXTRA_CFLAGS = -Ilibshm

# White-box: test_ring and test_mirror call ring_open_mem().
$(LIBSHM_TESTS:%=$(B)/tests/%): $(B)/tests/%: $(B)/tests/%.o $(TEST_HELPERS) \
    $(LIBSHM_WB)
	$(call link,$(CRITERION_LIBS))

$(LIBSHM_TESTS:%=run-%): run-%: $(B)/tests/%
	$(call run_test,$*,timeout 300 $< --jobs 2 --short-filename)

TEST_RUNS += $(LIBSHM_TESTS:%=run-%)
.PHONY: $(LIBSHM_TESTS:%=run-%)

# Multi-process stress (and STRESS_THREADS=1 for ThreadSanitizer).
$(B)/tests/stress_ring: $(B)/tests/stress_ring.o $(LIBSHM_A)
	$(call link,-lpthread)

run-stress_ring: $(B)/tests/stress_ring
	$(call run_test,stress_ring,timeout 600 $< && STRESS_THREADS=1 \
	    STRESS_MESSAGES=$${STRESS_MESSAGES:-500000} timeout 600 $<)

STRESS_RUNS += run-stress_ring
.PHONY: run-stress_ring
