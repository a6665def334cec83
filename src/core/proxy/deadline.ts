// One timer for a request's successive waits (each attempt's answer, then a small
// answer's body), moved along instead of cleared and set anew for each: under load,
// setting and clearing timers was a twentieth of a small request's CPU in the Workers
// runtime (wrangler dev profile, 2026-11-28), two of each per request.

export class Deadline {
  /** The longest the one timer is set for: a later deadline is reached in steps. */
  readonly #step: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the running timer fires. */
  #firesAt = 0;
  /** When the current wait ends. */
  #at = 0;
  /** What runs when it ends; undefined while no wait is set. */
  #onExpiry: (() => void) | undefined;

  /** `step`: the shortest wait usually set, so that setting it finds a timer it can keep. */
  constructor(step: number) {
    this.#step = Math.max(1, step);
  }

  /** From now, `ms` until `onExpiry` runs, in place of the wait set before. */
  set(ms: number, onExpiry: () => void): void {
    this.#at = Date.now() + ms;
    this.#onExpiry = onExpiry;
    // A running timer that fires no later than this wait ends is kept: firing, it sets the rest.
    if (this.#timer !== undefined && this.#firesAt <= this.#at) return;
    clearTimeout(this.#timer);
    this.#arm(ms);
  }

  /** No wait runs until the next set(); the timer is kept for it. */
  pause(): void {
    this.#onExpiry = undefined;
  }

  /** Ends the timer: the request is done. */
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#onExpiry = undefined;
  }

  #arm(ms: number): void {
    const wait = Math.min(ms, this.#step);
    this.#firesAt = Date.now() + wait;
    this.#timer = setTimeout(() => this.#fire(), wait);
  }

  #fire(): void {
    this.#timer = undefined;
    const onExpiry = this.#onExpiry;
    if (onExpiry === undefined) return;
    const left = this.#at - Date.now();
    if (left > 0) {
      this.#arm(left);
      return;
    }
    this.#onExpiry = undefined;
    onExpiry();
  }
}
