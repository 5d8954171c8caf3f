# tests/bridge_stall.sh: ringbridge while a producer is stopped inside a
# header update (SIGSTOP, seqlock odd): streams survive, exact after.
run-bridge_stall: tests/bridge_stall.sh $(RINGD) $(RINGBRIDGE)
	@echo "  TEST    bridge_stall"
	@mkdir -p $(B)/tests
	$(Q)RINGD=$(RINGD) RINGBRIDGE=$(RINGBRIDGE) \
	    timeout 300 bash tests/bridge_stall.sh \
	    > $(B)/tests/bridge_stall.log 2>&1 && \
	    tail -n 1 $(B)/tests/bridge_stall.log || { \
	    cat $(B)/tests/bridge_stall.log; \
	    echo "bridge_stall: FAILED" >&2; exit 1; }

TEST_RUNS += run-bridge_stall
.PHONY: run-bridge_stall
