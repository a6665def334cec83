// What choosing a key needs — which keys are enabled, in pool order, and until when each
// is marked for a model — held in memory. The Durable Object keeps one, written through
// from its SQLite storage; every warm isolate keeps a copy of it (the pool view) and
// chooses keys from that copy without asking the object.

export interface Candidate {
  id: string;
  position: number;
  /** When the key's mark for the model ends; null when it is not marked. */
  until: number | null;
}

export interface ViewKey {
  id: string;
  position: number;
  disabled: boolean;
  /** The quota scope: the key's project group, or the key alone (see quotaScope). */
  scope: string;
}

/** Keys of one group share one quota; a key listed without a group is a group of its own. */
export function quotaScope(keyId: string, group: string | null | undefined): string {
  return group === null || group === undefined ? `key:${keyId}` : `group:${group}`;
}

export interface ViewMark {
  keyId: string;
  model: string;
  until: number;
}

export class PoolState {
  /** Every known key, in pool order. */
  #keys: ViewKey[] = [];
  #byId = new Map<string, ViewKey>();
  /** model → key id → mark end. Ended marks are dropped as they are met. */
  #marks = new Map<string, Map<string, number>>();

  constructor(keys: readonly ViewKey[] = [], marks: readonly ViewMark[] = []) {
    this.load(keys, marks);
  }

  /** Replaces the whole state, e.g. after changes made in bulk or a fresh view. */
  load(keys: readonly ViewKey[], marks: readonly ViewMark[]): void {
    this.#keys = [...keys].sort((a, b) => a.position - b.position).map((key) => ({ ...key }));
    this.#byId = new Map(this.#keys.map((key) => [key.id, key]));
    this.#marks = new Map();
    for (const mark of marks) this.mark(mark.keyId, mark.model, mark.until);
  }

  get keyCount(): number {
    return this.#keys.length;
  }

  keys(): readonly ViewKey[] {
    return this.#keys;
  }

  /** The marks still running at `now`. */
  marks(now: number): ViewMark[] {
    const running: ViewMark[] = [];
    for (const [model, marks] of this.#marks) {
      for (const [keyId, until] of marks) if (until > now) running.push({ keyId, model, until });
    }
    return running;
  }

  scopeOf(keyId: string): string {
    return this.#byId.get(keyId)?.scope ?? quotaScope(keyId, null);
  }

  /** The key and every other key that shares its quota. */
  sharingQuota(keyId: string): string[] {
    const scope = this.scopeOf(keyId);
    const members = this.#keys.filter((key) => key.scope === scope).map((key) => key.id);
    return members.includes(keyId) ? members : [keyId, ...members];
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

  /** Marks a key for a model until `until` (epoch ms). */
  mark(keyId: string, model: string, until: number): void {
    let marks = this.#marks.get(model);
    if (marks === undefined) {
      marks = new Map();
      this.#marks.set(model, marks);
    }
    marks.set(keyId, until);
  }

  /** Marks a key for a model until `until`, unless it is marked longer already. */
  lengthen(keyId: string, model: string, until: number): void {
    const current = this.#marks.get(model)?.get(keyId);
    if (current === undefined || current < until) this.mark(keyId, model, until);
  }

  disable(keyId: string): void {
    const key = this.#byId.get(keyId);
    if (key !== undefined) key.disabled = true;
  }
}
