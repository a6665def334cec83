import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MAX_FAILED_LOGINS } from "../../src/core/stats/session-store.ts";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { buildNodeServer, startNodeServer, withoutVars, type RunningNodeServer } from "../setup/node-process.ts";
import { poolKeys, proxyToken } from "../setup/test-keys.ts";

// The Node server's own life: what it says when it starts, where its settings come from,
// and a SIGTERM that lets requests in flight finish and their usage land before it exits 0.

let upstream: FakeUpstream;
let work: string;
const running: RunningNodeServer[] = [];

beforeAll(async () => {
  buildNodeServer();
  upstream = await startFakeUpstream();
  work = mkdtempSync(join(tmpdir(), "node-lifecycle-"));
});

afterAll(async () => {
  await Promise.all(running.map((server) => server.stop()));
  await upstream?.close();
  rmSync(work, { recursive: true, force: true });
});

function envFor(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    GEMINI_UPSTREAM_URL: `${upstream.origin}/v1beta`,
    OPENAI_UPSTREAM_URL: `${upstream.origin}/v1beta/openai`,
    API_KEYS: poolKeys.slice(0, 3).join(","),
    PROXY_API_KEY: proxyToken,
    DATA_DIR: dataDir,
    LOG_REQUESTS: "false",
    ...extra,
  };
}

async function start(name: string, extra: Record<string, string> = {}): Promise<{ server: RunningNodeServer; dataDir: string; dir: string }> {
  const dir = join(work, name);
  const dataDir = join(dir, "data");
  const server = await startNodeServer(envFor(dataDir, extra), work);
  running.push(server);
  return { server, dataDir, dir };
}

function generate(origin: string, model: string, token = proxyToken, stream = false): Promise<Response> {
  return fetch(`${origin}/v1beta/models/${model}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`, {
    method: "POST",
    headers: { "x-goog-api-key": token, "content-type": "application/json" },
    body: JSON.stringify({ contents: [{ parts: [{ text: "in flight" }] }] }),
  });
}

/** Waits until the fake upstream has seen `count` requests for `model`. */
async function arrived(model: string, count: number): Promise<void> {
  for (let i = 0; i < 200 && upstream.log({ model }).requests.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(upstream.log({ model }).requests.length).toBe(count);
}

function requestsCounted(dataDir: string, model: string): number {
  const db = new DatabaseSync(join(dataDir, "pool.sqlite"), { readOnly: true });
  try {
    const row = db.prepare("SELECT COALESCE(SUM(requests), 0) AS n FROM usage_daily WHERE model = ?").get(model) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

describe("the Node server's start-up line", () => {
  it("names the URL, the number of keys and that clients need the token", async () => {
    const { server } = await start("banner");
    expect(server.stdout().split("\n")[0]).toBe(`Ready on ${server.origin} · 3 pool keys · clients must present PROXY_API_KEY`);
  });

  it("says so when the proxy is open", async () => {
    const { server } = await start("banner-open", { PROXY_API_KEY: "" });
    expect(server.stdout()).toContain(`Ready on ${server.origin} · 3 pool keys · OPEN: PROXY_API_KEY is not set`);
    const response = await generate(server.origin, "gemini-open", "anything");
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });
});

describe("settings from .env", () => {
  it("reads a .env in the working directory, and the real environment wins over it", async () => {
    const dir = join(work, "dotenv");
    const dataDir = join(dir, "data");
    const env = withoutVars(envFor(dataDir), "API_KEYS", "PROXY_API_KEY");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, ".env"), `API_KEYS=${poolKeys[0]},${poolKeys[1]}\nPROXY_API_KEY=from-file\n`);
    const server = await startNodeServer({ ...env, PROXY_API_KEY: "from-environment" }, dir);
    running.push(server);
    expect(server.stdout()).toContain("· 2 pool keys ·");
    const fromFile = await generate(server.origin, "gemini-dotenv", "from-file");
    expect(fromFile.status).toBe(401);
    await fromFile.body?.cancel();
    const fromEnvironment = await generate(server.origin, "gemini-dotenv", "from-environment");
    expect(fromEnvironment.status).toBe(200);
    await fromEnvironment.body?.cancel();
  });
});

describe("the pool in the process", () => {
  it("rotates past a key Google refuses, and still knows it after a restart on the same DATA_DIR", async () => {
    const model = "gemini-node-pool";
    const invalid = poolKeys[3]!;
    upstream.setKey({ key: invalid, invalid: true });
    const keys = { API_KEYS: [invalid, poolKeys[4]!].join(",") };
    const tried = (): string[] => upstream.log({ model }).requests.map((request) => request.apiKey ?? "");
    const { server, dataDir, dir } = await start("pool", keys);
    for (let i = 0; i < 3; i++) {
      const response = await generate(server.origin, model);
      expect(response.status).toBe(200);
      await response.body?.cancel();
    }
    expect(tried().filter((key) => key === invalid)).toHaveLength(1);
    expect(await server.stop()).toBe(0);

    const again = await startNodeServer(envFor(dataDir, keys), dir);
    running.push(again);
    for (let i = 0; i < 3; i++) {
      const response = await generate(again.origin, model);
      expect(response.status).toBe(200);
      await response.body?.cancel();
    }
    expect(tried().filter((key) => key === invalid)).toHaveLength(1);
    // A request counts once its body has been read to the end on the side, a moment after
    // the client has it (as on Workers): the stats catch up within a second.
    await vi.waitFor(async () => {
      const stats = (await (await fetch(`${again.origin}/api/stats`, { headers: { authorization: `Bearer ${proxyToken}` } })).json()) as {
        keys: { position: number; status: string; models: Record<string, { requests: number }> }[];
      };
      expect(stats.keys.map((key) => [key.position, key.status, key.models[model]?.requests ?? 0])).toEqual([
        [1, "disabled", 0],
        [2, "available", 6],
      ]);
    });
  });
});

describe("the /stat login limit on Node", () => {
  it("counts wrong tokens per connection address, whatever CF-Connecting-IP a client claims", async () => {
    const { server } = await start("guessing");
    const statuses: number[] = [];
    for (let i = 0; i < MAX_FAILED_LOGINS + 1; i++) {
      const response = await fetch(`${server.origin}/api/stats`, {
        headers: { authorization: `Bearer wrong-${i}`, "cf-connecting-ip": `203.0.113.${i}` },
      });
      statuses.push(response.status);
      await response.body?.cancel();
    }
    expect(statuses).toEqual([...Array<number>(MAX_FAILED_LOGINS - 1).fill(401), 429, 429]);
  });
});

/** A WebSocket upgrade to the Live path over a raw socket; `then` runs once the server answered. */
function rawUpgrade(port: number, token: string, then: (socket: Socket) => void = () => undefined): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  const answer = new Promise<string>((resolve) => {
    let received = "";
    let answered = false;
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (!answered && received.includes("\r\n\r\n")) {
        answered = true;
        then(socket);
      }
    });
    socket.on("close", () => resolve(received));
  });
  socket.write(
    [
      `GET /ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=${token} HTTP/1.1`,
      "Host: 127.0.0.1",
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version: 13",
      "",
      "",
    ].join("\r\n"),
  );
  return answer;
}

