import { VERIFY_OUTCOMES, type Role, type VerifyJob, type VerifyOutcome } from "../admin-model";
import type { SqlRunner } from "./sql";

// A verification of many keys, worked off a few dozen keys at a time (the Durable
// Object's alarm takes a batch and re-arms: each run stays inside the Free plan's 50
// subrequests). Only the newest job is kept; a job that runs takes further keys in.

interface JobRow extends Record<string, string | number | null> {
  id: string;
  started_at: number;
  finished_at: number | null;
  role: Role | null;
}

interface ItemRow extends Record<string, string | number | null> {
  seq: number;
  key_id: string;
  masked: string | null;
  position: number | null;
  outcome: VerifyOutcome | null;
  message: string | null;
  at: number | null;
}

export interface PendingCheck {
  seq: number;
  keyId: string;
}

export class VerifyJobs {
  readonly #sql: SqlRunner;

  constructor(sql: SqlRunner) {
    this.#sql = sql;
  }

  #running(): JobRow | undefined {
    return this.#sql<JobRow>("SELECT id, started_at, finished_at, role FROM verify_jobs WHERE finished_at IS NULL")[0];
  }

  /** Who started the running job (undefined for the daily reset's), for the events of its checks. */
  runningRole(): Role | undefined {
    return this.#running()?.role ?? undefined;
  }

  /** Starts a job over `keyIds`, replacing the previous one; undefined while one runs. */
  start(keyIds: readonly string[], role: Role | undefined, now: number): VerifyJob | undefined {
    if (this.#running() !== undefined) return undefined;
    this.#sql("DELETE FROM verify_items");
    this.#sql("DELETE FROM verify_jobs");
    const id = crypto.randomUUID();
    this.#sql("INSERT INTO verify_jobs (id, started_at, role) VALUES (?, ?, ?)", id, now, role ?? null);
    this.#append(id, keyIds);
    if (keyIds.length === 0) this.#sql("UPDATE verify_jobs SET finished_at = ? WHERE id = ?", now, id);
    return this.current();
  }

  /** Adds keys to the running job, or starts one for them. */
  include(keyIds: readonly string[], role: Role | undefined, now: number): VerifyJob | undefined {
    const running = this.#running();
    if (running === undefined) return this.start(keyIds, role, now);
    this.#append(running.id, keyIds);
    return this.current();
  }

  #append(jobId: string, keyIds: readonly string[]): void {
    let seq = this.#sql<{ last: number | null }>("SELECT MAX(seq) AS last FROM verify_items WHERE job_id = ?", jobId)[0]?.last ?? 0;
    for (const keyId of keyIds) this.#sql("INSERT INTO verify_items (job_id, seq, key_id) VALUES (?, ?, ?)", jobId, ++seq, keyId);
  }

  /** The next keys to check; keys deleted since the job started are dropped from it. */
  next(count: number): PendingCheck[] {
    const running = this.#running();
    if (running === undefined) return [];
    this.#sql(
      "DELETE FROM verify_items WHERE job_id = ? AND outcome IS NULL AND key_id NOT IN (SELECT id FROM keys)",
      running.id,
    );
    return this.#sql<{ seq: number; key_id: string }>(
      "SELECT seq, key_id FROM verify_items WHERE job_id = ? AND outcome IS NULL ORDER BY seq LIMIT ?",
      running.id,
      count,
    ).map((row) => ({ seq: row.seq, keyId: row.key_id }));
  }

  record(seq: number, outcome: VerifyOutcome, message: string | undefined, now: number): void {
    const running = this.#running();
    if (running === undefined) return;
    this.#sql(
      "UPDATE verify_items SET outcome = ?, message = ?, at = ? WHERE job_id = ? AND seq = ?",
      outcome,
      message ?? null,
      now,
      running.id,
      seq,
    );
  }

  /** Marks the running job finished when nothing is left; true when it still has work. */
  settle(now: number): boolean {
    const running = this.#running();
    if (running === undefined) return false;
    const left = this.#sql<{ n: number }>(
      "SELECT COUNT(*) AS n FROM verify_items WHERE job_id = ? AND outcome IS NULL",
      running.id,
    )[0]?.n;
    if ((left ?? 0) > 0) return true;
    this.#sql("UPDATE verify_jobs SET finished_at = ? WHERE id = ?", now, running.id);
    return false;
  }

  current(): VerifyJob | undefined {
    const job = this.#sql<JobRow>("SELECT id, started_at, finished_at, role FROM verify_jobs ORDER BY started_at DESC LIMIT 1")[0];
    if (job === undefined) return undefined;
    const items = this.#sql<ItemRow>(
      `SELECT i.seq AS seq, i.key_id AS key_id, k.masked AS masked, k.position AS position, i.outcome AS outcome,
              i.message AS message, i.at AS at
       FROM verify_items i LEFT JOIN keys k ON k.id = i.key_id WHERE i.job_id = ? ORDER BY i.seq`,
      job.id,
    );
    const counts = Object.fromEntries(VERIFY_OUTCOMES.map((outcome) => [outcome, 0])) as Record<VerifyOutcome, number>;
    const outcomes: VerifyJob["outcomes"] = [];
    for (const item of items) {
      if (item.outcome === null || item.at === null) continue;
      counts[item.outcome]++;
      outcomes.push({
        id: item.key_id,
        masked: item.masked ?? "(deleted)",
        position: item.position ?? 0,
        outcome: item.outcome,
        ...(item.message !== null && { message: item.message }),
        at: new Date(item.at).toISOString(),
      });
    }
    return {
      id: job.id,
      startedAt: new Date(job.started_at).toISOString(),
      ...(job.finished_at !== null && { finishedAt: new Date(job.finished_at).toISOString() }),
      total: items.length,
      done: outcomes.length,
      running: job.finished_at === null,
      counts,
      outcomes,
    };
  }
}
