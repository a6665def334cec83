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
  [
    // Keys added at runtime (issue 10): where a key comes from, who disabled it, its last
    // verification and when it last served.
    "ALTER TABLE keys ADD COLUMN source TEXT NOT NULL DEFAULT 'env'",
    "ALTER TABLE keys ADD COLUMN added_at INTEGER",
    "ALTER TABLE keys ADD COLUMN disabled_by TEXT",
    "UPDATE keys SET disabled_by = 'google' WHERE disabled_reason IS NOT NULL",
    "ALTER TABLE keys ADD COLUMN verified_outcome TEXT",
    "ALTER TABLE keys ADD COLUMN verified_at INTEGER",
    "ALTER TABLE keys ADD COLUMN verified_message TEXT",
    "ALTER TABLE keys ADD COLUMN last_used_at INTEGER",
    // Apart from `keys`, so no query that feeds a page can select a secret by accident.
    `CREATE TABLE runtime_secrets (
       key_id TEXT PRIMARY KEY,
       secret TEXT NOT NULL
     )`,
    // Masked form and position are copied in: an event outlives a deleted key.
    `CREATE TABLE events (
       id INTEGER PRIMARY KEY,
       at INTEGER NOT NULL,
       key_id TEXT,
       masked TEXT,
       position INTEGER,
       model TEXT,
       status INTEGER,
       kind TEXT NOT NULL,
       message TEXT,
       role TEXT
     )`,
    "CREATE INDEX events_by_key ON events (key_id, id)",
    `CREATE TABLE verify_jobs (
       id TEXT PRIMARY KEY,
       started_at INTEGER NOT NULL,
       finished_at INTEGER,
       role TEXT
     )`,
    `CREATE TABLE verify_items (
       job_id TEXT NOT NULL,
       seq INTEGER NOT NULL,
       key_id TEXT NOT NULL,
       outcome TEXT,
       message TEXT,
       at INTEGER,
       PRIMARY KEY (job_id, seq)
     )`,
  ],
  [
    // Keys of one Google Cloud project share its quota: `group:key` in API_KEYS. NULL: a group of one.
    "ALTER TABLE keys ADD COLUMN grp TEXT",
    // Quota limits per group (scope), model and window ('rpm', 'rpd', 'tpm'), learned from
    // Google's 429s; window_ms is the minute window's length as Google's retryDelay showed it.
    `CREATE TABLE limits (
       scope TEXT NOT NULL,
       model TEXT NOT NULL,
       window TEXT NOT NULL,
       value INTEGER NOT NULL,
       source TEXT NOT NULL,
       at INTEGER NOT NULL,
       window_ms INTEGER,
       PRIMARY KEY (scope, model, window, source)
     )`,
  ],
  [
    // A key whose first check could not reach Google is checked again sooner than the
    // daily reset, with backoff: when next, and how many such checks it has had.
    "ALTER TABLE keys ADD COLUMN recheck_at INTEGER",
    "ALTER TABLE keys ADD COLUMN recheck_attempts INTEGER NOT NULL DEFAULT 0",
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
