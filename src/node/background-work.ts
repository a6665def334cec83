// Workers keep an invocation alive for what it hands waitUntil (usage counts, failure
// reports, the verification batches). On Node nothing would wait for that work when the
// process is asked to stop, so it is tracked here and drained before the database closes:
// that is what makes a clean shutdown lose no usage a response already stood for.

export class BackgroundWork {
  readonly #pending = new Set<Promise<unknown>>();
  /** Failures are logged with pool keys masked, as every log line is. */
  readonly #redact: (text: string) => string;

  constructor(redact: (text: string) => string) {
    this.#redact = redact;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Tracks `promise` until it settles; its rejection is the work's own business (logged, not thrown). */
  readonly add = (promise: Promise<unknown>): void => {
    const tracked = promise
      .catch((error: unknown) => console.error(this.#redact(`Background work failed: ${error instanceof Error ? error.message : String(error)}`)))
      .finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  };

  /** Waits until no work is left, including work that the work still running starts, or `timeoutMs` passed. */
  async drain(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    const settled = (async () => {
      while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    })();
    await Promise.race([settled, timedOut]);
    clearTimeout(timer);
    if (this.#pending.size > 0) console.error(`Stopped with ${this.#pending.size} background task(s) unfinished after ${timeoutMs} ms.`);
  }
}
