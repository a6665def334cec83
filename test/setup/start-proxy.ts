import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Starts the proxy the way a user does (`wrangler dev`, local Durable Object storage),
// configured through --var instead of .dev.vars, and pointed at a local fake upstream.

export interface RunningProxy {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** Where its Durable Object storage lives; pass it again to restart on the same state. */
  persistTo: string;
  stop(): Promise<void>;
}

export interface ProxyOptions {
  upstreamOrigin: string;
  keys: readonly string[];
  proxyToken?: string;
  persistTo?: string;
  /** Extra `--var NAME:VALUE` settings. */
  vars?: Record<string, string>;
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

export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const port = await freePort();
  const persistTo = options.persistTo ?? (await mkdtemp(join(tmpdir(), "proxy-state-")));
  const vars: Record<string, string> = {
    GEMINI_UPSTREAM_URL: `${options.upstreamOrigin}/v1beta`,
    OPENAI_UPSTREAM_URL: `${options.upstreamOrigin}/v1beta/openai`,
    API_KEYS: options.keys.join(","),
    LOG_REQUESTS: "false",
    ...(options.proxyToken === undefined ? {} : { PROXY_API_KEY: options.proxyToken }),
    ...options.vars,
  };
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persistTo, "--inspector-port", "0"];
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  // The binary npm installed, so it runs on the Node 24 that node_modules/.bin provides.
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
      reject(new Error(`wrangler dev exited with ${code}:\n${output}`));
    });
  });
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    persistTo,
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
