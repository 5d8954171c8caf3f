// connection.js - the bridge over HTTP: GET /rings once a second and
// the watched ring's Server-Sent Events stream (GET /rings/NAME/stream),
// reopened after the last id with a backoff when refused, and followed
// again after eof once a producer is back.
"use strict";

(() => {
	const D = window.ringdash;
	const { $, st, withToken } = D;
	const BACKLOG = 300;		// messages fetched when a ring is chosen
	const POLL_MS = 1000;
	const RETRY_MIN = 1000;		// stream reconnection backoff, ms
	const RETRY_MAX = 10000;

	function setStatus(text, bad) {
		const s = $("status");
		if (s.textContent !== text)
			s.textContent = text;
		s.classList.toggle("bad", !!bad);
	}

	// "404 no such ring": the bridge's plain-text reason, not a proxy's
	// HTML error page.
	async function httpError(r) {
		const type = r.headers.get("content-type") || "";
		const text = type.startsWith("text/plain") ?
		    (await r.text()).trim().slice(0, 160) : r.statusText;
		return `HTTP ${r.status}${text ? " " + text : ""}`;
	}

	async function poll() {
		try {
			const r = await fetch(withToken("/rings"),
			    { cache: "no-store" });
			if (!r.ok)
				throw new Error(await httpError(r));
			const list = await r.json();
			// The bridge is back (after a restart, behind a proxy
			// answering 502 meanwhile): reconnect the stream now
			// rather than at the end of its backoff.
			if (st.pollFailed && st.retry !== null) {
				clearTimeout(st.retry);
				st.retry = setTimeout(reconnect, 0);
			}
			st.pollFailed = false;
			D.renderRings(list);
			// A live region: only a change is announced.
			setStatus(`${list.length} ring${list.length === 1 ?
			    "" : "s"} served`);
			$("status").title = "updated " +
			    new Date().toLocaleTimeString();
			maybeResume();
			if (st.sel === null && location.hash.startsWith(
			    "#ring=")) {
				const name = decodeURIComponent(
				    location.hash.slice(6));
				if (st.rings.has(name))
					D.select(name);
			}
		} catch (e) {
			st.pollFailed = true;
			setStatus(`bridge unreachable: ${e.message}`, true);
		}
		setTimeout(poll, POLL_MS);
	}

	// ---- the stream ----------------------------------------------------

	function setConn(text) {
		$("conn").textContent = text;
	}

	function closeStream() {
		if (st.es) {
			st.es.close();
			st.es = null;
		}
		clearTimeout(st.retry);
		st.retry = null;
		st.gen++;
	}

	function streamUrl() {
		const base = `/rings/${encodeURIComponent(st.sel)}/stream`;
		if (st.lastId)
			return withToken(base + "?last_event_id=" +
			    encodeURIComponent(st.lastId));
		if (st.fromOldest)
			return withToken(base + "?from=oldest");
		const r = st.rings.get(st.sel);
		if (r && (r.state === "live" || r.state === "dead")) {
			const from = Math.max(r.oldest_seq,
			    r.next_seq - BACKLOG);
			return withToken(`${base}?from=${from}`);
		}
		return withToken(base);
	}

	function open() {
		closeStream();
		const es = new EventSource(streamUrl());
		st.es = es;
		setConn("connecting");
		es.onopen = () => {
			if (st.opened)
				st.stats.reconnects++;
			st.opened = true;
			st.failures = 0;
			setConn("open");
			D.schedule();
		};
		es.onerror = () => {
			if (es !== st.es)
				return;
			if (es.readyState === EventSource.CLOSED) {
				// The browser gives up for good on an answer
				// other than 200: a proxy's 502 while the bridge
				// restarts, the bridge's 503 while the ring is
				// absent, 400 for an id it cannot resume after.
				// Retry ourselves, resuming after the last id.
				es.close();
				st.es = null;
				retryLater("");
			} else
				setConn("reconnecting");
		};
		es.onmessage = (e) => D.onMessage(e, false);
		es.addEventListener("base64", (e) => D.onMessage(e, true));
		for (const type of ["gap", "overrun", "eof", "restart"])
			es.addEventListener(type, (e) => D.onControl(type, e));
	}

	function retryLater(why) {
		const d = Math.min(RETRY_MAX, RETRY_MIN *
		    2 ** Math.min(st.failures, 4)) * (0.8 + 0.4 * Math.random());

		st.failures++;
		setConn(`disconnected${why ? " (" + why + ")" : ""}, ` +
		    `retrying in ${Math.ceil(d / 1000)} s`);
		clearTimeout(st.retry);
		st.retry = setTimeout(reconnect, d);
	}

	// Ask with fetch() what EventSource does not tell (the status), then
	// reopen the stream after the last id if the bridge would serve it.
	// The probe is aborted as soon as its headers are in.
	async function reconnect() {
		st.retry = null;
		if (st.sel === null || st.ended !== null || st.es !== null)
			return;
		const gen = ++st.gen;
		const ac = new AbortController();
		let status = 0, why = "no connection";
		try {
			const r = await fetch(streamUrl(), { cache: "no-store",
			    signal: ac.signal });
			status = r.status;
			if (status !== 200)
				why = await httpError(r);
		} catch (e) {
			// A refused connection: the bridge is down.
		}
		ac.abort();
		if (gen !== st.gen || st.sel === null || st.ended !== null)
			return;
		if (status === 200) {
			open();
		} else if (status === 204) {
			// A closed ring with nothing left (the eof was
			// missed): wait for a new producer as after eof.
			st.ended = { epoch: st.lastEpoch, created: (st.rings.get(
			    st.sel) || {}).created_ns };
			setConn("ended");
		} else if (status === 400) {
			giveUpResume(why);
			open();
		} else
			retryLater(why);
	}

	// The bridge keeps refusing to resume after lastId (a ring created
	// afresh has no such message): say so and follow from the oldest.
	function giveUpResume(why) {
		D.addEntry({ id: "", kind: "error", text: "cannot resume " +
		    `after ${st.lastId || "the chosen message"} (${why}): ` +
		    "following the ring from its oldest message" });
		st.lastId = "";
		st.lastEpoch = st.lastSeq = null;
		st.fromOldest = true;
		D.schedule();
	}

	// After eof: follow the ring again once a producer is back. A later
	// epoch of the same ring is resumed after the last id (the bridge
	// sends a restart event); a ring removed and created afresh starts
	// over at epoch 1 and is followed from its oldest message.
	function maybeResume() {
		if (st.sel === null || st.ended === null)
			return;
		const r = st.rings.get(st.sel);
		if (!r || (r.state !== "live" && r.state !== "dead"))
			return;
		if (r.epoch > st.ended.epoch) {
			st.ended = null;
			open();
		} else if (r.epoch < st.ended.epoch ||
		    r.created_ns !== st.ended.created) {
			st.ended = null;
			st.stats.restarts++;
			D.addEntry({ id: "", kind: "restart",
			    text: "the ring was created again: following it " +
			    "from its oldest message" });
			st.lastId = "";
			st.lastEpoch = st.lastSeq = null;
			st.fromOldest = true;
			D.addPoint(null);
			open();
		}
	}

	Object.assign(D, { poll, open, closeStream, setConn });
})();
