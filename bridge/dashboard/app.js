// ringbridge dashboard: polls GET /rings once a second (and keeps each
// ring's rate of the last minutes for the table's sparklines) and follows
// one ring over Server-Sent Events (GET /rings/NAME/stream). No libraries.
//
// The scripts, loaded in this order by index.html, share window.ringdash:
// state.js	the state, the namespace and window.dashboard (for tests)
// format.js	sizes, numbers, payload bytes as hex or text
// chart.js	the chart: its fields, lines per JSON key, drawing
// log.js	the message list and counters
// rings.js	the rings table with its sparklines
// messages.js	the stream's events: message, gap, overrun, eof, restart
// connection.js	GET /rings; the stream, reconnected and resumed
// app.js	this file: choosing a ring, rendering, the controls; starts
"use strict";

(() => {
	const D = window.ringdash;
	const { $, st, zeroStats } = D;

	function select(name) {
		if (name === st.sel)
			return;
		D.closeStream();
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
		D.showSplit();
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
		D.open();
		schedule();
	}

	function unselect() {
		D.closeStream();
		st.sel = null;
		$("watch").hidden = true;
		history.replaceState(null, "", location.pathname +
		    location.search);
		for (const tr of st.rows.values())
			tr.classList.remove("selected");
	}

	function render() {
		st.dirty = false;
		if (st.sel === null)
			return;
		D.renderCounters();
		if (st.fresh.length)
			D.renderLog(false);
		D.drawChart();
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
			D.renderLog(true);
		});
	$("field").addEventListener("change", (e) => {
		st.field = e.target.value;
		st.fieldChosen = true;
		st.points = [];
		D.showSplit();
		schedule();
	});
	$("split").addEventListener("change", (e) => {
		st.split = e.target.value;
		st.splitChosen = true;
		st.only = "";
		st.points = [];
		D.showSplit();
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
			D.renderLog(true);
	});
	$("close").addEventListener("click", unselect);
	window.addEventListener("resize", schedule);
	D.poll();

	Object.assign(D, { select, schedule });
})();
