import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { poolKeys, proxyToken } from "../setup/test-keys.ts";

// `docker run` with two variables gives the same proxy. Where Docker cannot build and run
// images (no docker command, no daemon), the test is skipped and says why in its name.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const IMAGE = "gemini-key-pool-proxy:test";

function dockerUnavailable(): string | null {
  const info = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { encoding: "utf8" });
  if (info.error !== undefined) return "the docker command is not installed";
  if (info.status !== 0) return `the Docker daemon does not answer (${(info.stderr || info.stdout).trim().split("\n")[0]})`;
  return null;
}

const skipReason = dockerUnavailable();
if (skipReason !== null) console.warn(`docker-image.test.ts skipped: ${skipReason}.`);

function docker(...args: string[]): string {
  const result = spawnSync("docker", args, { cwd: ROOT, encoding: "utf8", timeout: 600_000 });
  if (result.status !== 0) throw new Error(`docker ${args.join(" ")} failed:\n${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}

let upstream: FakeUpstream | undefined;
let container: string | undefined;

afterAll(async () => {
  if (container !== undefined) docker("rm", "-f", container);
  await upstream?.close();
});

describe("the Docker image", () => {
  it.skipIf(skipReason !== null)(
    `builds, runs as a non-root user with /data as a volume, and proxies a request${skipReason === null ? "" : ` (skipped: ${skipReason})`}`,
    { timeout: 900_000 },
    async () => {
      docker("build", "-t", IMAGE, ".");
      const config = JSON.parse(docker("image", "inspect", IMAGE, "--format", "{{json .Config}}")) as { User: string; Volumes: Record<string, object> };
      expect(config.User).toBe("node");
      expect(Object.keys(config.Volumes)).toEqual(["/data"]);

      upstream = await startFakeUpstream();
      container = docker(
        "run", "-d", "--network", "host",
        "-e", "PORT=18799",
        "-e", `API_KEYS=${poolKeys.slice(0, 2).join(",")}`,
        "-e", `PROXY_API_KEY=${proxyToken}`,
        "-e", `GEMINI_UPSTREAM_URL=${upstream.origin}/v1beta`,
        IMAGE,
      );
      const origin = "http://127.0.0.1:18799";
      for (let i = 0; i < 100; i++) {
        if (await fetch(`${origin}/healthz`).then((r) => r.ok, () => false)) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const response = await fetch(`${origin}/v1beta/models/gemini-docker:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": proxyToken, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ parts: [{ text: "from a container" }] }] }),
      });
      expect(response.status).toBe(200);
      expect(upstream.log({ model: "gemini-docker" }).requests).toHaveLength(1);
      docker("stop", container);
      expect(docker("inspect", container, "--format", "{{.State.ExitCode}}")).toBe("0");
    },
  );
});
