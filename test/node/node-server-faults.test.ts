import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCHEMA_VERSION } from "../../src/core/key-store/migrations.ts";
import { buildNodeServer, NODE_SERVER, spawnNodeServer, startNodeServer, withoutVars } from "../setup/node-process.ts";
import { poolKeys, proxyToken } from "../setup/test-keys.ts";

// Every way the Node server can be unable to start ends the same way: a non-zero exit,
// one line on stderr that names what to fix, and the operator's data exactly as it was.

let work: string;

beforeAll(() => {
  buildNodeServer();
  work = mkdtempSync(join(tmpdir(), "node-faults-"));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

function freshDir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Every file under `dir` with a hash of its bytes: what "untouched" is compared on. */
function contents(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  return Object.fromEntries(
    readdirSync(dir, { recursive: true, encoding: "utf8" })
      .sort()
      .map((name) => [name, createHash("sha256").update(readFileSync(join(dir, name))).digest("hex")]),
  );
}

const baseEnv = (dataDir: string): Record<string, string> => ({
  API_KEYS: poolKeys.slice(0, 2).join(","),
  PROXY_API_KEY: proxyToken,
  DATA_DIR: dataDir,
  HOST: "127.0.0.1",
  PORT: "0",
  LOG_REQUESTS: "false",
});

/** Starts the server, expects it to refuse: the one stderr line it printed. */
async function refusal(env: Record<string, string>, cwd: string): Promise<string> {
  const run = spawnNodeServer(env, cwd);
  const code = await run.exited;
  expect(code, run.stdout() + run.stderr()).not.toBe(0);
  expect(run.stdout()).not.toContain("Ready on");
  const lines = run.stderr().trim().split("\n");
  expect(lines, run.stderr()).toHaveLength(1);
  return lines[0]!;
}

/** A database a previous run left, with the keys of `env` in it; its files once the server stopped. */
async function previousRun(dataDir: string, cwd: string): Promise<void> {
  const server = await startNodeServer(baseEnv(dataDir), cwd);
  expect(await server.stop()).toBe(0);
}

describe("Node server start-up faults", () => {
  it("refuses a DATA_DIR that cannot be a writable directory, and leaves the file in its way alone", async () => {
    const dir = freshDir("not-a-dir");
    const blocker = join(dir, "data");
    writeFileSync(blocker, "my notes");
    const line = await refusal(baseEnv(join(blocker, "pool")), dir);
    expect(line).toMatch(/DATA_DIR .* is not a writable directory/);
    expect(readFileSync(blocker, "utf8")).toBe("my notes");
  });

  it("refuses a damaged database file and keeps its bytes", async () => {
    const dir = freshDir("damaged");
    const dataDir = join(dir, "data");
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, "pool.sqlite"), Buffer.alloc(8192, 0x5a));
    const before = contents(dataDir);
    const line = await refusal(baseEnv(dataDir), dir);
    expect(line).toMatch(/pool\.sqlite is damaged or not a database .*move it aside/);
    expect(contents(dataDir)).toEqual(before);
  });

  it("refuses a database with a newer schema than this build knows, and keeps it as it was", async () => {
    const dir = freshDir("newer");
    const dataDir = join(dir, "data");
    await previousRun(dataDir, dir);
    const db = new DatabaseSync(join(dataDir, "pool.sqlite"));
    db.prepare("UPDATE schema_meta SET value = ? WHERE name = 'version'").run(SCHEMA_VERSION + 1);
    db.close();
    const before = contents(dataDir);
    const line = await refusal(baseEnv(dataDir), dir);
    expect(line).toContain(`schema version ${SCHEMA_VERSION + 1}, newer than this build knows (${SCHEMA_VERSION})`);
    expect(contents(dataDir)).toEqual(before);
  });

  it("refuses a DATA_DIR under /proc at once, where a recursive mkdir never returns", async () => {
    if (!existsSync("/proc/self")) return console.log("skipped: no /proc on this system");
    const line = await refusal(baseEnv(`/proc/no-such-dir-${process.pid}/pool`), freshDir("proc"));
    expect(line).toMatch(/DATA_DIR \/proc\/no-such-dir-\d+\/pool is not a writable directory/);
  });

  it("calls a database this user cannot read or write a permission problem, names its owner, and keeps its bytes", async () => {
    const dir = freshDir("not-mine");
    const dataDir = join(dir, "data");
    await previousRun(dataDir, dir);
    // As root every file is writable: then the server runs as nobody on a pool root owns,
    // which is the finding itself (a pool.sqlite created by `sudo`).
    const asRoot = process.getuid?.() === 0;
    const nobody = { uid: 65_534, gid: 65_534 };
    if (asRoot) {
      chmodSync(work, 0o755);
      chmodSync(dir, 0o755);
      chownSync(dataDir, nobody.uid, nobody.gid);
      chmodSync(join(dataDir, "pool.sqlite"), 0o600);
    } else chmodSync(join(dataDir, "pool.sqlite"), 0o400);
    const before = contents(dataDir);
    const run = spawnNodeServer(baseEnv(dataDir), dir, asRoot ? nobody : undefined);
    expect(await run.exited, run.stderr()).toBe(2);
    const uid = asRoot ? nobody.uid : process.getuid?.();
    expect(run.stderr().trim()).toBe(
      `The database file ${join(dataDir, "pool.sqlite")} belongs to uid ${statSync(join(dataDir, "pool.sqlite")).uid} and this user (uid ${uid}) cannot read and write it: give it to this user (sudo chown ${uid} ${join(dataDir, "pool.sqlite")}*) or run the proxy as its owner; the data in it is fine.`,
    );
    expect(contents(dataDir)).toEqual(before);
  });

  it("says in one line which Node it needs when this Node has no node:sqlite, and creates nothing", () => {
    const dir = freshDir("no-sqlite");
    // Node 24 without its SQLite is what Node 20 or an early 22 is to the bundle.
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", ...baseEnv(join(dir, "data")) };
    const run = spawnSync(join("node_modules", ".bin", "node"), ["--no-experimental-sqlite", NODE_SERVER], {
      env: env as NodeJS.ProcessEnv,
      encoding: "utf8",
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toMatch(/^This proxy needs node:sqlite, built into Node 22\.13 and later; this Node \(v[\d.]+\) has none: install Node 24 LTS, or run the Docker image\.$/);
    expect(existsSync(join(dir, "data"))).toBe(false);
  });

  it("refuses a port in use", async () => {
    const dir = freshDir("port");
    const blocker: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, "127.0.0.1", () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const line = await refusal({ ...baseEnv(join(dir, "data")), PORT: String(port) }, dir);
      expect(line).toBe(`Port ${port} on 127.0.0.1 is already in use: stop whatever listens there, or set PORT to a free port.`);
    } finally {
      blocker.close();
    }
  });

  it("refuses to start without API_KEYS, and creates nothing", async () => {
    const dir = freshDir("no-keys");
    const line = await refusal(withoutVars(baseEnv(join(dir, "data")), "API_KEYS"), dir);
    expect(line).toMatch(/^API_KEYS is not set: set API_KEYS to your Gemini API keys/);
    expect(existsSync(join(dir, "data", "pool.sqlite"))).toBe(false);
  });

  it("refuses to start without API_KEYS when the pool it finds holds no runtime keys, and keeps the keys' state", async () => {
    const dir = freshDir("no-keys-again");
    const dataDir = join(dir, "data");
    await previousRun(dataDir, dir);
    const before = contents(dataDir);
    const line = await refusal({ ...baseEnv(dataDir), API_KEYS: " , " }, dir);
    expect(line).toMatch(/^API_KEYS is not set/);
    expect(contents(dataDir)).toEqual(before);
  });

  it("refuses a second server on the same DATA_DIR while the first runs", async () => {
    const dir = freshDir("twice");
    const dataDir = join(dir, "data");
    const first = await startNodeServer(baseEnv(dataDir), dir);
    try {
      const line = await refusal(baseEnv(dataDir), dir);
      expect(line).toMatch(/pool\.sqlite is in use by another process/);
      const health = await fetch(`${first.origin}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      expect(await first.stop()).toBe(0);
    }
  });
});
