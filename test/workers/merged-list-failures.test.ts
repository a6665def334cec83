import { describe, expect, it } from "vitest";
import { callProxy, fake, startUpload } from "./support";

// A merged list over the pool must not leave out a key that could not list for a moment (a
// 503, a 429): it passed such a key by and answered 200 without its files, so a client saw an
// incomplete list as the whole one (break-it finding). Now the walk stops at that key: what
// came before goes out with a page token that asks that key again, or, with nothing before
// it, the key's own error goes to the client, which retries the same page.

/** Walks every page the way a client does, asking a page again once when it failed. */
async function listAll(): Promise<{ names: string[]; statuses: number[] }> {
  const names: string[] = [];
  const statuses: number[] = [];
  let token: string | undefined;
  let retried = false;
  for (let pages = 0; pages < 50; pages++) {
    const query = token === undefined ? "" : `&pageToken=${encodeURIComponent(token)}`;
    const response = await callProxy(`/v1beta/files?pageSize=1000${query}`);
    statuses.push(response.status);
    if (response.status !== 200) {
      await response.arrayBuffer();
      if (retried) break;
      retried = true;
      continue;
    }
    const body = (await response.json()) as { files?: { name: string }[]; nextPageToken?: string };
    names.push(...(body.files ?? []).map((file) => file.name));
    token = body.nextPageToken;
    if (token === undefined) break;
  }
  return { names, statuses };
}

describe("a merged list when one key cannot list for a moment", () => {
  it("still lists that key's files, by stopping at it rather than passing it by", async () => {
    const tag = `list-gap-${crypto.randomUUID()}`;
    const session = await startUpload(tag, { displayName: `list-gap-${crypto.randomUUID()}` });
    const done = await callProxy(session.pathname + session.search, {
      method: "POST",
      headers: { "x-fake-tag": tag, "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0" },
      body: "gap",
    });
    expect(done.status).toBe(200);
    const name = ((await done.json()) as { file: { name: string } }).file.name;
    const owner = ((await fake.tagged(tag)).requests as { apiKey: string }[])[0]?.apiKey;
    if (owner === undefined) throw new Error("the upload reached no key");

    expect((await listAll()).names).toContain(name);
    await fake.script({ key: owner, outcomes: ["server-error"] });
    const degraded = await listAll();
    expect(degraded.names).toContain(name);
    expect(degraded.statuses.every((status) => status === 200 || status === 500 || status === 503)).toBe(true);
  });
});
