// format.js - the dashboard's text helpers: sizes, numbers, payload bytes
// as hex or text.
"use strict";

(() => {
	const D = window.ringdash;
	const HEX_MAX = 256;		// bytes shown per message in hex

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

	Object.assign(D, { fmtBytes, fmtNum, b64bytes, hex, binText, enc });
})();
