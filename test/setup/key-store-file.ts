import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { RunningProxy } from "./start-proxy.ts";

// Where a proxy keeps its key store on disk, for tests that write a busy day's state into
// a *stopped* proxy (the same KeyStore code over node:sqlite) and start it again on it.

export type StoppedProxy = Pick<RunningProxy, "runtime" | "persistTo">;

/** `wrangler dev --persist-to DIR`: one database per Durable Object, named by its id hash (miniflare's layout). */
async function durableObjectDatabase(persistTo: string): Promise<string> {
  const root = join(persistTo, "v3", "do");
  for (const namespace of await readdir(root)) {
    if (!namespace.endsWith("ApiKeyManager")) continue;
    // Next to miniflare's metadata.sqlite.
    const files = (await readdir(join(root, namespace))).filter((file) => /^[0-9a-f]{64}\.sqlite$/.test(file));
    if (files.length === 1) return join(root, namespace, files[0]!);
  }
  throw new Error(`no single ApiKeyManager database under ${root}: ${(await readdir(root, { recursive: true })).join(", ")}`);
}

/** The Node server: its one SQLite database in DATA_DIR (beside its -wal and -shm files while open). */
async function nodeServerDatabase(dataDir: string): Promise<string> {
  const files = (await readdir(dataDir)).filter((file) => /\.(sqlite3?|db)$/.test(file));
  if (files.length === 1) return join(dataDir, files[0]!);
  throw new Error(`no single SQLite database in ${dataDir}: ${(await readdir(dataDir)).join(", ")}`);
}

export function keyStoreFile(stopped: StoppedProxy): Promise<string> {
  return stopped.runtime === "node" ? nodeServerDatabase(stopped.persistTo) : durableObjectDatabase(stopped.persistTo);
}
