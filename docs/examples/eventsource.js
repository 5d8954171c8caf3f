// eventsource.js - follow a shmring ring in a browser (see eventsource.html).
//
// EventSource does the hard part: when the connection drops it reconnects
// by itself after the bridge's "retry" delay (2 s) and sends the id of the
// last event it saw as Last-Event-ID, so the stream resumes right after
// it. The control events say what happened to the ring.
"use strict";

const params = new URLSearchParams(location.search);
const bridge = params.get("bridge") || "http://127.0.0.1:8080";
const ring = params.get("ring") || "demo";
const log = document.getElementById("log");
const show = (line) => { log.textContent += line + "\n"; };

// from=oldest: start with the oldest message still in the ring. On a
// reconnect the browser's Last-Event-ID takes precedence over it.
const es = new EventSource(`${bridge}/rings/${ring}/stream?from=oldest`);

// A message: lastEventId is "EPOCH:SEQ".
es.onmessage = (e) => show(`${e.lastEventId} ${e.data}`);
// A payload that is not single-line UTF-8 text comes base64-encoded.
es.addEventListener("base64", (e) => show(`${e.lastEventId} ${atob(e.data)}`));
// Exactly `lost` messages were overwritten before we got them; the stream
// goes on at `next`. This is the count to trust.
es.addEventListener("gap", (e) => {
	const g = JSON.parse(e.data);
	show(`-- gap: lost ${g.lost} messages, next is ${g.next}`);
});
// We fell a whole ring behind while connected: the bridge closes the
// stream, the browser reconnects, and a "gap" event gives the total loss.
es.addEventListener("overrun", (e) => {
	show(`-- overrun: ${JSON.parse(e.data).lost} overwritten, resuming`);
});
// A new producer replaced the ring: sequence numbers start again at 0;
// the stream continues at "first" ("lost" of the new epoch's messages
// were gone already: a gap event with that count follows).
es.addEventListener("restart", (e) => {
	const r = JSON.parse(e.data);
	show(`-- restart: epoch ${r.epoch}, continuing at ${r.first}` +
	    ` (${r.lost} of it gone)`);
});
// The producer closed the ring. Close too, or the browser would reconnect.
es.addEventListener("eof", (e) => {
	show(`-- eof at ${JSON.parse(e.data).next}`);
	es.close();
});
// Any answer but 200 (a reverse proxy's 502 while the bridge restarts)
// closes an EventSource for good (readyState CLOSED): a page that must
// outlive that opens a new one with ?last_event_id= and the last id, as
// the dashboard does (bridge/dashboard/connection.js, ringbridge(8) BEHIND A
// REVERSE PROXY).
es.onerror = () => {
	if (es.readyState === EventSource.CONNECTING)
		show("-- disconnected, reconnecting");
	else
		show("-- refused (not 200): the browser gave up");
};
