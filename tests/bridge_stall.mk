# tests/bridge_stall.sh: ringbridge while a producer is stopped inside a
# header update (SIGSTOP, seqlock odd): streams survive, exact after.
run-bridge_stall: tests/bridge_stall.sh tests/lib.sh $(RINGD) $(RINGBRIDGE)
	$(call run_test,bridge_stall,RINGD=$(RINGD) RINGBRIDGE=$(RINGBRIDGE) \
	    timeout 300 bash tests/bridge_stall.sh)

TEST_RUNS += run-bridge_stall
.PHONY: run-bridge_stall
