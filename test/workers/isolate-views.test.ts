import { describe, expect, it } from "vitest";
import { newKey } from "./admin-harness";
import { sleep, twoIsolates } from "./isolate-harness";
import { fake, poolKeys, uniqueModel } from "./support";

// Two isolates (two apps, each with its own pool view) in front of one real key manager
// (isolate-harness.ts), against the fake upstream.

describe("isolates in front of one key manager", () => {
  it("serve requests from their views: far fewer manager calls than requests, every success counted once", async () => {
    const model = uniqueModel("views");
    const { a, calls, settle, stub } = await twoIsolates();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await a(model)).status);
    await settle();
    expect(statuses).toEqual(statuses.map(() => 200));
    // A view at the start and now and then; usage in batches. Nothing else.
    expect(calls.filter((name) => name !== "poolView" && name !== "recordUsage")).toEqual([]);
    expect(calls.length).toBeLessThan(statuses.length / 2);
    const used = (await fake.log(model)).requests.map((request) => request.apiKey);
    expect(new Set(used)).toEqual(new Set(poolKeys));
    const counted = (await stub.snapshot()).keys.reduce((sum, key) => sum + (key.models[model]?.requests ?? 0), 0);
    expect(counted).toBe(12);
  });

  it("never reuse a key one of them saw out of quota, and the other, busy meanwhile, learns it within a second", async () => {
    const model = uniqueModel("views-mark");
    const { a, b, settle } = await twoIsolates();
    const [spent] = poolKeys;
    // Both warm, then the first key runs out of daily quota for the model.
    expect((await a(uniqueModel("warm"))).status).toBe(200);
    expect((await b(uniqueModel("warm"))).status).toBe(200);
    await fake.quota({ key: spent!, model, perDay: 0 });

    for (let i = 0; i < 6; i++) expect((await a(model)).status).toBe(200);
    const fromA = (await fake.log(model)).requests.filter((request) => request.apiKey === spent);
    expect(fromA.map((request) => request.status)).toEqual([429]);

    // An active isolate: its view is refreshed behind its requests, never older than a second.
    // (An idle one may start one request on its old view: aged-view.test.ts.)
    const busyUntil = Date.now() + 1_100;
    while (Date.now() < busyUntil) {
      expect((await b(uniqueModel("busy"))).status).toBe(200);
      await sleep(200);
    }
    const before = (await fake.log(model)).requests.length;
    for (let i = 0; i < 6; i++) expect((await b(model)).status).toBe(200);
    const fromB = (await fake.log(model)).requests.slice(before);
    expect(fromB.filter((request) => request.apiKey === spent)).toEqual([]);
    await settle();
  });

  it("see a reset of the pool within a second", async () => {
    const model = uniqueModel("views-reset");
    const { a, b, settle, stub } = await twoIsolates();
    const [spent] = poolKeys;
    await fake.quota({ key: spent!, model, perDay: 0 });
    expect((await a(model)).status).toBe(200);
    expect((await b(uniqueModel("warm"))).status).toBe(200);
    await fake.quota({ key: spent!, model, perDay: 1_000 });
    await stub.reset("all");

    await sleep(1_100);
    const before = (await fake.log(model)).requests.length;
    for (let i = 0; i < poolKeys.length; i++) expect((await b(model)).status).toBe(200);
    const fromB = (await fake.log(model)).requests.slice(before);
    expect(fromB.filter((request) => request.apiKey === spent)).toHaveLength(1);
    await settle();
  });

  it("see a key's group change within a second: its group's limit then holds for it", async () => {
    const model = uniqueModel("views-group");
    const { b, settle, stub } = await twoIsolates();
    const runtime = [newKey(), newKey()];
    const added = (await stub.addKeys(runtime.map((secret) => ({ secret })), false, "admin")).added.map((key) => key.id);
    // The group's budget: one request today between the two keys.
    await stub.setLimit({ model, window: "rpd", value: 1, group: "views-team" });
    await sleep(1_100);
    // Isolate b holds a view with both keys, each a group of its own.
    expect((await b(uniqueModel("warm"))).status).toBe(200);
    // Another isolate (here: the manager itself) puts them in the group.
    expect(await stub.bulk("group", added, "admin", { group: "views-team" })).toMatchObject({ done: 2 });

    await sleep(1_100);
    for (let i = 0; i < poolKeys.length + 2; i++) expect((await b(model)).status).toBe(200);
    const byRuntimeKeys = (await fake.log(model)).requests.filter((request) => runtime.includes(request.apiKey ?? ""));
    expect(byRuntimeKeys).toHaveLength(1);
    await settle();
  });
});
