import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { startWranglerDev, type WranglerDev } from "../setup/wrangler-dev.ts";

// `npm start` as the README tells a newcomer to run it: the secrets come from a file made
// from .dev.vars.example, not from --var flags. Wrangler loads only the secrets that
// wrangler.jsonc declares, so a secret missing from that list would silently not exist.

let upstream: FakeUpstream;
let proxy: WranglerDev;
let directory: string;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  directory = await mkdtemp(join(tmpdir(), "dev-vars-"));
  const example = await readFile(".dev.vars.example", "utf8");
  const envFile = join(directory, ".dev.vars");
  await writeFile(envFile, example);
  proxy = await startWranglerDev({
    envFile,
    // Never Google: nothing here should go upstream, and if it did it must stay on loopback.
    vars: { GEMINI_UPSTREAM_URL: `${upstream.origin}/v1beta`, OPENAI_UPSTREAM_URL: `${upstream.origin}/v1beta/openai` },
  });
});

afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
  await rm(directory, { recursive: true, force: true });
});

describe("secrets from .dev.vars (copied from .dev.vars.example)", () => {
  it("protects the proxy with the example's PROXY_API_KEY", async () => {
    const token = (await readFile(".dev.vars.example", "utf8")).match(/^PROXY_API_KEY="(.+)"$/m)?.[1];
    expect(token).toBeTruthy();
    const refused = await fetch(`${proxy.origin}/v1beta/models`);
    expect(refused.status).toBe(401);
    const allowed = await fetch(`${proxy.origin}/api/stats`, { headers: { authorization: `Bearer ${token}` } });
    expect(allowed.status).toBe(200);
    expect(upstream.log().requests).toEqual([]);
    expect(proxy.output()).not.toContain("PROXY_API_KEY is not set");
  });

  it("uses the example's API_KEYS as the pool", async () => {
    const token = (await readFile(".dev.vars.example", "utf8")).match(/^PROXY_API_KEY="(.+)"$/m)?.[1] ?? "";
    const stats = (await (await fetch(`${proxy.origin}/api/stats`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      totals: { keys: { total: number } };
    };
    expect(stats.totals.keys.total).toBe(2);
  });
});
