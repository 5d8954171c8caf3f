# Browser tests in headless Chromium (Debian's chromium, playwright-core
# from npm installed into $(B)/node on first use; never committed), each
# a tests/bridge_NAME.sh that starts the daemons and a bridge_NAME.mjs
# that drives the page. Skipped (exit 77) without chromium or node.
# - bridge_dashboard: ringbridge's web dashboard, also at a phone's width.
#   Screenshots: $(B)/tests/bridge_dashboard*.png (_phone at 390 px).
# - bridge_nginx: the dashboard behind nginx (docs/examples/nginx.conf)
#   across bridge restarts; skipped without nginx (nginx-light).
#   Screenshot: $(B)/tests/bridge_nginx.png.
BROWSER_TESTS := bridge_dashboard bridge_nginx
BROWSER_RUNS := $(BROWSER_TESTS:%=run-%)

run-bridge_nginx: docs/examples/nginx.conf

$(BROWSER_RUNS): run-%: tests/%.sh tests/%.mjs tests/browser_lib.sh tests/lib.sh \
    tests/browser_lib.mjs $(RINGD) $(RINGBRIDGE)
	$(call run_test,$*,RINGD=$(RINGD) RINGBRIDGE=$(RINGBRIDGE) \
	    OUT=$(B)/tests NODE_DIR=$(B)/node timeout 300 bash tests/$*.sh)

TEST_RUNS += $(BROWSER_RUNS)
.PHONY: $(BROWSER_RUNS)
