import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// The Node server as a bare process, for the tests of its own start and stop: the bundle
// (`npm run build:node`) on the Node that node_modules/.bin provides, configured through
// its environment alone, stdout and stderr apart, and a start that may fail. The end-to-end
// suites start it through the runtime harness instead (test/setup/start-proxy.ts).

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const NODE_SERVER = join(ROOT, "dist/node/server.mjs");
const NODE = join(ROOT, "node_modules/.bin/node");

let built = false;

/** Bundles src/node once per test process (well under a second). */
export function buildNodeServer(): void {
  if (built) return;
  const result = spawnSync(NODE, ["scripts/build-node.ts"], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`npm run build:node failed:\n${result.stdout}${result.stderr}`);
  built = true;
}

export interface NodeServerRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/** `env` without the variables named. */
export function withoutVars(env: Record<string, string>, ...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !names.includes(name)));
}

/**
 * Spawns the server with exactly `env` (plus PATH), in `cwd` (where it looks for `.env`),
 * as another user when `as` says so (a test running as root needs one root cannot be).
 * Its stdout and stderr are collected; nothing is waited for.
 */
export function spawnNodeServer(env: Record<string, string>, cwd: string, as?: { uid: number; gid: number }): NodeServerRun {
  buildNodeServer();
  // Exactly these variables: nothing of the test runner's environment leaks into the settings.
  const childEnv: Record<string, string> = { PATH: process.env.PATH ?? "", ...env };
  const child = spawn(NODE, [NODE_SERVER], { cwd, env: childEnv as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"], ...as });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

export interface RunningNodeServer extends NodeServerRun {
  origin: string;
  port: number;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Spawns the server on a free port and waits for its Ready line. */
export async function startNodeServer(env: Record<string, string>, cwd: string): Promise<RunningNodeServer> {
  const run = spawnNodeServer({ HOST: "127.0.0.1", PORT: "0", ...env }, cwd);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Node server did not start:\n${run.stdout()}${run.stderr()}`)), 30_000);
    run.child.stdout?.on("data", () => {
      const ready = /Ready on http:\/\/[^\s]+:(\d+)/.exec(run.stdout());
      if (ready !== null) {
        clearTimeout(timer);
        resolve(Number(ready[1]));
      }
    });
    void run.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the Node server exited with ${code}:\n${run.stdout()}${run.stderr()}`));
    });
  });
  return {
    ...run,
    origin: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      if (run.child.exitCode === null) run.child.kill("SIGTERM");
      return run.exited;
    },
  };
}
