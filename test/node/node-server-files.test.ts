import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNodeServer, startNodeServer } from "../setup/node-process.ts";
import { poolKeys, proxyToken } from "../setup/test-keys.ts";

// The pool's files hold runtime keys in plain text: no other user of the machine (or of
// the host, through a bind mount) may read them, whatever umask the server was started with.

let work: string;

beforeAll(() => {
  buildNodeServer();
  work = mkdtempSync(join(tmpdir(), "node-files-"));
  // What the test runner's shell usually has, and what let other users read the pool.
  chmodSync(work, 0o755);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const envFor = (dataDir: string): Record<string, string> => ({ API_KEYS: poolKeys.slice(0, 2).join(","), PROXY_API_KEY: proxyToken, DATA_DIR: dataDir, LOG_REQUESTS: "false" });

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

/** Mode of every file the server keeps in `dataDir`. */
const fileModes = (dataDir: string): Record<string, string> =>
  Object.fromEntries(readdirSync(dataDir).map((name) => [name, modeOf(join(dataDir, name))]));

describe("the Node server's files", () => {
  it("are created for its user alone: DATA_DIR 700, the database and its journal 600", async () => {
    const dataDir = join(work, "fresh", "nested", "data");
    const server = await startNodeServer(envFor(dataDir), work);
    try {
      expect(modeOf(dataDir)).toBe("700");
      expect(existsSync(join(dataDir, "pool.sqlite-wal"))).toBe(true);
      expect(fileModes(dataDir)).toEqual(Object.fromEntries(readdirSync(dataDir).map((name) => [name, "600"])));
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it("are restricted to its user when an earlier run or a copy left them readable by others", async () => {
    const dataDir = join(work, "older");
    const first = await startNodeServer(envFor(dataDir), work);
    // Left as an earlier version left them, with its journal, as after a kill -9.
    for (const name of readdirSync(dataDir)) chmodSync(join(dataDir, name), 0o644);
    first.child.kill("SIGKILL");
    await first.exited;
    chmodSync(dataDir, 0o755);
    expect(Object.values(fileModes(dataDir))).toContain("644");

    const server = await startNodeServer(envFor(dataDir), work);
    try {
      expect(Object.keys(fileModes(dataDir))).toContain("pool.sqlite-wal");
      expect(Object.values(fileModes(dataDir)).every((mode) => mode === "600")).toBe(true);
      // An existing directory is the operator's: only the files in it change.
      expect(modeOf(dataDir)).toBe("755");
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
