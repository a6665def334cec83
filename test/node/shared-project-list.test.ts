import { GoogleGenAI } from "@google/genai";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { startProxy, type RunningProxy } from "../setup/start-proxy.ts";
import { poolKeys, proxyToken } from "../setup/test-keys.ts";

// Several pool keys may belong to one Google project; they all see that project's files.
// A list merged over every key must still show each file once. (Its own fake and proxy:
// shared projects would change what the other suites' keys can see.)

let upstream: FakeUpstream;
let proxy: RunningProxy;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  for (const key of poolKeys.slice(0, 3)) upstream.setKey({ key, project: "shared" });
  proxy = await startProxy({ runtime: inject("proxyRuntime"), upstreamOrigin: upstream.origin, keys: poolKeys, proxyToken });
});

afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
});

describe("files.list over keys of one project", () => {
  it("lists a file once, though three keys of the pool can see it", async () => {
    const ai = new GoogleGenAI({ apiKey: proxyToken, httpOptions: { baseUrl: proxy.origin } });
    const shared = new GoogleGenAI({ apiKey: poolKeys[0]!, httpOptions: { baseUrl: upstream.origin } });
    const file = await shared.files.upload({ file: new Blob(["one project, three keys"], { type: "text/plain" }) });

    const names: string[] = [];
    for await (const item of await ai.files.list()) names.push(item.name ?? "");
    expect(names.filter((name) => name === file.name)).toHaveLength(1);
    // It was really asked of every key, so the three of the project each saw it.
    const asked = new Set(upstream.log().requests.filter((entry) => entry.path.endsWith("/files") && entry.method === "GET").map((entry) => entry.apiKey));
    expect(asked.size).toBe(poolKeys.length);
  });
});
