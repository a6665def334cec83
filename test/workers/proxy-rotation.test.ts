import { describe, expect, it, vi } from "vitest";
import { nextQuotaReset } from "../../src/core/pacific-time";
import { promptTokenCount } from "../fake-upstream/tokens.ts";
import { callProxy, fake, generate, poolKeys, poolSnapshot, proxyToken, uniqueModel } from "./support";

async function modelStates(model: string) {
  return (await poolSnapshot()).keys.map((key) => key.models[model]?.state ?? "ok");
}

describe("rotation on upstream faults", () => {
  it("moves on from keys out of daily quota, marks them until Pacific midnight and never retries them", async () => {
    const model = uniqueModel("daily");
    const [free, ...spent] = [...poolKeys].reverse();
    for (const key of spent) await fake.quota({ key, model, perDay: 0 });

    for (let i = 0; i < 5; i++) expect((await generate(model)).status).toBe(200);

    const requests = (await fake.log(model)).requests;
    for (const key of spent) expect(requests.filter((request) => request.apiKey === key).length).toBeLessThanOrEqual(1);
    expect(requests.filter((request) => request.apiKey === free && request.status === 200)).toHaveLength(5);

    const snapshot = await poolSnapshot();
    const exhausted = snapshot.keys.filter((key) => key.models[model]?.state === "exhausted");
    expect(exhausted).toHaveLength(spent.length);
    const mark = exhausted[0]?.models[model];
    expect(mark?.reason).toMatch(/quota/i);
    expect(Date.parse(mark?.until ?? "")).toBe(nextQuotaReset(Date.now()));
  });

  it("cools a key down for Google's retryDelay after a per-minute 429, then uses it again", async () => {
    const model = uniqueModel("minute");
    for (const key of poolKeys) await fake.quota({ key, model, perMinute: { limit: 1, windowMs: 1_500, retryDelay: "1.5s" } });

    for (let i = 0; i < poolKeys.length; i++) expect((await generate(model)).status).toBe(200);
    const refused = await generate(model);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("x-should-retry")).toBe("true");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(2);
    // Google's own signals, which Gemini clients read: wait this long, it is not a daily limit.
    const refusedBody = await refused.json<{ error: { message: string; details: { "@type": string; retryDelay?: string }[] } }>();
    expect(refusedBody).toMatchObject({ error: { code: 429, status: "RESOURCE_EXHAUSTED" } });
    expect(refusedBody.error.details).toEqual([
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${refused.headers.get("retry-after")}s` },
    ]);
    expect(refusedBody.error.message).toMatch(/Please retry in \d+s\./);
    expect(await modelStates(model)).toEqual(poolKeys.map(() => "cooling"));

    // While every key cools down, nothing more goes upstream.
    const sentBefore = (await fake.log(model)).requests.length;
    expect((await generate(model)).status).toBe(429);
    expect((await fake.log(model)).requests).toHaveLength(sentBefore);

    await new Promise((resolve) => setTimeout(resolve, 1_700));
    expect((await generate(model)).status).toBe(200);
  });

  it("treats a bare 429 as a short cooldown and a tokens-per-minute 429 as a cooldown", async () => {
    const model = uniqueModel("bare");
    await fake.script({ key: poolKeys[0]!, model, outcomes: ["bare-429"] });
    await fake.script({ key: poolKeys[1]!, model, outcomes: [{ kind: "quota-tokens", retryDelay: "30s" }] });
    const response = await generate(model);
    expect(response.status).toBe(200);
    const statuses = (await fake.log(model)).requests.map((request) => request.status);
    expect(statuses).toEqual([429, 429, 200]);

    const keys = (await poolSnapshot()).keys;
    const bare = keys[0]?.models[model];
    const tokens = keys[1]?.models[model];
    expect(bare?.state).toBe("cooling");
    expect(Date.parse(bare?.until ?? "") - Date.now()).toBeLessThanOrEqual(10_000);
    expect(tokens?.state).toBe("cooling");
    expect(Date.parse(tokens?.until ?? "") - Date.now()).toBeGreaterThan(25_000);
  });

  it("retries server errors on other keys, a bounded number of times, without marking keys", async () => {
    const model = uniqueModel("flaky");
    await fake.script({ key: poolKeys[0]!, model, outcomes: ["overloaded"] });
    await fake.script({ key: poolKeys[1]!, model, outcomes: ["server-error"] });
    expect((await generate(model)).status).toBe(200);
    expect(await modelStates(model)).not.toContain("cooling");

    const down = uniqueModel("down");
    for (const key of poolKeys) await fake.script({ key, model: down, outcomes: ["overloaded"] });
    const response = await generate(down);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { status: "UNAVAILABLE" } });
    expect((await fake.log(down)).requests).toHaveLength(3);
  });

  it("does not retry client errors such as an unsupported location", async () => {
    const model = uniqueModel("location");
    await fake.script({ key: poolKeys[0]!, model, outcomes: ["location"] });
    const response = await generate(model);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { status: "FAILED_PRECONDITION" } });
    expect((await fake.log(model)).requests).toHaveLength(1);
    expect(await modelStates(model)).toEqual(poolKeys.map(() => "ok"));
  });
});

describe("when no key is left for a model", () => {
  it("answers 429 in the caller's style with Retry-After until the daily reset, and sends nothing upstream", async () => {
    const model = uniqueModel("spent");
    for (const key of poolKeys) await fake.quota({ key, model, perDay: 0 });
    const first = await generate(model);
    expect(first.status).toBe(429);
    const secondsToReset = (nextQuotaReset(Date.now()) - Date.now()) / 1000;
    expect(Math.abs(Number(first.headers.get("retry-after")) - secondsToReset)).toBeLessThan(5);
    expect(first.headers.get("x-should-retry")).toBe("false");
    const body = await first.json<{ error: { message: string; status: string; details: unknown[] } }>();
    expect(body.error.status).toBe("RESOURCE_EXHAUSTED");
    expect(body.error.message).toContain(model);
    // A per-day QuotaFailure, as Google sends it: the Gemini CLI then stops retrying this model.
    expect(body.error.details).toEqual([
      {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        violations: [{ quotaId: "GenerateRequestsPerDayPerProjectPerModel", quotaDimensions: { model } }],
      },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${first.headers.get("retry-after")}s` },
    ]);
    expect((await fake.log(model)).requests).toHaveLength(poolKeys.length);

    const openai = await callProxy("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${proxyToken}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(openai.status).toBe(429);
    expect(await openai.json()).toMatchObject({ error: { type: "rate_limit_error", code: "all_keys_exhausted" } });
    expect((await fake.log(model)).requests).toHaveLength(poolKeys.length);
  });
});

