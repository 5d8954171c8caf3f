#!/bin/bash
# curl.sh against ringd + ringbridge on a closed 64 KiB ring that wrapped.
. "$(dirname "$0")/lib.sh"

R=${PFX}c
N=5000
ringd_fifo "$R" -s 64K
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
    printf "line %d xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", i }' >&7
ringd_end
bridge_start "$R"
timeout 60 sh "$EX/curl.sh" "http://127.0.0.1:$PORT" "$R" "$E:$((N - 3))" >"$T/out" \
    2>"$T/curl.err"
cat "$T/out"
check "curl.sh: exit 0" test $? -eq 0
check "curl.sh: nothing on stderr" test ! -s "$T/curl.err"
check "SSE: id and data of a message" \
    grep -qE "^id: $E:[0-9]+\$" "$T/out"
check "NDJSON: a message object" \
    grep -qE "^\\{\"epoch\":$E,\"seq\":[0-9]+,\"data\":\"line " "$T/out"
# Resume from N-3: exactly the last two, then eof.
sed -n '/^== Resume: /,/^== Resume after/p' "$T/out" | grep -v '^==' |
    grep -v '^$' >"$T/resume"
printf '%s\n' 'retry: 2000' ': ok' "id: $E:$((N - 2))" \
    "data: line $((N - 2)) xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
    "id: $E:$((N - 1))" \
    "data: line $((N - 1)) xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
    'event: eof' "data: {\"next\":$N}" >"$T/want"
check "resume: the messages after the id, then eof" cmp "$T/want" "$T/resume"
# The gap: lost + 1 == next (everything after E:0 up to next is gone).
check "gap: exact count" python3 - "$T/out" "$E" <<'PYEOF'
import json, re, sys
s = open(sys.argv[1]).read().split("== Resume after")[1]
e = sys.argv[2]
m = re.search(e + r":(\d+)\nevent: gap\ndata: (.*)\n", s)
g = json.loads(m[2])
assert g["next"] == g["lost"] + 1 == int(m[1]) + 1, g
assert f"id: {e}:{g['next']}\ndata: line {g['next']} " in s
PYEOF

examples_finish
