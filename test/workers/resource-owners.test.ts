import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_OWNERSHIP_ROWS } from "../../src/core/key-store/key-store";
import { callProxy, fake, generate, poolKeys, uniqueModel, upstreamOrigin } from "./support";

// Owners are learned only from what Google vouches for; a client cannot plant one, nor
// grow the ownership table, and an owner the proxy merely inferred is not final.

const pool = () => env.API_KEY_MANAGER.getByName("pool");

async function keyId(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return [...new Uint8Array(digest, 0, 8)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Stored ownership rows whose name starts with `prefix`, read from the Durable Object's own storage. */
function ownedRows(prefix: string): Promise<{ name: string; key_id: string }[]> {
  return runInDurableObject(pool(), (_instance, state) =>
    state.storage.sql.exec<{ name: string; key_id: string }>("SELECT name, key_id FROM resources WHERE name LIKE ?", `${prefix}%`).toArray(),
  );
}

/** A file uploaded straight to the fake with one key: the proxy never saw it. */
async function uploadElsewhere(key: string): Promise<string> {
  const start = await fetch(`${upstreamOrigin}/upload/v1beta/files`, {
    method: "POST",
    headers: { "x-goog-api-key": key, "x-goog-upload-protocol": "resumable", "x-goog-upload-command": "start" },
    body: "{}",
  });
  const done = await fetch(start.headers.get("x-goog-upload-url")!, {
    method: "POST",
    headers: { "x-goog-api-key": key, "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0" },
    body: "made elsewhere",
  });
  return ((await done.json()) as { file: { name: string } }).file.name;
}

function generateWith(model: string, body: unknown): Promise<Response> {
  return generate(model, { body: JSON.stringify(body) });
}

describe("resource owners", () => {
  it("takes no names from arbitrary fields, however many a body carries", async () => {
    const model = uniqueModel("planted-many");
    const prefix = `files/planted${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const names = Array.from({ length: 5_000 }, (_, i) => ({ fileName: `${prefix}x${i}`, file_name: `${prefix}y${i}` }));
    const response = await generateWith(model, {
      contents: [
        { role: "user", parts: [{ text: "call the tool" }] },
        { role: "user", parts: [{ functionResponse: { name: "lookup", response: { names } } }] },
      ],
      tools: [{ functionDeclarations: [{ name: "lookup", description: JSON.stringify({ cachedContent: `${prefix}z` }) }] }],
    });
    expect(response.status).toBe(200);
    await response.text();
    // The ownership write is off the response path; a later call to the object runs after it.
    await pool().snapshot();
    expect(await ownedRows(prefix)).toEqual([]);
  });

  it("refuses a request naming more files than the limit, before anything goes upstream", async () => {
    const model = uniqueModel("too-many");
    const parts = Array.from({ length: 33 }, (_, i) => ({ fileData: { fileUri: `files/many${i}`, mimeType: "text/plain" } }));
    const response = await generateWith(model, { contents: [{ role: "user", parts }] });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("32");
    expect((await fake.log(model)).requests).toHaveLength(0);
  });

  it("keeps the ownership table bounded in rows", async () => {
    const now = Date.now();
    const prefix = `files/bound${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const entries = Array.from({ length: MAX_OWNERSHIP_ROWS + 500 }, (_, i) => ({
      name: `${prefix}${i}`,
      keyId: "0000000000000000",
      expiresAt: now + 3_600_000 + i,
      inferred: true,
    }));
    await pool().recordOwnership(entries);
    await pool().recordOwnership([{ name: `${prefix}x${"y".repeat(2_000)}`, keyId: "0000000000000000", expiresAt: now + 7_200_000 }]);
    const total = await runInDurableObject(pool(), (_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM resources").one().n);
    expect(total).toBeLessThanOrEqual(MAX_OWNERSHIP_ROWS);
    await pool().forgetResources(entries.map((entry) => entry.name));
  });

  it("does not let a planted name pin the file's requests to the wrong key", async () => {
    const [owner, other] = [poolKeys[2]!, poolKeys[0]!];
    const file = await uploadElsewhere(owner);
    const model = uniqueModel("planted-owner");
    // Every key but the owner's serves the planting call, so an owner taken from it would be wrong.
    await fake.script({ key: owner, model, outcomes: ["quota-day"] });
    const planted = await generateWith(model, {
      contents: [{ role: "user", parts: [{ functionResponse: { name: "f", response: { fileName: file } } }] }],
    });
    expect(planted.status).toBe(200);
    await planted.text();
    await pool().snapshot();
    const fetched = await callProxy(`/v1beta/${file}`);
    expect(fetched.status).toBe(200);

    // An owner the proxy only inferred (here: a wrong one) gives way to the search on a 403.
    const second = await uploadElsewhere(owner);
    await pool().recordOwnership([{ name: second, keyId: await keyId(other), expiresAt: Date.now() + 3_600_000, inferred: true }]);
    const found = await callProxy(`/v1beta/${second}`);
    expect(found.status).toBe(200);
    expect(await ownedRows(second)).toEqual([{ name: second, key_id: await keyId(owner) }]);
  });
});
