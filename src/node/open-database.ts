import { accessSync, chmodSync, constants, existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { SCHEMA_VERSION } from "../core/key-store/migrations";
import { sqliteModule } from "./sqlite-module";
import { reasonOf, StartupFault } from "./startup-fault";

// The pool's SQLite file under DATA_DIR. Every check that can refuse to start runs before
// the first write, so a database this build must not touch (damaged, or from a newer
// version) is left exactly as it was found.

export const DATABASE_FILE = "pool.sqlite";

export interface OpenedDatabase {
  db: DatabaseSync;
  path: string;
  /** False when this start created the file. */
  existed: boolean;
}

/**
 * mkdir -p one level at a time: Node's recursive mkdir never returns under /proc. Created
 * for this user alone (0700): the directory will hold pool keys added at runtime.
 */
function makeDirs(dir: string): void {
  const parent = dirname(dir);
  if (parent !== dir && !existsSync(parent)) makeDirs(parent);
  mkdirSync(dir, { mode: 0o700 });
}

function ensureWritableDir(dir: string): void {
  try {
    if (!existsSync(dir)) makeDirs(dir);
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new StartupFault(
      `DATA_DIR ${dir} is not a writable directory (${reasonOf(error)}): create it or point DATA_DIR at one this user (uid ${process.getuid?.() ?? "?"}) may write to.`,
    );
  }
}

/** The database and the files SQLite keeps beside it. */
const databaseFiles = (path: string): string[] => [path, `${path}-wal`, `${path}-shm`];

/**
 * A file this user may not read and write is a permission problem, not damage: SQLite would
 * call it "disk I/O error", and "damaged" advice leads people to throw a healthy pool away.
 */
function checkAccess(path: string): void {
  for (const file of databaseFiles(path)) {
    if (!existsSync(file)) continue;
    try {
      accessSync(file, constants.R_OK | constants.W_OK);
    } catch {
      const uid = process.getuid?.() ?? "?";
      throw new StartupFault(
        `The database file ${file} belongs to uid ${statSync(file).uid} and this user (uid ${uid}) cannot read and write it: give it to this user (sudo chown ${uid} ${path}*) or run the proxy as its owner; the data in it is fine.`,
      );
    }
  }
}

/**
 * The pool's files hold runtime keys in plain text: readable by this user alone, whatever
 * an older version or a copy left. Only the mode bits change, never a byte of the content.
 */
function restrictToOwner(path: string): void {
  for (const file of databaseFiles(path)) {
    if (!existsSync(file)) continue;
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) === 0) continue;
    try {
      chmodSync(file, mode & 0o700);
    } catch (error) {
      // Shared with this user through its group: not ours to change, but worth saying.
      console.warn(`${file} is readable by other users and cannot be restricted (${reasonOf(error)}): chmod 600 it as its owner.`);
    }
  }
}

/** The schema version a database was left at; 0 for a new, empty file. Reads only. */
function storedVersion(db: DatabaseSync): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_meta'").get();
  if (table === undefined) return 0;
  const row = db.prepare("SELECT value FROM schema_meta WHERE name = 'version'").get() as { value?: unknown } | undefined;
  return typeof row?.value === "number" ? row.value : 0;
}

/** Problems SQLite can see without reading every row; the tables are small, so this costs milliseconds. */
function checkIntact(db: DatabaseSync): void {
  const problems = (db.prepare("PRAGMA quick_check").all() as { quick_check: string }[]).map((row) => row.quick_check);
  if (problems.length !== 1 || problems[0] !== "ok") throw new Error(problems.slice(0, 3).join("; "));
}

/** SQLITE_BUSY: another process holds the file. */
function isLocked(error: unknown): boolean {
  return error instanceof Error && /database is locked|SQLITE_BUSY/i.test(error.message);
}

function lockedFault(path: string): StartupFault {
  return new StartupFault(`The database ${path} is in use by another process (another proxy on the same DATA_DIR?): stop it, or give this one its own DATA_DIR.`);
}

export function openDatabase(dataDir: string): OpenedDatabase {
  const { DatabaseSync } = sqliteModule();
  const dir = resolve(dataDir);
  ensureWritableDir(dir);
  const path = join(dir, DATABASE_FILE);
  const existed = existsSync(path);
  checkAccess(path);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw new StartupFault(`Cannot open the database ${path} (${reasonOf(error)}): check its permissions, or move it aside to start with an empty pool.`);
  }
  try {
    // The process is the pool's single source of truth: it keeps the file locked while it
    // runs, so a second server on the same DATA_DIR fails here instead of forking the state.
    // (Set before the first read, so WAL needs no shared memory either.)
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    let version: number;
    try {
      version = storedVersion(db);
      checkIntact(db);
    } catch (error) {
      if (isLocked(error)) throw lockedFault(path);
      throw new StartupFault(
        `The database ${path} is damaged or not a database (${reasonOf(error)}): restore it from a backup, or move it aside to start with an empty pool.`,
      );
    }
    if (version > SCHEMA_VERSION) {
      throw new StartupFault(
        `The database ${path} has schema version ${version}, newer than this build knows (${SCHEMA_VERSION}): run the newer version of the proxy that wrote it.`,
      );
    }
    // WAL: a commit is one append. NORMAL syncs at checkpoints: a crash of the process
    // loses nothing committed, a power cut at most the commits since the last sync.
    try {
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = NORMAL");
      // Takes the write lock now, and keeps it, rather than at the first request.
      db.exec("BEGIN IMMEDIATE; COMMIT");
    } catch (error) {
      throw isLocked(error) ? lockedFault(path) : error;
    }
    restrictToOwner(path);
  } catch (error) {
    db.close();
    throw error;
  }
  return { db, path, existed };
}
