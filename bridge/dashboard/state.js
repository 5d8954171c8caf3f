// state.js - the dashboard's shared state, loaded first (index.html):
// window.ringdash, the namespace through which the other scripts call
// each other, and window.dashboard, the page's counters for scripts and
// tests: received, gaps, lost, overruns, eofs, restarts, reconnects,
// duplicates (an id seen again) and jumps (a sequence number skipped
// without a gap event), plus the chart's point count and the keys of its
// lines.
"use strict";

(() => {
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

	// Each script adds its functions here; the others look them up
	// when they call, so only what runs at load depends on the order.
	window.ringdash = { $, st, withToken, zeroStats };
})();
