import type { SqlRunner } from "../core/key-store/sql";
import type { ResetLedger } from "./daily-reset";

// The Node server's last daily reset, in the pool's own file: a row beside the schema
// version (schema_meta is name → integer), so no migration. The Worker never reads it: its
// cron runs on Cloudflare, not in a process that may be down at 07:00 UTC.

const NAME = "last_daily_reset";

export function sqliteResetLedger(sql: SqlRunner): ResetLedger {
  return {
    last: () => sql<{ value: number }>("SELECT value FROM schema_meta WHERE name = ?", NAME)[0]?.value,
    record: (at) => {
      sql("INSERT INTO schema_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", NAME, at);
    },
  };
}
