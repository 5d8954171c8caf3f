# Fuzzing of the libshm reader (see tests/fuzz_segment.c).
#
#   make test                    replays tests/corpus/segment (gcc or clang)
#   make fuzz FUZZ_SECONDS=60    libFuzzer + ASan + UBSan for FUZZ_SECONDS
#                                per target, in build-fuzz/, on a copy of
#                                the corpus (new inputs stay in build-fuzz/)
#   make fuzz-seeds FUZZ_SEEDS_DIR=dir   regenerate the seed rings
FUZZ_SECONDS ?= 60
# Extra libFuzzer flags, e.g. FUZZ_FLAGS=-seed=1 (what CI uses, so that a
# CI run repeats the mutations already run here instead of new ones).
FUZZ_FLAGS ?=
FUZZ_SEEDS_DIR ?= $(B)/fuzz-seeds
FUZZ_CC ?= clang
FUZZ_CFLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -Iinclude -Ilibshm \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_OBJS := $(B)/tests/fuzz_segment.o $(B)/tests/fuzz_replay.o \
	$(B)/tests/fuzz_seeds.o

$(FUZZ_OBJS): EXTRA_CFLAGS = -Ilibshm

$(B)/tests/fuzz_replay_segment: $(B)/tests/fuzz_replay.o \
    $(B)/tests/fuzz_segment.o $(LIBSHM_WB)
	$(call link,-lpthread)

run-fuzz_replay_segment: $(B)/tests/fuzz_replay_segment
	$(call run_test,fuzz_replay_segment,timeout 300 $< tests/corpus/segment)

TEST_RUNS += run-fuzz_replay_segment

$(B)/tests/fuzz_seeds: $(B)/tests/fuzz_seeds.o $(LIBSHM_A)
	$(call link)

fuzz-seeds: $(B)/tests/fuzz_seeds
	@mkdir -p $(FUZZ_SEEDS_DIR)
	$(Q)$< $(FUZZ_SEEDS_DIR)
	@echo "seeds written to $(FUZZ_SEEDS_DIR)"

# The fuzz build compiles libshm itself with the fuzzer's instrumentation.
$(FUZZ_DIR)/fuzz_segment: tests/fuzz_segment.c $$(LIBSHM_SRCS) \
    libshm/internal.h libshm/layout.h include/shmring.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fvisibility=hidden -o $@ \
	    tests/fuzz_segment.c $(LIBSHM_SRCS) -lpthread

fuzz-segment: $(FUZZ_DIR)/fuzz_segment
	$(Q)rm -rf $(FUZZ_DIR)/corpus-segment
	$(Q)mkdir -p $(FUZZ_DIR)/corpus-segment $(FUZZ_DIR)/artifacts-segment
	$(Q)cp tests/corpus/segment/* $(FUZZ_DIR)/corpus-segment/
	$(Q)ASAN_OPTIONS=$${ASAN_OPTIONS:-quarantine_size_mb=16} \
	    $< -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) -timeout=10 -rss_limit_mb=1024 \
	    -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts-segment/ \
	    $(FUZZ_DIR)/corpus-segment

fuzz: fuzz-segment
CLEAN_FILES += $(FUZZ_DIR)
.PHONY: run-fuzz_replay_segment fuzz-seeds fuzz-segment
