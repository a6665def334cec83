import type { SqlRunner } from "./sql";

// Append-only: each entry upgrades the schema by one version and never changes once
// released. Statements are single so that any SQLite driver can run them.
const MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE keys (
       id TEXT PRIMARY KEY,
       position INTEGER NOT NULL,
       masked TEXT NOT NULL,
       disabled_reason TEXT,
       disabled_at INTEGER
     )`,
    // A key's state for one model: 'exhausted' (per-day quota) or 'cooling' (per-minute).
    `CREATE TABLE marks (
       key_id TEXT NOT NULL,
       model TEXT NOT NULL,
       kind TEXT NOT NULL,
       until INTEGER NOT NULL,
       reason TEXT NOT NULL,
       strikes INTEGER NOT NULL DEFAULT 1,
       marked_at INTEGER NOT NULL,
       PRIMARY KEY (key_id, model)
     )`,
    `CREATE TABLE usage_daily (
       day TEXT NOT NULL,
       key_id TEXT NOT NULL,
       model TEXT NOT NULL,
       requests INTEGER NOT NULL,
       prompt_tokens INTEGER NOT NULL,
       output_tokens INTEGER NOT NULL,
       PRIMARY KEY (day, key_id, model)
     )`,
    `CREATE TABLE usage_hourly (
       hour INTEGER NOT NULL,
       model TEXT NOT NULL,
       requests INTEGER NOT NULL,
       prompt_tokens INTEGER NOT NULL,
       output_tokens INTEGER NOT NULL,
       PRIMARY KEY (hour, model)
     )`,
  ],
  [
    // Files, caches and batches live in the Google project of the key that created them.
    `CREATE TABLE resources (
       name TEXT PRIMARY KEY,
       key_id TEXT NOT NULL,
       expires_at INTEGER NOT NULL
     )`,
    "CREATE INDEX resources_by_expiry ON resources (expires_at)",
  ],
  [
    // 1 when the owner was learned from a successful use, not from Google's answer to a
    // creation through the proxy: such a pin gives way to the owner search on a 403.
    "ALTER TABLE resources ADD COLUMN inferred INTEGER NOT NULL DEFAULT 0",
    // /stat login sessions, by SHA-256 of the cookie's random id; `token_hash` says which
    // token signed in (a session ends when its token leaves the configuration), `role` what it may do.
    `CREATE TABLE stat_sessions (
       id_hash TEXT PRIMARY KEY,
       token_hash TEXT NOT NULL,
       role TEXT NOT NULL DEFAULT 'viewer',
       created_at INTEGER NOT NULL,
       expires_at INTEGER NOT NULL
     )`,
    "CREATE INDEX stat_sessions_by_expiry ON stat_sessions (expires_at)",
    // Failed /stat logins per client address within the current window.
    `CREATE TABLE login_failures (
       client TEXT PRIMARY KEY,
       failures INTEGER NOT NULL,
       window_start INTEGER NOT NULL
     )`,
    "CREATE INDEX login_failures_by_window ON login_failures (window_start)",
  ],
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the schema up to date; returns the version it found. Cheap when already current. */
export function migrate(sql: SqlRunner): number {
  sql("CREATE TABLE IF NOT EXISTS schema_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
  const found = sql<{ value: number }>("SELECT value FROM schema_meta WHERE name = 'version'")[0]?.value ?? 0;
  for (let version = found; version < MIGRATIONS.length; version++) {
    for (const statement of MIGRATIONS[version] ?? []) sql(statement);
  }
  if (found < MIGRATIONS.length) {
    sql(
      "INSERT INTO schema_meta (name, value) VALUES ('version', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      MIGRATIONS.length,
    );
  }
  return found;
}
