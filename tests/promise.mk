# Issue 12 regressions through the real tools (tests/promise_tools.sh);
# the library-level ones are tests/test_promise.c (libshm_tests.mk).
run-promise_tools: tests/promise_tools.sh tests/lib.sh $(RINGD) $(RINGCTL)
	$(call run_test,promise_tools,RINGD=$(RINGD) RINGCTL=$(RINGCTL) \
	    timeout 300 bash tests/promise_tools.sh)

TEST_RUNS += run-promise_tools
.PHONY: run-promise_tools
