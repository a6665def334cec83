// `npm run bench:view`: what taking the key manager's pool view costs an isolate, at the
// pool sizes the issues name. An isolate takes a whole view whenever keys, marks or limits
// changed since the one it holds; with limits known every counted request changes the
// counts, and then only the entries counted since its view come (key-store.ts view()): a
// client that sends one request at a time takes those on every request, inside its 10 ms of CPU.
// Plain Node, no wrangler: this is CPU in the proxy's own code. The view's code is bundled
// first (esbuild), as wrangler bundles it, since Node cannot load src/ as it is.

import { build } from "esbuild";
import type { LocalView as LocalViewClass } from "../src/core/proxy/local-view.ts";
import type { PoolView } from "../src/core/key-pool.ts";

const ROUNDS = Number(process.env.BENCH_VIEW_ROUNDS ?? 200);
/** Models with known limits: every key's group gets an entry for each. */
const MODELS = ["gemini-2.5-flash", "gemini-2.5-pro"];

const bundled = await build({ stdin: { contents: 'export { LocalView } from "./src/core/proxy/local-view";', resolveDir: process.cwd() }, bundle: true, format: "esm", platform: "neutral", write: false, logLevel: "silent" });
const source = bundled.outputFiles[0]?.text ?? "";
const { LocalView } = (await import(`data:text/javascript,${encodeURIComponent(source)}`)) as { LocalView: typeof LocalViewClass };

/** A pool of `count` keys, each its own group, with two models' limits known and a minute of sends counted. */
function viewOf(count: number, now: number): PoolView {
  const keys = Array.from({ length: count }, (_, index) => ({ id: index.toString(16).padStart(16, "0"), position: index + 1, disabled: false, scope: `key:${index}` }));
  const sends = (): number[] => [now - 40_000, now - 20_000, now - 5_000];
  return {
    keys,
    marks: keys.slice(0, Math.floor(count / 3)).map((key) => ({ keyId: key.id, model: MODELS[0] ?? "", until: now + 3_600_000 })),
    quota: keys.flatMap((key) =>
      MODELS.map((model) => ({
        scope: key.scope,
        model,
        limits: { rpm: 10, rpd: 250, tpm: 250_000 },
        known: { rpm: { value: 10, source: "set" as const, at: now }, rpd: { value: 250, source: "set" as const, at: now }, tpm: { value: 250_000, source: "set" as const, at: now } },
        windowMs: 60_000,
        windowKnown: true,
        day: "2026-11-27",
        dayRequests: 40,
        sends: sends(),
        tokens: sends().map((at) => ({ at, tokens: 300 })),
      })),
    ),
    disabled: {},
  };
}

// Minimum and median: on a shared machine the median carries other processes' noise and
// garbage collection; the minimum is what the work itself costs.
function spread(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (index: number) => (sorted[index] ?? NaN).toFixed(2);
  return `min ${at(0)}, median ${at(Math.floor(sorted.length / 2))}`;
}

for (const count of [6, 100, 300, 1000]) {
  const now = Date.now();
  const view = viewOf(count, now);
  const local = new LocalView();
  const cloned: number[] = [];
  const applied: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // structuredClone writes and reads the view as Workers RPC does (V8's serializer): the
    // isolate pays the reading half of it, the Durable Object the writing half.
    const started = performance.now();
    const copy = structuredClone(view);
    cloned.push(performance.now() - started);
    const again = performance.now();
    local.apply({ stamp: { epoch: "bench", version: round + 1 }, view: copy }, now);
    applied.push(performance.now() - again);
  }
  // What a one-at-a-time client's next call gets instead: the one entry its request was counted in.
  const counted: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    const quota = structuredClone(view.quota.slice(0, 1));
    local.apply({ stamp: { epoch: "bench", version: ROUNDS + round + 1 }, quota }, now);
    counted.push(performance.now() - started);
  }
  // Every request chooses its key from the view: the one pool-wide walk on the hot path.
  const chosen: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    local.choose({ model: MODELS[0] ?? "", exclude: [] }, { keys: [], inferred: false }, now);
    chosen.push(performance.now() - started);
  }
  const kib = JSON.stringify(view).length / 1024;
  console.log(
    `${String(count).padStart(5)} keys (${kib.toFixed(0)} KiB as JSON): whole view, structured clone ${spread(cloned)} ms, ` +
      `taking it ${spread(applied)} ms; one request's counts, both ${spread(counted)} ms; ` +
      `choosing a key ${spread(chosen)} ms (${ROUNDS} rounds)`,
  );
}
