# Fuzzing of ringbridge's request parsing (see tests/fuzz_http.c).
#
#   make test                        replays tests/corpus/http
#   make fuzz-http FUZZ_SECONDS=60   libFuzzer + ASan + UBSan, in build-fuzz/,
#                                    on a copy of the corpus
# `make fuzz` runs it after the segment target (FUZZ_* from tests/fuzz.mk).
# Accept negotiation reads the format table (bridge/ringbridge.mk's
# BRIDGE_FORMAT_SRCS), whose files use common/enc.c.
FUZZ_HTTP_SRCS = tests/fuzz_http.c bridge/http_parse.c \
	$(BRIDGE_FORMAT_SRCS) common/enc.c common/from.c
FUZZ_HTTP_FORMAT_OBJS = $(BRIDGE_FORMAT_SRCS:%.c=$(B)/%.o)

$(B)/tests/fuzz_http.o: EXTRA_CFLAGS = -Ibridge -Icommon

$(B)/tests/fuzz_replay_http: $(B)/tests/fuzz_replay.o \
    $(B)/tests/fuzz_http.o $(B)/bridge/http_parse.o \
    $$(FUZZ_HTTP_FORMAT_OBJS) $(LIBCOMMON) $(LIBSHM_A)
	$(call link,-lpthread)

run-fuzz_replay_http: $(B)/tests/fuzz_replay_http
	$(call run_test,fuzz_replay_http,timeout 300 $< tests/corpus/http)

TEST_RUNS += run-fuzz_replay_http

$(FUZZ_DIR)/fuzz_http: $$(FUZZ_HTTP_SRCS) $$(LIBSHM_SRCS) bridge/bridge.h \
    bridge/format.h include/shmring.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Ibridge -Icommon -fvisibility=hidden -o $@ \
	    $(FUZZ_HTTP_SRCS) $(LIBSHM_SRCS) -lpthread

fuzz-http: $(FUZZ_DIR)/fuzz_http
	$(Q)rm -rf $(FUZZ_DIR)/corpus-http
	$(Q)mkdir -p $(FUZZ_DIR)/corpus-http $(FUZZ_DIR)/artifacts-http
	$(Q)cp tests/corpus/http/* $(FUZZ_DIR)/corpus-http/
	$(Q)$< -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) -timeout=10 -rss_limit_mb=1024 \
	    -max_len=8192 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts-http/ \
	    $(FUZZ_DIR)/corpus-http

fuzz: fuzz-http
.PHONY: run-fuzz_replay_http fuzz-http
