import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, adminHarness, listKeys, settledJob } from "./admin-harness";

// Bulk and verify calls take a bounded number of ids, and say which ids are no key:
// 150,000 unknown ids once made an 8.5 MB answer, and a verification of only unknown ids
// answered like a success.

const unknownIds = (count: number) => Array.from({ length: count }, (_, i) => `unknown${String(i).padStart(9, "0")}`);

describe("ids in bulk and verify calls", () => {
  it("answers 413 naming the limit past 2,000 ids", async () => {
    const h = await adminHarness();
    for (const [path, body] of [
      ["/api/keys/bulk", { action: "disable", ids: unknownIds(2001) }],
      ["/api/keys/verify", { ids: unknownIds(2001) }],
    ] as const) {
      const response = await h.as(ADMIN_TOKEN, "POST", path, body);
      expect(response.status, path).toBe(413);
      expect((await response.json<{ error: { message: string } }>()).error.message).toMatch(/At most 2000 ids per request; this one has 2001/);
    }
  });

  it("answers 404 to a verification of unknown ids only, and names the unknown ones of a mix", async () => {
    const h = await adminHarness();
    const only = await h.as(ADMIN_TOKEN, "POST", "/api/keys/verify", { ids: unknownIds(2) });
    expect(only.status).toBe(404);
    expect((await only.json<{ unknown: string[] }>()).unknown).toEqual(unknownIds(2));

    const [first] = (await listKeys(h)).keys;
    const mixed = await h.as(ADMIN_TOKEN, "POST", "/api/keys/verify", { ids: [first!.id, ...unknownIds(1)] });
    expect(mixed.status).toBe(202);
    expect(await mixed.json()).toMatchObject({ job: { total: 1 }, unknown: unknownIds(1) });
    expect((await settledJob(h)).done).toBe(1);

    const bulk = await h.as(ADMIN_TOKEN, "POST", "/api/keys/bulk", { action: "enable", ids: unknownIds(1) });
    expect(await bulk.json()).toMatchObject({ done: 0, skipped: [{ id: unknownIds(1)[0], reason: "No key has this id." }] });
  });
});
