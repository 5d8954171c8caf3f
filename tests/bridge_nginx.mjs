// bridge_nginx.mjs - the dashboard behind nginx across a bridge restart,
// in headless Chromium (playwright-core). Run by tests/bridge_nginx.sh,
// which starts the producer, the bridge and nginx. The bridge is stopped
// for DOWN_MS: the browser's own EventSource retries after 2 s, gets
// nginx's 502 and gives up for good (a bare EventSource on the page shows
// it); the dashboard must reconnect by itself after its last event id.
// Every EventSource the page creates is recorded (an init script wraps
// the constructor), so the ids it received are checked from outside the
// dashboard's own counters: one epoch, consecutive, none twice.
//
// Environment: PORT (nginx), BPORT (the bridge), SINE (ring), BRIDGE
// (binary), PIDFILE (the bridge's pid; rewritten), OUT, PROFILE,
// PLAYWRIGHT, CHROMIUM, ERRDIR as in bridge_dashboard.mjs, ACCESS_LOG
// (nginx's).
import { readFileSync } from "node:fs";
import { checker, env, failed, launch, ok, sleep, startBridge, stop }
    from "./browser_lib.mjs";

const PORT = env("PORT"), BPORT = env("BPORT"), SINE = env("SINE");
const BPORT2 = env("BPORT2");
const PIDFILE = env("PIDFILE"), OUT = env("OUT");
const BASE = `http://127.0.0.1:${PORT}`;
const DOWN_MS = 9000;	// the bridge is down longer than several retries

const [ctx, page] = await launch(1000, 900);
const pageErrors = [], consoleErrors = [];
let restarting = false;
page.on("pageerror", (e) => pageErrors.push(String(e)));
page.on("console", (m) => {
	// 502s and refused streams while the bridge is down are expected.
	if (m.type() === "error" && !restarting)
		consoleErrors.push(m.text());
});
// Runs before the page's scripts (and outside its CSP).
await page.addInitScript(() => {
	const Real = window.EventSource;
	window.__streams = [];
	window.EventSource = class extends Real {
		constructor(url, opts) {
			super(url, opts);
			const rec = { url: String(url), ids: [], opens: 0 };
			window.__streams.push(rec);
			const id = (e) => rec.ids.push(e.lastEventId);
			this.addEventListener("message", id);
			this.addEventListener("base64", id);
			this.addEventListener("open", () => rec.opens++);
		}
	};
});

const until = checker(page);
const stats = () => page.evaluate(() => window.dashboard.stats);
// A bridge with --reuseport on BPORT; its pid goes to pidfile.
const start = (pidfile) => startBridge(["-l", `127.0.0.1:${BPORT}`, "-r",
    SINE, "--reuseport"], pidfile);