describe("usage accounting", () => {
  it("counts successful requests and tokens per key and model, streams included, exactly as upstream served them", async () => {
    const model = uniqueModel("usage");
    const prompt = { contents: [{ role: "user", parts: [{ text: "Count my tokens, please, exactly." }] }] };
    for (let i = 0; i < 3; i++) await (await generate(model, { body: JSON.stringify(prompt) })).text();
    await (await generate(model, { body: JSON.stringify(prompt) }, "streamGenerateContent?alt=sse")).text();
    await (await generate(`${model}-nonexistent`)).text();

    const served = (await fake.log(model)).successes;
    await vi.waitFor(async () => {
      const keys = (await poolSnapshot()).keys;
      const counted = Object.fromEntries(
        keys.flatMap((key) => {
          const stats = key.models[model];
          return stats === undefined ? [] : [[poolKeys[key.position - 1], stats.requests]];
        }),
      );
      const expected = Object.fromEntries(
        Object.entries(served).flatMap(([key, models]) => (models[model] ? [[key, models[model]]] : [])),
      );
      expect(counted).toEqual(expected);
    });
    const keys = (await poolSnapshot()).keys;
    const promptTokens = keys.reduce((sum, key) => sum + (key.models[model]?.promptTokens ?? 0), 0);
    expect(promptTokens).toBe(4 * promptTokenCount(prompt));
    expect(keys.reduce((sum, key) => sum + (key.models[model]?.outputTokens ?? 0), 0)).toBeGreaterThan(0);
  });
});
