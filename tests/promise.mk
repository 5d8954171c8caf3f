# Issue 12 regressions through the real tools (tests/promise_tools.sh);
# the library-level ones are tests/test_promise.c (libshm_tests.mk).
run-promise_tools: tests/promise_tools.sh $(B)/bin/ringd $(B)/bin/ringctl
	@echo "  TEST    promise_tools"
	@mkdir -p $(B)/tests
	$(Q)rc=0; RINGD=$(B)/bin/ringd RINGCTL=$(B)/bin/ringctl \
	    timeout 300 bash tests/promise_tools.sh \
	    > $(B)/tests/promise_tools.log 2>&1 || rc=$$?; \
	if [ $$rc = 77 ] || [ $$rc = 0 ]; then \
	    tail -n 1 $(B)/tests/promise_tools.log; \
	else cat $(B)/tests/promise_tools.log; \
	    echo "promise_tools: FAILED" >&2; exit 1; fi

TEST_RUNS += run-promise_tools
.PHONY: run-promise_tools
