// Resources that belong to one Google project. Google answers "not yours" and "does not
// exist" alike, so lookups take the caller's project and return nothing in both cases.

export interface Owned {
  id: string;
  /** Owning project (see FakeState.projectOf). */
  project: string;
  /** The key that created it, for assertions; ownership itself is per project. */
  ownerKey: string;
  createdAt: number;
  /** Epoch ms after which the resource is gone; undefined = never. */
  expiresAt?: number;
}

export class OwnedStore<T extends Owned> {
  #items = new Map<string, T>();

  add(item: T): void {
    this.#items.set(item.id, item);
  }

  has(id: string, now = Date.now()): boolean {
    return this.#live(id, now) !== undefined;
  }

  /** The live item whoever owns it: for the fake's bookkeeping (log, scripts), never to answer a caller. */
  find(id: string, now = Date.now()): T | undefined {
    return this.#live(id, now);
  }

  /** The item if `project` owns it and it has not expired; undefined otherwise. */
  owned(id: string, project: string, now = Date.now()): T | undefined {
    const item = this.#live(id, now);
    return item?.project === project ? item : undefined;
  }

  delete(id: string): void {
    this.#items.delete(id);
  }

  /** The project's live items, newest first (as Google lists them). */
  list(project: string, now = Date.now()): T[] {
    return [...this.#items.values()]
      .filter((item) => item.project === project && !expired(item, now))
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  clear(): void {
    this.#items.clear();
  }

  #live(id: string, now: number): T | undefined {
    const item = this.#items.get(id);
    if (item === undefined) return undefined;
    if (!expired(item, now)) return item;
    this.#items.delete(id);
    return undefined;
  }
}

function expired(item: Owned, now: number): boolean {
  return item.expiresAt !== undefined && item.expiresAt <= now;
}
