// bridge_dashboard.mjs - drive ringbridge's dashboard in headless Chromium
// (playwright-core). Run by tests/bridge_dashboard.sh, which starts the
// producers and the first bridge; this script restarts the bridge itself
// (same port) to check that a subscriber resumes without loss, and the
// ticks producer (killed and taken over: restart; stopped: eof; started
// again: the ring is created afresh).
//
// Environment: PORT, SINE, TICKS (ring names), BRIDGE, RINGD (binaries),
// PIDFILE, TICKS_PIDFILE (pids of the bridge and the ticks producer;
// rewritten when this script replaces them), OUT (artefact directory),
// PROFILE (a fresh user data directory), PLAYWRIGHT (module path),
// CHROMIUM (the browser), ERRDIR (the daemons started here append their
// stderr to ERRDIR/*.err).
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { checker, env, errFile, failed, launch, ok, startBridge, stop }
    from "./browser_lib.mjs";

const PORT = env("PORT"), SINE = env("SINE"), TICKS = env("TICKS");
const PIDFILE = env("PIDFILE"), OUT = env("OUT");
const RINGD = env("RINGD"), TICKS_PIDFILE = env("TICKS_PIDFILE");
const BASE = `http://127.0.0.1:${PORT}`;

const [ctx, page] = await launch(1200, 900);
const pageErrors = [];
const consoleErrors = [];
const notes = [];
let restarting = false, replacing = false;
page.on("pageerror", (e) => pageErrors.push(String(e)));
page.on("console", (m) => {
	// Refused connections while the bridge is down are expected.
	if (m.type() !== "error" || restarting)
		return;
	// A stream cut while the producer is replaced ("stream read:
	// corrupt ring" in the bridge's log, seen once with a libshm in
	// the middle of a change): the page resumes, but it is a bug.
	if (replacing && /INCOMPLETE_CHUNKED/.test(m.text()))
		notes.push(m.text());
	else
		consoleErrors.push(m.text());
});
const offsite = [];
page.on("request", (r) => {
	if (!r.url().startsWith(BASE) && !r.url().startsWith("data:"))
		offsite.push(r.url());
});

const stats = () => page.evaluate(() => window.dashboard.stats);

function startTicks() {
	const child = spawn(RINGD, ["-q", "--demo", "ticks", "-r", "20",
	    "-s", "1M", TICKS], { stdio: ["ignore", "ignore",
	    errFile("ringd")] });
	writeFileSync(TICKS_PIDFILE, String(child.pid));
	child.unref();
}
const until = checker(page);

