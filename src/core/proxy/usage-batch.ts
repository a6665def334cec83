import type { KeyPool, KeyPoolAdmin, UsageReport } from "../key-pool";

// Counting usage is the one key-manager call per request that nobody waits for, and
// under load it was half of them. Reports of one process are collected for a moment
// and sent together. No promise crosses requests: the request that opens a batch sends
// it, from its own background work, and keeps itself alive until the batch has landed.

/** Long enough to gather a busy moment's requests, short enough for /stat to look live. */
const BATCH_DELAY_MS = 200;
/** A batch this big goes at once: the call stays small. */
const MAX_BATCH = 100;

type Pool = KeyPool & KeyPoolAdmin;

export class UsageBatch {
  #pending: UsageReport[] = [];
  #opened = false;
  readonly #delayMs: number;

  constructor(delayMs = BATCH_DELAY_MS) {
    this.#delayMs = delayMs;
  }

  /** Adds reports; whoever opens a batch gets the promise of its delivery for waitUntil. */
  add(reports: readonly UsageReport[], pool: Pool, waitUntil: (promise: Promise<unknown>) => void): void {
    this.#pending.push(...reports);
    if (this.#pending.length >= MAX_BATCH) {
      waitUntil(this.flush(pool));
      return;
    }
    if (this.#opened) return;
    this.#opened = true;
    waitUntil(new Promise((resolve) => setTimeout(resolve, this.#delayMs)).then(() => this.flush(pool)));
  }

  /** Sends whatever is pending now. */
  flush(pool: Pool): Promise<void> {
    this.#opened = false;
    const reports = this.#pending;
    this.#pending = [];
    return reports.length === 0 ? Promise.resolve() : pool.recordUsage(reports);
  }
}

/**
 * The pool as one request sees it: usage goes through the process's batch, and the
 * stats read after the batch is delivered, so a page never misses this process's own requests.
 */
export function batchedUsage<P extends Pool>(pool: P, batch: UsageBatch, waitUntil: (promise: Promise<unknown>) => void): P {
  return {
    ...pool,
    recordUsage: async (reports) => batch.add(reports, pool, waitUntil),
    snapshot: async (options) => {
      await batch.flush(pool);
      return pool.snapshot(options);
    },
    listKeys: async (query) => {
      await batch.flush(pool);
      return pool.listKeys(query);
    },
  };
}
