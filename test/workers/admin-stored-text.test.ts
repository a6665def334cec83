import { describe, expect, it } from "vitest";
import type { EventPage } from "../../src/core/admin-model";
import { MAX_STORED_TEXT } from "../../src/core/stored-text";
import { ADMIN_TOKEN, addKeys, adminHarness, listKeys, newKey, type AdminHarness } from "./admin-harness";

// What the Durable Object stores is masked with every key it holds and capped in length:
// a runtime key no request has used yet is unknown to the proxy's own ring, and a stored
// text is read back by every viewer for as long as it is kept.

async function read(h: AdminHarness, path: string): Promise<string> {
  const response = await h.as(ADMIN_TOKEN, "GET", path);
  expect(response.status).toBe(200);
  return response.text();
}

describe("texts the key manager stores", () => {
  it("masks a runtime key no request has used in an operator's disable reason", async () => {
    const h = await adminHarness();
    const fresh = newKey();
    const [added] = (await addKeys(h, [fresh], false)).added;
    expect(added).toBeDefined();
    const disabled = await h.as(ADMIN_TOKEN, "POST", `/api/keys/${added!.id}/disable`, { reason: `moved to ${fresh}` });
    expect(disabled.status).toBe(200);
    const answers = [await disabled.text(), await read(h, "/api/events"), await read(h, "/api/stats"), await read(h, "/api/keys")];
    for (const answer of answers) {
      expect(answer).not.toContain(fresh.slice(6, 18));
      expect(answer).toContain(`moved to ${added!.masked}`);
    }
  });

  it("masks a runtime key no request has used in the proxy's events", async () => {
    const h = await adminHarness();
    const fresh = newKey();
    const [added] = (await addKeys(h, [fresh], false)).added;
    await h.pool.recordEvents([{ kind: "upstream-error", keyId: added!.id, status: 500, message: `upstream said ${fresh}` }]);
    const answer = await read(h, `/api/events?key=${added!.id}&kind=upstream-error`);
    expect((JSON.parse(answer) as EventPage).events[0]?.message).toBe(`upstream said ${added!.masked}`);
    expect(answer).not.toContain(fresh.slice(6, 18));
  });

  it("caps every stored message, so one huge upstream answer cannot make the event log or a key's last event huge", async () => {
    const h = await adminHarness();
    const [added] = (await addKeys(h, [newKey()], false)).added;
    await h.pool.recordEvents([{ kind: "upstream-error", keyId: added!.id, status: 500, message: `upstream said ${"x".repeat(200_000)}` }]);
    const page = JSON.parse(await read(h, `/api/events?key=${added!.id}&kind=upstream-error`)) as EventPage;
    const message = page.events[0]?.message ?? "";
    expect(message.startsWith("upstream said xxx")).toBe(true);
    expect(message).toHaveLength(MAX_STORED_TEXT);
    expect(message.endsWith("…")).toBe(true);
    expect((await read(h, "/api/events")).length).toBeLessThan(8 * MAX_STORED_TEXT);
    const key = (await listKeys(h, `?q=${encodeURIComponent(added!.masked.slice(-4))}`)).keys.find((row) => row.id === added!.id);
    expect(key?.lastEvent?.message).toBe(message);
  });
});
