import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RECHECK_DELAYS_MS } from "../../src/core/key-store/rechecks";
import { addKeys, adminHarness, listKeys, newKey, settledJob, type AdminHarness } from "./admin-harness";
import { fake } from "./support";

// A key added while Google could not be reached (5xx, timeout) waits disabled for its
// first verification. It is checked again after a growing delay, a bounded number of
// times, instead of waiting for the next daily reset.

function stub(h: AdminHarness): DurableObjectStub {
  return h.pool as unknown as DurableObjectStub;
}

interface Recheck {
  at: number | null;
  attempts: number;
  alarm: number | null;
}

async function recheckOf(h: AdminHarness, id: string): Promise<Recheck> {
  return runInDurableObject(stub(h), async (_instance, state) => {
    const row = state.storage.sql.exec<{ at: number | null; attempts: number }>("SELECT recheck_at AS at, recheck_attempts AS attempts FROM keys WHERE id = ?", id).one();
    return { ...row, alarm: await state.storage.getAlarm() };
  });
}

/** Lets the re-check fall due now, as the passing of its delay would, and runs the alarm. */
async function runDueRecheck(h: AdminHarness, id: string): Promise<void> {
  await runInDurableObject(stub(h), (_instance, state) => {
    state.storage.sql.exec("UPDATE keys SET recheck_at = ? WHERE id = ? AND recheck_at IS NOT NULL", Date.now() - 1, id);
  });
  await runDurableObjectAlarm(stub(h));
  await settledJob(h);
}

const checksOf = async (key: string): Promise<number> => (await fake.byKey(key)).requests.filter((request) => request.action === "listModels").length;

describe("re-checking a key whose first verification could not reach Google", () => {
  it("schedules a re-check a minute later, which enables the key once Google answers", async () => {
    const h = await adminHarness();
    const key = newKey();
    await fake.script({ key, outcomes: ["server-error"] });
    const before = Date.now();
    const [added] = (await addKeys(h, [key])).added;
    expect((await settledJob(h)).outcomes[0]?.outcome).toBe("unreachable");
    const first = await recheckOf(h, added!.id);
    expect(first.attempts).toBe(1);
    expect(first.at).toBeGreaterThanOrEqual(before + RECHECK_DELAYS_MS[0]!);
    expect(first.at).toBeLessThanOrEqual(Date.now() + RECHECK_DELAYS_MS[0]!);
    // The Durable Object's alarm is set for it: nothing else would run it before the daily reset.
    expect(first.alarm).toBe(first.at);
    expect((await listKeys(h, `?q=${key.slice(-4)}`)).keys[0]).toMatchObject({ status: "disabled", disabled: { by: "verification" } });

    await runDueRecheck(h, added!.id);
    expect((await listKeys(h, `?q=${key.slice(-4)}`)).keys[0]).toMatchObject({ status: "available", verification: { outcome: "valid" } });
    expect(await recheckOf(h, added!.id)).toMatchObject({ at: null, attempts: 0, alarm: null });
    expect(await checksOf(key)).toBe(2);
  });

  it("backs off and stops after the last delay, leaving the key to the daily reset", async () => {
    const h = await adminHarness();
    const key = newKey();
    await fake.script({ key, outcomes: Array.from({ length: 20 }, () => "server-error" as const) });
    const [added] = (await addKeys(h, [key])).added;
    await settledJob(h);
    const waits: number[] = [];
    for (let check = 0; check < RECHECK_DELAYS_MS.length; check++) {
      const scheduled = await recheckOf(h, added!.id);
      const checkedAt = Date.now();
      waits.push(Math.round(((scheduled.at ?? 0) - checkedAt) / 60_000));
      await runDueRecheck(h, added!.id);
    }
    // Minutes each re-check waited for (as scheduled, give or take the test's own time).
    expect(waits).toEqual(RECHECK_DELAYS_MS.map((delay) => Math.round(delay / 60_000)));
    expect(await recheckOf(h, added!.id)).toMatchObject({ at: null, attempts: RECHECK_DELAYS_MS.length + 1, alarm: null });
    expect(await checksOf(key)).toBe(RECHECK_DELAYS_MS.length + 1);
    expect((await listKeys(h, `?q=${key.slice(-4)}`)).keys[0]?.status).toBe("disabled");
  });

  it("does not re-check a key an operator enabled meanwhile", async () => {
    const h = await adminHarness();
    const key = newKey();
    await fake.script({ key, outcomes: ["server-error"] });
    const [added] = (await addKeys(h, [key])).added;
    await settledJob(h);
    expect((await h.pool.enableKey(added!.id, "admin"))).toMatchObject({ key: { status: "available" } });
    await runDueRecheck(h, added!.id);
    expect(await checksOf(key)).toBe(1);
  });
});