describe("Live sockets on Node", () => {
  it("refuses an upgrade with a wrong token with the Worker's 401, as plain HTTP", async () => {
    const { server } = await start("live-401");
    const answer = await rawUpgrade(server.port, "wrong-token");
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as { error: { code: number; status: string; message: string } };
    expect(body.error).toMatchObject({ code: 401, status: "UNAUTHENTICATED" });
    expect(body.error.message).toContain("PROXY_API_KEY");
  });

  it("a client's malformed frame closes its own socket, not the server", async () => {
    const { server } = await start("bad-frame");
    // A frame with a reserved opcode (0xf), masked as a client's must be.
    const answer = await rawUpgrade(server.port, proxyToken, (socket) => socket.write(Buffer.from([0x8f, 0x80, 1, 2, 3, 4])));
    expect(answer).toMatch(/^HTTP\/1\.1 101 /);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
  });
});

describe("SIGTERM", () => {
  it("finishes a request in flight, counts its usage and exits 0; new connections are refused", async () => {
    const model = "gemini-sigterm-slow";
    upstream.setModel({ model, firstByteDelayMs: 1_500 });
    const { server, dataDir } = await start("sigterm");
    const pending = generate(server.origin, model);
    await arrived(model, 1);
    server.child.kill("SIGTERM");
    const response = await pending;
    expect(response.status).toBe(200);
    const body = (await response.json()) as { candidates: { content: { parts: { text: string }[] } }[] };
    expect(body.candidates[0]!.content.parts[0]!.text).toBeTruthy();
    expect(await server.exited).toBe(0);
    await expect(fetch(`${server.origin}/healthz`)).rejects.toThrow();
    expect(requestsCounted(dataDir, model)).toBe(1);
  });

  it("lets a stream in flight run to its end", async () => {
    const model = "gemini-sigterm-stream";
    upstream.setModel({ model, chunks: 5, chunkDelayMs: 250 });
    const { server, dataDir } = await start("sigterm-stream");
    const response = await generate(server.origin, model, proxyToken, true);
    expect(response.status).toBe(200);
    server.child.kill("SIGTERM");
    const text = await response.text();
    expect(text.match(/^data: /gm)).toHaveLength(5);
    expect(await server.exited).toBe(0);
    expect(requestsCounted(dataDir, model)).toBe(1);
  });
});
