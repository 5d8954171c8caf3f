# tests/bridge_lifecycle.sh: a real EventSource (headless Chromium) when
# its ring is removed. Skipped (exit 77) without chromium or node.
run-bridge_lifecycle: tests/bridge_lifecycle.sh tests/bridge_lifecycle.mjs \
    $(RINGD) $(RINGBRIDGE)
	@echo "  TEST    bridge_lifecycle"
	@mkdir -p $(B)/tests
	$(Q)RINGD=$(RINGD) RINGBRIDGE=$(RINGBRIDGE) NODE_DIR=$(B)/node \
	    timeout 300 bash tests/bridge_lifecycle.sh \
	    > $(B)/tests/bridge_lifecycle.log 2>&1; rc=$$?; \
	    if [ $$rc -eq 0 ]; then tail -n 1 $(B)/tests/bridge_lifecycle.log; \
	    elif [ $$rc -eq 77 ]; then grep '^SKIP' \
	    $(B)/tests/bridge_lifecycle.log; else \
	    cat $(B)/tests/bridge_lifecycle.log; \
	    echo "bridge_lifecycle: FAILED" >&2; exit 1; fi

TEST_RUNS += run-bridge_lifecycle
.PHONY: run-bridge_lifecycle
