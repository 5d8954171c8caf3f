# Fuzzing ringd's stream framers (daemon/framing.c, linked into
# tests/fuzz_framing.c): replayed in `make test`, fuzzed by `make fuzz`
# next to the segment target.
$(B)/tests/fuzz_framing.o: EXTRA_CFLAGS = -Idaemon

$(B)/tests/fuzz_replay_framing: $(B)/tests/fuzz_replay.o \
    $(B)/tests/fuzz_framing.o $(B)/daemon/framing.o
	$(call link)

run-fuzz_replay_framing: $(B)/tests/fuzz_replay_framing
	$(call run_test,fuzz_replay_framing,timeout 300 $< tests/corpus/framing)

TEST_RUNS += run-fuzz_replay_framing

$(FUZZ_DIR)/fuzz_framing: tests/fuzz_framing.c daemon/framing.c \
    daemon/framing.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Idaemon -o $@ tests/fuzz_framing.c \
	    daemon/framing.c

fuzz-framing: $(FUZZ_DIR)/fuzz_framing
	$(Q)rm -rf $(FUZZ_DIR)/corpus-framing
	$(Q)mkdir -p $(FUZZ_DIR)/corpus-framing $(FUZZ_DIR)/artifacts-framing
	$(Q)cp tests/corpus/framing/* $(FUZZ_DIR)/corpus-framing/
	$(Q)$< -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) -timeout=10 -rss_limit_mb=1024 \
	    -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts-framing/ \
	    $(FUZZ_DIR)/corpus-framing

fuzz: fuzz-framing
.PHONY: run-fuzz_replay_framing fuzz-framing