try {
	const resp = await page.goto(`${BASE}/#ring=${SINE}`);
	ok(resp.status() === 200, "the dashboard loads through nginx");
	await until((n) => window.dashboard.ring === n &&
	    window.dashboard.stats.received > 100,
	    "the dashboard follows the ring through nginx", SINE);
	// A bare EventSource beside it: what a page without its own
	// reconnection gets.
	await page.evaluate((ring) => {
		window.__bare = new EventSource(`/rings/${ring}/stream`);
	}, SINE);
	await until(() => window.__bare.readyState === EventSource.OPEN,
	    "a bare EventSource is open too");

	const before = await stats();
	restarting = true;
	const t0 = Date.now();
	const oldPid = await stop(PIDFILE);
	console.log(`# bridge ${oldPid} stopped`);
	await until(() => window.__bare.readyState === EventSource.CLOSED,
	    "nginx's 502 made the bare EventSource give up (CLOSED)",
	    undefined, DOWN_MS);
	await until(() => /^disconnected \(HTTP 502/.test(
	    document.getElementById("conn").textContent),
	    "the dashboard says the proxy answered 502 and retries",
	    undefined, DOWN_MS);
	await sleep(Math.max(0, DOWN_MS - (Date.now() - t0)));
	const pid = await start(PIDFILE);
	console.log(`# bridge ${pid} listening on port ${BPORT} after ` +
	    `${Date.now() - t0} ms`);
	await until((n) => window.dashboard.stats.reconnects >= n,
	    "the dashboard's stream reconnects through nginx",
	    before.reconnects + 1);
	const r1 = (await stats()).received;
	await until((n) => window.dashboard.stats.received >= n,
	    "and goes on (200 more messages)", r1 + 200);
	restarting = false;
	const bareState = await page.evaluate(() => window.__bare.readyState);
	ok(bareState === 2, `the bare EventSource stayed closed (${bareState})`);
	await page.evaluate(() => window.__bare.close());

	// Two bridges on one port (--reuseport), restarted one at a time:
	// each stream cut by a stop reconnects (the browser's own retry,
	// with Last-Event-ID) to the one still running; nginx never answers
	// a stream request with 502.
	const accessLog = () => readFileSync(env("ACCESS_LOG"), "utf8")
	    .split("\n");
	const streamLines = (lines) => lines.filter((l) =>
	    l.includes(`/rings/${SINE}/stream`));
	const logBefore = accessLog().length;
	const r2 = await stats();
	const PIDFILE2 = PIDFILE + ".2";
	await start(PIDFILE2);
	for (const pf of [PIDFILE, PIDFILE2, PIDFILE, PIDFILE2]) {
		const n = (await stats()).received;
		const gone = await stop(pf);
		// The cut stream is back within the EventSource's 2 s retry.
		await until((m) => window.dashboard.stats.received > m + 100,
		    `bridge ${gone} stopped: the stream goes on`, n);
		await start(pf);
	}
	const r3 = await stats();
	ok(r3.reconnects > r2.reconnects, "the stream was cut and " +
	    `reconnected ${r3.reconnects - r2.reconnects} times`);
	const rolled = streamLines(accessLog().slice(logBefore));
	const r502 = rolled.filter((l) => / 502 /.test(l));
	ok(rolled.length >= 1 && r502.length === 0, "rolling restart: " +
	    `${rolled.length} stream requests ended, none answered 502`);

	// The second server of the upstream block (BPORT2): with both
	// bridges of BPORT stopped, proxy_next_upstream sends every request
	// there, and back once a bridge runs on BPORT again. No request at
	// all gets a 502.
	const log3 = accessLog().length;
	const PIDFILE3 = PIDFILE + ".3";
	await startBridge(["-l", `127.0.0.1:${BPORT2}`, "-r", SINE],
	    PIDFILE3);
	for (const pfs of [[PIDFILE, PIDFILE2], [PIDFILE3]]) {
		const n = (await stats()).received;
		const gone = [];
		for (const pf of pfs)
			gone.push(await stop(pf));
		await until((m) => window.dashboard.stats.received > m + 100,
		    `bridges ${gone} stopped: the stream goes on`, n);
		// Each bridge under its own pid file, which the script's
		// cleanup kills: the second round's start on PIDFILE left the
		// first round's bridge running after the test.
		await start(pfs.length === 2 ? PIDFILE : PIDFILE2);
	}
	const r4 = await stats();
	ok(r4.reconnects >= r3.reconnects + 2, "the stream moved to the " +
	    `other server and back (${r4.reconnects - r3.reconnects} ` +
	    "reconnections)");
	const moved = accessLog().slice(log3).filter((l) => l !== "");
	const m502 = moved.filter((l) => / 502 /.test(l));
	ok(moved.length >= 2 && m502.length === 0, `two upstream servers: ` +
	    `${moved.length} requests, none answered 502 ${m502}`);
	ok(r4.duplicates === 0 && r4.jumps === 0 && r4.gaps === 0,
	    "the dashboard counted no duplicate, jump or gap " +
	    JSON.stringify(r4));

	const after = await stats();
	ok(after.duplicates === 0 && after.jumps === 0 && after.gaps === 0,
	    "the dashboard counted no duplicate, jump or gap " +
	    JSON.stringify(after));
	// The ids, as recorded outside the dashboard's code.
	// The bare one asks for /stream alone, the dashboard's have a query.
	const dash = (await page.evaluate(() => window.__streams))
	    .filter((r) => !r.url.endsWith("/stream"));
	const ids = dash.flatMap((r) => r.ids).map((id) => id.split(":"));
	let breaks = 0;
	for (let i = 1; i < ids.length; i++)
		if (ids[i][0] !== ids[0][0] ||
		    Number(ids[i][1]) !== Number(ids[i - 1][1]) + 1)
			breaks++;
	ok(ids.length > r1 - before.received && breaks === 0,
	    `the ids continue exactly across the restart: ${ids.length} ids ` +
	    `${ids[0]?.join(":")}..${ids[ids.length - 1]?.join(":")} over ` +
	    `${dash.length} connections, ${breaks} breaks`);
	const resumed = dash.slice(1).map((r) => r.url);
	ok(resumed.length >= 1 && resumed.every((u) =>
	    /[?&]last_event_id=\d+%3A\d+/.test(u)),
	    `the dashboard reopened after its last id (${resumed})`);
	const log = readFileSync(env("ACCESS_LOG"), "utf8").split("\n");
	const bad = log.filter((l) => l.includes(`/rings/${SINE}/stream`) &&
	    / 502 /.test(l));
	ok(bad.length >= 2, `nginx answered 502 to ${bad.length} stream ` +
	    "requests meanwhile (the bare EventSource's and the dashboard's)");
	await page.screenshot({ path: `${OUT}/bridge_nginx.png`,
	    fullPage: true });
	ok(pageErrors.length === 0, `no page errors ${pageErrors.join("; ")}`);
	ok(consoleErrors.length === 0,
	    `no console errors ${consoleErrors.join("; ")}`);
} catch (e) {
	ok(false, `exception: ${e.stack}`);
} finally {
	await ctx.close();
}
console.log(failed() ? `${failed()} checks failed` :
    "all nginx checks passed");
process.exit(failed() ? 1 : 0);
