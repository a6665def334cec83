import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { poolKeys, proxyToken } from "../setup/test-keys.ts";

// The Docker image as a self-hoster runs it: built from the repository's Dockerfile, given
// the settings as -e variables, answering one request through the fake upstream. Docker
// is often missing (the machine this was written on has the client but no daemon): then
// this suite is skipped and says why on the console and in its name, never silently. Host networking with
// HOST=127.0.0.1 keeps all traffic on loopback.

const run = promisify(execFile);

/** Why docker cannot be used here, or null when it can (binary present, daemon answering). */
async function dockerUnavailable(): Promise<string | null> {
  try {
    await run("docker", ["--version"]);
  } catch {
    return "no docker binary on PATH";
  }
  try {
    await run("docker", ["info", "--format", "{{.ServerVersion}}"], { timeout: 15_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim().split("\n")[0];
    return `the docker daemon is not reachable (${stderr || (error as Error).message})`;
  }
  return null;
}

const unavailable = await dockerUnavailable();
if (unavailable !== null) console.warn(`docker-image.test.ts: skipping the Docker image test: ${unavailable}`);

const IMAGE = `gemini-key-pool-proxy-test:${randomUUID().slice(0, 8)}`;
const MODEL = "gemini-docker-e2e";

let upstream: FakeUpstream;
let container = "";
let origin = "";

const docker = async (...args: string[]): Promise<string> => (await run("docker", args, { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();

async function logsOf(id: string): Promise<string> {
  const { stdout, stderr } = await run("docker", ["logs", id]);
  return stdout + stderr;
}

/** Waits for the startup line the Node server prints and returns the origin it names; fails with its logs if it exits first. */
async function waitUntilReady(id: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const logs = await logsOf(id);
    const ready = /Ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(logs);
    if (ready !== null) return ready[1]!;
    if ((await docker("inspect", "--format", "{{.State.Running}}", id)) !== "true") throw new Error(`the container exited:\n${logs}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the container did not get ready within 60 s:\n${await logsOf(id)}`);
}

describe.skipIf(unavailable !== null)(`the Docker image${unavailable === null ? "" : ` (skipped: ${unavailable})`}`, () => {
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    await docker("build", "--tag", IMAGE, ".");
    container = await docker(
      "run",
      "--detach",
      "--network",
      "host",
      "--env",
      `API_KEYS=${poolKeys.join(",")}`,
      "--env",
      `PROXY_API_KEY=${proxyToken}`,
      "--env",
      `GEMINI_UPSTREAM_URL=${upstream.origin}/v1beta`,
      "--env",
      `OPENAI_UPSTREAM_URL=${upstream.origin}/v1beta/openai`,
      // The image listens on 0.0.0.0; on the host's network that would be every interface.
      "--env",
      "HOST=127.0.0.1",
      // A free port, named in the Ready line.
      "--env",
      "PORT=0",
      IMAGE,
    );
    origin = await waitUntilReady(container);
  }, 900_000);

  afterAll(async () => {
    if (container !== "") await docker("rm", "--force", container).catch(() => undefined);
    await docker("image", "rm", "--force", IMAGE).catch(() => undefined);
    await upstream?.close();
  });

  it("runs as a non-root user with /data as its volume", async () => {
    const config = JSON.parse(await docker("image", "inspect", IMAGE, "--format", "{{json .Config}}")) as { User: string; Volumes: Record<string, object> };
    expect(config.User).toBe("node");
    expect(Object.keys(config.Volumes)).toEqual(["/data"]);
  });

  it("serves a request with a pool key, and stops cleanly on SIGTERM (docker stop)", async () => {
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
    const response = await fetch(`${origin}/v1beta/models/${MODEL}:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": proxyToken, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ parts: [{ text: "Hello from a container" }] }] }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { candidates?: unknown[] }).candidates?.length).toBeGreaterThan(0);
    const sent = upstream.log({ model: MODEL }).requests.map((request) => request.apiKey ?? "");
    expect(sent).toHaveLength(1);
    expect(poolKeys).toContain(sent[0]);

    await docker("stop", "--time", "30", container);
    expect(await docker("inspect", "--format", "{{.State.ExitCode}}", container)).toBe("0");
  }, 60_000);
});

