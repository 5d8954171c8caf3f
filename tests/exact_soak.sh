#!/bin/bash
# exact_soak.sh EXACT SECONDS [RUN_SECONDS]: run the exactness checker
# again and again with a new seed each time (one run has at most 255
# producer generations) until SECONDS have passed; print each run's last
# line and the totals. Exit 1 if any run failed (its seed is printed).
set -u
exact=$1 total=$2 per=${3:-120}
end=$(( $(date +%s) + total ))
runs=0 fails=0 deliv=0 lost=0 delays=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
while [ "$(date +%s)" -lt "$end" ]; do
	left=$(( end - $(date +%s) ))
	[ "$left" -lt "$per" ] && per=$left
	[ "$per" -lt 5 ] && break
	EXACT_SEED=$(( (RANDOM << 30) ^ (RANDOM << 15) ^ RANDOM ^ $$ + runs )) \
	    EXACT_SECONDS=$per "$exact" > "$log" 2>&1
	rc=$?
	runs=$((runs + 1))
	line=$(grep 'deliveries checked' "$log" | tail -1)
	echo "$line"
	d=$(sed -n 's/.*: \([0-9]*\) deliveries checked, \([0-9]*\) losses.*/\1/p' <<< "$line")
	l=$(sed -n 's/.*deliveries checked, \([0-9]*\) losses.*/\1/p' <<< "$line")
	deliv=$((deliv + ${d:-0})) lost=$((lost + ${l:-0}))
	# SAN=chaos with SHMR_CHAOS_STATS=1: delays injected by this run's
	# processes (the bridge's own are in its stderr file).
	c=$(awk '/^chaos\[/ { d += $4 } END { print d + 0 }' "$log")
	delays=$((delays + c))
	if [ "$rc" != 0 ]; then
		fails=$((fails + 1))
		grep -v 'stretches, [0-9]* stalls$' "$log" | head -20
	fi
done
echo "exact soak: $runs runs, $fails failed, $deliv deliveries checked," \
    "$lost losses accounted, $delays chaos delays"
[ "$fails" = 0 ]
