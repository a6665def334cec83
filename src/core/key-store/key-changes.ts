import type { DisabledBy, KeyChangeRefusal, MaskedKey, Role, VerifyOutcome } from "../admin-model";
import type { DisabledCounts } from "../key-pool";
import type { EventLog } from "./event-log";
import type { SqlRunner } from "./sql";

// The operator's and the verifier's changes to the pool: runtime keys joining and
// leaving, disables and enables, verification outcomes. Each change writes its event;
// the caller reloads the in-memory pool state afterwards.

export interface NewKey {
  id: string;
  secret: string;
  masked: string;
  /** Its project group; absent: a group of its own. */
  group?: string;
}

/** A key moved to another group: what the quota counts must follow (KeyStore.regrouped). */
export interface GroupMove extends MaskedKey {
  from: string | null;
  to: string | null;
}

const groupText = (group: string | null): string => (group === null ? "no group" : `"${group}"`);

/** Why a key that is waiting for its first check does not serve yet. */
export const AWAITING_VERIFICATION = "Waiting for its first verification.";

/** What a verification outcome does to the key (see applyVerification). */
const DISABLING: ReadonlySet<VerifyOutcome> = new Set(["invalid", "suspended", "restricted"]);

interface KeyRow extends Record<string, string | number | null> {
  id: string;
  masked: string;
  source: string;
  disabled_by: DisabledBy | null;
  grp: string | null;
}

export class KeyChanges {
  readonly #sql: SqlRunner;
  readonly #events: EventLog;

  constructor(sql: SqlRunner, events: EventLog) {
    this.#sql = sql;
    this.#events = events;
  }

