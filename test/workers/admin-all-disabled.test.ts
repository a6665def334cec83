import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, CLIENT_TOKEN, adminHarness, listKeys } from "./admin-harness";
import { uniqueModel } from "./support";

// When no key serves because every key is disabled, the 503 says by whom and where to
// act: an operator who disabled them all must not be told that Google rejected them.

describe("the 503 when every key is disabled", () => {
  it("says an operator disabled them and points to /stat and /api/keys", async () => {
    const h = await adminHarness();
    const ids = (await listKeys(h)).keys.map((key) => key.id);
    const bulk = await h.as(ADMIN_TOKEN, "POST", "/api/keys/bulk", { action: "disable", ids });
    expect(bulk.status).toBe(200);
    const response = await h.call(`/v1beta/models/${uniqueModel("all-disabled")}:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": CLIENT_TOKEN, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ parts: [{ text: "hi" }] }] }),
    });
    expect(response.status).toBe(503);
    const message = (await response.json<{ error: { message: string } }>()).error.message;
    expect(message).toContain(`${ids.length} disabled by an operator`);
    expect(message).toContain("GET /api/keys?status=disabled");
    expect(message).not.toMatch(/Google rejected/);
  });
});
