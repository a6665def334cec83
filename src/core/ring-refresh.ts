import type { RuntimeKeys } from "./admin-model";
import { ringOf, type KeyRing, type PoolKey } from "./key-ring";
import type { ProxyServices } from "./services";

// A process's key ring: the API_KEYS keys it was deployed with plus the keys added at
// runtime, which live in the key manager (the Durable Object). The runtime part is
// fetched when a lease names a key this process does not know yet, never on the hot
// path otherwise; a version string makes a refresh that finds nothing new cheap.

/** A key this process still does not know after a refresh (a deploy in flight) must not trigger one per attempt. */
const MIN_REFRESH_INTERVAL_MS = 1_000;

type FetchRuntimeKeys = (known?: string) => Promise<RuntimeKeys | null>;

export class RefreshableKeyRing implements KeyRing {
  readonly #envKeys: readonly PoolKey[];
  #ring: KeyRing;
  #version: string | undefined;
  #refreshing: Promise<void> | undefined;
  #refreshedAt = -Infinity;

  constructor(envRing: KeyRing) {
    this.#envKeys = envRing.keys;
    this.#ring = envRing;
  }

  get keys(): readonly PoolKey[] {
    return this.#ring.keys;
  }

  // Bound: callers pass `keyRing.redact` around as a plain function.
  readonly byId = (id: string): PoolKey | undefined => this.#ring.byId(id);

  readonly redact = (text: string): string => this.#ring.redact(text);

  /** Fetches the runtime keys again, at most once per interval; concurrent callers share one fetch. */
  refresh(fetchKeys: FetchRuntimeKeys, now = Date.now()): Promise<void> {
    if (this.#refreshing !== undefined) return this.#refreshing;
    if (now - this.#refreshedAt < MIN_REFRESH_INTERVAL_MS) return Promise.resolve();
    this.#refreshedAt = now;
    this.#refreshing = fetchKeys(this.#version)
      .then((fresh) => {
        if (fresh === null) return;
        const envIds = new Set(this.#envKeys.map((key) => key.id));
        // A key in both places is an API_KEYS key (the key manager says so too).
        this.#ring = ringOf([...this.#envKeys, ...fresh.keys.filter((key) => !envIds.has(key.id))]);
        this.#version = fresh.version;
      })
      .finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }
}

/**
 * The key for an id the key manager handed out: from this process's ring, refreshed
 * once when the id is new to it. Undefined when still unknown (the caller moves on).
 */
export async function resolveKey(services: Pick<ProxyServices, "keyRing" | "pool">, id: string): Promise<PoolKey | undefined> {
  const known = services.keyRing.byId(id);
  if (known !== undefined || !(services.keyRing instanceof RefreshableKeyRing)) return known;
  try {
    await services.keyRing.refresh((version) => services.pool.runtimeKeys(version));
  } catch {
    // The key manager's trouble shows on the next lease; this key is skipped.
    return undefined;
  }
  return services.keyRing.byId(id);
}
