# tests/bridge_dashboard.sh: ringbridge's web dashboard in headless Chromium
# (Debian's chromium, playwright-core from npm installed into $(B)/node on
# first use; never committed). Skipped (exit 77) without chromium or node.
# Screenshots: $(B)/tests/bridge_dashboard.png, bridge_dashboard_ticks.png.
run-bridge_dashboard: tests/bridge_dashboard.sh tests/bridge_dashboard.mjs \
    $(RINGD) $(RINGBRIDGE)
	@echo "  TEST    bridge_dashboard"
	@mkdir -p $(B)/tests
	$(Q)RINGD=$(RINGD) RINGBRIDGE=$(RINGBRIDGE) OUT=$(B)/tests \
	    NODE_DIR=$(B)/node timeout 300 bash tests/bridge_dashboard.sh \
	    > $(B)/tests/bridge_dashboard.log 2>&1; rc=$$?; \
	    if [ $$rc -eq 0 ]; then grep "^bridge_dashboard:" \
	    $(B)/tests/bridge_dashboard.log; \
	    elif [ $$rc -eq 77 ]; then grep '^SKIP' \
	    $(B)/tests/bridge_dashboard.log; else \
	    cat $(B)/tests/bridge_dashboard.log; \
	    echo "bridge_dashboard: FAILED" >&2; exit 1; fi

TEST_RUNS += run-bridge_dashboard
.PHONY: run-bridge_dashboard
