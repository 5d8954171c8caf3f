# tests/bridge_lifecycle.sh: a real EventSource (headless Chromium) when
# its ring is removed. Skipped (exit 77) without chromium or node.
run-bridge_lifecycle: tests/bridge_lifecycle.sh tests/bridge_lifecycle.mjs \
    tests/browser_lib.sh tests/lib.sh $(RINGD) $(RINGBRIDGE)
	$(call run_test,bridge_lifecycle,RINGD=$(RINGD) \
	    RINGBRIDGE=$(RINGBRIDGE) NODE_DIR=$(B)/node \
	    timeout 300 bash tests/bridge_lifecycle.sh)

TEST_RUNS += run-bridge_lifecycle
.PHONY: run-bridge_lifecycle
