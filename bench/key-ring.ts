// `npm run bench:ring`: what building the key ring's masking costs and what one masking
// pass costs, at the pool sizes the issues name. Paid on every fresh isolate and after
// every key change, so on the Free plan (10 ms CPU per request) it must stay small.
// Plain Node, no wrangler: this is CPU in the proxy's own code, not I/O.

import { maskKey, parseKeyList, ringOf, type PoolKey } from "../src/core/key-ring.ts";

const ROUNDS = Number(process.env.BENCH_RING_ROUNDS ?? 30);

function keys(count: number): PoolKey[] {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const raw = Array.from({ length: count }, () => "AIzaSy" + Array.from({ length: 33 }, () => alphabet[Math.floor(Math.random() * 64)]).join(""));
  // Through parseKeyList, as the secret is read: its strings are flat, as in the proxy.
  return parseKeyList(raw.join(",")).map((secret, index) => ({ id: String(index), secret, masked: maskKey(secret), position: index + 1 }));
}

// Minimum and median: on a shared machine the median carries other processes' noise and
// garbage collection; the minimum is what the work itself costs.
function spread(times: number[], scale = 1, digits = 2): string {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (index: number) => ((sorted[index] ?? NaN) * scale).toFixed(digits);
  return `min ${at(0)}, median ${at(Math.floor(sorted.length / 2))}`;
}

// A Google error body of about 1 KB, and the headers of an answer, as the proxy masks them.
const errorBody = JSON.stringify({
  error: { code: 429, message: "Resource has been exhausted (e.g. check quota). ".repeat(16), status: "RESOURCE_EXHAUSTED" },
});
const header = "application/json; charset=UTF-8";

for (const count of [3, 300, 2000]) {
  const pool = keys(count);
  const build: number[] = [];
  const pass: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    // The ring and its first masking (which builds the window table).
    const ring = ringOf(pool);
    ring.redact(header);
    build.push(performance.now() - started);
    const again = performance.now();
    ring.redact(errorBody);
    pass.push(performance.now() - again);
    if (ring.redact(`x ${pool[count - 1]?.secret ?? ""} y`) !== `x ${pool[count - 1]?.masked ?? ""} y`) throw new Error("a whole key was not masked");
  }
  console.log(
    `${String(count).padStart(5)} keys: build + first masking ${spread(build)} ms; ` +
      `then a 1 KB error body ${spread(pass, 1000, 0)} µs (${ROUNDS} rounds)`,
  );
}
