# docs/examples/: client examples (curl, EventSource, Python, C), each run
# against a live ringd + ringbridge by its test_*.sh in `make test`.
EXAMPLE_TESTS := python c curl eventsource
EXAMPLE_RUNS := $(EXAMPLE_TESTS:%=run-example_%)
EXAMPLE_READER := $(B)/examples/reader

$(EXAMPLE_READER): $(B)/docs/examples/reader.o $(LIBSHM_A)
	$(call link,-lpthread)

run-example_c: $(EXAMPLE_READER)

$(EXAMPLE_RUNS): run-example_%: docs/examples/test_%.sh \
    docs/examples/lib.sh tests/lib.sh $(RINGD) $(RINGBRIDGE)
	$(call run_test,example_$*,BIN=$(B)/bin READER=$(EXAMPLE_READER) \
	    timeout 300 bash docs/examples/test_$*.sh)

TEST_RUNS += $(EXAMPLE_RUNS)
.PHONY: $(EXAMPLE_RUNS)
