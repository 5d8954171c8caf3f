#!/bin/sh
# curl.sh - ringbridge from the command line.
#
#	curl.sh http://127.0.0.1:8080 NAME [LAST-EVENT-ID]
#
# Runs the curl commands below against ring NAME; the third one resumes
# after LAST-EVENT-ID (default EPOCH:0). A stream never ends while
# its producer runs: here each is cut short with head, or ends by itself at
# "eof" once the producer has closed the ring.
U=$1/rings/$2/stream
# The ring's epoch: its creation time in microseconds (never reused, so an
# id names one message for good); /rings/NAME says it.
E=$(curl -s "$1/rings/$2" | sed -n 's/.*"epoch":\([0-9]*\).*/\1/p')

echo "== SSE from the oldest message still in the ring (default: new only)"
# Each message is an event with "id: EPOCH:SEQ" (SEQ counts from 0, EPOCH
# is new whenever a new producer creates the ring) and "data: PAYLOAD".
# An id of an older ring gets "restart" and the new ring from its start.
# -N: print events as they arrive instead of buffering them.
curl -sN "$U?from=oldest" | head -n 8

echo "== NDJSON: one JSON object per line, control events included"
curl -sN "$U?from=oldest&format=ndjson" | head -n 2

echo "== Resume: send the id of the last event you saw"
# The stream continues right after it, with nothing lost or repeated.
# Last (here: at "eof", {"next": S}) the producer has closed the ring.
curl -sN -H "Last-Event-ID: ${3:-$E:0}" "$U"

echo "== Resume after messages were overwritten: a gap, with the exact count"
# "gap" {"lost": N, "next": S}: exactly N messages are gone; the stream goes
# on at S. Its id acknowledges the gap, so resuming from it is quiet.
# A stream that falls a whole ring behind while connected instead gets
#	event: overrun
#	data: {"lost":N,"next":S}
# and is closed: reconnect with Last-Event-ID and the gap says what was
# lost in total (or ask for ?on_overrun=skip to get gaps without closing).
curl -sN -H "Last-Event-ID: $E:0" "$U" | head -n 10
