// Reads the Durable Object's SQLite file that `wrangler dev` keeps under its persist
// directory, from outside (read-only), to see how many rows the proxy's storage holds.
// Growth per request beyond the usage counters' upserts would show up here.

import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

const TABLES = ["keys", "marks", "usage_daily", "usage_hourly", "schema_meta"] as const;

export type RowCounts = Record<(typeof TABLES)[number], number> & { total: number; bytes: number };

async function objectDatabase(persistTo: string): Promise<string> {
  const root = join(persistTo, "v3", "do");
  for (const dir of await readdir(root)) {
    if (!dir.endsWith("-ApiKeyManager")) continue;
    const file = (await readdir(join(root, dir))).find((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite");
    if (file !== undefined) return join(root, dir, file);
  }
  throw new Error(`no ApiKeyManager database under ${root}`);
}

export async function countRows(persistTo: string): Promise<RowCounts> {
  const db = new DatabaseSync(await objectDatabase(persistTo), { readOnly: true });
  try {
    const counts = { total: 0, bytes: 0 } as RowCounts;
    for (const table of TABLES) {
      const row = db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number } | undefined;
      counts[table] = row?.n ?? 0;
      counts.total += counts[table];
    }
    const pages = db.prepare("SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()").get() as
      | { bytes: number }
      | undefined;
    counts.bytes = pages?.bytes ?? 0;
    return counts;
  } finally {
    db.close();
  }
}
