#!/bin/bash
# eventsource.js: node --check, then the script itself run in node against
# ringd + ringbridge, with a small EventSource (reconnect after "retry"
# with Last-Event-ID, as browsers do) and a fake <pre>: messages, a
# ringbridge restart while the ring wraps (an exact gap), then eof.
. "$(dirname "$0")/lib.sh"

if ! command -v node >/dev/null; then
	echo "# node not found: skipped"
	exit 0
fi
check "eventsource.js: node --check" node --check "$EX/eventsource.js"
check "eventsource.html loads eventsource.js" \
    grep -q '<script src="eventsource.js"></script>' "$EX/eventsource.html"

cat >"$T/harness.js" <<'JSEOF'
"use strict";
const http = require("http"), fs = require("fs"), vm = require("vm");
class EventSource {
	constructor(url) {
		this.url = url; this.lastEventId = ""; this.retry = 3000;
		this.listeners = {}; this.readyState = 0; this.connect();
	}
	addEventListener(type, fn) { this.listeners[type] = fn; }
	close() { this.readyState = 2; this.req.destroy(); }
	dispatch(type, ev) {
		const fn = type === "message" ? this.onmessage :
		    this.listeners[type];
		if (fn) fn(ev);
	}
	lost() {
		if (this.readyState === 2) return;
		this.readyState = 0;
		if (this.onerror) this.onerror();
		setTimeout(() => this.connect(), this.retry);
	}
	connect() {
		const headers = this.lastEventId ?
		    { "Last-Event-ID": this.lastEventId } : {};
		this.req = http.get(this.url, { headers }, (res) => {
			this.readyState = 1;
			let buf = "", type = "message", data = [];
			res.setEncoding("utf8");
			res.on("data", (chunk) => {
				buf += chunk;
				let i;
				while ((i = buf.indexOf("\n")) >= 0) {
					const line = buf.slice(0, i);
					buf = buf.slice(i + 1);
					if (line === "") {
						if (data.length) this.dispatch(type,
						    { data: data.join("\n"),
						    lastEventId: this.lastEventId });
						type = "message"; data = [];
						if (this.readyState === 2) return;
						continue;
					}
					const k = line.indexOf(":");
					const f = line.slice(0, k);
					const v = line.slice(k + 1).replace(/^ /, "");
					if (f === "id") this.lastEventId = v;
					else if (f === "event") type = v;
					else if (f === "data") data.push(v);
					else if (f === "retry") this.retry = +v;
				}
			});
			res.on("close", () => this.lost());
			res.on("error", () => {});
		});
		this.req.on("error", () => this.lost());
	}
}
EventSource.CONNECTING = 0;
const pre = { textContent: "" };
const ctx = {
	EventSource, URLSearchParams, atob, JSON,
	location: { search: process.argv[3] },
	document: { getElementById: () => pre },
};
vm.runInNewContext(fs.readFileSync(process.argv[2], "utf8"), ctx);
const t = setInterval(() => fs.writeFileSync(process.argv[4],
    pre.textContent), 50).unref();
process.on("beforeExit", () => {
	clearInterval(t); fs.writeFileSync(process.argv[4], pre.textContent);
});
JSEOF

R=${PFX}e
N=5000
ringd_fifo "$R" -s 64K
bridge_start "$R" 0 --reuseport
for i in $(seq 0 9); do echo "line $i"; done >&7
node "$T/harness.js" "$EX/eventsource.js" \
    "?bridge=http://127.0.0.1:$PORT&ring=$R" "$T/out" 2>"$T/node.err" \
    7>&- &
NODE=$!
PIDS+=("$NODE")
wait_for "$T/out" "$E:9 line 9"
bridge_stop
awk -v n="$N" 'BEGIN { for (i = 10; i < n; i++)
    printf "line %d xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", i }' >&7
ringd_end
bridge_start "$R" "$PORT" --reuseport
wait "$NODE"
check "node: exits once eof closed the EventSource" test $? -eq 0
cat "$T/node.err"
check "page: messages, reconnect, exact gap, the rest, eof" \
    python3 - "$T/out" "$N" "$E" <<'PYEOF'
import re, sys
out = open(sys.argv[1]).read().splitlines()
n = int(sys.argv[2])
e = sys.argv[3]
assert out[:10] == [f"{e}:{i} line {i}" for i in range(10)], out[:12]
assert out[10] == "-- disconnected, reconnecting", out[10]
m = re.fullmatch(r"-- gap: lost (\d+) messages, next is (\d+)", out[11])
lost, nxt = int(m[1]), int(m[2])
assert nxt == 10 + lost, out[11]
rest = [re.match(e + r":(\d+) line (\d+)", l) for l in out[12:-1]]
assert all(r and r[1] == r[2] for r in rest), "message lines"
assert [int(r[1]) for r in rest] == list(range(nxt, n)), "after the gap"
assert out[-1] == f"-- eof at {n}", out[-1]
PYEOF

examples_finish
