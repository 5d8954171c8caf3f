# Unit tests of common/ (Criterion): the code the programs share
# (test_enc: encodings; test_common: the rest of the program layer).
COMMON_TESTS := test_enc test_common

$(COMMON_TESTS:%=$(B)/tests/%.o): EXTRA_CFLAGS = -Icommon

$(COMMON_TESTS:%=$(B)/tests/%): $(B)/tests/%: $(B)/tests/%.o $(LIBCOMMON) \
    $(LIBSHM_A)
	$(call link,$(CRITERION_LIBS) $(BSD_LIBS))

$(COMMON_TESTS:%=run-%): run-%: $(B)/tests/%
	$(call run_test,$*,timeout 300 $< --jobs 2 --short-filename)

TEST_RUNS += $(COMMON_TESTS:%=run-%)
.PHONY: $(COMMON_TESTS:%=run-%)
