// rings.js - the rings table, one row per ring of GET /rings (a card
// each at a phone's width), with each ring's rate of the last minutes as
// a sparkline.
"use strict";

(() => {
	const D = window.ringdash;
	const { $, st } = D;
	const HIST_MS = 5 * 60 * 1000;	// span of the rate sparklines

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
			D.select(name);
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
		tr.addEventListener("click", () => D.select(name));
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
				const t = `${D.fmtBytes(r.used)} / ` +
				    `${D.fmtBytes(r.capacity)} ` +
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

	// A sparkline of the last HIST_MS: time runs right to now, zero at
	// the bottom, the highest rate seen at the top.
	function drawSpark(cv, hist) {
		const [g, w, h] = D.sizeCanvas(cv, 40, 12);
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
		    `${mins} min: now ${D.fmtNum(last)}, highest ` +
		    `${D.fmtNum(hi)} msg/s`;
		if (cv.getAttribute("aria-label") !== t) {
			cv.setAttribute("aria-label", t);
			cv.title = t;
		}
	}

	Object.assign(D, { renderRings });
})();
