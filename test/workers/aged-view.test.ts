import { describe, expect, it } from "vitest";
import { sleep, twoIsolates } from "./isolate-harness";
import { fake, poolKeys, uniqueModel } from "./support";

// An isolate idle for more than a second holds a view too old to trust. Its next request
// does not wait for the manager: it starts on that view while a fresh one is on its way,
// and abandons the attempt if the fresh view arrives first and says the key can no longer
// serve. Real key manager (Durable Object), fake upstream; the manager's changes are made
// on the object directly, as another isolate's would be.

/**
 * Long enough for the warm-up's usage report (sent half a second after it, usage-batch.ts)
 * and the view its answer brought to be more than a second old.
 */
const IDLE_MS = 1_700;

/** The fake's log settles when it sees a connection close: poll for it. */
async function attemptsOf(model: string) {
  await expect.poll(async () => (await fake.log(model)).requests.every((request) => request.endedAt !== null)).toBe(true);
  return (await fake.log(model)).requests.map(({ apiKey, status, clientAborted }) => ({ key: apiKey, status, clientAborted }));
}

describe("an isolate whose view is more than a second old", () => {
  it("starts on it, and abandons the attempt once the fresh view says its key was disabled meanwhile", async () => {
    const model = uniqueModel("aged-disabled");
    const [first, second] = poolKeys;
    const { a, calls, settle, stub, late, ids } = await twoIsolates();
    expect((await a(uniqueModel("warm"))).status).toBe(200);
    await sleep(IDLE_MS);
    // A model this isolate never used: the first key in pool order is the one it will choose.
    await stub.disableKey(ids[0]!, "disabled elsewhere", "admin");
    // The object is some way off, Google slower still to answer the first key: the attempt
    // reaches Google before the fresh view arrives, and the view long before Google's answer.
    late.viewMs = 300;
    await fake.model({ model, firstByteDelayMsByKey: { [first!]: 2_000 } });
    const before = calls.length;

    const response = await a(model);
    expect(response.status).toBe(200);
    expect(await attemptsOf(model)).toEqual([
      { key: first, status: null, clientAborted: true },
      { key: second, status: 200, clientAborted: false },
    ]);
    await settle();
    // Nothing recorded for the abandoned attempt: no failure, no incident, no usage.
    expect(calls.slice(before).filter((name) => name !== "poolView" && name !== "recordUsage")).toEqual([]);
    const keys = (await stub.snapshot()).keys;
    expect(keys.find((key) => key.id === ids[0])?.models[model]).toBeUndefined();
    expect(keys.find((key) => key.id === ids[1])?.models[model]?.requests).toBe(1);
  });

  it("abandons it too when the key was marked for the model meanwhile, and the retry goes to another key", async () => {
    const model = uniqueModel("aged-marked");
    const [first, second] = poolKeys;
    const { a, settle, stub, late, ids } = await twoIsolates();
    expect((await a(uniqueModel("warm"))).status).toBe(200);
    await sleep(IDLE_MS);
    await stub.recordFailure({ keyId: ids[0]!, model, fault: { kind: "quota-day", reason: "You exceeded your current quota" } }, null);
    late.viewMs = 300;
    await fake.model({ model, firstByteDelayMsByKey: { [first!]: 2_000 } });

    expect((await a(model)).status).toBe(200);
    expect((await attemptsOf(model)).map(({ key, clientAborted }) => ({ key, clientAborted }))).toEqual([
      { key: first, clientAborted: true },
      { key: second, clientAborted: false },
    ]);
    await settle();
    const keys = (await stub.snapshot()).keys;
    expect(keys.find((key) => key.id === ids[0])?.models[model]?.requests ?? 0).toBe(0);
  });

  it("leaves an answer that came before the fresh view standing", async () => {
    const model = uniqueModel("aged-answered");
    const [first] = poolKeys;
    const { a, settle, stub, late, ids } = await twoIsolates();
    expect((await a(uniqueModel("warm"))).status).toBe(200);
    await sleep(IDLE_MS);
    await stub.disableKey(ids[0]!, "disabled elsewhere", "admin");
    // The object is far away: its view arrives well after Google's answer.
    late.viewMs = 1_000;

    expect((await a(model)).status).toBe(200);
    expect(await attemptsOf(model)).toEqual([{ key: first, status: 200, clientAborted: false }]);
    await settle();
    // Google served it with that key, so the pool counts it there.
    const keys = (await stub.snapshot()).keys;
    expect(keys.find((key) => key.id === ids[0])?.models[model]?.requests).toBe(1);
  });
});
