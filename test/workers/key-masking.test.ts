import { describe, expect, it } from "vitest";
import { callProxy, fake, generate, leakedKeyFragments, poolKeys, startUpload, uniqueModel } from "./support";

// What the README promises about masking: any run of 12 or more characters of a pool key
// is masked in every header, every error body and every 2xx body the proxy reads whole.

function everything(response: Response, body: string): string {
  return `${JSON.stringify([...response.headers])}\n${body}`;
}

describe("masking of key material", () => {
  it("masks partial keys in error bodies and headers", async () => {
    const model = uniqueModel("partial-key");
    for (const key of poolKeys) {
      await fake.script({
        key,
        model,
        outcomes: [{ kind: "bad-request", message: `Key ${key.slice(0, 30)} rejected`, headers: { "x-upstream-key": key.slice(0, -1) } }],
      });
    }
    const response = await generate(model);
    expect(response.status).toBe(400);
    const body = await response.text();
    expect(body).toContain("Key … rejected");
    expect(response.headers.get("x-upstream-key")).toBe("...");
    expect(leakedKeyFragments(everything(response, body))).toEqual([]);
  });

  it("masks key material an upstream echoes in a 2xx body the proxy reads", async () => {
    const tag = `echo-${crypto.randomUUID()}`;
    const echoed = poolKeys.join(" and ");
    const session = await startUpload(tag, { displayName: echoed });
    const done = await callProxy(session.pathname + session.search, {
      method: "POST",
      headers: { "x-fake-tag": tag, "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0" },
      body: "echo",
    });
    expect(done.status).toBe(200);
    const body = await done.text();
    expect(JSON.parse(body).file.displayName).toContain("AIza…");
    expect(leakedKeyFragments(everything(done, body))).toEqual([]);

    // The merged list is read whole too; other suites' files may come first, so page on.
    let list = "";
    let page: { nextPageToken?: string } = {};
    for (let pages = 0; pages === 0 || (page.nextPageToken !== undefined && !list.includes("AIza…") && pages < 50); pages++) {
      const query = page.nextPageToken === undefined ? "" : `&pageToken=${encodeURIComponent(page.nextPageToken)}`;
      const text = await (await callProxy(`/v1beta/files?pageSize=100${query}`)).text();
      list += text;
      page = JSON.parse(text) as { nextPageToken?: string };
    }
    expect(list).toContain("AIza…");
    expect(leakedKeyFragments(list)).toEqual([]);
  });
});
