import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TAG_HEADER } from "../fake-upstream/request-log.ts";
import { fake, poolKeys, startUpload } from "./support";

// A session URL the proxy hands out works without the proxy token, as Google's does, but
// only as the chunks of its own session: nothing else may ride on a leaked one.

/** A request with no proxy token at all: only the session URL speaks for it. */
function tokenless(url: URL, init: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(url, init));
}

function variant(session: URL, change: (url: URL) => void): URL {
  const url = new URL(session);
  change(url);
  return url;
}

describe("a signed upload session URL without a proxy token", () => {
  it("sends the chunks and the status query of its own session, and nothing else", async () => {
    const tag = `session-url-${crypto.randomUUID()}`;
    const text = "chunks of a session sent with its URL alone";
    const session = await startUpload(tag, { size: text.length, type: "text/plain" });
    const headers = { [TAG_HEADER]: tag };
    const chunk = { ...headers, "x-goog-upload-command": "upload", "x-goog-upload-offset": "0" };

    const refused: [string, URL, RequestInit][] = [
      ["a list", session, { method: "GET", headers }],
      ["a list with a chosen pageToken", variant(session, (url) => url.searchParams.set("pageToken", "page-2")), { method: "GET", headers }],
      ["a new session", session, { method: "POST", headers: { ...headers, "x-goog-upload-command": "start", "x-goog-upload-protocol": "resumable" }, body: "{}" }],
      ["a cancel", session, { method: "POST", headers: { ...headers, "x-goog-upload-command": "cancel" } }],
      ["PUT", session, { method: "PUT", headers: chunk, body: text }],
      ["DELETE", session, { method: "DELETE", headers }],
      ["HEAD", session, { method: "HEAD", headers }],
      ["another version", variant(session, (url) => (url.pathname = "/upload/v1alpha/files")), { method: "POST", headers: chunk, body: text }],
      ["a second upload_id", variant(session, (url) => url.searchParams.append("upload_id", "someone-elses")), { method: "POST", headers: chunk, body: text }],
      ["another upload_id", variant(session, (url) => url.searchParams.set("upload_id", "someone-elses")), { method: "POST", headers: chunk, body: text }],
      ["an extra pageToken on a chunk", variant(session, (url) => url.searchParams.set("pageToken", "x")), { method: "POST", headers: chunk, body: text }],
      ["a later expiry", variant(session, (url) => url.searchParams.set("pool_exp", String(Number(url.searchParams.get("pool_exp")) + 3600))), { method: "POST", headers: chunk, body: text }],
      ["an expired URL", variant(session, (url) => url.searchParams.set("pool_exp", "1000")), { method: "POST", headers: chunk, body: text }],
    ];
    for (const [what, url, init] of refused) {
      const response = await tokenless(url, init);
      expect(response.status, what).toBe(401);
      if (init.method !== "HEAD") expect(((await response.json()) as { error: { status: string } }).error.status, what).toBe("UNAUTHENTICATED");
    }
    // Only the start, made with the token, reached the upstream.
    expect((await fake.tagged(tag)).requests.map((entry) => entry.action)).toEqual(["upload.start"]);

    const uploaded = await tokenless(session, { method: "POST", headers: chunk, body: text.slice(0, 10) });
    expect(uploaded.status).toBe(200);
    const queried = await tokenless(session, { method: "POST", headers: { ...headers, "x-goog-upload-command": "query" } });
    expect(queried.headers.get("x-goog-upload-size-received")).toBe("10");
    const finished = await tokenless(session, {
      method: "POST",
      headers: { ...headers, "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "10" },
      body: text.slice(10),
    });
    expect(finished.status).toBe(200);
    expect(((await finished.json()) as { file: { name: string } }).file.name).toMatch(/^files\//);
    // The expiry the signature covers: a day, so long uploads keep working.
    const expires = Number(session.searchParams.get("pool_exp")) * 1000;
    expect(expires - Date.now()).toBeGreaterThan(23 * 3_600_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
  });

  it("passes on only the headers of the chunk protocol, never a method override", async () => {
    const tag = `session-url-headers-${crypto.randomUUID()}`;
    const text = "a chunk with extra headers";
    const session = await startUpload(tag, { size: text.length, type: "text/plain" });
    const extras = {
      "x-http-method-override": "DELETE",
      "x-http-method": "DELETE",
      "x-method-override": "DELETE",
      "x-goog-upload-protocol": "resumable",
      "x-goog-upload-header-content-length": "999999",
      "x-goog-user-project": "someone-elses-project",
      "x-extra-header": "anything",
    };
    const queried = await tokenless(session, { method: "POST", headers: { ...extras, "x-goog-upload-command": "query" } });
    expect(queried.status).toBe(200);
    const uploaded = await tokenless(session, {
      method: "POST",
      headers: { ...extras, "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0", "content-type": "text/plain" },
      body: text,
    });
    expect(uploaded.status).toBe(200);

    // What reached the upstream for this session's upload_id, whichever pool key holds it.
    const uploadId = session.searchParams.get("upload_id");
    const logs = await Promise.all(poolKeys.map((key) => fake.byKey(key)));
    const chunks = logs.flatMap((log) => log.requests).filter((entry) => entry.query.upload_id === uploadId);
    expect(chunks.map((entry) => entry.headers["x-goog-upload-command"])).toEqual(["query", "upload, finalize"]);
    for (const entry of chunks) {
      expect(entry.method).toBe("POST");
      for (const name of Object.keys(extras)) expect(entry.headers[name], name).toBeUndefined();
    }
    expect(chunks[1]!.headers["x-goog-upload-offset"]).toBe("0");
  });
});
