import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Runs a worker the way a user does (`wrangler dev`, local Durable Object storage), bound
// to loopback and configured through --var. The tests start the proxy with it; the
// benchmark starts the proxy and its comparison workers with it, so all pay the same overhead.

export interface WranglerDev {
  /** http://127.0.0.1:PORT */
  origin: string;
  port: number;
  /** Where its Durable Object storage lives; pass it again to restart on the same state. */
  persistTo: string;
  /** Everything wrangler dev printed so far (stdout and stderr), the worker's console lines included. */
  output(): string;
  stop(): Promise<void>;
}

export interface WranglerDevOptions {
  /** Path of the wrangler config, relative to the repository root; the proxy's by default. */
  config?: string;
  vars: Record<string, string>;
  /** Reuse this storage directory (kept on stop); a fresh temporary one otherwise. */
  persistTo?: string;
  /** A `.dev.vars`-style file to load, as `npm start` loads the repository's `.dev.vars`. */
  envFile?: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const port = await freePort();
  const persistTo = options.persistTo ?? (await mkdtemp(join(tmpdir(), "wrangler-state-")));
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persistTo, "--inspector-port", "0"];
  if (options.config !== undefined) args.push("--config", options.config);
  if (options.envFile !== undefined) args.push("--env-file", options.envFile);
  for (const [name, value] of Object.entries(options.vars)) args.push("--var", `${name}:${value}`);
  // The binary npm installed, so it runs on the Node 24 that node_modules/.bin provides;
  // its own process group (detached), so stop() ends workerd too, and nothing else.
  const child = spawn("node_modules/.bin/wrangler", args, {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" },
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrangler dev did not start:\n${output}`)), 90_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes("Ready on")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`wrangler dev ${options.config ?? ""} exited with ${code}:\n${output}`));
    });
  });
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    persistTo,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        process.kill(-child.pid, "SIGTERM");
        await exited;
      }
      if (options.persistTo === undefined) await rm(persistTo, { recursive: true, force: true });
    },
  };
}
