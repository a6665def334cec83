/** Models tracked for least-recently-used order; beyond this the oldest model is forgotten. */
const MAX_MODELS = 256;

/**
 * When each key was last handed out, per model, as a tick: ordering only, so memory is
 * enough. The Durable Object and every isolate keep their own; each spreads its own load.
 */
export class Recency {
  /** model → key id → tick. */
  readonly #lastUsed = new Map<string, Map<string, number>>();
  #tick = 0;

  touch(model: string | null, keyId: string): void {
    this.#forModel(model ?? "").set(keyId, ++this.#tick);
  }

  /** key id → the tick it was last handed out at for a model. */
  ticks(model: string | null): ReadonlyMap<string, number> {
    return this.#forModel(model ?? "");
  }

  #forModel(model: string): Map<string, number> {
    let lastUsed = this.#lastUsed.get(model);
    if (lastUsed === undefined) {
      if (this.#lastUsed.size >= MAX_MODELS) {
        const oldest = this.#lastUsed.keys().next().value;
        if (oldest !== undefined) this.#lastUsed.delete(oldest);
      }
      lastUsed = new Map();
      this.#lastUsed.set(model, lastUsed);
    }
    return lastUsed;
  }
}
