import type { SqlRunner } from "./sql";

// What choosing a key needs — which keys are enabled, in pool order, and until when each
// is marked for a model — mirrored in memory. The Durable Object serves every request's
// key choice, so that choice reads no storage; the key store writes through to SQLite
// first and updates this mirror after, and reloads it after bulk changes.

export interface Candidate {
  id: string;
  position: number;
  /** When the key's mark for the model ends; null when it is not marked. */
  until: number | null;
}

interface KeyState {
  id: string;
  position: number;
  disabled: boolean;
}

export class PoolState {
  readonly #sql: SqlRunner;
  /** Every stored key, in pool order. */
  #keys: KeyState[] = [];
  /** model → key id → mark end. Ended marks are dropped as they are met. */
  #marks = new Map<string, Map<string, number>>();

  constructor(sql: SqlRunner) {
    this.#sql = sql;
    this.reload();
  }

  /** Reads the state back from storage, after changes made with SQL in bulk. */
  reload(): void {
    this.#keys = this.#sql<{ id: string; position: number; disabled: number }>(
      "SELECT id, position, disabled_reason IS NOT NULL AS disabled FROM keys ORDER BY position",
    ).map((row) => ({ id: row.id, position: row.position, disabled: row.disabled === 1 }));
    this.#marks = new Map();
    for (const row of this.#sql<{ key_id: string; model: string; until: number }>("SELECT key_id, model, until FROM marks")) {
      this.mark(row.key_id, row.model, row.until);
    }
  }

  get keyCount(): number {
    return this.#keys.length;
  }

  /** The ids of the enabled keys, in pool order. */
  enabledKeys(): string[] {
    return this.#keys.filter((key) => !key.disabled).map((key) => key.id);
  }

  /** The enabled keys in pool order, each with its mark for `model` if one is still running. */
  candidates(model: string | null, now: number): Candidate[] {
    const marks = model === null ? undefined : this.#marks.get(model);
    const candidates: Candidate[] = [];
    for (const key of this.#keys) {
      if (key.disabled) continue;
      let until = marks?.get(key.id) ?? null;
      if (until !== null && until <= now) {
        marks?.delete(key.id);
        until = null;
      }
      candidates.push({ id: key.id, position: key.position, until });
    }
    if (marks !== undefined && model !== null && marks.size === 0) this.#marks.delete(model);
    return candidates;
  }

  mark(keyId: string, model: string, until: number): void {
    let marks = this.#marks.get(model);
    if (marks === undefined) {
      marks = new Map();
      this.#marks.set(model, marks);
    }
    marks.set(keyId, until);
  }

  disable(keyId: string): void {
    const key = this.#keys.find((candidate) => candidate.id === keyId);
    if (key !== undefined) key.disabled = true;
  }
}
