import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { buildNodeServer, startNodeServer } from "../setup/node-process.ts";
import { poolKeys, proxyToken } from "../setup/test-keys.ts";

// kill -9 (the OOM killer, a power button on a container): no shutdown runs. The Node
// server writes a request's usage as soon as it is counted, not half a second later as
// the Worker batches its Durable Object calls, so a crash loses only requests in flight.

let upstream: FakeUpstream;
let work: string;

beforeAll(async () => {
  buildNodeServer();
  upstream = await startFakeUpstream();
  work = mkdtempSync(join(tmpdir(), "node-crash-"));
});

afterAll(async () => {
  await upstream?.close();
  rmSync(work, { recursive: true, force: true });
});

function requestsCounted(dataDir: string, model: string): number {
  const db = new DatabaseSync(join(dataDir, "pool.sqlite"));
  try {
    return (db.prepare("SELECT COALESCE(SUM(requests), 0) AS n FROM usage_daily WHERE model = ?").get(model) as { n: number }).n;
  } finally {
    db.close();
  }
}

describe("kill -9", () => {
  it("loses none of the usage of requests that were answered", async () => {
    const model = "gemini-node-crash";
    const dataDir = join(work, "data");
    const server = await startNodeServer(
      { GEMINI_UPSTREAM_URL: `${upstream.origin}/v1beta`, API_KEYS: poolKeys.slice(0, 2).join(","), PROXY_API_KEY: proxyToken, DATA_DIR: dataDir, LOG_REQUESTS: "false" },
      work,
    );
    const answered = 12;
    await Promise.all(
      Array.from({ length: answered }, async () => {
        const response = await fetch(`${server.origin}/v1beta/models/${model}:generateContent`, {
          method: "POST",
          headers: { "x-goog-api-key": proxyToken, "content-type": "application/json" },
          body: JSON.stringify({ contents: [{ parts: [{ text: "count me" }] }] }),
        });
        expect(response.status).toBe(200);
        await response.json();
      }),
    );
    // The count is taken on the side once the body has gone through, a moment after the
    // client has it. The wait is generous for a loaded machine, and well under the half
    // second a batch used to wait.
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.child.kill("SIGKILL");
    await server.exited;
    expect(requestsCounted(dataDir, model)).toBe(answered);
  });
});
