// bridge_lifecycle.mjs - a real EventSource (headless Chromium, through
// playwright-core) against a ring whose producer stops and removes it.
// The page's EventSource does not close on eof, as a careless client
// would not: it must end up CLOSED after one reconnect (the bridge
// answers 503), not reconnect every 2 s forever. Run by
// tests/bridge_lifecycle.sh. Environment: BASE (bridge URL), RING,
// RINGD_PID (the producer, stopped here with SIGTERM), PROFILE,
// PLAYWRIGHT, CHROMIUM.
const env = (k) => {
	if (!process.env[k])
		throw new Error(`${k} is not set`);
	return process.env[k];
};
const { chromium } = await import(env("PLAYWRIGHT"));
const BASE = env("BASE"), RING = env("RING");
const WAIT = 30000;	// an upper bound for each step, not a measurement
let failed = 0;
function ok(cond, what) {
	console.log(`${cond ? "ok" : "FAIL"} - ${what}`);
	if (!cond)
		failed++;
	return cond;
}

const ctx = await chromium.launchPersistentContext(env("PROFILE"), {
	executablePath: env("CHROMIUM"),
	headless: true,
	args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
	    "--disable-background-networking", "--disable-component-update",
	    "--disable-sync"],
});
try {
	const page = ctx.pages()[0] || await ctx.newPage();
	await page.goto(`${BASE}/healthz`);
	await page.evaluate((ring) => {
		const s = { opens: 0, messages: 0, eofs: 0, errors: 0 };
		const es = new EventSource(`/rings/${ring}/stream`);
		es.onopen = () => s.opens++;
		es.onmessage = () => s.messages++;
		es.onerror = () => s.errors++;
		es.addEventListener("eof", () => s.eofs++);
		window.es = es;
		window.s = s;
	}, RING);
	await page.waitForFunction(() => window.s.messages >= 3, null,
	    { timeout: WAIT });
	ok(true, "the EventSource streams");
	process.kill(Number(env("RINGD_PID")), "SIGTERM");
	await page.waitForFunction(() => window.s.eofs === 1, null,
	    { timeout: WAIT });
	ok(true, "eof when the producer stops and removes the ring");
	// It reconnects once (retry: 2000) and is refused for good.
	await page.waitForFunction(() => window.es.readyState === 2, null,
	    { timeout: WAIT });
	ok(true, "the EventSource gave up after the ring was removed");
	// Long enough for three more reconnects at 2 s if it kept trying.
	await page.waitForTimeout(7000);
	const s = await page.evaluate(() => ({ ...window.s,
	    state: window.es.readyState }));
	ok(s.opens === 1 && s.state === 2,
	    `no reconnect loop: ${s.opens} opens, state ${s.state}`);
} catch (e) {
	ok(false, `exception: ${e.stack}`);
} finally {
	await ctx.close();
}
console.log(failed ? `bridge_lifecycle: ${failed} failures` :
    "bridge_lifecycle: all passed");
process.exit(failed ? 1 : 0);
