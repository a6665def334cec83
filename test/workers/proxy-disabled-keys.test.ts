import { describe, expect, it } from "vitest";
import { fake, generate, leakedKeys, poolKeys, poolSnapshot, uniqueModel } from "./support";

// Disabling is per key, for every model, so this file is one story told in order: its
// Durable Object storage is its own, and by the end no key of the pool is usable. The
// fake's faults are scripted per model so that other files sharing it are unaffected.

describe("invalid and suspended keys", () => {
  it("tries an invalid key once, disables it with its reason, and serves the request with another key", async () => {
    const model = uniqueModel("invalid");
    const [bad] = poolKeys;
    await fake.script({ key: bad!, model, outcomes: ["invalid-key", "invalid-key", "invalid-key"] });
    for (let i = 0; i < poolKeys.length * 2; i++) expect((await generate(model)).status).toBe(200);
    const requests = (await fake.log(model)).requests;
    expect(requests.filter((request) => request.apiKey === bad)).toHaveLength(1);
    expect(requests.filter((request) => request.status === 200)).toHaveLength(poolKeys.length * 2);

    const disabled = (await poolSnapshot()).keys.find((key) => key.status === "disabled");
    expect(disabled?.position).toBe(1);
    expect(disabled?.disabledReason).toContain("API key not valid");
  });

  it("answers 503 once Google refuses every key, masking the keys Google's messages name", async () => {
    const model = uniqueModel("suspended");
    for (const key of poolKeys.slice(1)) await fake.script({ key, model, outcomes: ["suspended"] });
    const response = await generate(model);
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(response.headers.get("x-should-retry")).toBe("false");
    expect(JSON.parse(text)).toMatchObject({ error: { code: 503, status: "UNAVAILABLE" } });
    expect(text).toContain("/stat");
    expect(leakedKeys(text + JSON.stringify([...response.headers]))).toEqual([]);

    const snapshot = await poolSnapshot();
    expect(snapshot.keys.every((key) => key.status === "disabled")).toBe(true);
    const reasons = snapshot.keys.map((key) => key.disabledReason ?? "").join("\n");
    expect(reasons).toContain("has been suspended");
    expect(reasons).toMatch(/AIza…/);
    expect(leakedKeys(JSON.stringify(snapshot))).toEqual([]);
  });
});
