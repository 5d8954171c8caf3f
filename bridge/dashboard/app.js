// ringbridge dashboard: polls GET /rings once a second (and keeps each
// ring's rate of the last minutes for the table's sparklines) and follows
// one ring over Server-Sent Events (GET /rings/NAME/stream). No libraries.
//
// window.dashboard exposes the page's counters for scripts and tests:
// received, gaps, lost, overruns, eofs, restarts, reconnects, duplicates
// (an id seen again) and jumps (a sequence number skipped without a gap
// event), plus the chart's point count and the keys of its lines.
"use strict";

(() => {
	const MAX_LOG = 200;		// messages kept in the list
	const MAX_POINTS = 600;		// samples on the chart
	const BACKLOG = 300;		// messages fetched when a ring is chosen
	const POLL_MS = 1000;
	const HEX_MAX = 256;		// bytes shown per message in hex
	const KEEP = MAX_POINTS * 8;	// chart values kept (all lines)
	const HIST_MS = 5 * 60 * 1000;	// span of the rate sparklines
	const MAX_KEYS = 64;		// distinct values of a line key
	const RETRY_MIN = 1000;		// stream reconnection backoff, ms
	const RETRY_MAX = 10000;
	// String fields of JSON messages that name a series: the chart
	// draws one line per value (the ticks demo's "sym").
	const KEY_NAMES = ["sym", "symbol", "ticker", "key", "name",
	    "topic", "host", "device", "sensor", "id"];

	const $ = (id) => document.getElementById(id);
	const token = new URLSearchParams(location.search).get("access_token");

	function withToken(url) {
		if (!token)
			return url;
		return url + (url.includes("?") ? "&" : "?") +
		    "access_token=" + encodeURIComponent(token);
	}

	const st = {
		rings: new Map(),	// name -> latest /rings entry
		rows: new Map(),	// name -> <tr>
		hist: new Map(),	// name -> [{ t, v }] rates, oldest first
		pollFailed: false,	// the last /rings poll failed
		sel: null,		// ring being watched
		es: null,
		retry: null,		// manual reconnection timer
		gen: 0,			// bumped when a pending probe is void
		opened: false,
		lastId: "",
		lastEpoch: null,
		lastSeq: null,
		ended: null,		// after eof: { epoch, created }
		fromOldest: false,	// resume impossible: start over
		failures: 0,		// failed reconnections in a row
		view: "text",
		paused: false,
		field: "",
		fieldChosen: false,	// the user picked the chart field
		fields: new Set(),
		split: "",		// JSON field whose values are lines
		splitChosen: false,	// the user picked it
		only: "",		// the one value shown ("" all)
		splits: new Map(),	// string field -> Set of its values
		colors: new Map(),	// line key -> palette index
		series: [],		// keys of the lines last drawn
		entries: [],		// log entries, newest last
		fresh: [],		// entries not yet in the DOM
		points: [],		// chart { v, k }, null breaks every line
		dirty: false,
		stats: null,
	};

	function zeroStats() {
		return { received: 0, gaps: 0, lost: 0, overruns: 0, eofs: 0,
		    restarts: 0, reconnects: 0, duplicates: 0, jumps: 0,
		    points: 0 };
	}
	st.stats = zeroStats();
	window.dashboard = {
		get ring() { return st.sel; },
		get stats() { return Object.assign({}, st.stats); },
		get lastId() { return st.lastId; },
		get field() { return st.field; },
		get split() { return st.split; },
		get series() { return st.series.slice(); },
	};

	// ---- formatting ----------------------------------------------------

	function fmtBytes(n) {
		const u = ["B", "KiB", "MiB", "GiB", "TiB"];
		let i = 0;

		while (n >= 1024 && i < u.length - 1) {
			n /= 1024;
			i++;
		}
		return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) +
		    " " + u[i];
	}

	function fmtNum(v) {
		if (!Number.isFinite(v))
			return String(v);
		const a = Math.abs(v);
		if (a !== 0 && (a >= 1e6 || a < 1e-3))
			return v.toExponential(3);
		return String(Number(v.toPrecision(6)));
	}

	function b64bytes(s) {
		const bin = atob(s);
		const out = new Uint8Array(bin.length);

		for (let i = 0; i < bin.length; i++)
			out[i] = bin.charCodeAt(i);
		return out;
	}

	const utf8 = new TextDecoder("utf-8", { fatal: true });
	const enc = new TextEncoder();

	function hex(bytes) {
		const n = Math.min(bytes.length, HEX_MAX);
		const parts = new Array(n);

		for (let i = 0; i < n; i++)
			parts[i] = bytes[i].toString(16).padStart(2, "0");
		return parts.join(" ") + (bytes.length > n ?
		    ` \u2026 (${bytes.length} bytes)` : "");
	}

	function binText(bytes) {
		try {
			return utf8.decode(bytes);
		} catch (e) {
			let s = "";
			for (const b of bytes.subarray(0, HEX_MAX))
				s += b >= 0x20 && b < 0x7f ?
				    String.fromCharCode(b) :
				    "\\x" + b.toString(16).padStart(2, "0");
			return s;
		}
	}

	// ---- the rings table -----------------------------------------------

	function producer(r) {
		switch (r.state) {
		case "live":
			return ["live", `live, pid ${r.producer_pid}`];
		case "dead":
			return ["stale", `stale (pid ${r.producer_pid} gone)`];
		case "closed":
			return ["closed", "closed (end of stream)"];
		case "replaced":
			return ["replaced", "replaced"];
		case "stalled":
			return ["stale", "stalled mid-update (pid stopped?)"];
		default:
			return ["absent", r.state === "absent" ?
			    "absent (not created yet)" : r.state];
		}
	}

	function cell(tr, i, text, cls) {
		const td = tr.children[i];

		if (td.textContent !== text)
			td.textContent = text;
		if (cls !== undefined)
			td.className = cls;
	}

	function makeRow(name) {
		const tr = document.createElement("tr");
		const th = document.createElement("th");
		const btn = document.createElement("button");

		th.scope = "row";
		btn.type = "button";
		btn.className = "ring";
		btn.textContent = name;
		btn.addEventListener("click", (ev) => {
			ev.stopPropagation();
			select(name);
		});
		th.appendChild(btn);
		tr.appendChild(th);
		tr.dataset.ring = name;
		// Labels for the phone layout, where each cell shows its own.
		const heads = document.querySelectorAll("#rings thead th");
		["", "num", "wide", "wide", "num", "num", "num", "num"]
		    .forEach((cls, i) => {
			const td = document.createElement("td");
			if (cls)
				td.className = cls;
			td.dataset.label = heads[i + 1].textContent;
			tr.appendChild(td);
		});
		const spark = document.createElement("canvas");
		spark.className = "spark";
		spark.setAttribute("role", "img");
		tr.children[3].append(spark);
		const meter = document.createElement("meter");
		const txt = document.createElement("span");
		meter.min = 0;
		meter.max = 1;
		meter.high = 0.9;
		tr.children[4].append(meter, txt);
		tr.addEventListener("click", () => select(name));
		return tr;
	}

	function renderRings(list) {
		const body = document.querySelector("#rings tbody");
		const seen = new Set();

		for (const r of list) {
			let tr = st.rows.get(r.name);
			seen.add(r.name);
			st.rings.set(r.name, r);
			if (!tr) {
				tr = makeRow(r.name);
				st.rows.set(r.name, tr);
			}
			body.appendChild(tr);	// keeps the bridge's order
			const [cls, text] = producer(r);
			const live = r.capacity !== undefined;
			cell(tr, 1, text, "state-" + cls);
			cell(tr, 2, live ? r.rate.toFixed(1) : "\u2013");
			drawSpark(tr.children[3].firstChild, record(r, live));
			const meter = tr.children[4].firstChild;
			const span = tr.children[4].lastChild;
			meter.hidden = !live;
			if (live) {
				const f = r.capacity ? r.used / r.capacity : 0;
				meter.value = f;
				meter.title = (f * 100).toFixed(1) + "% full";
				const t = `${fmtBytes(r.used)} / ` +
				    `${fmtBytes(r.capacity)} ` +
				    `(${(f * 100).toFixed(0)}%)`;
				if (span.textContent !== t)
					span.textContent = t;
			} else
				span.textContent = "\u2013";
			cell(tr, 5, live ? String(r.oldest_seq) : "\u2013");
			cell(tr, 6, live ? String(r.next_seq) : "\u2013");
			cell(tr, 7, live ? String(r.epoch) : "\u2013");
			cell(tr, 8, String(r.clients));
			tr.classList.toggle("selected", r.name === st.sel);
			const btn = tr.querySelector("button");
			btn.setAttribute("aria-pressed",
			    String(r.name === st.sel));
		}
		for (const [name, tr] of st.rows) {
			if (!seen.has(name)) {
				tr.remove();
				st.rows.delete(name);
				st.rings.delete(name);
				st.hist.delete(name);
			}
		}
		$("no-rings").hidden = list.length !== 0;
	}

	// The rate history of a ring: messages per second between two polls,
	// from next_seq (so it needs no warm-up after a bridge restart and
	// spans the polls that failed); null, a break in the line, while the
	// ring is not live and when its epoch or creation changed.
	function record(r, live) {
		const now = performance.now();
		let h = st.hist.get(r.name);

		if (!h)
			st.hist.set(r.name, h = { pts: [], prev: null });
		const p = h.prev;
		let v = null;
		if (live && p !== null && p.epoch === r.epoch &&
		    p.created === r.created_ns && r.next_seq >= p.seq &&
		    now > p.t)
			v = (r.next_seq - p.seq) * 1000 / (now - p.t);
		h.prev = live ? { t: now, seq: r.next_seq, epoch: r.epoch,
		    created: r.created_ns } : null;
		h.pts.push({ t: now, v });
		while (h.pts[0].t < now - HIST_MS)
			h.pts.shift();
		return h.pts;
	}

	function sizeCanvas(cv, minW, minH) {
		const dpr = window.devicePixelRatio || 1;
		const w = Math.max(cv.clientWidth, minW);
		const h = Math.max(cv.clientHeight, minH);

		if (cv.width !== Math.round(w * dpr) ||
		    cv.height !== Math.round(h * dpr)) {
			cv.width = Math.round(w * dpr);
			cv.height = Math.round(h * dpr);
		}
		const g = cv.getContext("2d");
		g.setTransform(dpr, 0, 0, dpr, 0, 0);
		g.clearRect(0, 0, w, h);
		return [g, w, h];
	}

	// A sparkline of the last HIST_MS: time runs right to now, zero at
	// the bottom, the highest rate seen at the top.
	function drawSpark(cv, hist) {
		const [g, w, h] = sizeCanvas(cv, 40, 12);
		const now = hist[hist.length - 1].t;
		let hi = 0, n = 0, last = null;

		for (const s of hist)
			if (s.v !== null) {
				hi = Math.max(hi, s.v);
				n++;
				last = s.v;
			}
		// The first minute fills the width; older samples then move
		// left until HIST_MS spans it.
		const span = Math.min(HIST_MS, Math.max(60000,
		    now - hist[0].t));
		const x = (t) => w - 1 - (now - t) * (w - 2) / span;
		const y = (v) => h - 1.5 - (hi > 0 ? v / hi : 0) * (h - 3);
		g.strokeStyle = getComputedStyle(cv).getPropertyValue(
		    "--chart").trim();
		g.lineWidth = 1.25;
		g.beginPath();
		let pen = false;
		for (const s of hist) {
			if (s.v === null) {
				pen = false;
				continue;
			}
			if (pen)
				g.lineTo(x(s.t), y(s.v));
			else
				g.moveTo(x(s.t), y(s.v));
			pen = true;
		}
		g.stroke();
		cv.dataset.samples = String(n);
		cv.dataset.max = String(hi);
		const mins = Math.max(1, Math.round((now - hist[0].t) / 60000));
		const t = n === 0 ? "no rate yet" : `rate over the last ` +
		    `${mins} min: now ${fmtNum(last)}, highest ${fmtNum(hi)} ` +
		    "msg/s";
		if (cv.getAttribute("aria-label") !== t) {
			cv.setAttribute("aria-label", t);
			cv.title = t;
		}
	}

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
			renderRings(list);
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
					select(name);
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
			schedule();
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
		es.onmessage = (e) => onMessage(e, false);
		es.addEventListener("base64", (e) => onMessage(e, true));
		for (const type of ["gap", "overrun", "eof", "restart"])
			es.addEventListener(type, (e) => onControl(type, e));
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

	function parseId(id) {
		const i = id.indexOf(":");
		return [Number(id.slice(0, i)), Number(id.slice(i + 1))];
	}

	function addEntry(en) {
		st.entries.push(en);
		if (st.entries.length > MAX_LOG)
			st.entries.shift();
		if (!st.paused) {
			st.fresh.push(en);
			if (st.fresh.length > MAX_LOG)
				st.fresh.shift();
		}
	}

	// A chart value v of line k, or null: a break in every line.
	function addPoint(v, k) {
		st.points.push(v === null ? null : { v, k });
		if (st.points.length > KEEP + 256)
			st.points.splice(0, st.points.length - KEEP);
	}

	function offerField(key, label) {
		if (st.fields.has(key))
			return;
		st.fields.add(key);
		const o = document.createElement("option");
		o.value = key;
		o.textContent = label;
		$("field").appendChild(o);
		if (st.fieldChosen)
			return;
		// Prefer binary samples, then a price-like field.
		const rank = (k) => k === "f64" ? 0 : k === "number" ? 1 :
		    ["px", "price", "value", "v", "y"].includes(k.slice(5)) ?
		    2 : k === "" ? 9 : 3;
		if (rank(key) < rank(st.field)) {
			st.field = key;
			$("field").value = key;
			st.points = [];
			showSplit();
		}
	}

	// A string field of JSON messages may name the line a value belongs
	// to. A field with more than MAX_KEYS values (an id, a time) is not
	// offered; a field named like a key is chosen unless the user chose.
	function offerSplit(k, v) {
		let vals = st.splits.get(k);

		if (vals === undefined) {
			st.splits.set(k, vals = new Set());
			$("split").append(new Option(k, k));
			if (!st.splitChosen && st.split === "" &&
			    KEY_NAMES.includes(k)) {
				st.split = k;
				$("split").value = k;
				st.points = [];
			}
			showSplit();
		}
		if (vals.size > MAX_KEYS || vals.has(v))
			return;
		vals.add(v);
		if (vals.size > MAX_KEYS) {
			const o = [...$("split").options].find((o) =>
			    o.value === k);
			if (o && st.split !== k)
				o.remove();
		} else if (k === st.split)
			fillOnly();
	}

	function fillOnly() {
		const vals = [...(st.splits.get(st.split) || [])].sort();
		const sel = $("only");

		sel.replaceChildren(new Option("all", ""),
		    ...vals.map((v) => new Option(v, v)));
		sel.value = vals.includes(st.only) ? st.only : "";
		st.only = sel.value;
	}

	// Lines per key only make sense for JSON fields.
	function showSplit() {
		const json = st.field.startsWith("json:");
		$("split-label").hidden = !json || st.splits.size === 0;
		$("only-label").hidden = !json || st.split === "";
		fillOnly();
	}

	function onMessage(e, isB64) {
		const [epoch, seq] = parseId(e.lastEventId);
		const s = st.stats;

		if (st.lastSeq !== null && epoch === st.lastEpoch) {
			if (seq <= st.lastSeq)
				s.duplicates++;
			else if (seq !== st.lastSeq + 1)
				s.jumps++;
		}
		st.lastEpoch = epoch;
		st.lastSeq = seq;
		st.lastId = e.lastEventId;
		s.received++;

		const en = { id: e.lastEventId, kind: "message" };
		let value, key = "";
		if (isB64) {
			en.kind = "base64";
			en.bytes = b64bytes(e.data);
			if (en.bytes.length === 8) {
				offerField("f64", "f64 samples (binary, LE)");
				value = new DataView(en.bytes.buffer)
				    .getFloat64(0, true);
				en.f64 = value;
				if (st.field !== "f64")
					value = undefined;
			}
		} else {
			en.text = e.data;
			const t = e.data.trimStart();
			if (t.startsWith("{")) {
				try {
					const obj = JSON.parse(t);
					for (const [k, v] of Object.entries(obj))
						if (typeof v === "number")
							offerField("json:" + k,
							    `JSON field ${k}`);
						else if (typeof v === "string")
							offerSplit(k, v);
					if (st.field.startsWith("json:")) {
						value = obj[st.field.slice(5)];
						key = st.split === "" ? "" :
						    String(obj[st.split] ?? "");
					}
				} catch (err) {
					// Not JSON after all: text only.
				}
			} else if (t !== "" && Number.isFinite(Number(t))) {
				offerField("number", "number (text)");
				if (st.field === "number")
					value = Number(t);
			}
		}
		if (typeof value === "number" && Number.isFinite(value))
			addPoint(value, key);
		addEntry(en);
		schedule();
	}

	function onControl(type, e) {
		let d = {};
		try {
			d = JSON.parse(e.data);
		} catch (err) {
			// Shown as sent.
		}
		const s = st.stats;
		let text;

		switch (type) {
		case "gap":
			s.gaps++;
			s.lost += d.lost;
			text = `${d.lost} message${d.lost === 1 ? "" : "s"} ` +
			    `lost, continuing at ${d.next}`;
			// Its id is EPOCH:NEXT-1: the gap is accounted for.
			if (e.lastEventId) {
				[st.lastEpoch, st.lastSeq] =
				    parseId(e.lastEventId);
				st.lastId = e.lastEventId;
			}
			addPoint(null);
			break;
		case "overrun":
			s.overruns++;
			text = `lapped by the producer: ${d.lost} lost before ` +
			    `${d.next}; reconnecting (the resume reports the ` +
			    "exact loss)";
			break;
		case "eof":
			s.eofs++;
			text = `the producer closed the ring; next would be ` +
			    `${d.next}. Waiting for a new producer.`;
			st.ended = { epoch: st.lastEpoch,
			    created: (st.rings.get(st.sel) || {}).created_ns };
			closeStream();
			setConn("ended");
			break;
		case "restart":
			s.restarts++;
			text = `new producer: epoch ${d.epoch} (was ` +
			    `${d.previous_epoch}), from its oldest message, ` +
			    `${d.first}` + (d.lost > 0 ? ` (${d.lost} of the ` +
			    "new epoch gone already)" : "");
			st.lastEpoch = d.epoch;
			st.lastSeq = null;
			addPoint(null);
			break;
		}
		// Only a gap has an id of its own (lastEventId keeps the last).
		addEntry({ id: type === "gap" ? e.lastEventId : "", kind: type,
		    text });
		schedule();
	}

	// The bridge keeps refusing to resume after lastId (a ring created
	// afresh has no such message): say so and follow from the oldest.
	function giveUpResume(why) {
		addEntry({ id: "", kind: "error", text: "cannot resume after " +
		    `${st.lastId || "the chosen message"} (${why}): following ` +
		    "the ring from its oldest message" });
		st.lastId = "";
		st.lastEpoch = st.lastSeq = null;
		st.fromOldest = true;
		schedule();
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
			addEntry({ id: "", kind: "restart", text: "the ring was " +
			    "created again: following it from its oldest " +
			    "message" });
			st.lastId = "";
			st.lastEpoch = st.lastSeq = null;
			st.fromOldest = true;
			addPoint(null);
			open();
		}
	}

	function select(name) {
		if (name === st.sel)
			return;
		closeStream();
		st.sel = name;
		st.opened = false;
		st.lastId = "";
		st.lastEpoch = st.lastSeq = st.ended = null;
		st.failures = 0;
		st.fromOldest = false;
		st.entries = [];
		st.fresh = [];
		st.points = [];
		st.fields = new Set();
		st.field = "";
		st.fieldChosen = false;
		st.split = st.only = "";
		st.splitChosen = false;
		st.splits = new Map();
		st.colors = new Map();
		st.stats = zeroStats();
		const sel = $("field");
		sel.replaceChildren(new Option("nothing", ""));
		$("split").replaceChildren(new Option("nothing (one line)", ""));
		showSplit();
		$("log").replaceChildren();
		$("watch-name").textContent = name;
		$("watch").hidden = false;
		history.replaceState(null, "", location.pathname +
		    location.search + "#ring=" + encodeURIComponent(name));
		for (const [n, tr] of st.rows) {
			tr.classList.toggle("selected", n === name);
			tr.querySelector("button").setAttribute("aria-pressed",
			    String(n === name));
		}
		open();
		schedule();
	}

	function unselect() {
		closeStream();
		st.sel = null;
		$("watch").hidden = true;
		history.replaceState(null, "", location.pathname +
		    location.search);
		for (const tr of st.rows.values())
			tr.classList.remove("selected");
	}

	// ---- rendering -----------------------------------------------------

	// Long JSON on a narrow screen: allow a line break after each comma
	// (<wbr>, so a copy is unchanged) rather than anywhere.
	function wrapAfterCommas(el, text) {
		const parts = text.split(",");

		if (text.length < 40 || parts.length < 2) {
			el.textContent = text;
			return;
		}
		for (let i = 0; i < parts.length - 1; i++)
			el.append(parts[i] + ",", document.createElement("wbr"));
		el.append(parts[parts.length - 1]);
	}

	function entryNode(en) {
		const li = document.createElement("li");
		const id = document.createElement("span");
		const kind = document.createElement("span");
		const body = document.createElement("span");

		id.className = "id";
		kind.className = "kind";
		body.className = "body";
		id.textContent = en.id;
		kind.textContent = en.kind;
		if (en.kind === "message" || en.kind === "base64") {
			if (st.view === "hex")
				body.textContent = hex(en.bytes ||
				    enc.encode(en.text));
			else if (en.f64 !== undefined)
				body.textContent = `f64 ${fmtNum(en.f64)}`;
			else if (en.bytes)
				body.textContent = binText(en.bytes);
			else
				wrapAfterCommas(body, en.text);
		} else {
			li.className = "ev ev-" + en.kind;
			body.textContent = en.text;
		}
		li.append(id, kind, body);
		return li;
	}

	function renderLog(all) {
		const log = $("log");
		const list = all ? st.entries : st.fresh;
		const frag = document.createDocumentFragment();

		for (let i = list.length - 1; i >= 0; i--)
			frag.appendChild(entryNode(list[i]));
		if (all)
			log.replaceChildren(frag);
		else
			log.prepend(frag);
		st.fresh = [];
		while (log.childElementCount > MAX_LOG)
			log.lastElementChild.remove();
	}

	function renderCounters() {
		const s = st.stats;
		const set = (id, v) => {
			const t = String(v);
			const el = $(id);
			if (el.textContent !== t)
				el.textContent = t;
		};
		set("msg-count", s.received);
		set("last-id", st.lastId || "\u2013");
		set("gap-count", s.gaps);
		set("lost-count", s.lost);
		set("restart-count", s.restarts);
		set("reconnect-count", s.reconnects);
	}

	// The last MAX_POINTS values shown (of the chosen line only, or of
	// all), oldest first, with the breaks between them.
	function shownPoints() {
		const out = [];
		let n = 0;

		for (let i = st.points.length - 1; i >= 0 && n < MAX_POINTS;
		    i--) {
			const p = st.points[i];
			if (p === null) {
				if (out.length && out[out.length - 1] !== null)
					out.push(null);
			} else if (st.only === "" || p.k === st.only) {
				out.push(p);
				n++;
			}
		}
		return out.reverse();
	}

	function color(k) {
		if (!st.colors.has(k))
			st.colors.set(k, st.colors.size % 8);
		return st.colors.get(k);
	}

	function drawLegend(last) {
		const ul = $("legend");
		const keys = [...last.keys()];

		if (keys.length < 2 && st.only === "") {
			ul.replaceChildren();
			return;
		}
		ul.replaceChildren(...keys.map((k) => {
			const li = document.createElement("li");
			li.className = "s" + color(k);
			li.textContent = `${k === "" ? "(none)" : k} ` +
			    fmtNum(last.get(k));
			return li;
		}));
	}

	function drawChart() {
		const cv = $("chart");
		const [g, w, h] = sizeCanvas(cv, 100, 60);
		const css = getComputedStyle(document.documentElement);
		const prop = (v) => css.getPropertyValue(v).trim();

		const pts = shownPoints();
		const last = new Map();		// line key -> latest value
		let lo = Infinity, hi = -Infinity, n = 0;
		for (const p of pts) {
			if (p === null)
				continue;
			lo = Math.min(lo, p.v);
			hi = Math.max(hi, p.v);
			last.set(p.k, p.v);
			n++;
		}
		st.stats.points = n;
		st.series = [...last.keys()];
		cv.dataset.points = String(n);
		cv.dataset.series = String(last.size);
		drawLegend(last);
		const what = $("field").selectedOptions[0];
		let label = what && what.value ? what.textContent : "";
		if (label && st.split !== "")
			label += st.only === "" ? ` per ${st.split}` :
			    ` of ${st.split} ${st.only}`;
		if (n === 0) {
			cv.setAttribute("aria-label", "No chart yet");
			$("chart-caption").textContent = label ?
			    `Waiting for values of ${label}.` :
			    "Choose a numeric value to chart.";
			return;
		}
		if (hi === lo) {
			hi += 1;
			lo -= 1;
		}
		const padL = 64, padR = 8, padT = 8, padB = 8;
		const pw = w - padL - padR, ph = h - padT - padB;
		const x = (i) => padL + i * pw / (MAX_POINTS - 1);
		const y = (v) => padT + (hi - v) * ph / (hi - lo);

		g.font = "11px system-ui, sans-serif";
		g.textAlign = "right";
		g.textBaseline = "middle";
		g.lineWidth = 1;
		for (const v of [hi, (hi + lo) / 2, lo]) {
			g.strokeStyle = prop("--line");
			g.beginPath();
			g.moveTo(padL, Math.round(y(v)) + 0.5);
			g.lineTo(w - padR, Math.round(y(v)) + 0.5);
			g.stroke();
			g.fillStyle = prop("--muted");
			g.fillText(String(Number(v.toPrecision(4))), padL - 6,
			    y(v));
		}
		// One path per line; the values of the other lines in between
		// do not break it, a gap or restart breaks every line.
		const paths = new Map();	// key -> { path, pen, x, y }
		let i = MAX_POINTS - n;
		for (const p of pts) {
			if (p === null) {
				for (const q of paths.values())
					q.pen = false;
				continue;
			}
			let q = paths.get(p.k);
			if (q === undefined)
				paths.set(p.k, q = { path: new Path2D() });
			q.x = x(i++);
			q.y = y(p.v);
			if (q.pen)
				q.path.lineTo(q.x, q.y);
			else
				q.path.moveTo(q.x, q.y);
			q.pen = true;
		}
		g.lineWidth = 1.5;
		for (const [k, q] of paths) {
			const c = paths.size > 1 || st.split !== "" ?
			    prop("--s" + color(k)) : prop("--chart");
			g.strokeStyle = g.fillStyle = c;
			g.stroke(q.path);
			g.beginPath();
			g.arc(q.x, q.y, 3, 0, 2 * Math.PI);
			g.fill();
		}
		const latest = pts[pts.length - 1].v;
		cv.setAttribute("aria-label", `Chart of ${label}: ${n} ` +
		    `points in ${paths.size} line${paths.size === 1 ? "" :
		    "s"} from ${fmtNum(lo)} to ${fmtNum(hi)}, latest ` +
		    fmtNum(latest));
		$("chart-caption").textContent = `${label}: last ${n} ` +
		    `values, latest ${fmtNum(latest)}`;
	}

	function render() {
		st.dirty = false;
		if (st.sel === null)
			return;
		renderCounters();
		if (st.fresh.length)
			renderLog(false);
		drawChart();
	}

	function schedule() {
		if (!st.dirty) {
			st.dirty = true;
			requestAnimationFrame(render);
		}
	}

	// ---- controls ------------------------------------------------------

	for (const r of document.querySelectorAll("input[name=view]"))
		r.addEventListener("change", () => {
			st.view = r.value;
			renderLog(true);
		});
	$("field").addEventListener("change", (e) => {
		st.field = e.target.value;
		st.fieldChosen = true;
		st.points = [];
		showSplit();
		schedule();
	});
	$("split").addEventListener("change", (e) => {
		st.split = e.target.value;
		st.splitChosen = true;
		st.only = "";
		st.points = [];
		showSplit();
		schedule();
	});
	$("only").addEventListener("change", (e) => {
		st.only = e.target.value;
		schedule();
	});
	$("pause").addEventListener("click", (e) => {
		st.paused = !st.paused;
		e.target.setAttribute("aria-pressed", String(st.paused));
		e.target.textContent = st.paused ? "Resume list" :
		    "Pause list";
		if (!st.paused)
			renderLog(true);
	});
	$("close").addEventListener("click", unselect);
	window.addEventListener("resize", schedule);
	poll();
})();