  #key(id: string): KeyRow | undefined {
    return this.#sql<KeyRow>("SELECT id, masked, source, disabled_by, grp FROM keys WHERE id = ?", id)[0];
  }

  /**
   * Adds keys not yet in the pool after every existing one. With `verify`, each joins
   * disabled until its first verification says it is valid, so it never serves unchecked.
   */
  add(keys: readonly NewKey[], verify: boolean, role: Role, now: number): { added: MaskedKey[]; duplicates: number } {
    const added: MaskedKey[] = [];
    let duplicates = 0;
    let position = this.#sql<{ last: number | null }>("SELECT MAX(position) AS last FROM keys")[0]?.last ?? 0;
    for (const key of keys) {
      if (this.#key(key.id) !== undefined) {
        duplicates++;
        continue;
      }
      this.#sql(
        `INSERT INTO keys (id, position, masked, source, added_at, disabled_reason, disabled_by, disabled_at, grp)
         VALUES (?, ?, ?, 'runtime', ?, ?, ?, ?, ?)`,
        key.id,
        ++position,
        key.masked,
        now,
        verify ? AWAITING_VERIFICATION : null,
        verify ? "verification" : null,
        verify ? now : null,
        key.group ?? null,
      );
      this.#sql("INSERT INTO runtime_secrets (key_id, secret) VALUES (?, ?)", key.id, key.secret);
      this.#events.record({ kind: "added", keyId: key.id, role, ...(key.group !== undefined && { message: `Group ${groupText(key.group)}.` }) }, now);
      added.push({ id: key.id, masked: key.masked });
    }
    return { added, duplicates };
  }

  /** Removes a runtime key, its secret, marks and resource records (its usage stays counted); API_KEYS keys are refused. */
  delete(id: string, role: Role, now: number): MaskedKey | KeyChangeRefusal {
    const key = this.#key(id);
    if (key === undefined) return { refused: "unknown" };
    if (key.source !== "runtime") return { refused: "env-key", masked: key.masked };
    // The event first: it copies the key's masked form and position while they exist.
    this.#events.record({ kind: "deleted", keyId: id, role }, now);
    this.#sql("DELETE FROM keys WHERE id = ?", id);
    this.#sql("DELETE FROM runtime_secrets WHERE key_id = ?", id);
    this.#sql("DELETE FROM marks WHERE key_id = ?", id);
    this.#sql("DELETE FROM resources WHERE key_id = ?", id);
    return { id, masked: key.masked };
  }

  /**
   * Moves a runtime key into `group` (null: a group of its own). API_KEYS keys are refused:
   * their group is written in the secret, and the next start of the key manager would put
   * any other back (syncKeys), so an override here would silently undo itself.
   * `unchanged` when the key is in that group already (no event).
   */
  setGroup(id: string, group: string | null, role: Role, now: number): GroupMove | { unchanged: MaskedKey } | KeyChangeRefusal {
    const key = this.#key(id);
    if (key === undefined) return { refused: "unknown" };
    if (key.source !== "runtime") return { refused: "env-key", masked: key.masked };
    if (key.grp === group) return { unchanged: { id, masked: key.masked } };
    this.#sql("UPDATE keys SET grp = ? WHERE id = ?", group, id);
    this.#events.record({ kind: "grouped", keyId: id, message: `Group ${groupText(key.grp)} → ${groupText(group)}.`, role }, now);
    return { id, masked: key.masked, from: key.grp, to: group };
  }

  /** Disabled keys by kind, for the 503 that says why no key serves (read only then). */
  disabledCounts(): DisabledCounts {
    const rows = this.#sql<{ kind: string; count: number }>(
      `SELECT CASE WHEN disabled_reason = ? THEN 'awaiting' ELSE disabled_by END AS kind, COUNT(*) AS count
       FROM keys WHERE disabled_reason IS NOT NULL GROUP BY kind`,
      AWAITING_VERIFICATION,
    );
    return Object.fromEntries(rows.map((row) => [row.kind, row.count]));
  }

  /** An operator's disable: kept through restarts, deploys, resets and verifications until an operator enables it. */
  disable(id: string, reason: string, role: Role, now: number): MaskedKey | KeyChangeRefusal {
    const key = this.#key(id);
    if (key === undefined) return { refused: "unknown" };
    this.#sql("UPDATE keys SET disabled_reason = ?, disabled_by = 'operator', disabled_at = ? WHERE id = ?", this.#events.stored(reason), now, id);
    this.#events.record({ kind: "disabled", keyId: id, message: reason, role }, now);
    return { id, masked: key.masked };
  }

  /** An operator's enable lifts any disable, Google's included (the next request or check tells). */
  enable(id: string, role: Role, now: number): MaskedKey | KeyChangeRefusal {
    const key = this.#key(id);
    if (key === undefined) return { refused: "unknown" };
    this.#sql("UPDATE keys SET disabled_reason = NULL, disabled_by = NULL, disabled_at = NULL WHERE id = ?", id);
    this.#events.record({ kind: "enabled", keyId: id, role }, now);
    return { id, masked: key.masked };
  }

  /** Google refused the key on a request: disabled for every model, unless an operator already did. */
  disableByGoogle(id: string, reason: string, status: number | undefined, now: number): boolean {
    const key = this.#key(id);
    if (key === undefined || key.disabled_by !== null) return false;
    this.#sql("UPDATE keys SET disabled_reason = ?, disabled_by = 'google', disabled_at = ? WHERE id = ?", this.#events.stored(reason), now, id);
    this.#events.record({ kind: "disabled", keyId: id, message: reason, ...(status !== undefined && { status }) }, now);
    return true;
  }

  /**
   * Records a verification: invalid, suspended and restricted keys are disabled (by
   * "verification"), a valid one is re-enabled if Google or a verification had disabled
   * it. An operator's disable stays; an unreachable Google changes nothing.
   */
  applyVerification(id: string, outcome: VerifyOutcome, message: string | undefined, role: Role | undefined, now: number): boolean {
    const key = this.#key(id);
    if (key === undefined) return false;
    this.#sql(
      "UPDATE keys SET verified_outcome = ?, verified_at = ?, verified_message = ? WHERE id = ?",
      outcome,
      now,
      message === undefined ? null : this.#events.stored(message),
      id,
    );
    this.#events.record({ kind: "verified", keyId: id, message: `${outcome}${message === undefined ? "" : `: ${message}`}`, ...(role && { role }) }, now);
    if (key.disabled_by === "operator") return false;
    if (DISABLING.has(outcome)) {
      const reason = message ?? `Verification: ${outcome}`;
      this.#sql("UPDATE keys SET disabled_reason = ?, disabled_by = 'verification', disabled_at = ? WHERE id = ?", this.#events.stored(reason), now, id);
      if (key.disabled_by === null) this.#events.record({ kind: "disabled", keyId: id, message: reason }, now);
      return true;
    }
    if (outcome === "valid" && key.disabled_by !== null) {
      this.#sql("UPDATE keys SET disabled_reason = NULL, disabled_by = NULL, disabled_at = NULL WHERE id = ?", id);
      this.#events.record({ kind: "enabled", keyId: id, message: "Verification found the key valid." }, now);
      return true;
    }
    return false;
  }

  /** Keys Google or a verification disabled before `before`: the daily reset checks them again. */
  toReverify(before: number): string[] {
    return this.#sql<{ id: string }>(
      "SELECT id FROM keys WHERE disabled_by IN ('google', 'verification') AND disabled_at < ? ORDER BY position",
      before,
    ).map((row) => row.id);
  }

  /** The secrets of runtime keys, for the proxy's key ring and the verifier. */
  secrets(): { id: string; secret: string; masked: string; position: number }[] {
    return this.#sql<{ id: string; secret: string; masked: string; position: number }>(
      `SELECT k.id AS id, s.secret AS secret, k.masked AS masked, k.position AS position
       FROM runtime_secrets s JOIN keys k ON k.id = s.key_id ORDER BY k.position`,
    );
  }
}
