import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StatsSnapshot } from "../../src/core/stats-model";
import { callProxy, generate, poolSnapshot, proxyToken, uniqueModel } from "./support";

// A client (or a typo loop) naming thousands of models that do not exist must not grow
// the key manager's storage or slow it down: Google answers 404, which is the client's
// mistake and leaves no trace in key state or usage.

const FLOOD = 10_000;
const CONCURRENCY = 25;
/** SQLite grows in pages; a few pages of slack, not one row per bogus model (10 000 rows would be hundreds of KiB). */
const MAX_GROWTH_BYTES = 32 * 1024;
/** A bound, not a benchmark: the snapshot normally takes a few milliseconds. */
const MAX_SNAPSHOT_MS = 1_000;

function databaseSize(): Promise<number> {
  return runInDurableObject(env.API_KEY_MANAGER.getByName("pool"), (_instance, state) => state.storage.sql.databaseSize);
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

/** Native and OpenAI-style requests, streamed and not, each naming a model nobody has. */
function bogusRequest(index: number, prefix: string): Promise<Response> {
  const model = `${prefix}-${index}-nonexistent`;
  switch (index % 3) {
    case 0:
      return generate(model);
    case 1:
      return generate(model, {}, "streamGenerateContent?alt=sse");
    default:
      return callProxy("/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${proxyToken}`, "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
      });
  }
}

describe(`${FLOOD} distinct bogus model names`, () => {
  it("leave no stored state behind, and the pool and /api/stats stay fast", async () => {
    const real = uniqueModel("real");
    expect((await generate(real)).status).toBe(200);
    const sizeBefore = await databaseSize();

    const prefix = `gemini-bogus-${crypto.randomUUID().slice(0, 8)}`;
    const statuses = new Map<number, number>();
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let index = next++; index < FLOOD; index = next++) {
          const response = await bogusRequest(index, prefix);
          await response.body?.cancel();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        }
      }),
    );
    const floodMs = performance.now() - started;
    expect(Object.fromEntries(statuses)).toEqual({ 404: FLOOD });

    const snapshot = await timed(() => poolSnapshot());
    expect(snapshot.ms).toBeLessThan(MAX_SNAPSHOT_MS);
    const models = snapshot.value.keys.flatMap((key) => Object.keys(key.models));
    expect(models.filter((model) => model.startsWith(prefix))).toEqual([]);
    expect(models).toContain(real);
    const hourly = snapshot.value.history.hourly.flatMap((bucket) => Object.keys(bucket.models));
    expect(hourly.filter((model) => model.startsWith(prefix))).toEqual([]);

    const sizeAfter = await databaseSize();
    expect(sizeAfter - sizeBefore).toBeLessThanOrEqual(MAX_GROWTH_BYTES);

    const api = await timed(() => callProxy("/api/stats", { headers: { authorization: `Bearer ${proxyToken}` } }));
    expect(api.value.status).toBe(200);
    expect(api.ms).toBeLessThan(MAX_SNAPSHOT_MS);
    const served = await timed(() => generate(real));
    expect(served.value.status).toBe(200);
    expect(served.ms).toBeLessThan(MAX_SNAPSHOT_MS);
    expect(JSON.stringify(await api.value.json<StatsSnapshot>())).not.toContain(prefix);

    console.info(
      `bogus models: ${FLOOD} in ${Math.round(floodMs)} ms; storage ${sizeBefore} -> ${sizeAfter} bytes; ` +
        `snapshot ${snapshot.ms.toFixed(1)} ms, /api/stats ${api.ms.toFixed(1)} ms, next request ${served.ms.toFixed(1)} ms`,
    );
  }, 120_000);
});
