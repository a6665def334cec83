import { describe, expect, it } from "vitest";
import type { EventInput, EventPage } from "../../src/core/admin-model";
import { MAX_EVENTS } from "../../src/core/key-store/event-log";
import { ADMIN_TOKEN, adminHarness, listKeys, type AdminHarness } from "./admin-harness";

// The event log as an operator reads it: a key named the ways the key table shows it, and
// admin actions that traffic cannot push out of the bounded log.

async function events(h: AdminHarness, query: string): Promise<{ status: number; page: EventPage }> {
  const response = await h.as(ADMIN_TOKEN, "GET", `/api/events${query}`);
  return { status: response.status, page: await response.json<EventPage>() };
}

describe("the event log's key filter", () => {
  it("takes a key id, a position (12 or #12) or a masked key, and answers 400 to anything else", async () => {
    const h = await adminHarness();
    const [first, second] = (await listKeys(h)).keys;
    await h.pool.recordEvents([
      { kind: "upstream-error", keyId: first!.id, status: 500, message: "first" },
      { kind: "upstream-error", keyId: second!.id, status: 500, message: "second" },
    ]);
    const typedMasked = first!.masked.replace("…", "...");
    for (const key of [first!.id, String(first!.position), `#${first!.position}`, first!.masked, typedMasked]) {
      const { status, page } = await events(h, `?kind=upstream-error&key=${encodeURIComponent(key)}`);
      expect(status, key).toBe(200);
      expect(page.events.map((event) => event.message), key).toEqual(["first"]);
    }
    const wrong = await h.as(ADMIN_TOKEN, "GET", "/api/events?key=not%20a%20key");
    expect(wrong.status).toBe(400);
    expect((await wrong.json<{ error: { message: string } }>()).error.message).toMatch(/key id .* position .* masked key/);
  });
});

describe("the event log's bound", () => {
  it("keeps an operator's actions however many traffic events follow", async () => {
    const h = await adminHarness();
    const [key] = (await listKeys(h)).keys;
    expect((await h.as(ADMIN_TOKEN, "POST", `/api/keys/${key!.id}/disable`, { reason: "kept in the log" })).status).toBe(200);
    const storm: EventInput[] = Array.from({ length: 1_000 }, () => ({ kind: "upstream-error", keyId: key!.id, status: 500 }));
    for (let sent = 0; sent < MAX_EVENTS + 200; sent += storm.length) await h.pool.recordEvents(storm);
    const { page } = await events(h, "?kind=disabled");
    expect(page.events.map((event) => event.message)).toContain("kept in the log");
    // Traffic stays bounded all the same.
    let total = 0;
    for (let before = ""; ; ) {
      const { page: older } = await events(h, `?limit=500${before}`);
      total += older.events.length;
      if (older.next === undefined) break;
      before = `&before=${older.next}`;
    }
    expect(total).toBeLessThanOrEqual(MAX_EVENTS + 64 + 2);
  });
});
