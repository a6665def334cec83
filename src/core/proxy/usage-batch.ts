import type { UsageReport } from "../key-pool";

// Counting usage is the one key-manager call per request that nobody waits for, and
// under load it was half of them. Reports of one process are collected for a moment
// and sent together. No promise crosses requests: the request that opens a batch sends
// it, from its own background work, and keeps itself alive until the batch has landed.

/**
 * Workers: long enough to gather a busy moment's requests, short enough for /stat to look
 * live. Each batch's answer also refreshes the isolate's pool view (local-pool.ts), which is
 * refreshed once it is half a second old: a busy isolate makes about two calls a second.
 * A runtime whose key manager is in-process (Node) passes 0: the call costs no round trip,
 * and usage is written before the process does anything else, so a crash cannot lose it.
 */
export const BATCH_DELAY_MS = 500;
/** A batch this big goes at once: the call stays small. */
const MAX_BATCH = 100;

/** Delivers one batch to the key manager. */
export type SendUsage = (reports: UsageReport[]) => Promise<void>;

export class UsageBatch {
  #pending: UsageReport[] = [];
  #opened = false;
  readonly #delayMs: number;

  constructor(delayMs = BATCH_DELAY_MS) {
    this.#delayMs = delayMs;
  }

  /** Adds reports; whoever opens a batch gets the promise of its delivery for waitUntil. */
  add(reports: readonly UsageReport[], send: SendUsage, waitUntil: (promise: Promise<unknown>) => void): void {
    this.#pending.push(...reports);
    if (this.#pending.length >= MAX_BATCH) {
      waitUntil(this.flush(send));
      return;
    }
    if (this.#opened) return;
    this.#opened = true;
    // 0: a microtask, so reports added in the same turn still go together, and none waits
    // for a timer (another turn of the event loop, during which the process can die).
    const opened = this.#delayMs === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, this.#delayMs));
    waitUntil(opened.then(() => this.flush(send)));
  }

  /** Whether reports are waiting to be sent. */
  get pending(): boolean {
    return this.#pending.length > 0;
  }

  /** Sends whatever is pending now. */
  flush(send: SendUsage): Promise<void> {
    this.#opened = false;
    const reports = this.#pending;
    this.#pending = [];
    return reports.length === 0 ? Promise.resolve() : send(reports);
  }
}
