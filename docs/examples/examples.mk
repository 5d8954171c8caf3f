# docs/examples/: client examples (curl, EventSource, Python, C), each run
# against a live ringd + ringbridge by its test_*.sh in `make test`.
EXAMPLE_TESTS := python c curl eventsource
EXAMPLE_RUNS := $(EXAMPLE_TESTS:%=run-example_%)
EXAMPLE_READER := $(B)/examples/reader

$(EXAMPLE_READER): $(B)/docs/examples/reader.o $(LIBSHM_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lpthread

run-example_c: $(EXAMPLE_READER)

$(EXAMPLE_RUNS): run-example_%: docs/examples/test_%.sh \
    docs/examples/lib.sh $(RINGD) $(RINGBRIDGE)
	@echo "  TEST    example_$*"
	@mkdir -p $(B)/tests
	$(Q)BIN=$(B)/bin READER=$(EXAMPLE_READER) timeout 300 bash docs/examples/test_$*.sh \
	    > $(B)/tests/example_$*.log 2>&1 && \
	    tail -n 1 $(B)/tests/example_$*.log || \
	    { cat $(B)/tests/example_$*.log; \
	    echo "example_$*: FAILED" >&2; exit 1; }

TEST_RUNS += $(EXAMPLE_RUNS)
.PHONY: $(EXAMPLE_RUNS)
