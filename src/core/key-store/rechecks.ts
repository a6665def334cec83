import type { VerifyOutcome } from "../admin-model";
import { AWAITING_VERIFICATION } from "./key-changes";
import type { SqlRunner } from "./sql";

// Keys waiting for their first verification when Google could not be reached (a blip at
// add time): without this they would wait, disabled, for the daily reset. Each is checked
// again after a growing delay, a bounded number of times; then the daily reset takes over.

/** Waits before the 1st, 2nd, … re-check: about 5½ hours in all, well inside a day. */
export const RECHECK_DELAYS_MS: readonly number[] = [60_000, 5 * 60_000, 15 * 60_000, 60 * 60_000, 4 * 60 * 60_000];

export class Rechecks {
  readonly #sql: SqlRunner;

  constructor(sql: SqlRunner) {
    this.#sql = sql;
  }

  /**
   * After a check of `id`: an unreachable Google schedules the next re-check of a key still
   * waiting for its first verification (none after the last delay); any answer of Google's ends them.
   */
  after(id: string, outcome: VerifyOutcome, now: number): void {
    if (outcome !== "unreachable") {
      this.#sql("UPDATE keys SET recheck_at = NULL, recheck_attempts = 0 WHERE id = ?", id);
      return;
    }
    const key = this.#sql<{ attempts: number }>(
      "SELECT recheck_attempts AS attempts FROM keys WHERE id = ? AND disabled_reason = ?",
      id,
      AWAITING_VERIFICATION,
    )[0];
    if (key === undefined) return;
    const delay = RECHECK_DELAYS_MS[key.attempts];
    this.#sql("UPDATE keys SET recheck_at = ?, recheck_attempts = ? WHERE id = ?", delay === undefined ? null : now + delay, key.attempts + 1, id);
  }

  /** The keys due for a re-check, taken (each is scheduled again only by its outcome). */
  takeDue(now: number): string[] {
    const due = this.#sql<{ id: string; awaiting: number }>(
      "SELECT id, disabled_reason IS ? AS awaiting FROM keys WHERE recheck_at <= ? ORDER BY position",
      AWAITING_VERIFICATION,
      now,
    );
    if (due.length > 0) this.#sql("UPDATE keys SET recheck_at = NULL WHERE recheck_at <= ?", now);
    // A key enabled, disabled or checked by other means meanwhile needs no re-check.
    return due.filter((row) => row.awaiting === 1).map((row) => row.id);
  }

  /** When the next re-check is due; null when none is scheduled. */
  next(): number | null {
    return this.#sql<{ at: number | null }>("SELECT MIN(recheck_at) AS at FROM keys")[0]?.at ?? null;
  }
}
