import type { Role } from "../admin-model";
import type { SqlRunner } from "../key-store/sql";

// Server-side state of the /stat login: sessions (so logging out ends one for good) and
// failed logins per client address (so guessing a token is slow). Kept in the key
// manager's SQLite, next to the key state, and bounded like every table there.

/** What a session is: which token signed it in (a hash), what it may do, until when. */
export interface StatSession {
  tokenHash: string;
  /** The role the token granted at login (stats/access.ts): "admin" may change the pool. */
  role: Role;
  expiresAt: number;
}

/** The key manager's session calls, as the /stat routes use them (over RPC on Workers). */
export interface StatSessions {
  /** Stores a new session; an admin session also forgets the client's failed logins. */
  startStatSession(idHash: string, session: StatSession, client: string): Promise<void>;
  statSession(idHash: string): Promise<StatSession | null>;
  endStatSession(idHash: string): Promise<void>;
  /** How long the client must wait before trying again (ms), or 0. */
  loginWait(client: string): Promise<number>;
  /** Counts a failed login; returns the wait it now imposes (ms), or 0. */
  loginFailed(client: string): Promise<number>;
}

export const SESSION_LIFETIME_MS = 7 * 24 * 3_600_000;
/** Failed logins one client may make per window before it must wait for the window to end. */
export const MAX_FAILED_LOGINS = 10;
export const LOGIN_WINDOW_MS = 15 * 60_000;
/** Beyond these the oldest rows go: the tables stay small whatever clients do. */
const MAX_SESSIONS = 1_000;
/**
 * Sessions one token may hold; its oldest go first. Far below MAX_SESSIONS, so signing in
 * again and again with one token (a viewer's, say) only ends that token's own sessions,
 * never another token's: the global bound is reached only with more than 50 tokens.
 */
export const MAX_SESSIONS_PER_TOKEN = 20;
const MAX_LOGIN_CLIENTS = 10_000;
const MAX_FIELD_LENGTH = 200;

export class SessionStore {
  readonly #sql: SqlRunner;

  /** `sql` must already be migrated (KeyStore does it). */
  constructor(sql: SqlRunner) {
    this.#sql = sql;
  }

  start(idHash: string, session: StatSession, client: string, now: number): void {
    if ([idHash, session.tokenHash, session.role].some((text) => text.length > MAX_FIELD_LENGTH)) return;
    this.#sql("DELETE FROM stat_sessions WHERE expires_at <= ?", now);
    this.#sql(
      "INSERT OR REPLACE INTO stat_sessions (id_hash, token_hash, role, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
      idHash,
      session.tokenHash,
      session.role,
      now,
      Math.min(session.expiresAt, now + SESSION_LIFETIME_MS),
    );
    this.#sql(
      `DELETE FROM stat_sessions WHERE token_hash = ? AND id_hash IN
         (SELECT id_hash FROM stat_sessions WHERE token_hash = ? ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?)`,
      session.tokenHash,
      session.tokenHash,
      MAX_SESSIONS_PER_TOKEN,
    );
    this.#trim("stat_sessions", "created_at", MAX_SESSIONS);
    // Only the strongest role clears the count: with a viewer's token one could otherwise
    // guess the admin token forever, signing in as viewer between guesses to start over.
    if (session.role === "admin") this.#sql("DELETE FROM login_failures WHERE client = ?", client);
  }

  find(idHash: string, now: number): StatSession | null {
    const row = this.#sql<{ token_hash: string; role: string; expires_at: number }>(
      "SELECT token_hash, role, expires_at FROM stat_sessions WHERE id_hash = ? AND expires_at > ?",
      idHash,
      now,
    )[0];
    return row === undefined ? null : { tokenHash: row.token_hash, role: row.role === "admin" ? "admin" : "viewer", expiresAt: row.expires_at };
  }

  end(idHash: string): void {
    this.#sql("DELETE FROM stat_sessions WHERE id_hash = ?", idHash);
  }

  loginWait(client: string, now: number): number {
    const row = this.#sql<{ failures: number; window_start: number }>(
      "SELECT failures, window_start FROM login_failures WHERE client = ?",
      client,
    )[0];
    if (row === undefined || row.failures < MAX_FAILED_LOGINS) return 0;
    return Math.max(0, row.window_start + LOGIN_WINDOW_MS - now);
  }

  loginFailed(client: string, now: number): number {
    if (client.length > MAX_FIELD_LENGTH) client = client.slice(0, MAX_FIELD_LENGTH);
    // A window that has ended starts over; otherwise the failure adds to it.
    this.#sql(
      `INSERT INTO login_failures (client, failures, window_start) VALUES (?, 1, ?)
       ON CONFLICT (client) DO UPDATE SET
         failures = CASE WHEN window_start <= ? THEN 1 ELSE failures + 1 END,
         window_start = CASE WHEN window_start <= ? THEN excluded.window_start ELSE window_start END`,
      client,
      now,
      now - LOGIN_WINDOW_MS,
      now - LOGIN_WINDOW_MS,
    );
    this.#sql("DELETE FROM login_failures WHERE window_start <= ?", now - LOGIN_WINDOW_MS);
    this.#trim("login_failures", "window_start", MAX_LOGIN_CLIENTS);
    return this.loginWait(client, now);
  }

  #trim(table: "stat_sessions" | "login_failures", age: "created_at" | "window_start", max: number): void {
    const key = table === "stat_sessions" ? "id_hash" : "client";
    this.#sql(
      `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} ORDER BY ${age} LIMIT max(0, (SELECT COUNT(*) FROM ${table}) - ?))`,
      max,
    );
  }
}
