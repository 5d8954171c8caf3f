// log.js - the watched ring's message list (newest first, text or hex)
// and its counters.
"use strict";

(() => {
	const D = window.ringdash;
	const { $, st } = D;
	const MAX_LOG = 200;		// messages kept in the list

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
				body.textContent = D.hex(en.bytes ||
				    D.enc.encode(en.text));
			else if (en.f64 !== undefined)
				body.textContent = `f64 ${D.fmtNum(en.f64)}`;
			else if (en.bytes)
				body.textContent = D.binText(en.bytes);
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

	Object.assign(D, { addEntry, renderLog, renderCounters });
})();
