import type { EventInput, EventKind, EventPage, EventQuery, PoolEvent, Role } from "../admin-model";
import { storedText } from "../stored-text";
import type { SqlRunner } from "./sql";

// The pool's recent history: quota marks, disables, verifications, admin actions and
// upstream failures per key. Bounded: only the newest MAX_EVENTS traffic events and
// MAX_ADMIN_EVENTS admin actions are kept, however many happen, so a storm of 5xx cannot
// grow storage, nor push an operator's actions out of the log.

/** Traffic events (marks, 5xx, timeouts, verifications, resets): issue 10 asks for at least the last 1,000. */
export const MAX_EVENTS = 5_000;
/** Admin actions (the events with a role), kept apart so that traffic cannot push them out. */
export const MAX_ADMIN_EVENTS = 1_000;
/** Pruning runs once per this many inserts: each class may overshoot its cap by this much. */
const PRUNE_EVERY = 64;

interface EventRow extends Record<string, string | number | null> {
  id: number;
  at: number;
  key_id: string | null;
  masked: string | null;
  position: number | null;
  model: string | null;
  status: number | null;
  kind: EventKind;
  message: string | null;
  role: Role | null;
}

export function eventFromRow(row: EventRow): PoolEvent {
  return {
    id: String(row.id),
    at: new Date(row.at).toISOString(),
    ...(row.key_id !== null && { keyId: row.key_id }),
    ...(row.masked !== null && { masked: row.masked }),
    ...(row.position !== null && { position: row.position }),
    ...(row.model !== null && { model: row.model }),
    ...(row.status !== null && { status: row.status }),
    kind: row.kind,
    ...(row.message !== null && { message: row.message }),
    ...(row.role !== null && { role: row.role }),
  };
}

const COLUMNS = "id, at, key_id, masked, position, model, status, kind, message, role";

export class EventLog {
  readonly #sql: SqlRunner;
  #redact: (text: string) => string = (text) => text;

  constructor(sql: SqlRunner) {
    this.#sql = sql;
  }

  /**
   * Masks every stored text with `redact`: the Durable Object's full ring, which knows
   * every key (runtime ones included), where a worker's ring learns a runtime key only
   * when a request uses it, and a stored text stays for good.
   */
  redactWith(redact: (text: string) => string): void {
    this.#redact = redact;
  }

  /** A text as it may be stored: keys masked, length capped. */
  stored(text: string): string {
    return storedText(this.#redact(text));
  }

  record(event: EventInput, now: number): void {
    const key =
      event.keyId === undefined
        ? undefined
        : this.#sql<{ masked: string; position: number }>("SELECT masked, position FROM keys WHERE id = ?", event.keyId)[0];
    const [inserted] = this.#sql<{ id: number }>(
      `INSERT INTO events (at, key_id, masked, position, model, status, kind, message, role)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      now,
      event.keyId ?? null,
      key?.masked ?? null,
      key?.position ?? null,
      event.model ?? null,
      event.status ?? null,
      event.kind,
      event.message === undefined ? null : this.stored(event.message),
      event.role ?? null,
    );
    if (inserted !== undefined && inserted.id % PRUNE_EVERY === 0) this.#prune();
  }

  /** Drops what is past each class's cap: one scan per class, once per PRUNE_EVERY inserts. */
  #prune(): void {
    for (const [admin, cap] of [
      ["role IS NOT NULL", MAX_ADMIN_EVENTS],
      ["role IS NULL", MAX_EVENTS],
    ] as const) {
      this.#sql(
        `DELETE FROM events WHERE ${admin} AND id <= (SELECT id FROM events WHERE ${admin} ORDER BY id DESC LIMIT 1 OFFSET ?)`,
        cap,
      );
    }
  }

  /** Newest first. */
  page(query: EventQuery): EventPage {
    const where: string[] = [];
    const bindings: (string | number)[] = [];
    const before = Number(query.before);
    if (query.before !== undefined && Number.isInteger(before)) {
      where.push("id < ?");
      bindings.push(before);
    }
    const equal: [string, string | number | undefined][] = [
      ["key_id", query.keyId],
      ["position", query.position],
      ["masked", query.masked],
      ["model", query.model],
      ["kind", query.kind],
    ];
    for (const [column, value] of equal) {
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      bindings.push(value);
    }
    const rows = this.#sql<EventRow>(
      `SELECT ${COLUMNS} FROM events ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`,
      ...bindings,
      query.limit + 1,
    );
    const events = rows.slice(0, query.limit).map(eventFromRow);
    const last = events.at(-1);
    return rows.length > query.limit && last !== undefined ? { events, next: last.id } : { events };
  }

  /** Each key's newest event, for the key table's "last event" column. */
  latestPerKey(): Map<string, PoolEvent> {
    const rows = this.#sql<EventRow>(
      `SELECT ${COLUMNS} FROM events WHERE id IN (SELECT MAX(id) FROM events WHERE key_id IS NOT NULL GROUP BY key_id)`,
    );
    return new Map(rows.map((row) => [row.key_id ?? "", eventFromRow(row)]));
  }
}
