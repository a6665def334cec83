// `npm run bench:admin`: the admin API at pool sizes the issue names, under wrangler dev
// against the fake upstream. Adds 2,000 keys, times /api/stats (whole and ?keys=none),
// a page of /api/keys and /api/events, moving 2,000 keys into a group and out, then a full verification of 300 keys with the
// fake answering at once and with a 200 ms model list (about what Google takes).

import { startFakeUpstream } from "../test/fake-upstream/index.ts";
import { startProxy } from "../test/setup/start-proxy.ts";
import { poolKeys, proxyToken } from "../test/setup/test-keys.ts";

const ADMIN = "bench-admin-token";
const POOL = Number(process.env.BENCH_ADMIN_KEYS ?? 2000);
const VERIFIED = Number(process.env.BENCH_ADMIN_VERIFY ?? 300);
const log = (line: string): void => console.error(line);

function key(index: number): string {
  return `AIzaSyBENCH${String(index).padStart(6, "0")}${"x".repeat(22)}`;
}

const upstream = await startFakeUpstream();
const proxy = await startProxy({ runtime: "workers", upstreamOrigin: upstream.origin, keys: poolKeys, proxyToken, vars: { ADMIN_API_KEY: ADMIN } });

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${proxy.origin}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, text, ms: performance.now() - started };
}

async function timed(path: string, runs = 10): Promise<string> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const result = await call("GET", path);
    if (result.status !== 200) throw new Error(`${path}: ${result.status} ${result.text.slice(0, 200)}`);
    times.push(result.ms);
    bytes = result.text.length;
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(runs / 2)] ?? NaN;
  const max = times.at(-1) ?? NaN;
  return `${path.padEnd(40)} median ${median.toFixed(1)} ms, max ${max.toFixed(1)} ms, ${(bytes / 1024).toFixed(0)} KiB`;
}

async function verifyAll(ids: string[]): Promise<string> {
  const started = performance.now();
  const start = await call("POST", "/api/keys/verify", { ids });
  if (start.status !== 202) throw new Error(`verify: ${start.status} ${start.text}`);
  for (;;) {
    const job = JSON.parse((await call("GET", "/api/keys/verify")).text) as { job: { running: boolean; done: number; total: number } };
    if (!job.job.running) return `${job.job.done}/${job.job.total} keys in ${((performance.now() - started) / 1000).toFixed(1)} s`;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

try {
  const secrets = Array.from({ length: POOL }, (_, i) => key(i));
  const added = await call("POST", "/api/keys", { keys: secrets, verify: false });
  log(`POST /api/keys with ${POOL} keys: ${added.status} in ${added.ms.toFixed(0)} ms`);
  // Some usage and events, so the stats have per-model entries to build.
  for (let i = 0; i < 50; i++) {
    await fetch(`${proxy.origin}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": proxyToken, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ parts: [{ text: "bench" }] }] }),
    }).then((response) => response.text());
  }
  log(`pool of ${POOL + poolKeys.length} keys:`);
  for (const path of ["/api/stats", "/api/stats?keys=none", "/api/keys?limit=100", "/api/keys?limit=100&status=available&sort=requests&order=desc", "/api/keys?q=000123", "/api/events?limit=100"]) {
    log(`  ${await timed(path)}`);
  }
  // Moving a whole request's worth of keys (2,000 ids, the most one bulk call takes) into a group and out again.
  const all: string[] = [];
  for (let offset = poolKeys.length; all.length < POOL; offset += 500) {
    const page = JSON.parse((await call("GET", `/api/keys?limit=500&offset=${offset}`)).text) as { keys: { id: string }[] };
    if (page.keys.length === 0) break;
    all.push(...page.keys.map((entry) => entry.id));
  }
  const chunk = all.slice(0, 2_000);
  // Beside disable and enable, which write as much per key (a row and an event).
  for (const body of [{ action: "group", group: "bench-group" }, { action: "group", group: null }, { action: "disable" }, { action: "enable" }]) {
    const done = await call("POST", "/api/keys/bulk", { ...body, ids: chunk });
    if (done.status !== 200) throw new Error(`bulk: ${done.status} ${done.text.slice(0, 200)}`);
    log(`POST /api/keys/bulk ${JSON.stringify(body)} with ${chunk.length} ids: ${done.ms.toFixed(0)} ms`);
  }
  const list = JSON.parse((await call("GET", `/api/keys?limit=500&offset=${poolKeys.length}`)).text) as { keys: { id: string }[] };
  const ids = list.keys.slice(0, VERIFIED).map((entry) => entry.id);
  log(`verification of ${ids.length} keys, fake answering at once: ${await verifyAll(ids)}`);
  for (const secret of secrets.slice(0, VERIFIED)) upstream.setKey({ key: secret, delayMs: 200 });
  log(`verification of ${ids.length} keys, 200 ms per model list: ${await verifyAll(ids)}`);
} finally {
  await proxy.stop();
  await upstream.close();
}
