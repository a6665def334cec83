import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { MAX_FAILED_LOGINS } from "../../src/core/stats/session-store.ts";
import { en } from "../../src/core/stats/strings-en.ts";
import { spawnNodeServer, type RunningNodeServer } from "../setup/node-process.ts";
import { nodeServerSuite } from "../setup/node-server-suite.ts";
import { proxyToken } from "../setup/test-keys.ts";

// The Node server on a network: behind a reverse proxy (TRUSTED_PROXIES), over plain http,
// with tokens that protect nothing, slow uploads, and Upgrade headers that are no WebSocket.

const suite = nodeServerSuite("node-network-");
const start = suite.start;

/** A wrong Bearer token from `forwardedFor` (as a proxy in front would say); the status. */
async function guess(server: RunningNodeServer, forwardedFor: string, token = "wrong-token-guess"): Promise<number> {
  const response = await fetch(`${server.origin}/api/stats`, { headers: { authorization: `Bearer ${token}`, "x-forwarded-for": forwardedFor } });
  await response.body?.cancel();
  return response.status;
}

describe("TRUSTED_PROXIES", () => {
  it("counts failed logins per client behind a trusted proxy, so guessing locks out the guesser, not the admin", async () => {
    const server = await start("trusted", { TRUSTED_PROXIES: "10.0.0.0/8, 127.0.0.1, ::1" });
    const statuses: number[] = [];
    // The client put a fake entry in front; the proxy appended the address it saw.
    for (let i = 0; i < MAX_FAILED_LOGINS + 1; i++) statuses.push(await guess(server, `198.51.100.7, 203.0.113.9, 10.1.2.3`));
    expect(statuses.at(-1)).toBe(429);
    // Another client behind the same proxy still gets in.
    expect(await guess(server, "203.0.113.10, 10.1.2.3", proxyToken)).toBe(200);
    // The guesser cannot escape by changing the part it controls.
    expect(await guess(server, "192.0.2.55, 203.0.113.9", proxyToken)).toBe(429);
  });

  it("believes no X-Forwarded-For by default: every client of a proxy shares its address", async () => {
    const server = await start("untrusted");
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) await guess(server, `203.0.113.${i}`);
    expect(await guess(server, "203.0.113.200", proxyToken)).toBe(429);
  });

  it("refuses to start with an entry that is no address or range, in one line", async () => {
    const run = spawnNodeServer(suite.env("bad-trusted", { TRUSTED_PROXIES: "10.0.0.0/33", PORT: "0" }), suite.work);
    expect(await run.exited).toBe(2);
    expect(run.stderr().trim().split("\n")).toEqual([expect.stringContaining('TRUSTED_PROXIES has "10.0.0.0/33"')]);
  });
});

/** Signs in on the /stat form; the Set-Cookie line. */
async function signIn(server: RunningNodeServer, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(`${server.origin}/stat/login`, {
    method: "POST",
    redirect: "manual",
    headers: { origin: server.origin, "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ token: proxyToken }),
  });
  expect(response.status).toBe(303);
  return response.headers.getSetCookie().join("\n");
}

describe("the /stat session cookie", () => {
  it("is not Secure over plain http, so a browser keeps it, and the login page warns that the token travels unencrypted", async () => {
    const server = await start("plain-http");
    const cookie = await signIn(server);
    expect(cookie).toMatch(/^stat-session=[0-9a-f]{64};/);
    expect(cookie).not.toMatch(/secure/i);
    // The cookie signs in.
    const page = await fetch(`${server.origin}/stat`, { headers: { cookie: cookie.split(";")[0]! } });
    expect(await page.text()).toContain('id="key-table"');
    const form = await (await fetch(`${server.origin}/stat`)).text();
    expect(form).toContain(en.loginPlainHttp.slice(0, 40));
  });

  it("is __Host- and Secure when a trusted TLS proxy says https, and not when anyone else says so", async () => {
    const server = await start("https-proxy", { TRUSTED_PROXIES: "127.0.0.1" });
    const cookie = await signIn(server, { "x-forwarded-proto": "https" });
    expect(cookie).toMatch(/^__Host-stat-session=[0-9a-f]{64};.*Secure/i);
    const form = await (await fetch(`${server.origin}/stat`, { headers: { "x-forwarded-proto": "https" } })).text();
    expect(form).not.toContain(en.loginPlainHttp.slice(0, 40));

    const other = await start("https-claimed");
    expect(await signIn(other, { "x-forwarded-proto": "https" })).toMatch(/^stat-session=/);
  });
});

describe("tokens that protect nothing", () => {
  it.each([
    ["the README's placeholder", { PROXY_API_KEY: "choose-a-long-random-token" }, "placeholder"],
    ["a short token", { PROXY_API_KEY: `${proxyToken},short` }, "5 characters"],
    ["a short admin token", { ADMIN_API_KEY: "admin" }, "ADMIN_API_KEY"],
  ])("%s: the server refuses to start, in one line", async (_what, extra, says) => {
    const run = spawnNodeServer(suite.env(`weak-${says.length}`, { ...extra, PORT: "0" }), suite.work);
    expect(await run.exited).toBe(2);
    const lines = run.stderr().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(says);
    expect(lines[0]).toContain("openssl rand");
  });
});

describe("UPSTREAM_TIMEOUT_MS", () => {
  it("counts from the end of a slow upload, not its start; Node's own request timeout does not cut it either", async () => {
    const server = await start("slow-upload", { UPSTREAM_TIMEOUT_MS: "400" });
    const text = "a file that takes its time to arrive";
    const started = await fetch(`${server.origin}/upload/v1beta/files`, {
      method: "POST",
      headers: {
        "x-goog-api-key": proxyToken,
        "content-type": "application/json",
        "x-goog-upload-protocol": "resumable",
        "x-goog-upload-command": "start",
        "x-goog-upload-header-content-length": String(text.length),
        "x-goog-upload-header-content-type": "text/plain",
      },
      body: JSON.stringify({ file: { displayName: "slow" } }),
    });
    expect(started.status).toBe(200);
    const session = started.headers.get("x-goog-upload-url")!;
    const parts = [text.slice(0, 12), text.slice(12, 24), text.slice(24)];
    // Three pieces, 500 ms apart: the upload alone takes longer than the timeout.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const part = parts.shift();
        if (part === undefined) return controller.close();
        await new Promise((resolve) => setTimeout(resolve, 500));
        controller.enqueue(new TextEncoder().encode(part));
      },
    });
    const finished = await fetch(session, {
      method: "POST",
      headers: { "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0", "content-type": "text/plain" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(finished.status).toBe(200);
    expect(((await finished.json()) as { file: { name: string; sizeBytes: string } }).file.sizeBytes).toBe(String(text.length));
  });
});

/** A raw request with `Upgrade: h2c` on the Live path; the whole answer. */
function h2cUpgrade(port: number): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  let received = "";
  socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
  socket.write(
    [
      "GET /ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent HTTP/1.1",
      "Host: 127.0.0.1",
      "Connection: Upgrade, HTTP2-Settings",
      "Upgrade: h2c",
      "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA",
      "",
      "",
    ].join("\r\n"),
  );
  return new Promise((resolve) => socket.on("close", () => resolve(received)));
}

describe("an Upgrade that is no WebSocket", () => {
  it("gets the Worker's 401 JSON without a token, not an empty 400", async () => {
    const server = await start("h2c");
    const answer = await h2cUpgrade(server.port);
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as { error: { code: number; status: string } };
    expect(body.error).toMatchObject({ code: 401, status: "UNAUTHENTICATED" });
  });
});