try {
	const resp = await page.goto(BASE + "/");
	ok(resp.status() === 200, "GET / answers 200");
	ok((resp.headers()["content-type"] || "").startsWith("text/html"),
	    "GET / is text/html");
	await until(() => document.querySelectorAll("#rings tbody tr")
	    .length >= 2, "the rings table lists both demo rings");
	const names = await page.$$eval("#rings tbody tr",
	    (trs) => trs.map((t) => t.dataset.ring));
	ok(names.includes(SINE) && names.includes(TICKS),
	    `rows for ${SINE} and ${TICKS}`);
	const row = (n) => `#rings tbody tr[data-ring="${n}"]`;
	await until((sel) => document.querySelector(sel).textContent
	    .startsWith("live, pid"), "the sine ring's producer is live",
	    `${row(SINE)} td`);
	const nextSel = `${row(SINE)} td:nth-of-type(6)`;
	const next0 = Number(await page.textContent(nextSel));
	await until(([sel, n]) => Number(document.querySelector(sel)
	    .textContent) > n, "the table's next sequence number rises",
	    [nextSel, next0]);
	ok(/\d+(\.\d)? (B|KiB|MiB) \/ 1\.0 MiB/.test(await page.textContent(
	    `${row(SINE)} td:nth-of-type(4)`)), "fill shows used / capacity");
	// Each row's rate history as a sparkline, from the page's polls.
	const spark = (n) => `${row(n)} canvas.spark`;
	await until((sel) => Number(document.querySelector(sel).dataset
	    .samples) >= 3, "the sine ring's sparkline has 3 samples",
	    spark(SINE));
	const sparkMax = Number(await page.getAttribute(spark(SINE),
	    "data-max"));
	ok(sparkMax >= 100 && sparkMax <= 400, "the sparkline's highest " +
	    `rate is about ringd's 200/s (${sparkMax})`);
	ok(/^rate over the last 1 min: now [\d.]+, highest/.test(
	    await page.getAttribute(spark(SINE), "aria-label")),
	    "the sparkline has a text alternative");
	ok(Number(await page.getAttribute(spark(TICKS), "data-samples")) >= 1,
	    "the ticks ring has a sparkline too");

	// Watch the sine ring: messages, the f64 chart, the hex view.
	await page.click(`${row(SINE)} button`);
	await until(() => window.dashboard.stats.received > 0,
	    "messages arrive on the page");
	const r0 = (await stats()).received;
	await until((n) => window.dashboard.stats.received >= n,
	    "the message count rises", r0 + 50);
	ok(Number(await page.textContent("#msg-count")) >= r0,
	    "the message counter is shown");
	ok(await page.inputValue("#field") === "f64",
	    "binary samples are charted as f64");
	await until(() => Number(document.getElementById("chart")
	    .dataset.points) > 100, "the chart has points");
	const bodies = await page.$$eval("#log li .body",
	    (l) => l.slice(0, 5).map((e) => e.textContent));
	ok(bodies.length > 0 && bodies.every((b) => /^f64 -?[\d.e+-]+$/
	    .test(b)), `text view shows each sample's value (${bodies[0]})`);
	await page.check("input[name=view][value=hex]");
	const hex = await page.textContent("#log li .body");
	ok(/^[0-9a-f]{2}( [0-9a-f]{2}){7}$/.test(hex),
	    `hex view shows 8 bytes (${hex})`);
	await page.check("input[name=view][value=text]");

	// An independent EventSource subscriber from the oldest message.
	await page.evaluate((ring) => {
		const w = window.__sub = { ids: [], ctl: [], opens: 0 };
		const es = new EventSource(`/rings/${ring}/stream?from=oldest`);
		es.onopen = () => w.opens++;
		es.addEventListener("base64", (e) => w.ids.push(e.lastEventId));
		es.onmessage = (e) => w.ids.push(e.lastEventId);
		for (const t of ["gap", "overrun", "eof", "restart"])
			es.addEventListener(t, (e) => w.ctl.push(t + " " + e.data));
	}, SINE);
	await until(() => window.__sub.ids.length > 100,
	    "the subscriber receives messages");
	await page.screenshot({ path: `${OUT}/bridge_dashboard.png`,
	    fullPage: true });

	// Restart the bridge on the same port.
	const before = await stats();
	const subBefore = await page.evaluate(() => window.__sub.ids.length);
	restarting = true;
	const oldPid = await stop(PIDFILE, "SIGTERM");
	console.log(`# bridge ${oldPid} stopped; starting a new one`);
	await new Promise((res) => setTimeout(res, 500));
	const pid = await startBridge(["-l", `127.0.0.1:${PORT}`, "-r", SINE,
	    "-r", TICKS], PIDFILE);
	console.log(`# bridge ${pid} listening on port ${PORT}`);
	await until((n) => window.dashboard.stats.reconnects >= n,
	    "the page's stream reconnects", before.reconnects + 1);
	await until((n) => window.__sub.opens >= 2 &&
	    window.__sub.ids.length >= n,
	    "the subscriber reconnects and goes on", subBefore + 200);
	restarting = false;
	const after = await stats();
	ok(after.received > before.received, "the page keeps counting");
	ok(after.duplicates === 0 && after.jumps === 0 && after.gaps === 0,
	    `the page saw no duplicate, jump or gap (${JSON.stringify(after)})`);
	const sub = await page.evaluate(() => window.__sub);
	const seqs = sub.ids.map((id) => id.split(":"));
	const epochs = new Set(seqs.map((s) => s[0]));
	let broken = 0;
	for (let i = 1; i < seqs.length; i++)
		if (Number(seqs[i][1]) !== Number(seqs[i - 1][1]) + 1)
			broken++;
	ok(epochs.size === 1 && Number(seqs[0][1]) === 0 && broken === 0,
	    `subscriber ids continue across the restart: ${seqs.length} ` +
	    `ids 0..${seqs[seqs.length - 1][1]}, ${broken} breaks`);
	ok(sub.ctl.length === 0, `no control events (${sub.ctl.join("; ")})`);

	// The ticks ring: JSON with a numeric field picked for the chart.
	await page.click(`${row(TICKS)} button`);
	await until((n) => window.dashboard.ring === n &&
	    window.dashboard.stats.received > 5, "ticks messages arrive",
	    TICKS);
	ok(await page.inputValue("#field") === "json:px",
	    "the JSON field px is charted");
	ok(await page.inputValue("#split") === "sym",
	    "one line per sym is chosen by itself");
	await until(() => Number(document.getElementById("chart")
	    .dataset.points) > 5, "the ticks chart has points");
	// ringd's ticks demo cycles through 8 symbols.
	await until(() => window.dashboard.stats.points >= 24,
	    "the ticks chart has 3 points per symbol");
	const syms = new Set((await page.$$eval("#log li .body", (l) =>
	    l.map((e) => e.textContent))).map((t) => JSON.parse(t).sym));
	const series = await page.evaluate(() => window.dashboard.series);
	ok(syms.size === 8 && series.length === syms.size &&
	    series.every((k) => syms.has(k)), `one line per symbol: ` +
	    `${series.length} lines for ${syms.size} symbols (${series})`);
	ok(await page.getAttribute("#chart", "data-series") === "8",
	    "the canvas reports 8 lines");
	ok((await page.$$("#legend li")).length === 8,
	    "the legend names 8 lines");
	await page.screenshot({ path: `${OUT}/bridge_dashboard_ticks.png`,
	    fullPage: true });
	const onlySym = [...syms].sort()[0];
	await page.selectOption("#only", onlySym);
	await until((k) => {
		const s = window.dashboard.series;
		return s.length === 1 && s[0] === k;
	}, `choosing ${onlySym} draws its line alone`, onlySym);
	await page.selectOption("#only", "");
	await page.selectOption("#split", "");
	await until(() => window.dashboard.series.length === 1 &&
	    window.dashboard.series[0] === "",
	    "without a key all values form one line");
	await page.selectOption("#split", "sym");
	await until(() => window.dashboard.series.length === 8,
	    "and per sym again");
	const first = await page.textContent("#log li .body");
	ok(/^\{"seq":\d+,"sym":"\w+","px":[\d.]+/.test(first),
	    `text view shows the JSON (${first})`);
	await page.selectOption("#field", "json:seq");
	await until(() => window.dashboard.field === "json:seq" &&
	    Number(document.getElementById("chart").dataset.points) > 2,
	    "another field can be chosen");

	// A producer killed and replaced: the new one takes the ring over
	// (next epoch) and the stream says so with a restart event.
	replacing = true;
	// Epochs are creation times in microseconds (libshm(3)): < 2^53.
	const epochOf = () => Number(window.dashboard.lastId.split(":")[0]);
	const e1 = await page.evaluate(epochOf);
	await stop(TICKS_PIDFILE, "SIGKILL");
	await until((sel) => document.querySelector(sel).textContent
	    .startsWith("stale"), "a dead producer is shown as stale",
	    `${row(TICKS)} td`);
	startTicks();
	await until(() => window.dashboard.stats.restarts >= 1 &&
	    document.querySelector("#log li.ev-restart") !== null,
	    "a restart event is shown");
	const k0 = (await stats()).received;
	await until(([n, e]) => window.dashboard.stats.received > n &&
	    Number(window.dashboard.lastId.split(":")[0]) > e,
	    "messages of the new epoch follow", [k0, e1]);
	const e2 = await page.evaluate(epochOf);
	// A clean stop: eof. Started again, the ring is created afresh.
	await stop(TICKS_PIDFILE, "SIGTERM");
	await until(() => window.dashboard.stats.eofs === 1 &&
	    document.querySelector("#log li.ev-eof") !== null &&
	    document.getElementById("conn").textContent === "ended",
	    "an eof event is shown and the stream ends");
	await page.screenshot({ path: `${OUT}/bridge_dashboard_events.png`,
	    fullPage: true });
	startTicks();
	await until((e) => window.dashboard.stats.restarts >= 2 &&
	    Number(window.dashboard.lastId.split(":")[0]) > e,
	    "the ring created again is followed, with a newer epoch", e2);
	replacing = false;
	const kinds = (await page.$$eval("#log li.ev", (l) => l.map((e) =>
	    e.children[1].textContent))).join(" ");
	ok(kinds === "restart eof restart",
	    `events shown, newest first: ${kinds}`);
	ok(notes.length === 0, "the bridge did not cut the stream while " +
	    `the producer was replaced ${notes}`);
	ok((await page.$$("#log li.ev-error")).length === 0,
	    "no resume errors");

	// A phone, 390 CSS px wide: nothing wider than the screen, the
	// rings as cards, JSON wrapped at its commas (a few lines, not a
	// column of single characters).
	// Between a phone and a desktop too: no width scrolls sideways.
	for (const width of [1000, 900, 800, 700, 600, 500]) {
		await page.setViewportSize({ width, height: 900 });
		await page.waitForTimeout(300);
		const sw = await page.evaluate(() =>
		    document.scrollingElement.scrollWidth);
		ok(sw <= width, `${width} px: no sideways scroll (${sw} px)`);
		if (width === 900)
			await page.screenshot({ path:
			    `${OUT}/bridge_dashboard_900.png` });
	}
	await page.setViewportSize({ width: 390, height: 844 });
	const phoneCheck = async (what) => {
		await page.waitForTimeout(300);	// a layout and a poll
		const m = await page.evaluate(() => {
			const vw = window.innerWidth;
			const wide = [];
			for (const el of document.querySelectorAll(
			    "header, main, section, table, tr, th, td, " +
			    ".controls, canvas, figure, #log, #log li, " +
			    ".counters"))
				if (el.offsetParent !== null &&
				    (el.getBoundingClientRect().right > vw + 0.5 ||
				    el.scrollWidth > el.clientWidth + 1))
					wide.push(el.tagName + "#" + el.id + "." +
					    el.className);
			const lh = (e) => parseFloat(getComputedStyle(e)
			    .lineHeight);
			const bodies = [...document.querySelectorAll(
			    "#log li .body")].slice(0, 20).map((e) => ({
				w: e.getBoundingClientRect().width,
				lines: Math.round(e.getBoundingClientRect()
				    .height / lh(e)),
				len: e.textContent.length }));
			return { vw, sw: document.scrollingElement.scrollWidth,
			    wide, bodies };
		});
		ok(m.vw === 390 && m.sw <= m.vw, `${what}: no sideways ` +
		    `scroll (page ${m.sw} px in ${m.vw})`);
		ok(m.wide.length === 0, `${what}: no element wider than the ` +
		    `screen ${m.wide.slice(0, 5)}`);
		return m;
	};
	const m = await phoneCheck("390 px, ticks watched");
	ok(m.bodies.length > 0 && m.bodies.every((b) => b.w >= 300 &&
	    b.lines <= Math.ceil(b.len / 30)), "390 px: messages use the " +
	    `width (${m.bodies.slice(0, 2).map((b) => `${b.len} chars in ` +
	    `${b.lines} lines, ${Math.round(b.w)} px`)})`);
	await page.screenshot({ path: `${OUT}/bridge_dashboard_phone.png`,
	    fullPage: true });
	await page.click("#close");
	await phoneCheck("390 px, rings only");
	const card = await page.evaluate((sel) => {
		const tr = document.querySelector(sel);
		return { cols: getComputedStyle(tr).display, h: tr
		    .getBoundingClientRect().height };
	}, row(SINE));
	ok(card.cols === "grid", `390 px: each ring is a card (${card.cols})`);
	// The ticks ring was replaced and created afresh above: its rate
	// must never have been computed across two rings (once shown as
	// 1.8e19, a sequence number difference gone negative).
	const maxes = await page.$$eval("canvas.spark", (l) => l.map((c) =>
	    Number(c.dataset.max)));
	ok(maxes.length === 2 && maxes.every((v) => v < 1000),
	    `no ring's rate went above the demos' 200/s (${maxes})`);
	await page.screenshot({ path: `${OUT}/bridge_dashboard_phone_rings.png`,
	    fullPage: true });

	ok(pageErrors.length === 0, `no page errors ${pageErrors.join("; ")}`);
	ok(consoleErrors.length === 0,
	    `no console errors ${consoleErrors.join("; ")}`);
	ok(offsite.length === 0, `only the bridge was asked ${offsite}`);
} catch (e) {
	ok(false, `exception: ${e.stack}`);
} finally {
	if (failed())
		console.log("# page log:\n" + await page.$$eval("#log li",
		    (l) => l.slice(0, 20).map((e) => "#   " + e.textContent)
		    .join("\n")).catch((e) => String(e)));
	await ctx.close();
}
console.log(failed() ? `${failed()} checks failed` :
    "all dashboard checks passed");
process.exit(failed() ? 1 : 0);
