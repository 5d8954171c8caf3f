// browser_lib.mjs - what the browser tests (bridge_dashboard.mjs,
// bridge_nginx.mjs) share: environment, TAP-like checks, Chromium via
// playwright-core, and starting and stopping bridges by pid file.
import { spawn } from "node:child_process";
import { openSync, readFileSync, writeFileSync } from "node:fs";

export const WAIT = 30000;	// an upper bound for a step, not a measurement

export function env(k) {
	if (!process.env[k])
		throw new Error(`${k} is not set`);
	return process.env[k];
}

let failures = 0;
export const failed = () => failures;
export function ok(cond, what) {
	console.log(`${cond ? "ok" : "FAIL"} - ${what}`);
	if (!cond)
		failures++;
	return cond;
}

// Debian's chromium with a fresh profile (PROFILE), as playwright-core
// drives it; PLAYWRIGHT is the module, CHROMIUM the browser.
export async function launch(width, height) {
	const { chromium } = await import(env("PLAYWRIGHT"));
	const ctx = await chromium.launchPersistentContext(env("PROFILE"), {
		executablePath: env("CHROMIUM"),
		headless: true,
		viewport: { width, height },
		args: ["--headless", "--no-sandbox", "--disable-gpu",
		    "--disable-quic", "--no-first-run",
		    "--disable-background-networking",
		    "--disable-component-update", "--disable-sync"],
	});
	return [ctx, ctx.pages()[0] || await ctx.newPage()];
}

// A waitForFunction check on page. The page's CSP forbids eval:
// predicates are functions, with one argument.
export function checker(page) {
	return async (fn, what, arg, timeout = WAIT) => {
		try {
			await page.waitForFunction(fn, arg, { timeout });
			return ok(true, what);
		} catch (e) {
			return ok(false, `${what} (${e.message.split("\n")[0]})`);
		}
	};
}

export const errFile = (name) => openSync(`${env("ERRDIR")}/${name}.err`,
    "a");
export const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// Signal the process in pidfile and wait until it is gone.
export async function stop(pidfile, sig = "SIGTERM") {
	const pid = Number(readFileSync(pidfile, "utf8"));
	process.kill(pid, sig);
	for (;;) {
		try {
			process.kill(pid, 0);
		} catch (e) {
			return pid;
		}
		await sleep(50);
	}
}

// Start a bridge (BRIDGE) with args, its pid in pidfile, its stderr
// appended to ERRDIR/bridge.err; resolves once it is listening.
export async function startBridge(args, pidfile) {
	const child = spawn(env("BRIDGE"), args, { stdio: ["ignore", "pipe",
	    errFile("bridge")] });
	writeFileSync(pidfile, String(child.pid));
	child.unref();
	await new Promise((res, rej) => {
		let buf = "";
		child.stdout.on("data", (d) => {
			buf += d;
			if (buf.includes("listening on"))
				res();
		});
		child.on("exit", (c) => rej(new Error(`bridge exited ${c}`)));
	});
	child.stdout.resume();
	return child.pid;
}
