// ringbridge dashboard: polls GET /rings once a second and follows one
// ring over Server-Sent Events (GET /rings/NAME/stream). No libraries.
//
// window.dashboard exposes the page's counters for scripts and tests:
// received, gaps, lost, overruns, eofs, restarts, reconnects, duplicates
// (an id seen again) and jumps (a sequence number skipped without a gap
// event), plus the chart's point count.
"use strict";

(() => {
	const MAX_LOG = 200;		// messages kept in the list
	const MAX_POINTS = 600;		// samples on the chart
	const BACKLOG = 300;		// messages fetched when a ring is chosen
	const POLL_MS = 1000;
	const HEX_MAX = 256;		// bytes shown per message in hex

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
		sel: null,		// ring being watched
		es: null,
		retry: null,		// manual reconnection timer
		opened: false,
		lastId: "",
		lastEpoch: null,
		lastSeq: null,
		ended: null,		// after eof: { epoch, created }
		fromOldest: false,	// resume impossible: start over
		failures: 0,		// refused reconnections in a row
		view: "text",
		paused: false,
		field: "",
		fieldChosen: false,	// the user picked the chart field
		fields: new Set(),
		entries: [],		// log entries, newest last
		fresh: [],		// entries not yet in the DOM
		points: [],		// chart values, null breaks the line
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
			return r.alive ? ["live", `live, pid ${r.producer_pid}`] :
			    ["stale", `stale (pid ${r.producer_pid} gone)`];
		case "closed":
			return ["closed", "closed (end of stream)"];
		case "replaced":
			return ["replaced", "replaced"];
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
		for (const cls of ["", "num", "", "num", "num", "num", "num"]) {
			const td = document.createElement("td");
			if (cls)
				td.className = cls;
			tr.appendChild(td);
		}
		const meter = document.createElement("meter");
		const txt = document.createElement("span");
		meter.min = 0;
		meter.max = 1;
		meter.high = 0.9;
		tr.children[3].append(meter, txt);
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
			const meter = tr.children[3].firstChild;
			const span = tr.children[3].lastChild;
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
			cell(tr, 4, live ? String(r.oldest_seq) : "\u2013");
			cell(tr, 5, live ? String(r.next_seq) : "\u2013");
			cell(tr, 6, live ? String(r.epoch) : "\u2013");
			cell(tr, 7, String(r.clients));
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
			}
		}
		$("no-rings").hidden = list.length !== 0;
	}

	function setStatus(text, bad) {
		const s = $("status");
		if (s.textContent !== text)
			s.textContent = text;
		s.classList.toggle("bad", !!bad);
	}

	async function poll() {
		try {
			const r = await fetch(withToken("/rings"),
			    { cache: "no-store" });
			if (!r.ok)
				throw new Error(`${r.status} ` +
				    (await r.text()).trim());
			const list = await r.json();
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
	}

	function streamUrl() {
		const base = `/rings/${encodeURIComponent(st.sel)}/stream`;
		if (st.lastId)
			return withToken(base + "?last_event_id=" +
			    encodeURIComponent(st.lastId));
		if (st.fromOldest)
			return withToken(base + "?from=oldest");
		const r = st.rings.get(st.sel);
		if (r && r.state === "live") {
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
				// Refused (e.g. 503 while the ring is absent):
				// retry ourselves, resuming after the last id.
				setConn("disconnected, retrying");
				es.close();
				st.es = null;
				if (++st.failures >= 3 && st.lastId)
					giveUpResume();
				st.retry = setTimeout(() => {
					if (st.sel !== null && st.ended === null)
						open();
				}, 2000);
			} else
				setConn("reconnecting");
		};
		es.onmessage = (e) => onMessage(e, false);
		es.addEventListener("base64", (e) => onMessage(e, true));
		for (const type of ["gap", "overrun", "eof", "restart"])
			es.addEventListener(type, (e) => onControl(type, e));
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

	function addPoint(v) {
		st.points.push(v);
		if (st.points.length > MAX_POINTS)
			st.points.shift();
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
		}
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
		let value;
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
					if (st.field.startsWith("json:"))
						value = obj[st.field.slice(5)];
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
			addPoint(value);
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
			    `${d.previous_epoch}), from its oldest message`;
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
	function giveUpResume() {
		addEntry({ id: "", kind: "error", text: "cannot resume after " +
		    `${st.lastId}: following the ring from its oldest message` });
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
		if (!r || r.state !== "live")
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
		st.stats = zeroStats();
		const sel = $("field");
		sel.replaceChildren(new Option("nothing", ""));
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
				body.textContent = en.text;
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

	function drawChart() {
		const cv = $("chart");
		const dpr = window.devicePixelRatio || 1;
		const w = Math.max(cv.clientWidth, 100);
		const h = Math.max(cv.clientHeight, 60);
		const css = getComputedStyle(document.documentElement);
		const color = (v) => css.getPropertyValue(v).trim();

		if (cv.width !== Math.round(w * dpr) ||
		    cv.height !== Math.round(h * dpr)) {
			cv.width = Math.round(w * dpr);
			cv.height = Math.round(h * dpr);
		}
		const g = cv.getContext("2d");
		g.setTransform(dpr, 0, 0, dpr, 0, 0);
		g.clearRect(0, 0, w, h);

		const pts = st.points;
		let lo = Infinity, hi = -Infinity, n = 0, last;
		for (const v of pts) {
			if (v === null)
				continue;
			lo = Math.min(lo, v);
			hi = Math.max(hi, v);
			last = v;
			n++;
		}
		st.stats.points = n;
		cv.dataset.points = String(n);
		const what = $("field").selectedOptions[0];
		const label = what && what.value ? what.textContent : "";
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
		const x = (i) => padL + (MAX_POINTS > 1 ?
		    i * pw / (MAX_POINTS - 1) : 0);
		const y = (v) => padT + (hi - v) * ph / (hi - lo);

		g.font = "11px system-ui, sans-serif";
		g.textAlign = "right";
		g.textBaseline = "middle";
		g.lineWidth = 1;
		for (const v of [hi, (hi + lo) / 2, lo]) {
			g.strokeStyle = color("--line");
			g.beginPath();
			g.moveTo(padL, Math.round(y(v)) + 0.5);
			g.lineTo(w - padR, Math.round(y(v)) + 0.5);
			g.stroke();
			g.fillStyle = color("--muted");
			g.fillText(String(Number(v.toPrecision(4))), padL - 6,
			    y(v));
		}
		g.strokeStyle = color("--chart");
		g.lineWidth = 1.5;
		g.beginPath();
		const off = MAX_POINTS - pts.length;
		let pen = false;
		pts.forEach((v, i) => {
			if (v === null) {
				pen = false;
				return;
			}
			if (pen)
				g.lineTo(x(off + i), y(v));
			else
				g.moveTo(x(off + i), y(v));
			pen = true;
		});
		g.stroke();
		g.fillStyle = color("--chart");
		g.beginPath();
		g.arc(x(MAX_POINTS - 1), y(last), 3, 0, 2 * Math.PI);
		g.fill();
		cv.setAttribute("aria-label", `Chart of ${label}: ${n} ` +
		    `points from ${fmtNum(lo)} to ${fmtNum(hi)}, latest ` +
		    fmtNum(last));
		$("chart-caption").textContent = `${label}: last ${n} ` +
		    `values, latest ${fmtNum(last)}`;
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
