// chart.js - the watched ring's chart: the values it keeps, the fields
// it offers (numbers of JSON messages, f64 samples, numeric text), the
// JSON string field that splits it into lines and the one line shown, and
// the drawing (also the canvas sizing of the rings table's sparklines).
"use strict";

(() => {
	const D = window.ringdash;
	const { $, st } = D;
	const MAX_POINTS = 600;		// samples on the chart
	const KEEP = MAX_POINTS * 8;	// chart values kept (all lines)
	const MAX_KEYS = 64;		// distinct values of a line key
	// String fields of JSON messages that name a series: the chart
	// draws one line per value (the ticks demo's "sym").
	const KEY_NAMES = ["sym", "symbol", "ticker", "key", "name",
	    "topic", "host", "device", "sensor", "id"];

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
			    D.fmtNum(last.get(k));
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
		    "s"} from ${D.fmtNum(lo)} to ${D.fmtNum(hi)}, latest ` +
		    D.fmtNum(latest));
		$("chart-caption").textContent = `${label}: last ${n} ` +
		    `values, latest ${D.fmtNum(latest)}`;
	}

	Object.assign(D, { addPoint, offerField, offerSplit, showSplit,
	    sizeCanvas, drawChart });
})();
