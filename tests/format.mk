# tests/test_format.c: ringbridge's output format table, every row
# (bridge/format*.c, with Accept negotiation from bridge/http_parse.c).
FORMAT_TEST_OBJS = $(BRIDGE_FORMAT_SRCS:%.c=$(B)/%.o) \
	$(B)/bridge/http_parse.o

$(B)/tests/test_format.o: EXTRA_CFLAGS = -Icommon -Ibridge

$(B)/tests/test_format: $(B)/tests/test_format.o $$(FORMAT_TEST_OBJS) \
    $(LIBCOMMON) $(LIBSHM_A)
	$(call link,$(CRITERION_LIBS) $(BSD_LIBS))

run-test_format: $(B)/tests/test_format
	$(call run_test,test_format,timeout 300 $< --jobs 2 --short-filename)

TEST_RUNS += run-test_format
.PHONY: run-test_format
