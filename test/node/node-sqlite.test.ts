import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { ringOf } from "../../src/core/key-ring.ts";
import { migrate, SCHEMA_VERSION } from "../../src/core/key-store/migrations.ts";
import { PoolManager } from "../../src/core/pool-manager.ts";
import { openDatabase } from "../../src/node/open-database.ts";
import { sqliteResetLedger } from "../../src/node/reset-ledger.ts";
import { sqliteRunner, sqliteTransaction } from "../../src/node/sql-runner.ts";
import { poolKeys } from "../setup/test-keys.ts";

// The key store's storage on Node: node:sqlite behind the same SqlRunner the Durable
// Object's storage fits, the shared migrations on it, and the pool manager over a file
// that outlives the process.

const dirs: string[] = [];
const open: DatabaseSync[] = [];

afterEach(() => {
  for (const db of open.splice(0)) if (db.isOpen) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function memory(): DatabaseSync {
  const db = new DatabaseSync(":memory:");
  open.push(db);
  return db;
}

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "node-sqlite-"));
  dirs.push(dir);
  return dir;
}

describe("the node:sqlite SqlRunner", () => {
  it("returns rows with their column names and numbers as numbers, binding values in order", () => {
    const sql = sqliteRunner(memory());
    sql("CREATE TABLE t (name TEXT, n INTEGER, gone TEXT)");
    sql("INSERT INTO t VALUES (?, ?, ?)", "a", 1, null);
    sql("INSERT INTO t VALUES (?, ?, ?)", "b", 2, "x");
    expect(sql("SELECT name, n, gone FROM t ORDER BY n")).toEqual([
      { name: "a", n: 1, gone: null },
      { name: "b", n: 2, gone: "x" },
    ]);
    expect(sql<{ n: number }>("SELECT n FROM t WHERE name = ?", "b")[0]!.n).toBe(2);
    expect(sql("INSERT INTO t VALUES ('c', 3, NULL) RETURNING n")).toEqual([{ n: 3 }]);
  });

  it("runs every statement of a string, as the Durable Object's sql.exec does, where prepare() would drop all but the first", () => {
    const db = memory();
    const sql = sqliteRunner(db);
    sql("CREATE TABLE a (x); CREATE TABLE b (y);\n INSERT INTO b VALUES (7)");
    expect(sql("SELECT y FROM b")).toEqual([{ y: 7 }]);
    expect(() => sql("INSERT INTO a VALUES (?); INSERT INTO a VALUES (?)", 1, 2)).toThrow(/one statement at a time/);
    expect(sql("SELECT COUNT(*) AS n FROM a")).toEqual([{ n: 0 }]);
  });

  it("commits a transaction's writes together, and rolls all of them back when it throws", () => {
    const db = memory();
    const sql = sqliteRunner(db);
    const transaction = sqliteTransaction(db);
    sql("CREATE TABLE t (x INTEGER)");
    transaction(() => {
      sql("INSERT INTO t VALUES (1)");
      transaction(() => sql("INSERT INTO t VALUES (2)"));
    });
    expect(() =>
      transaction(() => {
        sql("INSERT INTO t VALUES (3)");
        throw new Error("half-way");
      }),
    ).toThrow("half-way");
    expect(sql("SELECT x FROM t ORDER BY x")).toEqual([{ x: 1 }, { x: 2 }]);
    expect(db.isTransaction).toBe(false);
  });
});

describe("the migrations on node:sqlite", () => {
  it("bring an empty database to the current schema once; a second run finds it current", () => {
    const sql = sqliteRunner(memory());
    expect(migrate(sql)).toBe(0);
    expect(sql("SELECT value FROM schema_meta WHERE name = 'version'")).toEqual([{ value: SCHEMA_VERSION }]);
    const tables = sql<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map((row) => row.name);
    expect(tables).toEqual(expect.arrayContaining(["keys", "marks", "usage_daily", "resources", "stat_sessions", "runtime_secrets", "events", "limits"]));
    expect(migrate(sql)).toBe(SCHEMA_VERSION);
  });
});

describe("the daily reset's ledger", () => {
  it("is empty in a new pool, keeps the last reset across a reopen, and leaves the schema version alone", () => {
    const dir = dataDir();
    const first = openDatabase(dir).db;
    let sql = sqliteRunner(first);
    migrate(sql);
    expect(sqliteResetLedger(sql).last()).toBeUndefined();
    sqliteResetLedger(sql).record(1_000);
    sqliteResetLedger(sql).record(2_000);
    first.close();
    const again = openDatabase(dir).db;
    open.push(again);
    sql = sqliteRunner(again);
    expect(sqliteResetLedger(sql).last()).toBe(2_000);
    expect(migrate(sql)).toBe(SCHEMA_VERSION);
  });
});

describe("the pool manager over a node:sqlite file", () => {
  const config = { geminiBase: "http://127.0.0.1:9", defaultVersion: "v1beta" };
  const manager = (db: DatabaseSync, keys: readonly string[]) =>
    new PoolManager({
      sql: sqliteRunner(db),
      transaction: sqliteTransaction(db),
      envRing: ringOf(keys.map((secret, i) => ({ id: `k${i}`, secret, masked: `…${i}`, position: i + 1 }))),
      config,
      wake: async () => undefined,
    });

  it("keeps usage, marks and sessions across a reopen of the file", async () => {
    const dir = dataDir();
    const first = openDatabase(dir);
    const pool = manager(first.db, poolKeys.slice(0, 2));
    const now = Date.now();
    await pool.recordUsage([{ keyId: "k0", model: "gemini-x", promptTokens: 5, outputTokens: 7, at: now }], null);
    await pool.recordFailure({ keyId: "k1", model: "gemini-x", fault: { kind: "quota-day", reason: "per day" } }, null);
    await pool.startStatSession("hash", { tokenHash: "t", role: "admin", expiresAt: now + 60_000 }, "client");
    first.db.close();

    const second = openDatabase(dir);
    open.push(second.db);
    expect(second.existed).toBe(true);
    const again = manager(second.db, poolKeys.slice(0, 2));
    const snapshot = await again.snapshot();
    const byId = Object.fromEntries(snapshot.keys.map((key) => [key.position, key]));
    expect(byId[1]!.models["gemini-x"]).toMatchObject({ requests: 1, promptTokens: 5, outputTokens: 7 });
    expect(byId[2]!.models["gemini-x"]).toMatchObject({ state: "exhausted", reason: "per day" });
    expect(await again.statSession("hash")).toMatchObject({ role: "admin" });
  });
});
