// messages.js - the events of the watched ring's stream: a message
// (text or base64) becomes a list entry and maybe a chart value; gap,
// overrun, eof and restart are counted and listed.
"use strict";

(() => {
	const D = window.ringdash;
	const { st } = D;

	function parseId(id) {
		const i = id.indexOf(":");
		return [Number(id.slice(0, i)), Number(id.slice(i + 1))];
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
			en.bytes = D.b64bytes(e.data);
			if (en.bytes.length === 8) {
				D.offerField("f64", "f64 samples (binary, LE)");
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
							D.offerField(
							    "json:" + k,
							    `JSON field ${k}`);
						else if (typeof v === "string")
							D.offerSplit(k, v);
					if (st.field.startsWith("json:")) {
						value = obj[st.field.slice(5)];
						key = st.split === "" ? "" :
						    String(obj[st.split] ?? "");
					}
				} catch (err) {
					// Not JSON after all: text only.
				}
			} else if (t !== "" && Number.isFinite(Number(t))) {
				D.offerField("number", "number (text)");
				if (st.field === "number")
					value = Number(t);
			}
		}
		if (typeof value === "number" && Number.isFinite(value))
			D.addPoint(value, key);
		D.addEntry(en);
		D.schedule();
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
			D.addPoint(null);
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
			D.closeStream();
			D.setConn("ended");
			break;
		case "restart":
			s.restarts++;
			text = `new producer: epoch ${d.epoch} (was ` +
			    `${d.previous_epoch}), from its oldest message, ` +
			    `${d.first}` + (d.lost > 0 ? ` (${d.lost} of the ` +
			    "new epoch gone already)" : "");
			st.lastEpoch = d.epoch;
			st.lastSeq = null;
			D.addPoint(null);
			break;
		}
		// Only a gap has an id of its own (lastEventId keeps the last).
		D.addEntry({ id: type === "gap" ? e.lastEventId : "",
		    kind: type, text });
		D.schedule();
	}

	Object.assign(D, { onMessage, onControl });
})();
